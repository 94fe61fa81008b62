"""What a run leaves behind: its files (written and read back), the figures of its records,
and the audit of its journal against the simulated cards."""
