"""`lane-engine policy check`: the example policy and broken copies of it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lane_engine.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "policy.toml"


def test_the_example_policy_checks_and_its_fields_are_printed() -> None:
    done = subprocess.run([sys.executable, "-m", "lane_engine", "policy", "check", str(EXAMPLE)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"{EXAMPLE}: ok; the lanes apply:"
    fields = dict(line.split() for line in done.stdout.splitlines()[1:])
    # every field, under the name the file gives it
    assert list(fields) == ["version", "etc.rate_bp", "etc.rounding", "cash.rounding",
                            "entry.stale_limit_s", "entry.b_card_min_balance_fen",
                            "exit.reread_window_s", "exit.uturn_grace_s", "exit.no_entry",
                            "exit.no_entry_fee_fen"]
    assert fields["version"] == "2024.1"
    assert fields["etc.rate_bp"] == "9500" and fields["cash.rounding"] == "half_up"
    assert fields["entry.stale_limit_s"] == "259200" and fields["exit.no_entry"] == "refuse"


@pytest.mark.parametrize(("old", "new", "named"), [
    ("rate_bp = 9500", "rate_bp = 0", "etc.rate_bp"),
    ("rate_bp = 9500", "rate_pb = 9500", "etc.rate_pb: unknown field"),
    ('rounding = "down"', 'rounding = "sideways"', "etc.rounding"),
    ('no_entry = "refuse"', 'no_entry = "charge_default_fee"', "no_entry_fee"),
    ('version = "2024.1"', 'version = "2024.1', "not valid TOML"),
])
def test_a_broken_copy_is_one_line_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, named: str
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "policy.toml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    assert main(["policy", "check", str(broken)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert str(broken) in captured.err and named in captured.err


def test_policy_needs_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check"]) == 2
    assert main(["policy"]) == 2


def test_a_policy_cut_in_half_is_refused_for_what_it_lost(tmp_path: Path) -> None:
    # The case: half of the example is still valid TOML; on main `policy check` passed
    # and `run` started with the lost fields at their defaults.
    text = EXAMPLE.read_text(encoding="utf-8")
    half = tmp_path / "policy.toml"
    half.write_text(text[: text.index("[entry]")], encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "lane_engine", "policy", "check", str(half)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (
        f"python -m lane_engine: error: {half}: missing entry.stale_limit_s, "
        "entry.b_card_min_balance_fen, exit.reread_window_s, exit.uturn_grace_s, exit.no_entry, "
        "exit.no_entry_fee_fen (a policy names every field: none of them may come from a "
        "default)\n")

