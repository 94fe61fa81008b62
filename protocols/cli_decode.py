"""`python -m protocols decode`: captured PC-RSU frames (hex) to JSON, one object a line.

The only module of `protocols` that touches files (`--file`); everything it decodes goes through
the same sans-IO functions the lane and the simulator use.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import enum
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from cli_conventions import EXIT_STATUS, HelpFormatter, add_commands, add_version_flag
from cli_conventions.files import NotText, text_lines
from protocols.envelope import BccPacket, EnvelopeKind, Packet, guess_envelope
from protocols.errors import FrameError
from protocols.frame_codec import decode_frame, nonstandard_values
from protocols.frames import UnknownFrame
from protocols.records import Plate
from protocols.stream import decode_packet

__all__ = [
    "decode_one",
    "frame_hex_of_line",
    "main",
    "prefix_fields",
    "split_capture_line",
    "to_json",
]

_DESCRIPTION = """\
Decode captured PC-RSU frames (envelope included) and print each as one line of JSON:
envelope kind, SEQ (V3) or RSCTL (legacy), frame type and name, and the fields, with bytes as
hex, plates as text, dates in ISO form and coded values by name where known."""

_EPILOG = """\
examples:
  python -m protocols decode ffff001000000002c4013f41
  python -m protocols decode --file capture.log --pretty

capture files (--file, '-' for stdin): one frame per line. Blank lines and lines starting
with '#' are skipped, and so is everything after a '#'. Hex bytes may be separated by spaces.
A line may start with a prefix such as a timestamp and a direction ("12:00:01.250 RSU->PC");
the frame is taken from the first whitespace-separated token where "ffff" begins to the end
of the line. The prefix is kept in the output: a frame log line of rsu-sim serve
("<ISO time> <lane> <connection> <RX|TX> <hex>") gives "time", "lane", "connection" and
"direction"; any other prefix is kept whole as "prefix".

A coded value the standard does not know (a vendor LaneMode) is kept as its number and named
in "notes"; the frame still counts as decoded.

