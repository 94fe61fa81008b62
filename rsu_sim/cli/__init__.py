"""The command line: `rsu-sim run | audit | serve`. May use every other room."""
