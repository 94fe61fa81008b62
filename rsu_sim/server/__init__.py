"""`rsu-sim serve`: the simulated RSUs on real TCP ports, their frame log and summary.
May use `model`, `site`, `world` and `scenario_file`; never `lane_engine`."""

from rsu_sim.server.server import StartTraffic, serve

__all__ = ["StartTraffic", "serve"]
