"""`lane-engine fees`: build from the example network, show, check (corruption, wrong network),
synthetic; in-process through `main(argv)` and as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lane_engine.cli.main import main
from lane_engine.fees.table_file import load_fee_table
from lane_engine.files.network import load_network
from protocols.records import VehicleClass

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "network.toml"
BUILT_AT = "2026-11-01T08:00:00+08:00"

# Fees worked out by hand from examples/network.toml: a section costs length x rate / 1000,
# rounded half up to the fen; a trip pays its cheapest route's sections.
#   Jinan North 3701/102 -> bridge boundary -> Jinan hub -> Jinan West 3701/120, passenger 1:
#   8200 m x 45 = 369.0, 3400 m x 90 (bridge) = 306.0, 15300 m x 45 = 688.5 -> 689.
NORTH_TO_WEST_P1 = 369 + 306 + 689
#   Jinan East 3701/101 -> Jinan hub -> Jinan West: 12500 m x 45 = 562.5 -> 563, then 689.
EAST_TO_WEST_P1 = 563 + 689
#   Changqing 3701/130 -> Jinan West over the mountain: 21000 m x 45 = 945.0.
CHANGQING_TO_WEST_P1 = 945
#   Tai'an 3702/201 -> Tai'an hub (9750 m) -> Changqing (18000 m) -> Jinan West (21000 m) is
#   cheaper for passenger 1 than via the Jinan hub (42000 m): 438.75 -> 439, 810, 945 against
#   439 + 1890 + 689.
TAIAN_TO_WEST_P1 = 439 + 810 + 945
#   A class 6 truck pays 400 fen/km on the mountain road, so it goes by the Jinan hub:
#   9750 m x 170 (the section's override) = 1657.5 -> 1658, 42000 m x 162 = 6804,
#   15300 m x 162 = 2478.6 -> 2479; over the mountain it would be 1658 + 2916 + 8400.
TAIAN_TO_WEST_T6 = 1658 + 6804 + 2479


def lane_engine(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lane_engine", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


@pytest.fixture(scope="module")
def example_table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fees") / "fees.etcfee"
    assert main(["fees", "build", "--network", str(EXAMPLE), "--table-version", "2026.11",
                 "--built-at", BUILT_AT, "-o", str(path)]) == 0
    return path


def test_build_prices_the_example_as_worked_out_by_hand(example_table: Path) -> None:
    table = load_fee_table(example_table)
    assert (table.version, table.built_at) == ("2026.11", BUILT_AT)
    assert table.network_hash == load_network(EXAMPLE).network_hash()
    west = ("3701", 120)
    p1, t6 = VehicleClass.PASSENGER_1, VehicleClass.TRUCK_6
    assert table.fee("3701", 102, west, p1) == NORTH_TO_WEST_P1
    assert table.fee("3701", 101, west, p1) == EAST_TO_WEST_P1
    assert table.fee("3701", 130, west, p1) == CHANGQING_TO_WEST_P1
    assert table.fee("3702", 201, west, p1) == TAIAN_TO_WEST_P1
    assert table.fee("3702", 201, west, t6) == TAIAN_TO_WEST_T6
    assert table.fee("3701", 120, ("3702", 201), t6) == TAIAN_TO_WEST_T6  # two-way


def test_build_reports_what_it_built(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fees.etcfee"
    assert main(["fees", "build", "--network", str(EXAMPLE), "--table-version", "v1",
                 "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "5 stations, 16 classes, 8 sections" in text
    assert load_network(EXAMPLE).network_hash() in text
    assert f"({out.stat().st_size} bytes)" in text


def test_show_gives_one_trip_fee(example_table: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fees", "show", str(example_table), "--exit", "3701/120",
                 "--entry", "3702/201", "--class", "truck_6"]) == 0
    text = capsys.readouterr().out
    assert "fee table   2026.11" in text and f"built at    {BUILT_AT}" in text
    assert f"TRUCK_6      {TAIAN_TO_WEST_T6} fen (109.41 yuan)" in text
    assert "PASSENGER_1" not in text


def test_show_summarises_the_fees_into_an_exit(
    example_table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fees", "show", str(example_table), "--exit", "3701/120", "--class", "1"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("PASSENGER_1"))
    # Four entries: 945, 1252, 1364, 2194; the lower median is 1252.
    fees = sorted([NORTH_TO_WEST_P1, EAST_TO_WEST_P1, CHANGQING_TO_WEST_P1, TAIAN_TO_WEST_P1])
    assert line.split() == ["PASSENGER_1", str(fees[0]), "(9.45)", str(fees[1]), "(12.52)",
                            str(fees[3]), "(21.94)", "0"]


def test_show_without_exit_prints_the_header(
    example_table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fees", "show", str(example_table)]) == 0
    text = capsys.readouterr().out
    assert "stations    5 (3701: 4, 3702: 1)" in text
    assert load_network(EXAMPLE).network_hash() in text


def test_check_accepts_the_table_and_its_network(example_table: Path) -> None:
    done = lane_engine("fees", "check", str(example_table), "--network", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert "5 exit blocks verified" in done.stdout and "matches" in done.stdout


def test_check_refuses_a_corrupted_block(example_table: Path, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.etcfee"
    data = bytearray(example_table.read_bytes())
    data[-5] ^= 0x40  # a fee in the last exit block
    corrupt.write_bytes(bytes(data))
    done = lane_engine("fees", "check", str(corrupt))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "checksum mismatch" in done.stderr


@pytest.mark.parametrize("cut", [1, 100])
def test_check_refuses_a_truncated_table(example_table: Path, tmp_path: Path, cut: int) -> None:
    short = tmp_path / "short.etcfee"
    short.write_bytes(example_table.read_bytes()[:-cut])
    assert main(["fees", "check", str(short)]) == 1


def test_check_refuses_a_table_of_another_network(
    example_table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.toml"
    other.write_text(EXAMPLE.read_text(encoding="utf-8").replace("length_m = 9750",
                                                                  "length_m = 9751"))
    assert main(["fees", "check", str(example_table), "--network", str(other)]) == 1
    assert "expected" in capsys.readouterr().err


def test_synthetic_then_show_and_rebuild_from_its_network_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table, network = tmp_path / "syn.etcfee", tmp_path / "syn.toml"
    assert main(["fees", "synthetic", "--stations", "30", "--seed", "5", "--networks",
                 "3701,3702", "--network-out", str(network), "--table-version", "s1",
                 "--built-at", BUILT_AT, "-o", str(table)]) == 0
    assert main(["fees", "show", str(table)]) == 0
    text = capsys.readouterr().out
    assert "stations    30 (" in text and "3703" not in text
    rebuilt = tmp_path / "rebuilt.etcfee"
    assert main(["fees", "build", "--network", str(network), "--table-version", "s1",
                 "--built-at", BUILT_AT, "-o", str(rebuilt)]) == 0
    assert rebuilt.read_bytes() == table.read_bytes()


def test_a_network_with_an_unreachable_station_is_refused(tmp_path: Path) -> None:
    island = tmp_path / "island.toml"
    island.write_text(EXAMPLE.read_text(encoding="utf-8")
                      + '\n[[stations]]\nnode = 50\nnetwork = "3701"\nid = 999\nname = "x"\n')
    done = lane_engine("fees", "build", "--network", str(island), "--table-version", "v",
                       "-o", str(tmp_path / "t.etcfee"))
    assert done.returncode == 1 and "no route" in done.stderr
    assert not (tmp_path / "t.etcfee").exists()


@pytest.mark.parametrize("argv", [
    ["fees", "show", "t.etcfee", "--entry", "3701/101"],
    ["fees", "show", "t.etcfee", "--exit", "3701-120"],
    ["fees", "show", "t.etcfee", "--exit", "3701/120", "--class", "bus"],
    ["fees", "synthetic", "--stations", "0", "--table-version", "v", "-o", "t"],
    ["fees", "synthetic", "--stations", "3", "--networks", "37,3702", "--table-version", "v",
     "-o", "t"],
    ["fees", "build", "--network", "n.toml", "-o", "t"],
    ["fees"],
])
def test_bad_usage_is_one_line_and_status_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("lane-engine: error: ")


@pytest.mark.parametrize("command", [["fees"], ["fees", "build"], ["fees", "synthetic"],
                                     ["fees", "show"], ["fees", "check"]])
def test_every_fees_command_has_help_with_an_example(command: list[str]) -> None:
    done = lane_engine(*command, "--help")
    assert done.returncode == 0
    assert "example" in done.stdout and "lane-engine fees" in done.stdout


def test_show_and_check_report_in_json(example_table: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fees", "show", str(example_table), "--exit", "3701/120",
                 "--entry", "3702/201", "--class", "truck_6", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["header"]["version"] == "2026.11" and shown["header"]["built_at"] == BUILT_AT
    assert shown["trip"] == {"entry": "3702/201", "exit": "3701/120", "fen": {"TRUCK_6": 10941}}
    assert main(["fees", "show", str(example_table), "--exit", "3701/120", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)["exit_fees"]
    assert summary["exit"] == "3701/120" and len(summary["fen"]) == 16
    assert main(["fees", "check", str(example_table), "--network", str(EXAMPLE), "--json"]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["ok"] and checked["network"] == str(EXAMPLE)
