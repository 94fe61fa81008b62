"""`python -m rsu_sim` is `rsu-sim`."""

import sys

from rsu_sim.cli import main

sys.exit(main())
