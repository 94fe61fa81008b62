"""Bad input from a careless operator, through the real commands: every refusal is one line on
stderr naming what is wrong, never a traceback, never a silent wrong answer."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli_conventions.files import NotText, decode_text, text_lines, write_file
from cli_conventions.numbers import port, positive_float, positive_int

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
#: b'version = "x' then a byte that is no UTF-8: line 1, column 13, byte 12
NOT_UTF8 = b'version = "x\xfe"\n'
WHERE = "line 1, column 13 (byte 12): not UTF-8 text (byte 0xfe)"


def run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / argv[0]), *argv[1:]] if (BIN / argv[0]).exists() else [
        sys.executable, "-m", *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False,
                          cwd=cwd)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# ---------------------------------------------------------------- files that are not text


@pytest.mark.parametrize("argv", [
    ("lane-engine", "run", "--config", "{file}"),
    ("lane-engine", "fees", "build", "--network", "{file}", "--table-version", "1",
     "-o", "{dir}/fees.etcfee"),
    ("lane-engine", "policy", "check", "{file}"),
    ("rsu-sim", "run", "--scenario", "{file}", "--vehicles", "1", "--out", "{dir}/sim"),
], ids=["run --config", "fees build --network", "policy check", "rsu-sim run --scenario"])
def test_a_file_that_is_not_utf8_is_refused_in_one_line_saying_where(
        tmp_path: Path, argv: tuple[str, ...]) -> None:
    # On main these were UnicodeDecodeError tracebacks (lane-engine) and a one-line message
    # without the position (rsu-sim).
    bad = tmp_path / "bad.toml"
    bad.write_bytes(NOT_UTF8)
    result = run(*(a.format(file=bad, dir=tmp_path) for a in argv))
    assert result.returncode == 1
    assert f"{bad}: {WHERE}" in one_line(result)


def test_a_key_set_that_is_not_utf8_is_refused_saying_where(tmp_path: Path) -> None:
    from keys.errors import KeySetError
    from keys.keyset_file import load_key_set

    path = tmp_path / "keys.toml"
    path.write_bytes(NOT_UTF8)
    path.chmod(0o600)
    with pytest.raises(KeySetError, match=f"^{re.escape(f'{path}: {WHERE}')}$"):
        load_key_set(path)


def test_a_text_blacklist_that_is_not_utf8_is_refused_saying_where(tmp_path: Path) -> None:
    from lane_engine.errors import BlacklistError
    from lane_engine.files.blacklist import load_text

    path = tmp_path / "list.txt"
    path.write_bytes(b"# a list\n3701\xff\n")
    with pytest.raises(BlacklistError) as refused:
        load_text(path)
    assert str(refused.value) == (f"{path}: line 2, column 5 (byte 13): "
                                  "not UTF-8 text (byte 0xff)")


def test_a_frame_log_that_is_not_utf8_is_refused_not_replaced(tmp_path: Path) -> None:
    # Conformance read frame logs with errors="replace": bad bytes became U+FFFD unseen.
    from rsu_sim.cli.conformance import judge_frame_log
    from rsu_sim.errors import OutputError

    log = tmp_path / "frames.log"
    log.write_bytes(b"# a log\n2026-01-01T00:00:00+08:00 exit-1 1 RX ffff\xfe\n")
    with pytest.raises(OutputError, match=re.escape("line 2, column 43 (byte 50): not UTF-8")):
        judge_frame_log(log, None)  # type: ignore[arg-type]  # refused before judging


def test_text_helpers_name_the_position_and_keep_good_text() -> None:
    assert decode_text("街道\n".encode(), "x") == "街道\n"
    with pytest.raises(NotText) as refused:
        decode_text("第一行\n第二\xff".encode()[:-2] + b"\xff", "f.txt")
    assert (refused.value.line, refused.value.column) == (2, 3)
    lines = [b"ok\n", b"also ok\n", b"\xc3(\n"]
    with pytest.raises(NotText, match=r"^f: line 3, column 1 \(byte 11\)"):
        list(text_lines(lines, "f"))


# ---------------------------------------------------------------- numbers on command lines


@pytest.mark.parametrize(("option", "message"), [
    (("--port", "99999"), "argument --port: 99999 is out of range: a TCP port wants 0..65535"),
    (("--port", "-1"), "argument --port: -1 is out of range: a TCP port wants 0..65535"),
    (("--vehicles", "0"), "argument --vehicles: 0 is out of range: a whole number wants >= 1"),
    (("--seed", "-1"), "argument --seed: -1 is out of range: a whole number wants >= 0"),
    (("--speed", "nan"), "argument --speed: 'nan' must be a finite number > 0"),
], ids=lambda value: " ".join(value) if isinstance(value, tuple) else "")
def test_serve_refuses_numbers_out_of_range_at_the_parser(
        tmp_path: Path, option: tuple[str, str], message: str) -> None:
    # On main --port 99999 and -1 were OverflowError tracebacks, --seed -1 a numpy
    # traceback, and --vehicles 0 served forever.
    result = run("rsu-sim", "serve", *option, "--out", str(tmp_path / "world"), "--no-frame-log")
    assert result.returncode == 2
    assert one_line(result) == f"rsu-sim: error: {message}"


def test_serve_refuses_a_lane_port_past_65535(tmp_path: Path) -> None:
    result = run("rsu-sim", "serve", "--port", "65535", "--out", str(tmp_path / "world"),
                 "--no-frame-log")
    assert result.returncode == 1 and not (tmp_path / "world").exists()
    assert one_line(result) == ("rsu-sim: error: lane exit-1: port 65536 is not 0..65535 (the "
                                "first lane on 65535, each next one port up)")


@pytest.mark.parametrize(("ctc", "message"), [
    ("99999", "CTC: 5 hex digits, an odd number; wants 2 bytes (4 hex digits)"),
    ("12G4", "CTC: not hexadecimal ('G' at position 3)"),
    ("123456", "CTC: wants 2 bytes (4 hex digits), got 3 bytes"),
])
def test_keys_says_what_is_wrong_with_a_hex_argument(ctc: str, message: str) -> None:
    # On main "99999" (hexadecimal, one digit too many) was refused as "not hexadecimal".
    result = run("keys", "session-key", "--algorithm", "3des",
                 "0123456789ABCDEFFEDCBA9876543210", "12345678", ctc, "0001")
    assert result.returncode == 1
    assert one_line(result) == f"python -m keys: error: {message}"


def test_number_types_refuse_what_is_out_of_range() -> None:
    import argparse

    assert port("0") == 0 and port("65535") == 65535 and positive_int("7") == 7
    assert positive_float("0.5") == 0.5
    for parse, text in ((port, "65536"), (port, "12a"), (positive_int, "0"),
                        (positive_float, "inf"), (positive_float, "-1")):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(text)


# ---------------------------------------------------------------- writing


def test_a_file_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_file(target, "first\n")
    write_file(target, "second\n", mode=0o600)
    assert target.read_text() == "second\n" and target.stat().st_mode & 0o777 == 0o600
    with pytest.raises(OSError):
        write_file(tmp_path / "missing" / "out.txt", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]  # no temporary left


def test_keys_generate_into_a_missing_folder_fails_with_the_reason(tmp_path: Path) -> None:
    # The case: "wrote", exit 0 and no file. Now the reason, status 1, nothing written.
    target = tmp_path / "nowhere" / "keys.toml"
    result = run("keys", "generate", "--algorithm", "3des", "--network", "3701",
                 "-o", str(target))
    assert result.returncode == 1 and result.stdout == ""
    assert one_line(result) == (f"python -m keys: error: {target}: cannot write "
                                "(No such file or directory)")
    assert not target.parent.exists()


# ---------------------------------------------------------------- journals


def _damaged_journal(path: Path) -> None:
    import sqlite3

    from lane_engine.journal import SqliteJournal
    from tests.lane_engine.journal.journal_records import intent

    with SqliteJournal(path) as journal:
        for n in range(40):
            journal.open_intent(intent(n))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    data[-page:] = b"\x5a" * page  # the last page overwritten
    path.write_bytes(bytes(data))


def _config(tmp_path: Path, journal: Path, policy: Path = ROOT / "examples" / "policy.toml"
            ) -> Path:
    config = tmp_path / "lane.toml"
    config.write_text(f"""[plaza]
