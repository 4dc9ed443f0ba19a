"""Time series arithmetic (pure, no I/O): the value types every store answers with, rollup
statistics and their merging, per-device day balances and envelope sequence ranges."""
