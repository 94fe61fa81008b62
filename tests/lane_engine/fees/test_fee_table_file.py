"""Fee-table files: round trip, one-exit slices, and refusal of corrupt or mismatched files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lane_engine.errors import FeeTableError
from lane_engine.fees.builder import build_fee_table
from lane_engine.fees.synthetic import synthetic_network
from lane_engine.fees.table import FeeTable
from lane_engine.fees.table_file import (
    MAGIC,
    load_fee_slice,
    load_fee_table,
    write_fee_table,
)
from protocols.records import ALL_CLASSES


@pytest.fixture(scope="module")
def table() -> FeeTable:
    return build_fee_table(synthetic_network(12, 21), "2024.07", "2024-07-01T00:00:00Z")


@pytest.fixture
def table_file(tmp_path: Path, table: FeeTable) -> Path:
    path = tmp_path / "fees.bin"
    write_fee_table(table, path)
    return path


def _flip_bit(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))


def test_round_trip_keeps_everything(table: FeeTable, table_file: Path) -> None:
    loaded = load_fee_table(table_file, expected_network_hash=table.network_hash)
    assert (loaded.version, loaded.network_hash, loaded.built_at) == (
        table.version,
        table.network_hash,
        table.built_at,
    )
    assert loaded.stations == table.stations
    assert loaded.classes == table.classes
    np.testing.assert_array_equal(loaded.fees, table.fees)


def test_every_slice_equals_the_full_table_row(table: FeeTable, table_file: Path) -> None:
    for exit_index, (network, station) in enumerate(table.stations):
        fee_slice = load_fee_slice(table_file, network, station, table.network_hash)
        np.testing.assert_array_equal(fee_slice.fees, table.fees[exit_index])
        for entry_network, entry_station in table.stations[:3]:
            for vehicle_class in ALL_CLASSES[::5]:
                assert fee_slice.fee(entry_network, entry_station, vehicle_class) == table.fee(
                    entry_network, entry_station, exit_index, vehicle_class
                )


def test_unknown_stations_and_classes_price_as_none(table: FeeTable, table_file: Path) -> None:
    fee_slice = load_fee_slice(table_file, *table.stations[0])
    assert fee_slice.fee("9999", 1, ALL_CLASSES[0]) is None
    assert fee_slice.fee(*table.stations[1], 99) is None
    assert table.fee("9999", 1, 0, ALL_CLASSES[0]) is None
    assert table.fee(*table.stations[1], len(table.stations), ALL_CLASSES[0]) is None
    assert table.fee(*table.stations[1], ("9999", 1), ALL_CLASSES[0]) is None


def test_unknown_exit_station_is_refused(table_file: Path) -> None:
    with pytest.raises(FeeTableError, match="not in the table"):
        load_fee_slice(table_file, "9999", 1)


def test_write_leaves_no_temporary_file(table: FeeTable, table_file: Path) -> None:
    write_fee_table(table, table_file)  # replaces the existing file
    assert [p.name for p in table_file.parent.iterdir()] == [table_file.name]


def test_payload_bit_flip_is_refused_whole_and_in_its_slice(
    table: FeeTable, table_file: Path
) -> None:
    size = table_file.stat().st_size
    _flip_bit(table_file, size - 1)  # last byte: in the last exit's block
    with pytest.raises(FeeTableError, match="checksum"):
        load_fee_table(table_file)
    with pytest.raises(FeeTableError, match="checksum"):
        load_fee_slice(table_file, *table.stations[-1])
    load_fee_slice(table_file, *table.stations[0])  # other blocks are still sound


def test_header_bit_flip_is_refused(table_file: Path) -> None:
    _flip_bit(table_file, 40)
    with pytest.raises(FeeTableError, match="checksum"):
        load_fee_table(table_file)


@pytest.mark.parametrize("keep", [0, 5, 20, 200, -1])
def test_truncated_file_is_refused(table: FeeTable, table_file: Path, keep: int) -> None:
    data = table_file.read_bytes()
    table_file.write_bytes(data[:keep])
    with pytest.raises(FeeTableError, match="truncated"):
        load_fee_table(table_file)
    with pytest.raises(FeeTableError, match="truncated"):
        load_fee_slice(table_file, *table.stations[0])


def test_wrong_magic_is_refused(table_file: Path) -> None:
    data = table_file.read_bytes()
    table_file.write_bytes(b"NOTAFILE" + data[len(MAGIC) :])
    with pytest.raises(FeeTableError, match="not a fee table"):
        load_fee_table(table_file)


def test_other_network_is_refused(table: FeeTable, table_file: Path) -> None:
    with pytest.raises(FeeTableError, match="expected"):
        load_fee_table(table_file, expected_network_hash="0" * 64)
    with pytest.raises(FeeTableError, match="expected"):
        load_fee_slice(table_file, *table.stations[0], expected_network_hash="0" * 64)


def test_missing_file_is_a_fee_table_error(tmp_path: Path) -> None:
    with pytest.raises(FeeTableError, match="cannot open"):
        load_fee_slice(tmp_path / "absent.bin", "3701", 1)
