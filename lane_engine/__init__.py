"""The lane: sans-IO transaction core, policy, fees, journal, and the asyncio runtime at its edge."""
