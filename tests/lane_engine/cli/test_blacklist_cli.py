"""`lane-engine blacklist`: convert round trips, show and look-ups, synthetic lists, deltas."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lane_engine.cli.main import main
from lane_engine.core.blacklist import Reason
from lane_engine.files.blacklist import load_binary, load_text

ROOT = Path(__file__).resolve().parents[3]
LOST_1 = "37010000000000000001"
LOST_2 = "37010000000000000002"
FORGED = "32010000000000000500"
UNLISTED = "37010000000000000003"


def lane_engine(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lane_engine", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


@pytest.fixture
def small_list(tmp_path: Path) -> Path:
    path = tmp_path / "list.txt"
    path.write_text(f"blacklist,7\ncard_number,reason\n# reported today\n{LOST_1},LOST\n"
                    f"{FORGED},FORGED\n{LOST_2},lost\n", encoding="utf-8")
    return path


def test_convert_text_to_binary_and_back(small_list: Path, tmp_path: Path) -> None:
    binary, text = tmp_path / "list.bin", tmp_path / "again.csv"
    assert main(["blacklist", "convert", str(small_list), str(binary)]) == 0
    assert binary.read_bytes()[:8] == b"ETCBLKLS"
    assert main(["blacklist", "convert", str(binary), str(text)]) == 0
    expected = {(LOST_1, Reason.LOST), (LOST_2, Reason.LOST), (FORGED, Reason.FORGED)}
    assert set(load_binary(binary).entries()) == expected
    again = load_text(text)
    assert again.version == 7 and set(again.entries()) == expected


def test_show_counts_reasons_and_finds_a_listed_card(
    small_list: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["blacklist", "show", str(small_list), "--card", FORGED]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "version  7" in lines and "cards    3" in lines
    counts = {line.split()[0]: int(line.split()[1]) for line in lines if line.startswith("  ")}
    assert counts == {"LOST": 2, "CANCELLED": 0, "ARREARS": 0, "OVERDRAWN": 0, "FORGED": 1,
                      "SUSPENDED": 0, "PARTNER_LISTED": 0, "CLASS_MISMATCH": 0, "OTHER": 0}
    assert lines[-1] == f"card {FORGED}: listed, FORGED"


def test_show_does_not_find_an_unlisted_card(small_list: Path) -> None:
    """A negative answer is exit status 1, so a script can ask `if lane-engine blacklist ...`."""
    done = lane_engine("blacklist", "show", str(small_list), "--card", UNLISTED)
    assert done.returncode == 1 and done.stderr == ""
    assert done.stdout.splitlines()[-1] == f"card {UNLISTED}: not listed"
    as_json = lane_engine("blacklist", "show", str(small_list), "--card", UNLISTED, "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["card"] == {"number": UNLISTED, "listed": False,
                                                  "reason": None}


def test_a_malformed_card_number_is_bad_usage(
    small_list: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["blacklist", "show", str(small_list), "--card", "3701"]) == 2
    assert "20 decimal digits" in capsys.readouterr().err


def test_synthetic_lists_are_reproducible_and_convert_both_ways(tmp_path: Path) -> None:
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    for path in (first, second):
        done = lane_engine("blacklist", "synthetic", "--count", "5000", "--seed", "3",
                           "--list-version", "12", "-o", str(path))
        assert done.returncode == 0, done.stderr
    assert first.read_bytes() == second.read_bytes()
    listed = load_binary(first)
    assert (listed.version, len(listed)) == (12, 5000)
    sample = done.stdout.split("a listed card: ")[1].strip()
    assert sample in listed
    text, back = tmp_path / "a.txt", tmp_path / "back.bin"
    assert main(["blacklist", "convert", str(first), str(text)]) == 0
    assert main(["blacklist", "convert", str(text), str(back)]) == 0
    assert set(load_binary(back).entries()) == set(listed.entries())


def test_apply_a_delta(small_list: Path, tmp_path: Path) -> None:
    delta, out = tmp_path / "delta-8.txt", tmp_path / "list-8.bin"
    delta.write_text(f"blacklist-delta,7,8\n{UNLISTED},ARREARS\n{LOST_1},REMOVE\n"
                     f"{FORGED},OTHER\n", encoding="utf-8")
    done = lane_engine("blacklist", "apply", str(small_list), str(delta), "-o", str(out))
    assert done.returncode == 0, done.stderr
    updated = load_binary(out)
    assert updated.version == 8
    assert set(updated.entries()) == {(LOST_2, Reason.LOST), (FORGED, Reason.OTHER),
                                      (UNLISTED, Reason.ARREARS)}
    again = lane_engine("blacklist", "apply", str(out), str(delta), "-o", str(out))
    assert again.returncode == 1 and again.stderr.count("\n") == 1
    assert "does not apply to list version 8" in again.stderr
    assert load_binary(out).version == 8  # left as it was


def test_a_corrupt_list_is_one_line_and_status_1(small_list: Path, tmp_path: Path) -> None:
    binary = tmp_path / "list.bin"
    assert main(["blacklist", "convert", str(small_list), str(binary)]) == 0
    data = bytearray(binary.read_bytes())
    data[-1] ^= 0x01
    binary.write_bytes(bytes(data))
    done = lane_engine("blacklist", "show", str(binary))
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert str(binary) in done.stderr


@pytest.mark.parametrize("command", [["blacklist"], ["blacklist", "convert"],
                                     ["blacklist", "show"], ["blacklist", "synthetic"],
                                     ["blacklist", "apply"]])
def test_every_blacklist_command_has_help_with_an_example(command: list[str]) -> None:
    done = lane_engine(*command, "--help")
    assert done.returncode == 0
    assert "example" in done.stdout and "lane-engine blacklist" in done.stdout
