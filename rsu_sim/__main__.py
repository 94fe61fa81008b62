"""`python -m rsu_sim` is `rsu-sim`."""

import sys

from rsu_sim.cli.main import main

sys.exit(main())
