"""`python -m centre` is `etc-centre`."""

import sys

from centre.cli.main import main

sys.exit(main())
