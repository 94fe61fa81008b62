"""A simulated province of many days: a population issued through the centre, trips across a
network of plazas, top-ups, losses, cancellations, late and offline uploads, the centre
clearing and reconciling it with its own code. A composition root: may use every room of the
simulator, and `centre` and `lane_engine`."""
