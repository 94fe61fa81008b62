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


def test_every_frame_on_the_byte_path_comes_to_the_same_run(tmp_path: Path) -> None:
    # A capture puts every frame through encode, envelope, stream decoder and decode: the run
    # must come to exactly what the frames crossing as values came to.
    seed, vehicles = RUNS[1]
    frames: list[tuple[str, str, bytes, bytes]] = []
    got = run_fingerprint(seed, vehicles, tmp_path,
                          capture=lambda lane, way, raw, wire, at: frames.append(
                              (lane, way, raw, wire)))
    assert got == json.loads(PINNED.read_text())[f"{seed}/{vehicles}"]
    link = got["summary"]["link"]
    assert len(frames) == link["rsu_to_lane_frames"] + link["lane_to_rsu_frames"]
    assert sum(raw != wire for *_, raw, wire in frames) == (
        link["rsu_to_lane_corrupted"] + link["lane_to_rsu_corrupted"]) > 0
