"""Fee tables built and written batch of exit blocks by batch: the same table as the one built
in memory, memory held to a batch, no file when the network is not connected, and a check that
reads a few blocks at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lane_engine.errors import FeeTableError, NetworkError
from lane_engine.fees.builder import build_fee_table, write_fee_table_of
from lane_engine.fees.network import RoadNetwork, Section, Station
from lane_engine.fees.synthetic import synthetic_network
from lane_engine.fees.table import FEE_DTYPE
from lane_engine.fees.table_file import check_fee_table, load_fee_table, read_fee_table_info
from protocols.records import ALL_CLASSES

NETWORK = synthetic_network(40, 5)
BUILT_AT = "2024-07-01T00:00:00Z"


@pytest.mark.parametrize("batch_exits", [1, 7, 40])
def test_a_table_written_in_batches_is_the_table_built_in_memory(tmp_path: Path,
                                                                 batch_exits: int) -> None:
    path = tmp_path / "fees.etcfee"
    block = 40 * len(ALL_CLASSES) * FEE_DTYPE.itemsize
    built = write_fee_table_of(NETWORK, "v1", BUILT_AT, path, batch_bytes=batch_exits * block)
    whole = build_fee_table(NETWORK, "v1", BUILT_AT)
    loaded = load_fee_table(path, expected_network_hash=whole.network_hash)
    np.testing.assert_array_equal(loaded.fees, whole.fees)
    assert loaded.stations == whole.stations and loaded.version == "v1"
    assert built.exits_per_batch >= min(batch_exits, 40)
    assert built.batches == -(-40 // built.exits_per_batch)
    assert built.peak_batch_bytes == built.exits_per_batch * block  # the build's whole payload


def test_a_disconnected_network_leaves_no_file(tmp_path: Path) -> None:
    rates = (45,) * 16
    network = RoadNetwork(
        stations=tuple(Station(n, "3701", n + 1, f"S{n}") for n in range(4)),
        junctions=(),
        sections=(Section(0, 1, 5_000, rates), Section(2, 3, 5_000, rates)),
    )
    path = tmp_path / "fees.etcfee"
    with pytest.raises(NetworkError, match="no route"):
        write_fee_table_of(network, "v1", BUILT_AT, path, batch_bytes=1)
    assert list(tmp_path.iterdir()) == []


def test_check_and_header_read_a_few_blocks_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "fees.etcfee"
    write_fee_table_of(NETWORK, "v1", BUILT_AT, path)
    info = read_fee_table_info(path)
    assert (info.version, len(info.stations), info.classes) == ("v1", 40, ALL_CLASSES)
    assert check_fee_table(path, blocks_at_once=3).network_hash == NETWORK.network_hash()
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01  # in the last exit's block
    path.write_bytes(bytes(data))
    with pytest.raises(FeeTableError, match="checksum mismatch in the block of exit"):
        check_fee_table(path, blocks_at_once=3)
