"""`python -m protocols decode ...`: see `protocols.cli_decode`."""

from protocols.cli_decode import main

raise SystemExit(main())
