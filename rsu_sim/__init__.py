"""The smart-RSU emulator: radio, OBU/ESAM/card emulators, vehicle streams, faults, harness."""
