"""The journal command, run as `python -m lane_engine.journal` and through `main(argv)`."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lane_engine.cli.journal import main, parse_time
from lane_engine.core.outcomes import ReasonCode
from lane_engine.journal import SqliteJournal
from lane_engine.times import iso_time
from tests.lane_engine.journal.journal_records import debited, intent, refusal

ROOT = Path(__file__).resolve().parents[3]


def run(*args: str, cwd: Path | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "lane_engine.journal", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=60,
    )


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    path = tmp_path / "journal.sqlite3"
    with SqliteJournal(path) as journal:
        for n in range(1, 4):
            journal.open_intent(intent(n))
            journal.close(debited(n))
        journal.open_intent(intent(4))
        journal.update_intent("L01-000004", ctc=104, terminal_trans_serial=5004)
        journal.record_refusal(refusal(5, ReasonCode.OBU_LOCKED))
    return path


def test_help_names_every_command() -> None:
    done = run("--help")
    assert done.returncode == 0
    for command in ("list", "show", "export", "open-intents", "stats", "--journal"):
        assert command in done.stdout


def test_list_and_filters(journal_path: Path) -> None:
    done = run("--journal", str(journal_path), "list")
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()[1:]
    assert [row.split()[1] for row in rows] == [
        "L01-000001",
        "L01-000002",
        "L01-000003",
        "L01-000004",
        "L01-R00005",
    ]
    refused = run("list", "--journal", str(journal_path), "--outcome", "refused")
    assert [row.split()[1] for row in refused.stdout.splitlines()[1:]] == ["L01-R00005"]
    card = run("list", "--journal", str(journal_path), "--card", debited(2).card_number)
    assert [row.split()[1] for row in card.stdout.splitlines()[1:]] == ["L01-000002"]
    limited = run("list", "--journal", str(journal_path), "--limit", "2", "--reason", "ok")
    assert len(limited.stdout.splitlines()) == 3


def test_list_by_time(journal_path: Path) -> None:
    future = run("list", "--journal", str(journal_path), "--since", "2999-01-01")
    assert future.returncode == 0 and len(future.stdout.splitlines()) == 1
    past = run("list", "--journal", str(journal_path), "--since", "2000-01-01T00:00+08:00")
    assert len(past.stdout.splitlines()) == 6


def test_since_takes_a_time_copied_from_a_record_or_a_listing(tmp_path: Path) -> None:
    """Records, listings and exports print lane times with their offset; pasted into --since
    they select from that moment on, whatever the machine's own time zone."""
    path, now = tmp_path / "journal.sqlite3", [0.0]
    with SqliteJournal(path, clock=lambda: now[0]) as journal:
        for n, at in ((1, 1_714_521_600), (2, 1_714_525_200)):
            now[0] = at + 0.25  # recorded a quarter of a second after the purchase
            record = debited(n, transaction_time=iso_time(at, "seconds"))
            journal.open_intent(intent(n))
            journal.close(record)
    second = json.loads(run("show", "L01-000002", "--journal", str(path)).stdout)
    assert second["transaction_time"] == "2024-05-01T09:00:00+08:00"
    for text in (second["transaction_time"], second["journal_recorded_at"],
                 "2024-05-01T09:00:00", "2024-05-01T01:00:00Z"):
        done = run("list", "--journal", str(path), "--since", text,
                   env={"TZ": "America/New_York"})
        assert [row.split()[1] for row in done.stdout.splitlines()[1:]] == ["L01-000002"], text
    listed = run("list", "--journal", str(path)).stdout.splitlines()[2].split()[0]
    assert listed == "2024-05-01T09:00:00+08:00"


def test_show_prints_the_record_as_json(journal_path: Path) -> None:
    done = run("show", "L01-000002", "--journal", str(journal_path))
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["tac"] == debited(2).tac and shown["journal_state"] == "closed"


def test_open_intents_shows_what_recovery_needs(journal_path: Path) -> None:
    done = run("open-intents", "--journal", str(journal_path))
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and lines[-1] == "1 open intent(s)"
    fields = lines[1].split()
    assert fields[:3] == ["L01-000004", debited(4).card_number, "104"]


def test_stats(journal_path: Path) -> None:
    done = run("stats", "--journal", str(journal_path))
    assert done.returncode == 0
    assert "transactions: 5" in done.stdout
    assert "open intents: 1" in done.stdout
    assert "outbox unpublished: 4" in done.stdout
    assert "OBU_LOCKED" in done.stdout


def test_export_to_a_file(journal_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    done = run("export", "--format", "jsonl", "-o", str(out), "--journal", str(journal_path))
    assert done.returncode == 0 and done.stdout == ""
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5 and rows[0]["transaction_id"] == "L01-000001"


def test_export_csv_to_stdout(journal_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--journal", str(journal_path), "export", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["outcome"] for r in rows] == ["debited"] * 3 + ["unresolved", "refused"]


def test_the_default_journal_is_under_var(journal_path: Path, tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    journal_path.rename(tmp_path / "var" / "journal.sqlite3")
    done = run("stats", cwd=tmp_path)
    assert done.returncode == 0 and "transactions: 5" in done.stdout


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["list"], 1),  # default journal missing in the test's working directory
        (["--journal", "/nonexistent/j.sqlite3", "stats"], 1),
        (["show", "nope"], 1),
        (["list", "--since", "yesterday"], 2),
        (["list", "--limit", "0"], 2),
        (["list", "--reason", "NO_SUCH"], 2),
        (["export"], 2),
        (["frobnicate"], 2),
        ([], 2),
    ],
)
def test_bad_arguments_and_missing_files_fail_in_one_line(
    args: list[str], status: int, journal_path: Path, tmp_path: Path
) -> None:
    if args == ["show", "nope"]:
        args = ["--journal", str(journal_path), *args]
    done = run(*args, cwd=tmp_path)
    assert done.returncode == status
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "error:" in done.stderr


def test_a_file_that_is_not_a_journal_is_an_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.sqlite3"
    bogus.write_text("not a database at all, " * 50, encoding="utf-8")
    done = run("--journal", str(bogus), "stats")
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1


def test_parse_time_reads_iso_and_unix_seconds() -> None:
    assert parse_time("1714521600") == 1714521600.0
    assert parse_time("2024-05-01T08:00:00+08:00") == 1714521600.0
    assert parse_time("2024-05-01T00:00:00Z") == 1714521600.0