exit status: 0 all frames decoded, 1 some frame was refused (one line on stderr each),
2 bad usage or unreadable file. A reader that stops early (| head) ends the output quietly."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m protocols",
        description="Tools for the wire formats of the ETC lane engine.",
        epilog=EXIT_STATUS, formatter_class=HelpFormatter,
    )
    add_version_flag(parser)
    commands = add_commands(parser)
    decode = commands.add_parser(
        "decode",
        help="decode captured PC-RSU frames to JSON (one object a line)",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    decode.add_argument("frames", nargs="*", metavar="HEX", help="a whole frame in hex, STX first")
    decode.add_argument("--file", metavar="PATH", help="read frames from a capture file")
    decode.add_argument(
        "--envelope",
        choices=["auto", "v3", "bcc"],
        default="auto",
        help="envelope of the frames; auto picks V3 when the LEN field matches (default: auto)",
    )
    decode.add_argument("--pretty", action="store_true", help="indent the JSON")
    return parser


# ---------------------------------------------------------------- input


def split_capture_line(line: str) -> tuple[str, str] | None:
    """(prefix, frame hex) of one capture line, or None for a blank or comment line.

    The frame starts at the first token beginning with ``ff`` from which the rest of the line is
    hex and begins with ``ffff``; found in one pass from the end, so a long line costs time
    linear in its length.
    """
    text = line.split("#", 1)[0].strip()
    if not text:
        return None
    tokens = text.split()
    start = None
    odd = False  # the digits of tokens[i:] are odd in number
    rest_head = ""  # the first digits of tokens[i:]
    for i in range(len(tokens) - 1, -1, -1):
        token = tokens[i]
        if _HEX_DIGITS.fullmatch(token) is None:
            break  # no frame can start at or before a token that is not hex
        odd ^= len(token) % 2 == 1
        rest_head = (token + rest_head)[:4]
        if not odd and rest_head.lower() == "ffff" and token[:2].lower() == "ff":
            start = i
    if start is not None:
        return " ".join(tokens[:start]), "".join(tokens[start:])
    return "", "".join(tokens)  # no frame found: let the decoder name the problem


def frame_hex_of_line(line: str) -> str | None:
    """The frame hex of one capture line, or None for a blank or comment line."""
    split = split_capture_line(line)
    return None if split is None else split[1]


_DIRECTIONS = frozenset({"RX", "TX"})


def prefix_fields(prefix: str) -> dict[str, str]:
    """What a capture line says before its frame: a frame log's time, lane, connection and
    direction (or time, lane and direction), else the prefix whole; nothing for no prefix."""
    tokens = prefix.split()
    if len(tokens) in (3, 4) and tokens[-1] in _DIRECTIONS and _is_iso_time(tokens[0]):
        names: tuple[str, ...] = ("time", "lane", "connection", "direction")
        if len(tokens) == 3:
            names = ("time", "lane", "direction")
        return dict(zip(names, tokens, strict=True))
    return {"prefix": prefix} if prefix else {}


def _is_iso_time(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


_HEX_DIGITS = re.compile(r"[0-9A-Fa-f]+")


def _is_hex(text: str) -> bool:
    return bool(re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", text))




def _sources(args: argparse.Namespace) -> Iterator[tuple[str, str, str]]:
    """(where, prefix, hex) of every frame asked for."""
    for number, text in enumerate(args.frames, start=1):
        yield f"argument {number}", "", text.replace(" ", "")
    if args.file is None:
        return
    name = "stdin" if args.file == "-" else args.file
    stream = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
    with stream:
        for number, line in text_lines(stream, name):
            split = split_capture_line(line)
            if split is not None:
                yield f"{name} line {number}", *split


# ---------------------------------------------------------------- output


def to_json(value: Any) -> Any:
    """A JSON-ready form of a frame, record or field value."""
    if isinstance(value, Plate):
        return value.text
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, enum.Flag):
        return [member.name for member in type(value) if member in value and member.value]
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _obu_id(getattr(value, f.name)) if f.name == "obu_id"
            else to_json(getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
    if isinstance(value, tuple | list):
        return [to_json(item) for item in value]
    return value


def _obu_id(value: int) -> str:
    """OBUIDs print as the 8 hex digits of the air-link MAC address, as captures show them."""
    return f"{value:08x}"


def _describe(packet: Packet, envelope: EnvelopeKind) -> dict[str, Any]:
    head: dict[str, Any] = {"envelope": envelope.value}
    if isinstance(packet, BccPacket):
        head["rsctl"] = f"{packet.rsctl:02x}"
    else:
        head["seq"] = f"{packet.seq:02x}"
    return head


def decode_one(hex_text: str, envelope: str, prefix: str = "") -> dict[str, Any]:
    """The JSON object of one frame, after what its line's `prefix` says; raises ValueError
    or FrameError naming the problem."""
    if not _is_hex(hex_text):
        raise ValueError(f"not an even number of hex digits: {hex_text[:40]!r}")
    raw = bytes.fromhex(hex_text)
    kind = guess_envelope(raw) if envelope == "auto" else EnvelopeKind(envelope)
    packet = decode_packet(raw, kind)
    result: dict[str, Any] = {**prefix_fields(prefix), **_describe(packet, kind)}
    try:
        frame = decode_frame(packet.data)
    except FrameError as exc:
        result["data"] = packet.data.hex()
        result["error"] = str(exc)
        return result
    if isinstance(frame, UnknownFrame):
        result.update(frame=f"{frame.frame_type:02X}", name="UnknownFrame", data=frame.data.hex())
        return result
    result.update(frame=f"{packet.data[0]:02X}", name=type(frame).__name__, fields=to_json(frame))
    notes = nonstandard_values(frame)
    if notes:
        result["notes"] = [f"{note}: kept as sent" for note in notes]
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m protocols`; returns the exit status."""
    args = _parser().parse_args(argv)
    if not args.frames and args.file is None:
        print("error: give frames in hex or --file PATH (see --help)", file=sys.stderr)
        return 2
    failed = False
    try:
        for where, prefix, hex_text in _sources(args):
            try:
                result = decode_one(hex_text, args.envelope, prefix)
            except (ValueError, FrameError) as exc:
                print(f"error: {where}: {exc}", file=sys.stderr)
                failed = True
                continue
            if "error" in result:
                print(f"error: {where}: {result['error']}", file=sys.stderr)
                failed = True
            print(json.dumps(result, ensure_ascii=False, indent=2 if args.pretty else None))
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        return 1 if failed else 0
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except NotText as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 1 if failed else 0


def _quiet_stdout() -> None:
    """The reader of stdout has gone (`| head`): what is still buffered goes nowhere, so the
    interpreter's final flush does not fail with a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
