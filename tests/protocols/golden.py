"""The captured frames of tests/data/golden_frames.json, loaded once for the protocol tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PATH = Path(__file__).resolve().parent.parent / "data" / "golden_frames.json"
FRAMES: list[dict[str, Any]] = json.loads(PATH.read_text(encoding="utf-8"))["frames"]
V3 = [frame for frame in FRAMES if frame["envelope"] == "v3"]
BCC = [frame for frame in FRAMES if frame["envelope"] == "bcc"]


def raw(frame: dict[str, Any]) -> bytes:
    return bytes.fromhex(frame["hex"])


def name(frame: dict[str, Any]) -> str:
    return str(frame["name"])
