"""Road-network files (TOML): what `lane-engine fees build` reads, the synthetic generator writes.

    format = 1

    [rate_tables.default]        # fen per km, every class of protocols.records.ALL_CLASSES
    PASSENGER_1 = 45
    ...
    [rate_tables.bridge]         # any other table: only the classes that differ from default
    PASSENGER_1 = 60

    [[stations]]                 # where vehicles enter and leave
    node = 1                     # graph node, unique across stations and junctions
    network = "3701"             # 4 digits
    id = 101                     # station id within its network, 0..65535
    name = "Jinan East"

    [[junctions]]                # interchanges and toll-unit boundaries
    node = 100
    name = "Jinan hub"

    [[sections]]                 # driven both ways at the same fee
    from = 1
    to = 100
    length_m = 12500
    rate_table = "bridge"        # optional, default "default"
    rates = { TRUCK_6 = 170 }    # optional per-class overrides of that table

Every fault is a NetworkError naming the file and the field (`sections[3].to: unknown node 42`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from cli_conventions.files import write_file
from lane_engine.errors import NetworkError
from lane_engine.fees.network import Junction, RoadNetwork, Section, Station
from lane_engine.files.toml_reader import dotted, field_error, load_toml
from protocols.records import ALL_CLASSES

__all__ = [
    "DEFAULT_RATE_TABLE",
    "FORMAT_VERSION",
    "MAX_STATION_ID",
    "load_network",
    "network_from_mapping",
    "network_text",
    "write_network",
]

FORMAT_VERSION = 1
DEFAULT_RATE_TABLE = "default"
#: Highest station id: stations are u16 on cards and in records.
MAX_STATION_ID = 0xFFFF

_CLASS_NAMES = tuple(c.name for c in ALL_CLASSES)
_TOP_KEYS = {"format", "name", "rate_tables", "stations", "junctions", "sections"}
_STATION_KEYS = {"node", "network", "id", "name"}
_JUNCTION_KEYS = {"node", "name"}
_SECTION_KEYS = {"from", "to", "length_m", "rate_table", "rates"}


def load_network(path: str | Path) -> RoadNetwork:
    """Read and validate a road-network file."""
    return load_toml(path, network_from_mapping, what="network file", error=NetworkError)


def network_from_mapping(document: dict[str, Any], source: str = "<network>") -> RoadNetwork:
    """Build a RoadNetwork from a parsed TOML document (`source` names it in errors)."""
    reader = _Reader(source)
    reader.known_keys(document, _TOP_KEYS, "")
    if reader.integer(document, "format", "") != FORMAT_VERSION:
        raise reader.error("format", f"must be {FORMAT_VERSION}")
    rate_tables = reader.rate_tables(document.get("rate_tables"))
    stations = tuple(
        Station(
            node=reader.integer(item, "node", where, low=0),
            network=reader.network(item, where),
            station_id=reader.integer(item, "id", where, low=0, high=MAX_STATION_ID),
            name=reader.text(item, "name", where),
        )
        for where, item in reader.items(document, "stations", _STATION_KEYS)
    )
    junctions = tuple(
        Junction(node=reader.integer(item, "node", where, low=0),
                 name=reader.text(item, "name", where))
        for where, item in reader.items(document, "junctions", _JUNCTION_KEYS)
    )
    reader.unique_nodes(document, stations, junctions)
    nodes = {s.node for s in stations} | {j.node for j in junctions}
    sections = tuple(
        reader.section(item, where, nodes, rate_tables)
        for where, item in reader.items(document, "sections", _SECTION_KEYS)
    )
    if not stations:
        raise reader.error("stations", "a network needs at least one station")
    try:
        return RoadNetwork(stations, junctions, sections)
    except NetworkError as exc:
        raise NetworkError(f"{source}: {exc}") from exc


class _Reader:
    """Typed access to the document that names the file and the field in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, dotted: str, reason: str) -> NetworkError:
        return field_error(NetworkError, self.source, dotted, reason)

    def known_keys(self, table: dict[str, Any], keys: set[str], where: str) -> None:
        for key in table:
            if key not in keys:
                raise self.error(dotted(where, key), "unknown field")

    def items(
        self, document: dict[str, Any], name: str, keys: set[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        array = document.get(name, [])
        if not isinstance(array, list):
            raise self.error(name, f"must be an array of tables ([[{name}]])")
        items = []
        for index, item in enumerate(array):
            where = f"{name}[{index}]"
            if not isinstance(item, dict):
                raise self.error(where, "must be a table")
            self.known_keys(item, keys, where)
            items.append((where, item))
        return items

    def integer(self, table: dict[str, Any], key: str, where: str,
                low: int | None = None, high: int | None = None) -> int:
        field = dotted(where, key)
        if key not in table:
            raise self.error(field, "missing")
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(field, f"must be an integer, got {value!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f">= {low}" if high is None else f"in {low}..{high}"
            raise self.error(field, f"must be {bounds}, got {value}")
        return value

    def text(self, table: dict[str, Any], key: str, where: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(dotted(where, key), f"must be a non-empty string, got {value!r}")
        return value

    def network(self, table: dict[str, Any], where: str) -> str:
        value = self.text(table, "network", where)
        if len(value) != 4 or not (value.isascii() and value.isdigit()):
            raise self.error(dotted(where, "network"), f"must be 4 digits, got {value!r}")
        return value

    def rates(self, table: object, where: str, base: tuple[int, ...] | None) -> tuple[int, ...]:
        """A class-name -> fen-per-km table over `base` (None: every class is required)."""
        if not isinstance(table, dict):
            raise self.error(where, "must be a table of class names to fen per km")
        self.known_keys(table, set(_CLASS_NAMES), where)
        if base is None:
            missing = [name for name in _CLASS_NAMES if name not in table]
            if missing:
                raise self.error(where, f"misses class {missing[0]} (every class is needed)")
            base = (0,) * len(_CLASS_NAMES)
        return tuple(
            self.integer(table, name, where, low=0) if name in table else rate
            for name, rate in zip(_CLASS_NAMES, base, strict=True)
        )

    def rate_tables(self, tables: object) -> dict[str, tuple[int, ...]]:
        if not isinstance(tables, dict) or DEFAULT_RATE_TABLE not in tables:
            raise self.error(f"rate_tables.{DEFAULT_RATE_TABLE}", "missing")
        default = self.rates(tables[DEFAULT_RATE_TABLE], f"rate_tables.{DEFAULT_RATE_TABLE}", None)
        return {
            name: default if name == DEFAULT_RATE_TABLE
            else self.rates(table, f"rate_tables.{name}", default)
            for name, table in tables.items()
        }

    def unique_nodes(self, document: dict[str, Any], stations: tuple[Station, ...],
                     junctions: tuple[Junction, ...]) -> None:
        seen: dict[int, str] = {}
        keys: dict[tuple[str, int], str] = {}
        places = [(f"stations[{i}]", s.node) for i, s in enumerate(stations)]
        places += [(f"junctions[{i}]", j.node) for i, j in enumerate(junctions)]
        for where, node in places:
            if node in seen:
                raise self.error(f"{where}.node", f"node {node} is also {seen[node]}")
            seen[node] = where
        for index, station in enumerate(stations):
            where = f"stations[{index}]"
            if station.key in keys:
                raise self.error(where, f"station {station.network}/{station.station_id} "
                                        f"is also {keys[station.key]}")
            keys[station.key] = where

    def section(self, item: dict[str, Any], where: str, nodes: set[int],
                rate_tables: dict[str, tuple[int, ...]]) -> Section:
        ends = []
        for key in ("from", "to"):
            node = self.integer(item, key, where)
            if node not in nodes:
                raise self.error(dotted(where, key), f"unknown node {node}")
            ends.append(node)
        if ends[0] == ends[1]:
            raise self.error(where, f"joins node {ends[0]} to itself")
        table_name = item.get("rate_table", DEFAULT_RATE_TABLE)
        if table_name not in rate_tables:
            known = ", ".join(sorted(rate_tables))
            raise self.error(dotted(where, "rate_table"),
                             f"no rate table {table_name!r} (known: {known})")
        rates = rate_tables[table_name]
        if "rates" in item:
            rates = self.rates(item["rates"], dotted(where, "rates"), rates)
        length = self.integer(item, "length_m", where, low=1)
        return Section(ends[0], ends[1], length, rates)


# --- writing --------------------------------------------------------------------------------


def network_text(network: RoadNetwork, name: str = "") -> str:
    """The TOML text of `network`: the commonest rates become the default table, the others
    `rates-1`, `rates-2`, ... in order of first use."""
    usage = Counter(section.rates for section in network.sections)
    ordered = sorted(usage, key=lambda rates: -usage[rates])
    default = ordered[0] if ordered else (0,) * len(_CLASS_NAMES)
    names = {default: DEFAULT_RATE_TABLE}
    for section in network.sections:
        names.setdefault(section.rates, f"rates-{len(names)}")
    lines = [f"format = {FORMAT_VERSION}"]
    if name:
        lines.append(f"name = {_string(name)}")
    for rates, table in names.items():
        lines += ["", f"[rate_tables.{table}]"]
        lines += [f"{c} = {rate}" for c, rate, base in zip(_CLASS_NAMES, rates, default,
                                                           strict=True)
                  if table == DEFAULT_RATE_TABLE or rate != base]
    for station in sorted(network.stations, key=lambda s: s.node):
        lines += ["", "[[stations]]", f"node = {station.node}",
                  f"network = {_string(station.network)}", f"id = {station.station_id}",
                  f"name = {_string(station.name)}"]
    for junction in sorted(network.junctions, key=lambda j: j.node):
        lines += ["", "[[junctions]]", f"node = {junction.node}",
                  f"name = {_string(junction.name)}"]
    for section in network.sections:
        lines += ["", "[[sections]]", f"from = {section.from_node}", f"to = {section.to_node}",
                  f"length_m = {section.length_m}"]
        if names[section.rates] != DEFAULT_RATE_TABLE:
            lines.append(f"rate_table = {_string(names[section.rates])}")
    return "\n".join(lines) + "\n"


def write_network(network: RoadNetwork, path: str | Path, name: str = "") -> None:
    """Write `network` to `path` atomically; `load_network` reads back the same network."""
    path = Path(path)
    try:
        write_file(path, network_text(network, name))
    except OSError as exc:
        raise NetworkError(f"{path}: cannot write network file: {exc.strerror or exc}") from exc


def _string(text: str) -> str:
    """A TOML basic string (escapes as JSON, which TOML's basic strings accept)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(ch if ch >= " " and ch != "\x7f" else f"\\u{ord(ch):04x}"
                         for ch in escaped) + '"'
