"""Commands that price no trip start without numba (nor numpy): `--help`, `journal`, `status`,
`policy check`, `top --help` and the fees and blacklist help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lane_engine.journal import SqliteJournal

POLICY = Path(__file__).resolve().parents[3] / "examples" / "policy.toml"
PROBE = """
import json, sys
from lane_engine.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in ("numba", "numpy") if m in sys.modules)), file=sys.stderr)
"""


def _heavy_modules(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                          timeout=60)
    return __import__("json").loads(done.stderr.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("startup") / "journal.sqlite3"
    SqliteJournal(path).close_journal()
    return path


@pytest.mark.parametrize("args", [
    ["--help"], ["journal", "--help"], ["status", "--help"], ["top", "--help"],
    ["fees", "--help"], ["blacklist", "--help"], ["policy", "check", str(POLICY)],
], ids=lambda a: " ".join(a))
def test_commands_that_price_nothing_do_not_import_numba(args: list[str]) -> None:
    assert _heavy_modules(*args) == []


def test_journal_and_status_on_a_journal_do_not_import_numba(journal: Path) -> None:
    assert _heavy_modules("journal", "list", "--journal", str(journal)) == []
    assert _heavy_modules("status", "--journal", str(journal)) == []


def test_a_fees_command_that_builds_a_table_does_import_numba(tmp_path: Path) -> None:
    assert "numba" in _heavy_modules("fees", "synthetic", "--stations", "4", "--table-version", "t",
                                     "-o", str(tmp_path / "t.etcfee"))
