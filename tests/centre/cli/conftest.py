"""A folder with the example configuration and a key set, as the working directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from keys import Algorithm, generate_key_set, seeded_random_bytes
from keys.keyset_file import write_key_set

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "centre.toml", tmp_path / "examples")
    write_key_set(tmp_path / "keys.toml", generate_key_set(
        ["3701"], Algorithm.SM4, 1, seeded_random_bytes("cli")))
    return tmp_path
