"""The TCP server is the simulator alone: importing it does not bring in the lane engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

_PROBE = """
import sys
import {module}
print(" ".join(sorted(name for name in sys.modules if name.split(".")[0] == "lane_engine")))
"""


def _lane_engine_modules_after_importing(module: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", _PROBE.format(module=module)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_importing_the_server_does_not_import_the_lane_engine() -> None:
    assert _lane_engine_modules_after_importing("rsu_sim.server.server") == []


def test_the_probe_sees_the_lane_engine_where_it_is_imported() -> None:
    assert "lane_engine.core.lane" in _lane_engine_modules_after_importing("rsu_sim.harness")