network = "3701"
station = 120
[paths]
journal = "{journal}"
policy = "{policy}"
[[lanes]]
number = 1
mode = "entry"
rsu = "127.0.0.1:1"
""", encoding="utf-8")
    return config


@pytest.mark.parametrize("command", ["open-intents", "list", "stats"])
def test_every_journal_command_refuses_a_damaged_journal_alike(
        tmp_path: Path, command: str) -> None:
    # On main `open-intents` printed "0 open intent(s)" and exited 0: a recovering operator
    # would have believed nothing was in doubt.
    journal = tmp_path / "journal.sqlite3"
    _damaged_journal(journal)
    result = run("lane-engine", "journal", "--journal", str(journal), command)
    assert result.returncode == 1 and result.stdout == ""
    line = one_line(result)
    assert line.startswith(f"lane-engine journal: error: journal {journal} is damaged (")
    assert line.endswith(f"`lane-engine journal --journal {journal} check` lists what is wrong")


def test_status_and_run_refuse_a_damaged_journal_with_the_same_message(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    _damaged_journal(journal)
    expected = run("lane-engine", "journal", "--journal", str(journal), "stats").stderr
    reason = expected.split("error: ", 1)[1].strip()
    status = run("lane-engine", "status", "--journal", str(journal))
    assert status.returncode == 1 and reason in status.stderr
    lane = run("lane-engine", "run", "--config", str(_config(tmp_path, journal)))
    assert lane.returncode == 1 and reason in lane.stderr


def test_journal_check_lists_the_damage_and_passes_a_sound_journal(tmp_path: Path) -> None:
    from lane_engine.journal import SqliteJournal

    sound = tmp_path / "sound.sqlite3"
    SqliteJournal(sound).close_journal()
    result = run("lane-engine", "journal", "--journal", str(sound), "check")
    assert (result.returncode, result.stdout) == (0, f"{sound}: ok (SQLite integrity check)\n")
    journal = tmp_path / "journal.sqlite3"
    _damaged_journal(journal)
    result = run("lane-engine", "journal", "--journal", str(journal), "check")
    assert result.returncode == 1 and result.stdout.strip()
    assert one_line(result).startswith(f"lane-engine journal: journal {journal} is damaged: ")


def test_run_refuses_an_empty_journal_file_as_the_journal_commands_do(tmp_path: Path) -> None:
    # On main `run` took an empty file for a new journal; `journal` refused it.
    journal = tmp_path / "journal.sqlite3"
    journal.touch()
    lane = run("lane-engine", "run", "--config", str(_config(tmp_path, journal)))
    listing = run("lane-engine", "journal", "--journal", str(journal), "stats")
    reason = f"no journal at {journal}: an empty file is not a lane journal"
    assert lane.returncode == 1 and reason in lane.stderr
    assert listing.returncode == 1 and reason in one_line(listing)
    assert journal.stat().st_size == 0


def test_run_refuses_a_policy_cut_in_half_before_it_serves(tmp_path: Path) -> None:
    # On main half of the example policy (still valid TOML) passed, and `run` served its lanes
    # with the lost fields at their defaults; `policy check` says the same (test_policy_cli).
    text = (ROOT / "examples" / "policy.toml").read_text(encoding="utf-8")
    half = tmp_path / "policy.toml"
    half.write_text(text[: text.index("[entry]")], encoding="utf-8")
    journal = tmp_path / "journal.sqlite3"
    lane = run("lane-engine", "run", "--config", str(_config(tmp_path, journal, half)))
    assert lane.returncode == 1 and "Traceback" not in lane.stderr
    assert (f"{half}: missing entry.stale_limit_s, entry.b_card_min_balance_fen, "
            "exit.reread_window_s, exit.uturn_grace_s, exit.no_entry, exit.no_entry_fee_fen")\
        in lane.stderr
    assert not journal.exists()  # refused before the lane opened anything


def test_a_negative_seed_is_refused_where_it_is_given(tmp_path: Path) -> None:
    # On main `rsu-sim run --seed -1` and a scenario's `seed = -1` were numpy tracebacks.
    scenario = tmp_path / "scenario.toml"
    text = (ROOT / "rsu_sim" / "scenarios" / "clean.toml").read_text(encoding="utf-8")
    scenario.write_text("seed = -1\n" + "\n".join(line for line in text.splitlines()
                                                 if not line.startswith("seed")),
                        encoding="utf-8")
    by_file = run("rsu-sim", "run", "--scenario", str(scenario), "--vehicles", "3",
                  "--out", str(tmp_path / "a"))
    assert by_file.returncode == 1
    assert one_line(by_file) == f"rsu-sim: error: {scenario}: [seed] -1 must be a whole number >= 0"
    by_option = run("rsu-sim", "run", "--seed", "-1", "--vehicles", "3",
                    "--out", str(tmp_path / "b"))
    assert by_option.returncode == 2
    assert one_line(by_option) == ("rsu-sim: error: argument --seed: -1 is out of range: a whole "
                                   "number wants >= 0")


def test_a_vehicle_count_past_what_one_run_can_hold_is_refused(tmp_path: Path) -> None:
    # On main --vehicles 999999999999 tried to allocate 4 TiB (a numpy MemoryError traceback).
    result = run("rsu-sim", "run", "--vehicles", "999999999999", "--out", str(tmp_path / "a"))
    assert result.returncode == 2
    assert one_line(result) == ("rsu-sim: error: argument --vehicles: 999999999999 is out of "
                                "range: a vehicle count wants 1..1000000000")


@pytest.mark.parametrize("argv", [
    ("lane-engine", "fees", "synthetic", "--stations", "4", "--seed", "-1", "--table-version",
     "1", "-o", "{dir}/fees.etcfee"),
    ("lane-engine", "blacklist", "synthetic", "--count", "3", "--seed", "-5", "--list-version",
     "1", "-o", "{dir}/list.bin"),
], ids=["fees synthetic", "blacklist synthetic"])
def test_synthetic_data_refuses_a_negative_seed_at_the_parser(
        tmp_path: Path, argv: tuple[str, ...]) -> None:
    # On main both were numpy tracebacks ("expected non-negative integer").
    result = run(*(a.format(dir=tmp_path) for a in argv))
    assert result.returncode == 2
    assert "argument --seed: " in one_line(result) and "wants >= 0" in one_line(result)
