"""Fee-table files: atomic write (whole, or block by block as they are built), whole load, load
of one exit's block (the lane's need), the header alone, and a check that reads a few blocks at
a time.

Layout (little-endian):
    0   8 bytes  magic b"ETCFEETB"
    8   u16      format version (1)
    10  u16      reserved, 0
    12  u32      header length H
    16  H bytes  header: UTF-8 JSON (version, network_hash, built_at, stations, classes, dtype,
                 shape, layout, block_crc32 = one CRC-32 per exit block)
    16+H u32     CRC-32 of the header bytes
    then zero padding to a multiple of 64, then the payload: fees[exit][entry][class] as dtype,
    one block of entries x classes per exit station.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from lane_engine.errors import FeeTableError
from lane_engine.fees.table import FEE_DTYPE, FeeSlice, FeeTable
from protocols.records import VehicleClass

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "FeeTableInfo",
    "FeeTableWriter",
    "check_fee_table",
    "load_fee_slice",
    "load_fee_table",
    "read_fee_table_info",
    "write_fee_table",
]

MAGIC = b"ETCFEETB"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sHHI")
_CRC = struct.Struct("<I")
_ALIGN = 64
_LAYOUT = "exit,entry,class"


def write_fee_table(table: FeeTable, path: str | Path) -> None:
    """Write `table` to `path` atomically (temp file, fsync, rename, fsync of the folder)."""
    fees = np.ascontiguousarray(table.fees, dtype=FEE_DTYPE)
    with FeeTableWriter(path, table.version, table.network_hash, table.built_at, table.stations,
                        table.classes) as writer:
        writer.write_blocks(fees)


class FeeTableWriter:
    """Writes a fee table exit block by exit block, in exit order, as they are computed: the
    payload goes to its place in a temporary file at once, the header (with every block's
    checksum) last, then the file is made durable and renamed into place (`finish`, or leaving
    the `with` block without an error). Memory: the blocks handed to one `write_blocks` call.

    The header's place is reserved for the longest it can be and the header padded to it with
    spaces (JSON allows them), so the file is the format-1 table `write_fee_table` writes.
    """

    def __init__(self, path: str | Path, version: str, network_hash: str, built_at: str,
                 stations: tuple[tuple[str, int], ...],
                 classes: tuple[VehicleClass, ...]) -> None:
        self.path = Path(path)
        self._header: dict[str, Any] = {
            "version": version, "network_hash": network_hash, "built_at": built_at,
            "stations": [list(key) for key in stations], "classes": [int(c) for c in classes],
            "dtype": FEE_DTYPE.str, "shape": [len(stations), len(stations), len(classes)],
            "layout": _LAYOUT, "block_crc32": [],
        }
        self._block_shape = (len(stations), len(classes))
        self._exits = len(stations)
        longest = dict(self._header, block_crc32=[0xFFFF_FFFF] * self._exits)
        self._header_length = len(_header_bytes(longest))
        descriptor, self._temp_name = tempfile.mkstemp(prefix=f".{self.path.name}.",
                                                       dir=self.path.parent)
        os.fchmod(descriptor, 0o644)  # mkstemp's 0600 would hide the table from the lane's user
        self._stream = os.fdopen(descriptor, "wb")
        self._stream.seek(_payload_offset(self._header_length))

    def write_blocks(self, blocks: np.ndarray) -> None:
        """Append the blocks of the next exits (shape: exits, entries, classes)."""
        blocks = np.ascontiguousarray(blocks, dtype=FEE_DTYPE)
        if blocks.shape[1:] != self._block_shape:
            raise FeeTableError(f"fee blocks of shape {blocks.shape[1:]}, expected "
                                f"{self._block_shape}")
        crcs = self._header["block_crc32"]
        if len(crcs) + len(blocks) > self._exits:
            raise FeeTableError("more fee blocks than exit stations")
        crcs.extend(zlib.crc32(block.data) for block in blocks)
        self._stream.write(blocks.data.cast("B"))

    def finish(self) -> None:
        """Write the header, make the file durable and put it in place."""
        if len(self._header["block_crc32"]) != self._exits:
            raise FeeTableError(f"{len(self._header['block_crc32'])} of {self._exits} exit "
                                f"blocks written")
        header = _header_bytes(self._header)
        header += b" " * (self._header_length - len(header))
        stream = self._stream
        stream.seek(0)
        stream.write(_PREFIX.pack(MAGIC, FORMAT_VERSION, 0, len(header)) + header
                     + _CRC.pack(zlib.crc32(header)))
        stream.write(bytes(_payload_offset(len(header)) - stream.tell()))
        stream.flush()
        os.fsync(stream.fileno())
        stream.close()
        os.replace(self._temp_name, self.path)
        _fsync_folder(self.path.parent)

    def abort(self) -> None:
        """Drop the temporary file; nothing is written at `path`."""
        if not self._stream.closed:
            self._stream.close()
        Path(self._temp_name).unlink(missing_ok=True)

    def __enter__(self) -> FeeTableWriter:
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        if kind is None:
            try:
                self.finish()
            except BaseException:
                self.abort()
                raise
        else:
            self.abort()


def _header_bytes(header: dict[str, Any]) -> bytes:
    return json.dumps(header, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True, slots=True)
class FeeTableInfo:
    """What a fee table's header says (read without its payload)."""

    version: str
    network_hash: str
    built_at: str
    stations: tuple[tuple[str, int], ...]
    classes: tuple[VehicleClass, ...]


