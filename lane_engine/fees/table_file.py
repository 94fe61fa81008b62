"""Fee-table files: atomic write, whole load, and load of one exit's block (the lane's need).

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
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from lane_engine.errors import FeeTableError
from lane_engine.fees.table import FEE_DTYPE, FeeSlice, FeeTable
from protocols.records import VehicleClass

MAGIC = b"ETCFEETB"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sHHI")
_CRC = struct.Struct("<I")
_ALIGN = 64
_LAYOUT = "exit,entry,class"


def write_fee_table(table: FeeTable, path: str | Path) -> None:
    """Write `table` to `path` atomically (temp file, fsync, rename, fsync of the folder)."""
    path = Path(path)
    fees = np.ascontiguousarray(table.fees, dtype=FEE_DTYPE)
    header = {
        "version": table.version,
        "network_hash": table.network_hash,
        "built_at": table.built_at,
        "stations": [list(key) for key in table.stations],
        "classes": [int(c) for c in table.classes],
        "dtype": FEE_DTYPE.str,
        "shape": list(fees.shape),
        "layout": _LAYOUT,
        "block_crc32": [zlib.crc32(block.data) for block in fees],
    }
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    prefix = _PREFIX.pack(MAGIC, FORMAT_VERSION, 0, len(header_bytes))
    start = _payload_offset(len(header_bytes))
    written = len(prefix) + len(header_bytes) + _CRC.size
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(descriptor, 0o644)  # mkstemp's 0600 would hide the table from the lane's user
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(prefix + header_bytes + _CRC.pack(zlib.crc32(header_bytes)))
            stream.write(bytes(start - written))
            stream.write(fees.data.cast("B"))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


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
