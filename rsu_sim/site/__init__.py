"""The simulated site as the edges build it: key set, PSAMs, each lane's RSU, the fault mix,
and the site behind `rsu-sim serve`. May use `model`; never `lane_engine`."""
