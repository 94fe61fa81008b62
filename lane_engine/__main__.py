"""`python -m lane_engine`: the `lane-engine` command."""

import sys

from lane_engine.cli.main import main

sys.exit(main(prog="python -m lane_engine"))