def read_fee_table_info(path: str | Path,
                        expected_network_hash: str | None = None) -> FeeTableInfo:
    """The header of a fee table, checked (magic, format, checksum, size); no block is read."""
    with _open(path) as stream:
        header, stations, _ = _read_header(stream, path, expected_network_hash)
    return FeeTableInfo(header["version"], header["network_hash"], header["built_at"],
                        stations, _classes(header, path))


def check_fee_table(path: str | Path, expected_network_hash: str | None = None,
                    blocks_at_once: int = 64) -> FeeTableInfo:
    """Verify the header and every exit block's checksum, reading `blocks_at_once` blocks at a
    time (memory bounded by them, whatever the table's size); FeeTableError on any fault."""
    with _open(path) as stream:
        header, stations, _ = _read_header(stream, path, expected_network_hash)
        exits, entries, classes = header["shape"]
        block_bytes = entries * classes * FEE_DTYPE.itemsize
        for first in range(0, exits, blocks_at_once):
            count = min(blocks_at_once, exits - first)
            data = _read_exactly(stream, count * block_bytes, path)
            blocks = np.frombuffer(data, dtype=FEE_DTYPE).reshape(count, entries, classes)
            for offset, block in enumerate(blocks):
                _check_block(block, header, first + offset, path)
    return FeeTableInfo(header["version"], header["network_hash"], header["built_at"],
                        stations, _classes(header, path))


def load_fee_table(path: str | Path, expected_network_hash: str | None = None) -> FeeTable:
    """Load and verify a whole table (every block's checksum); FeeTableError on any fault."""
    with _open(path) as stream:
        header, stations, _ = _read_header(stream, path, expected_network_hash)
        shape = tuple(header["shape"])
        payload = _read_exactly(stream, int(np.prod(shape)) * FEE_DTYPE.itemsize, path)
    fees = np.frombuffer(payload, dtype=FEE_DTYPE).reshape(shape)
    for exit_index, block in enumerate(fees):
        _check_block(block, header, exit_index, path)
    return FeeTable(
        version=header["version"],
        network_hash=header["network_hash"],
        built_at=header["built_at"],
        stations=stations,
        fees=fees,
        classes=_classes(header, path),
    )


