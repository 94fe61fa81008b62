"""Fingerprints of whole mixed-scenario runs (summary, audit, journal, final cards), pinned in
tests/data/pinned_runs.json so that a change to the simulator's speed cannot change what a run
comes to. Re-pin (only for a change of the rules, from main's code):
`.venv/bin/python -m tests.rsu_sim.harness.pinned`.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from rsu_sim.harness import FrameCapture, JournalMode, SimulationOptions, run_to_directory
from rsu_sim.model.scenario import mixed_scenario
from rsu_sim.results.audit import audit
from rsu_sim.results.files import CARDS_FILE, load_run

PINNED = Path(__file__).resolve().parents[2] / "data" / "pinned_runs.json"
#: (seed, vehicles): the built-in mixed scenario's seed and another one.
RUNS = ((20240601, 2000), (7, 1500))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint_of(directory: Path) -> dict[str, Any]:
    """What a finished run in `directory` came to: its summary but the speed, its audit, and
    digests of its journal (records and states, by transaction id) and its cards file."""
    files = load_run(directory)
    summary = dict(files.summary)
    summary.pop("speed", None)
    report = audit(files.journal, files.cards, files.key_set)
    journal = sorted(([_plain(e.record), e.state.value, e.duplicate_of] for e in files.journal),
                     key=lambda row: row[0]["transaction_id"])
    return {"summary": summary, "audit": report.render(), "journal_entries": len(journal),
            "journal_sha256": _digest(journal),
            "cards_sha256": hashlib.sha256((directory / CARDS_FILE).read_bytes()).hexdigest()}


def run_fingerprint(seed: int, vehicles: int, directory: Path,
                    capture: FrameCapture | None = None) -> dict[str, Any]:
    """Run the mixed scenario with `seed` for `vehicles` passes and fingerprint it."""
    run_to_directory(mixed_scenario(seed), directory,
                     SimulationOptions(vehicles=vehicles, capture=capture), JournalMode.MEMORY)
    return fingerprint_of(directory)


def main() -> None:
    pinned = {}
    for seed, vehicles in RUNS:
        with tempfile.TemporaryDirectory() as directory:
            pinned[f"{seed}/{vehicles}"] = run_fingerprint(seed, vehicles, Path(directory))
    PINNED.write_text(json.dumps(pinned, indent=1, ensure_ascii=False) + "\n")
    print(f"pinned {len(pinned)} runs in {PINNED}")


if __name__ == "__main__":
    main()
