"""`python -m lane_engine.journal`: the journal command."""

import sys

from lane_engine.cli.journal import main

sys.exit(main(prog="python -m lane_engine.journal"))
