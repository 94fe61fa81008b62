"""`python -m keys`: see `keys.cli`."""

import sys

from keys.cli import main

sys.exit(main())
