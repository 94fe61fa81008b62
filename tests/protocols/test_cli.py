"""`python -m protocols decode` through a real subprocess, including the README example."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.protocols import golden

README = Path(__file__).resolve().parent.parent.parent / "README.md"


def decode(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "protocols", "decode", *args],
        capture_output=True, text=True, input=stdin, timeout=60, check=False,
    )


def test_readme_example_works_as_written() -> None:
    section = README.read_text(encoding="utf-8").split("## Decoding a captured frame", 1)[1]
    block = section.split("```", 2)[1]
    command, shown = re.search(r"\$ python (.+)\n(.+)\n", block).groups()  # type: ignore[union-attr]
    result = subprocess.run(
        [sys.executable, *command.split()], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == shown.strip()


def test_every_v3_golden_frame_prints_its_type_and_seq() -> None:
    result = decode(*(frame["hex"] for frame in golden.V3))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["frame"] for line in lines] == [f["fields"]["type"] for f in golden.V3]
    assert [line["seq"] for line in lines] == [f["seq"] for f in golden.V3]


def test_b2_fields_are_rendered_readably() -> None:
    b2: dict[str, Any] = next(f for f in golden.V3 if f["fields"]["type"] == "B2")
    fields = json.loads(decode(b2["hex"]).stdout)["fields"]
    assert fields["obu_id"] == b2["fields"]["OBUID"]
    assert fields["date_of_issue"].replace("-", "") == b2["fields"]["DateOfIssue"]
    assert fields["obu_status"] == ["CONTACTLESS_ICC"]
    assert fields["device_type"] == "DOUBLE_CHIP_OBU"


def test_capture_file_with_comments_prefixes_and_spaced_hex(tmp_path: Path) -> None:
    first, second = golden.V3[0]["hex"], golden.V3[-1]["hex"]
    spaced = " ".join(second[i : i + 2] for i in range(0, len(second), 2))
    capture = tmp_path / "capture.log"
    capture.write_text(
        f"# a capture\n\n{first}\n2024-05-01 12:00:01.250 PC->RSU {spaced}  # antenna on\n",
        encoding="utf-8",
    )
    result = decode("--file", str(capture))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2


def test_legacy_frame_is_detected_and_its_data_shown_raw() -> None:
    frame = golden.BCC[0]
    result = decode(frame["hex"])
    line = json.loads(result.stdout)
    assert (line["envelope"], line["rsctl"]) == ("bcc", frame["rsctl"])
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1


def test_bad_crc_gives_one_line_on_stderr_and_status_1() -> None:
    good = golden.V3[-1]["hex"]
    result = decode(good[:-1] + ("0" if good[-1] != "0" else "1"))
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "checksum" in result.stderr


def test_not_hex_and_missing_file_are_named() -> None:
    assert "hex" in decode("xyz").stderr
    missing = decode("--file", "/nonexistent/capture.log")
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_help_documents_the_file_format() -> None:
    result = decode("--help")
    assert result.returncode == 0
    assert "--file" in result.stdout and "#" in result.stdout and "--envelope" in result.stdout


def test_a_frame_log_prefix_is_kept_and_another_prefix_whole(tmp_path: Path) -> None:
    first, second = golden.V3[0]["hex"], golden.V3[-1]["hex"]
    capture = tmp_path / "frames.log"
    capture.write_text(
        f"# 2026-11-27T09:00:00.000+08:00 exit-1 c3 lane connected from 127.0.0.1:5000\n"
        f"2026-11-27T09:00:00.125+08:00 exit-1 c3 TX {first}\n"
        f"12:00:01.250 PC->RSU {second}\n", encoding="utf-8")
    result = decode("--file", str(capture))
    assert result.returncode == 0, result.stderr
    logged, other = (json.loads(line) for line in result.stdout.splitlines())
    assert list(logged)[:4] == ["time", "lane", "connection", "direction"]
    assert (logged["time"], logged["lane"], logged["connection"], logged["direction"]) == (
        "2026-11-27T09:00:00.125+08:00", "exit-1", "c3", "TX")
    assert other["prefix"] == "12:00:01.250 PC->RSU" and "direction" not in other


def test_a_vendor_value_is_decoded_with_a_note() -> None:
    vendor_c0 = "c0" + "00" * 4 + "20210104171356" + "13" + "0a0a0001" + "00" * 5
    data = bytes.fromhex(vendor_c0)
    frame = b"\xff\xff\x00\x10" + len(data).to_bytes(4, "big") + data
    from protocols.crc import crc16_x25

    frame += crc16_x25(frame[2:]).to_bytes(2, "big")
    result = decode(frame.hex())
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert line["fields"]["lane_mode"] == 0x13
    assert line["notes"] == ["C0 lane_mode 0x13 is not a standard LaneMode: kept as sent"]


def test_a_reader_that_stops_early_ends_the_output_quietly(tmp_path: Path) -> None:
    capture = tmp_path / "big.log"
    capture.write_text((golden.V3[0]["hex"] + "\n") * 20_000, encoding="utf-8")
    shell = subprocess.run(
        f"{sys.executable} -m protocols decode --file {capture} | head -1",
        shell=True, capture_output=True, text=True, timeout=120, check=False)
    assert shell.stdout.count("\n") == 1
    assert shell.stderr == "", shell.stderr
