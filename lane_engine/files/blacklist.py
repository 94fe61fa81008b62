"""Blacklist files: a compact binary format for big full lists and a text format for small lists
and deltas. Every fault in a file is a BlacklistError naming the file and the line or field.

Binary (little-endian): a 32-byte header, then three packed columns of `count` values each:
serials (uint64), networks (uint16), reason codes (uint8).

    offset 0  8 magic b"ETCBLKLS" | 8 2 format version | 10 2 reserved (0)
    offset 12 4 CRC-32 of bytes 8..12 and 16..end | 16 8 list version | 24 8 count

Text (UTF-8): a header line `blacklist,<version>` or `blacklist-delta,<base>,<base+1>`, an
optional `card_number,reason` line, then one `<20 digits>,<REASON>` line per card; in a delta the
reason `REMOVE` takes the card off the list. Blank lines and lines starting with `#` are skipped.
"""

from __future__ import annotations

import os
import struct
import tempfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from cli_conventions.files import NotText, decode_text
from lane_engine.core.blacklist import (
    Blacklist,
    BlacklistDelta,
    Reason,
    split_card_number,
)
from lane_engine.errors import BlacklistError

__all__ = [
    "BINARY_FORMAT_VERSION",
    "BINARY_MAGIC",
    "COLUMNS_LINE",
    "DELTA_HEADER",
    "FULL_HEADER",
    "REMOVE",
    "load_binary",
    "load_delta_text",
    "load_text",
    "save_binary",
    "save_delta_text",
    "save_text",
]

BINARY_MAGIC = b"ETCBLKLS"
BINARY_FORMAT_VERSION = 1
_HEADER = struct.Struct("<8sHHIQQ")
_RECORD_SIZE = 8 + 2 + 1  # serial, network, reason code

FULL_HEADER = "blacklist"
DELTA_HEADER = "blacklist-delta"
COLUMNS_LINE = "card_number,reason"
REMOVE = "REMOVE"


# --- binary ---------------------------------------------------------------------------------


def save_binary(path: Path, blacklist: Blacklist) -> None:
    """Write `blacklist` in the binary format, atomically."""
    networks, serials, codes = blacklist.columns()
    body = [serials.astype("<u8").tobytes(), networks.astype("<u2").tobytes(), codes.tobytes()]
    fields = (BINARY_MAGIC, BINARY_FORMAT_VERSION, 0, blacklist.version, len(codes))
    crc = _crc(_HEADER.pack(*fields[:3], 0, *fields[3:]), body)
    _write_atomically(path, [_HEADER.pack(*fields[:3], crc, *fields[3:]), *body])


def load_binary(path: Path) -> Blacklist:
    """Read a binary blacklist file; any fault is a BlacklistError naming the file and field."""
    data = _read(path)
    if len(data) < _HEADER.size:
        raise BlacklistError(f"{path}: truncated header ({len(data)} of {_HEADER.size} bytes)")
    magic, format_version, reserved, crc, version, count = _HEADER.unpack_from(data)
    if magic != BINARY_MAGIC:
        raise BlacklistError(f"{path}: magic {magic!r} is not {BINARY_MAGIC!r}")
    if format_version != BINARY_FORMAT_VERSION:
        raise BlacklistError(f"{path}: format version {format_version} is not supported")
    if reserved != 0:
        raise BlacklistError(f"{path}: reserved header field is {reserved}, not 0")
    expected_size = _HEADER.size + count * _RECORD_SIZE
    if len(data) != expected_size:
        raise BlacklistError(
            f"{path}: {len(data)} bytes, but the header's count {count} needs {expected_size}"
        )
    body = memoryview(data)[_HEADER.size :]
    if _crc(data[: _HEADER.size], [body]) != crc:
        raise BlacklistError(f"{path}: checksum mismatch (header says {crc:#010x})")
    serials = np.frombuffer(body, dtype="<u8", count=count)
    networks = np.frombuffer(body, dtype="<u2", count=count, offset=8 * count)
    codes = np.frombuffer(body, dtype=np.uint8, count=count, offset=10 * count)
    try:
        return Blacklist.from_columns(version, networks, serials, codes)
    except BlacklistError as exc:
        raise BlacklistError(f"{path}: {exc}") from exc


def _crc(header: bytes, body: Iterable[bytes | memoryview]) -> int:
    """CRC-32 over the header's format/reserved and version/count fields, then the body."""
    crc = zlib.crc32(header[8:12])
    crc = zlib.crc32(header[16:32], crc)
    for chunk in body:
        crc = zlib.crc32(chunk, crc)
    return crc


# --- text -----------------------------------------------------------------------------------


