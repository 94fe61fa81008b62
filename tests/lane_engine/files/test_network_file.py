"""Road-network files: the example, rate tables and overrides, write/load round trips, errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lane_engine.errors import NetworkError
from lane_engine.fees.network import Junction, RoadNetwork, Section, Station
from lane_engine.fees.synthetic import synthetic_network
from lane_engine.files.network import (
    load_network,
    network_from_mapping,
    network_text,
    write_network,
)
from protocols.records import ALL_CLASSES, VehicleClass

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "network.toml"
P1, T1, T6 = (ALL_CLASSES.index(c) for c in (VehicleClass.PASSENGER_1, VehicleClass.TRUCK_1,
                                             VehicleClass.TRUCK_6))

MINIMAL = """\
format = 1
[rate_tables.default]
PASSENGER_1 = 45
PASSENGER_2 = 68
PASSENGER_3 = 90
PASSENGER_4 = 113
TRUCK_1 = 45
TRUCK_2 = 90
TRUCK_3 = 135
TRUCK_4 = 142
TRUCK_5 = 150
TRUCK_6 = 162
SPECIAL_1 = 45
SPECIAL_2 = 90
SPECIAL_3 = 135
SPECIAL_4 = 142
SPECIAL_5 = 150
SPECIAL_6 = 162
[rate_tables.bridge]
PASSENGER_1 = 90

[[stations]]
node = 1
network = "3701"
id = 101
name = "A"

[[stations]]
node = 2
network = "3701"
id = 102
name = "B"

[[junctions]]
node = 9
name = "hub"

[[sections]]
from = 1
to = 9
length_m = 1000

[[sections]]
from = 9
to = 2
length_m = 2000
rate_table = "bridge"
rates = { TRUCK_6 = 170 }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "network.toml"
    path.write_text(text, encoding="utf-8")
    return path


def section_between(network: RoadNetwork, a: int, b: int) -> Section:
    (section,) = (s for s in network.sections if {s.from_node, s.to_node} == {a, b})
    return section


def test_the_example_network_loads_with_its_rate_tables_and_overrides() -> None:
    network = load_network(EXAMPLE)
    assert {s.key for s in network.stations} == {
        ("3701", 101), ("3701", 102), ("3701", 120), ("3701", 130), ("3702", 201)}
    assert len(network.junctions) == 3 and len(network.sections) == 8
    bridge = section_between(network, 11, 10)
    assert (bridge.length_m, bridge.rates[P1], bridge.rates[T1]) == (3400, 90, 45)
    new_road = section_between(network, 5, 12)
    assert (new_road.rates[P1], new_road.rates[T6]) == (45, 170)
    mountain = section_between(network, 3, 4)
    assert (mountain.rates[P1], mountain.rates[T6]) == (45, 400)


def test_a_section_takes_its_table_then_its_own_overrides(tmp_path: Path) -> None:
    network = load_network(write(tmp_path, MINIMAL))
    plain, bridged = section_between(network, 1, 9), section_between(network, 9, 2)
    assert (plain.rates[P1], plain.rates[T6]) == (45, 162)
    assert (bridged.rates[P1], bridged.rates[T1], bridged.rates[T6]) == (90, 45, 170)


@settings(max_examples=12, deadline=None)
@given(stations=st.integers(1, 60), seed=st.integers(0, 2**32 - 1))
def test_a_written_synthetic_network_reads_back_the_same(stations: int, seed: int) -> None:
    network = synthetic_network(stations, seed, networks=("3701", "3702"))
    again = _reload(network_text(network, name="synthetic"))
    assert again.network_hash() == network.network_hash()


def test_names_with_quotes_and_chinese_survive_the_round_trip(tmp_path: Path) -> None:
    rates = tuple(range(len(ALL_CLASSES)))
    network = RoadNetwork(
        (Station(0, "3701", 1, 'Tai\'an "new" \\ 泰安\tgate'), Station(1, "3702", 7, "b")),
        (Junction(5, "枢纽 ['x']"),),
        (Section(0, 5, 1500, rates), Section(5, 1, 2500, tuple(r + 1 for r in rates))),
    )
    path = tmp_path / "out.toml"
    write_network(network, path, name="a \"quoted\" name")
    again = load_network(path)
    assert again.network_hash() == network.network_hash()
    assert {s.name for s in again.stations} == {s.name for s in network.stations}


def _reload(text: str) -> RoadNetwork:
    return network_from_mapping(tomllib.loads(text))


def _replace(old: str, new: str) -> str:
    assert old in MINIMAL
    return MINIMAL.replace(old, new, 1)


@pytest.mark.parametrize(("text", "field", "reason"), [
    (_replace("format = 1", "format = 2"), "format", "must be 1"),
    (_replace("format = 1", "format = 1\ncolour = 3"), "colour", "unknown field"),
    (_replace("TRUCK_6 = 162\n", ""), "rate_tables.default", "misses class TRUCK_6"),
    (_replace("PASSENGER_1 = 90", "PASENGER_1 = 90"), "rate_tables.bridge.PASENGER_1",
     "unknown field"),
    (_replace("PASSENGER_1 = 90", "PASSENGER_1 = -1"), "rate_tables.bridge.PASSENGER_1",
     ">= 0"),
    (_replace('network = "3701"', 'network = "37"'), "stations[0].network", "4 digits"),
    (_replace("id = 102", "id = 70000"), "stations[1].id", "0..65535"),
    (_replace("id = 102", "id = 101"), "stations[1]", "3701/101 is also stations[0]"),
    (_replace("node = 9", "node = 2"), "junctions[0].node", "node 2 is also stations[1]"),
    (_replace('name = "A"', "name = true"), "stations[0].name", "non-empty string"),
    (_replace("to = 9", "to = 42"), "sections[0].to", "unknown node 42"),
    (_replace("to = 9", "to = 1"), "sections[0]", "joins node 1 to itself"),
    (_replace("length_m = 1000", "length_m = 0"), "sections[0].length_m", ">= 1"),
    (_replace("length_m = 1000", "length_m = true"), "sections[0].length_m", "an integer"),
    (_replace('rate_table = "bridge"', 'rate_table = "tunnel"'), "sections[1].rate_table",
     "no rate table 'tunnel'"),
    (_replace("rates = { TRUCK_6 = 170 }", "rates = { TRUCK_7 = 170 }"),
     "sections[1].rates.TRUCK_7", "unknown field"),
    (_replace("length_m = 2000", "length_m = 2000\nlanes = 3"), "sections[1].lanes",
     "unknown field"),
    (MINIMAL.split("[rate_tables.default]")[0], "rate_tables.default", "missing"),
])
def test_every_fault_names_the_file_and_the_field(
    tmp_path: Path, text: str, field: str, reason: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(NetworkError) as caught:
        load_network(path)
    assert str(caught.value).startswith(f"{path}: {field}: ")
    assert reason in str(caught.value)


def test_unreadable_and_malformed_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="cannot read"):
        load_network(tmp_path / "absent.toml")
    with pytest.raises(NetworkError, match="not valid TOML"):
        load_network(write(tmp_path, "format = [1"))
    with pytest.raises(NetworkError, match="cannot write"):
        write_network(load_network(EXAMPLE), tmp_path / "no" / "such" / "folder.toml")
