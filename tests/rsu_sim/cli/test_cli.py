"""`rsu-sim` through a subprocess: run, audit (clean and tampered), errors on one line."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def rsu_sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rsu_sim", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "sim"
    done = rsu_sim("run", "--vehicles", "80", "--out", str(out), "--seed", "3")
    assert done.returncode == 0, done.stderr
    assert "revenue" in done.stdout and "vehicles per CPU second" in done.stdout
    assert done.stderr == ""  # not a TTY: no progress bar
    return out


def test_run_writes_the_outputs(run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["passes"] == 80 and summary["seed"] == 3
    assert (run_dir / "keys.toml").stat().st_mode & 0o777 == 0o600
    assert (run_dir / "cards.jsonl").read_text().count("\n") > 0


def test_audit_of_a_genuine_run_is_clean(run_dir: Path) -> None:
    done = rsu_sim("audit", "--dir", str(run_dir))
    assert done.returncode == 0, done.stdout
    assert "audit: clean" in done.stdout


def test_audit_of_a_tampered_journal_fails(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    for item in run_dir.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    (copy / "keys.toml").chmod(0o600)
    with sqlite3.connect(copy / "journal.sqlite3") as db:
        tid, text = db.execute("SELECT transaction_id, record FROM transactions"
                               " WHERE outcome = 'debited' LIMIT 1").fetchone()
        record = json.loads(text)
        record["amount_debited"] += 1
        db.execute("UPDATE transactions SET record = ? WHERE transaction_id = ?",
                   (json.dumps(record), tid))
    done = rsu_sim("audit", "--dir", str(copy))
    assert done.returncode == 1
    assert f"PROBLEM {tid}" in done.stdout


def test_packaged_scenario_by_name_and_memory_journal(tmp_path: Path) -> None:
    done = rsu_sim("run", "--scenario", "clean", "--vehicles", "20", "--out", str(tmp_path),
                   "--journal", "memory", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "clean (seed" in done.stdout
    assert rsu_sim("audit", "--dir", str(tmp_path)).returncode == 0


@pytest.mark.parametrize("args", [
    ("run", "--vehicles", "5", "--scenario", "no-such-scenario"),
    ("run", "--vehicles", "5", "--scenario", "missing.toml"),
    ("audit", "--dir", "/nonexistent/run"),
])
def test_errors_are_one_line(args: tuple[str, ...]) -> None:
    done = rsu_sim(*args)
    assert done.returncode == 1  # a failure; 2 is bad usage
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("rsu-sim: error:")


def test_bad_arguments_exit_non_zero() -> None:
    assert rsu_sim("run", "--vehicles", "0").returncode == 2
    assert rsu_sim("run").returncode == 2
    help_text = rsu_sim("--help").stdout
    assert "examples:" in help_text and "rsu-sim audit" in help_text


def test_fault_rates_on_the_command_line(tmp_path: Path) -> None:
    done = rsu_sim("run", "--vehicles", "30", "--no-faults", "--fault", "blacklisted=1",
                   "--out", str(tmp_path), "--quiet")
    assert done.returncode == 0, done.stderr
    assert "blacklisted" in done.stdout.lower()
    bad = rsu_sim("run", "--vehicles", "5", "--fault", "radio_fade=7")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "probability" in bad.stderr


def test_a_new_served_world_refuses_a_journal_of_an_earlier_world(run_dir: Path,
                                                                  tmp_path: Path) -> None:
    world = tmp_path / "world"
    done = rsu_sim("serve", "--new", "--out", str(world), "--port", "0",
                   "--journal", str(run_dir / "journal.sqlite3"))
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert "journal.sqlite3: already holds" in line and "of an earlier world" in line
    assert not world.exists()  # refused before anything was made