def save_text(path: Path, blacklist: Blacklist) -> None:
    """Write `blacklist` as text, cards in ascending order, atomically."""
    lines = [f"{FULL_HEADER},{blacklist.version}", COLUMNS_LINE]
    lines += [f"{card},{reason.name}" for card, reason in sorted(blacklist.entries())]
    _write_atomically(path, ["\n".join(lines).encode() + b"\n"])


def save_delta_text(path: Path, delta: BlacklistDelta) -> None:
    """Write `delta` as text (additions, then removals), atomically."""
    lines = [f"{DELTA_HEADER},{delta.base_version},{delta.target_version}", COLUMNS_LINE]
    lines += [f"{card},{reason.name}" for card, reason in sorted(delta.additions)]
    lines += [f"{card},{REMOVE}" for card in sorted(delta.removals)]
    _write_atomically(path, ["\n".join(lines).encode() + b"\n"])


def load_text(path: Path) -> Blacklist:
    """Read a full list in the text format."""
    lines = _text_lines(path)
    version = _header(path, lines, FULL_HEADER)[0]
    entries = []
    for number, card, word in _rows(path, lines):
        entries.append((card, _reason(path, number, word)))
    try:
        return Blacklist.from_entries(version, entries)
    except BlacklistError as exc:
        raise BlacklistError(f"{path}: {exc}") from exc


def load_delta_text(path: Path) -> BlacklistDelta:
    """Read a delta in the text format."""
    lines = _text_lines(path)
    base, target = _header(path, lines, DELTA_HEADER)
    if target != base + 1:
        raise BlacklistError(f"{path}:{lines[0][0]}: a delta goes from {base} to {base + 1}")
    additions: list[tuple[str, Reason]] = []
    removals: list[str] = []
    for number, card, word in _rows(path, lines):
        if word == REMOVE:
            removals.append(card)
        else:
            additions.append((card, _reason(path, number, word)))
    try:
        return BlacklistDelta(base, tuple(additions), tuple(removals))
    except BlacklistError as exc:
        raise BlacklistError(f"{path}: {exc}") from exc


def _text_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, stripped text) of the lines that are neither blank nor comments."""
    try:
        text = decode_text(_read(path), str(path))
    except NotText as exc:
        raise BlacklistError(str(exc)) from None
    kept = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]
    kept = [(n, line) for n, line in kept if line and not line.startswith("#")]
    if not kept:
        raise BlacklistError(f"{path}: empty, no header line")
    return kept


def _header(path: Path, lines: list[tuple[int, str]], kind: str) -> list[int]:
    number, line = lines[0]
    fields = line.split(",")
    arity = 2 if kind == FULL_HEADER else 3
    if fields[0] != kind or len(fields) != arity:
        shape = f"{kind},<version>" if kind == FULL_HEADER else f"{kind},<base>,<version>"
        raise BlacklistError(f"{path}:{number}: header {line!r} is not {shape!r}")
    versions = []
    for text in fields[1:]:
        if not (text.isascii() and text.isdigit()):
            raise BlacklistError(f"{path}:{number}: version {text!r} is not a decimal number")
        versions.append(int(text))
    return versions


def _rows(path: Path, lines: list[tuple[int, str]]) -> Iterable[tuple[int, str, str]]:
    """(line number, card number, reason word) of each entry line, card numbers checked."""
    body = lines[1:]
    if body and body[0][1].replace(" ", "") == COLUMNS_LINE:
        body = body[1:]
    first_seen: dict[str, int] = {}
    for number, line in body:
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != 2:
            raise BlacklistError(f"{path}:{number}: {len(fields)} fields, expected 2: {line!r}")
        try:
            split_card_number(fields[0])
        except BlacklistError as exc:
            raise BlacklistError(f"{path}:{number}: card_number: {exc}") from exc
        if fields[0] in first_seen:
            raise BlacklistError(
                f"{path}:{number}: card {fields[0]} already on line {first_seen[fields[0]]}"
            )
        first_seen[fields[0]] = number
        yield number, fields[0], fields[1].upper()


def _reason(path: Path, number: int, word: str) -> Reason:
    try:
        return Reason[word]
    except KeyError:
        known = ", ".join(reason.name for reason in Reason)
        raise BlacklistError(f"{path}:{number}: reason {word!r} is not one of {known}") from None


# --- file access ----------------------------------------------------------------------------


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BlacklistError(f"{path}: cannot read: {exc.strerror}") from exc


def _write_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    """Write a temporary file beside `path`, fsync it, rename it over `path`, fsync the folder."""
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                for chunk in chunks:
                    file.write(chunk)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError as exc:
        raise BlacklistError(f"{path}: cannot write: {exc.strerror}") from exc
