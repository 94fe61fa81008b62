"""Sans-IO models of the simulator: radio link, vehicle streams, card populations, scenarios and
(on top of them) the card, OBU and RSU emulators. No IO, no clocks, no global randomness."""
