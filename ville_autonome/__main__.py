"""``python -m ville_autonome``: the same as the ``ville-autonome`` console script."""

import sys

from ville_autonome.commands.main import main

sys.exit(main())
