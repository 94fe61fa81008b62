"""Whole runs of the mixed scenario come to exactly what they came to when pinned: the same
summary, audit, journal and final cards for the same seed (`pinned.py` says how to re-pin)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.rsu_sim.harness.pinned import PINNED, RUNS, run_fingerprint


@pytest.mark.parametrize(("seed", "vehicles"), RUNS, ids=[f"seed{s}" for s, _ in RUNS])
def test_run_matches_its_pinned_fingerprint(tmp_path: Path, seed: int, vehicles: int) -> None:
    pinned = json.loads(PINNED.read_text())[f"{seed}/{vehicles}"]
    got = run_fingerprint(seed, vehicles, tmp_path)
    assert got["summary"] == pinned["summary"]
    assert got["audit"] == pinned["audit"]
    assert got == pinned
