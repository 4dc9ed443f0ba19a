"""The rollup compiler: the one process that turns the store's dirty marks into 15-min and day rollups."""
