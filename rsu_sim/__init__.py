"""The smart-RSU emulator: radio, OBU/ESAM/card emulators, vehicle streams, faults, harness."""

from importlib import metadata as _metadata

try:
    #: The version of the etc-lane-engine distribution this package belongs to.
    __version__ = _metadata.version("etc-lane-engine")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

