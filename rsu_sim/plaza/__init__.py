"""A real lane-engine plaza against the simulated RSUs over loopback TCP: its set-up, run and
summary, and `make demo`. A composition root: it brings `lane_engine` and `rsu_sim` together."""
