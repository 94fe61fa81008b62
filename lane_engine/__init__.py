"""The lane: sans-IO transaction core, policy, fees, journal; runtime, MQTT and CLI at the edge."""