def load_fee_slice(
    path: str | Path,
    exit_network: str,
    exit_station: int,
    expected_network_hash: str | None = None,
) -> FeeSlice:
    """Load only the block of one exit station, verifying its checksum; FeeTableError on faults."""
    with _open(path) as stream:
        header, stations, start = _read_header(stream, path, expected_network_hash)
        try:
            exit_index = stations.index((exit_network, exit_station))
        except ValueError:
            raise FeeTableError(
                f"{path}: exit station {exit_network}/{exit_station} is not in the table"
            ) from None
        _, entries, classes = header["shape"]
        block_size = entries * classes * FEE_DTYPE.itemsize
        stream.seek(start + exit_index * block_size)
        block = _read_exactly(stream, block_size, path)
    fees = np.frombuffer(block, dtype=FEE_DTYPE).reshape(entries, classes)
    _check_block(fees, header, exit_index, path)
    return FeeSlice(
        version=header["version"],
        network_hash=header["network_hash"],
        built_at=header["built_at"],
        exit_station=(exit_network, exit_station),
        stations=stations,
        fees=fees,
        classes=_classes(header, path),
    )


def _payload_offset(header_length: int) -> int:
    end = _PREFIX.size + header_length + _CRC.size
    return -(-end // _ALIGN) * _ALIGN


def _open(path: str | Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise FeeTableError(f"{path}: cannot open fee table: {exc}") from exc


def _read_exactly(stream: BinaryIO, size: int, path: str | Path) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise FeeTableError(f"{path}: truncated fee table ({len(data)} of {size} bytes)")
    return data


def _read_header(
    stream: BinaryIO, path: str | Path, expected_network_hash: str | None
) -> tuple[dict[str, Any], tuple[tuple[str, int], ...], int]:
    """Check magic, format, header CRC, metadata and the file's size.

    Returns the header, the station keys and the payload's offset.
    """
    magic, version, _, length = _PREFIX.unpack(_read_exactly(stream, _PREFIX.size, path))
    if magic != MAGIC:
        raise FeeTableError(f"{path}: not a fee table (magic {magic!r})")
    if version != FORMAT_VERSION:
        raise FeeTableError(f"{path}: fee-table format {version} is not {FORMAT_VERSION}")
    header_bytes = _read_exactly(stream, length, path)
    (crc,) = _CRC.unpack(_read_exactly(stream, _CRC.size, path))
    if zlib.crc32(header_bytes) != crc:
        raise FeeTableError(f"{path}: fee-table header checksum mismatch (corrupt file)")
    try:
        header = json.loads(header_bytes)
        exits, entries, classes = (int(n) for n in header["shape"])
        stations = _stations(header)
        valid = (
            header["dtype"] == FEE_DTYPE.str
            and header["layout"] == _LAYOUT
            and exits == entries == len(stations)
            and classes == len(header["classes"])
            and len(header["block_crc32"]) == exits
            and all(isinstance(header[k], str) for k in ("version", "network_hash", "built_at"))
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise FeeTableError(f"{path}: fee-table header is malformed: {exc}") from exc
    if not valid:
        raise FeeTableError(f"{path}: fee-table header is inconsistent")
    if expected_network_hash is not None and header["network_hash"] != expected_network_hash:
        raise FeeTableError(
            f"{path}: fee table is for network {header['network_hash'][:16]}…, "
            f"expected {expected_network_hash[:16]}…"
        )
    start = _payload_offset(length)
    size = start + exits * entries * classes * FEE_DTYPE.itemsize
    actual = os.fstat(stream.fileno()).st_size
    if actual != size:
        raise FeeTableError(f"{path}: fee table is {actual} bytes, expected {size} (truncated?)")
    stream.seek(start)
    return header, stations, start


def _check_block(block: np.ndarray, header: dict[str, Any], index: int, path: str | Path) -> None:
    if zlib.crc32(np.ascontiguousarray(block).data) != header["block_crc32"][index]:
        exit_key = header["stations"][index]
        raise FeeTableError(f"{path}: checksum mismatch in the block of exit {exit_key} (corrupt)")


def _stations(header: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    return tuple((network, int(station)) for network, station in header["stations"])


def _classes(header: dict[str, Any], path: str | Path) -> tuple[VehicleClass, ...]:
    try:
        return tuple(VehicleClass(c) for c in header["classes"])
    except ValueError as exc:
        raise FeeTableError(f"{path}: unknown vehicle class in fee-table header") from exc


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
