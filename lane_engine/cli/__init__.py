"""The command line: `lane-engine` and its command groups, one module each (run, status,
journal, fees, blacklist, policy), and what they share (`args`). May use every other room."""
