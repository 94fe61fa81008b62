"""Scenario files: TOML in, `Scenario` out. The one module of the simulator that reads scenarios.

Every problem raises `ScenarioError` naming the file, the table and the field.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable
from dataclasses import fields
from importlib import resources
from pathlib import Path
from typing import Any

from cli_conventions.files import NotText, decode_text
from protocols.frames import LaneMode
from protocols.records import VehicleClass
from rsu_sim.errors import ScenarioError
from rsu_sim.model.radio import RadioConfig
from rsu_sim.model.scenario import (
    ArrivalProcess,
    BalanceDistribution,
    ClassMix,
    FaultMix,
    IssuerSpec,
    KeySetSpec,
    LaneSpec,
    PoissonArrivals,
    PopulationSpec,
    ReplayedArrivals,
    Scenario,
    SpeedDistribution,
    StationRef,
)

Table = dict[str, Any]


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate the scenario file at `path`."""
    path = Path(path)
    return parse_scenario(_read_text(path, str(path)), str(path))


def _read_text(path: Path, name: str) -> str:
    """The text of a scenario file; ScenarioError naming the file (and where it is not text)."""
    try:
        return decode_text(path.read_bytes(), name)
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror or exc}", file=name) from exc
    except NotText as exc:
        raise ScenarioError(str(exc).removeprefix(f"{name}: "), file=name) from None


def scenario_source(name: str) -> tuple[str, str]:
    """(label, TOML text) of a scenario named on a command line: a file when `name` looks like
    a path or is one, else a packaged scenario."""
    if name.endswith(".toml") or "/" in name or Path(name).is_file():
        return name, _read_text(Path(name), name)
    resource = resources.files("rsu_sim") / "scenarios" / f"{name}.toml"
    try:
        return f"rsu_sim/scenarios/{name}.toml", resource.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"no packaged scenario {name!r}", file=f"{name}.toml") from exc


#: Fault-mix fields that are not the rate of a fault (`--no-faults` leaves them alone).
NOT_RATES = frozenset({"fade_loss_probability"})


def fault_rate(text: str) -> tuple[str, float]:
    """A command line's `NAME=RATE` for one field of the fault mix (e.g. `radio_fade=0.05`);
    ScenarioError naming the problem."""
    name, sep, value = text.partition("=")
    names = {f.name for f in fields(FaultMix)}
    if not sep or name.strip() not in names:
        raise ScenarioError(f"--fault {text!r}: want NAME=RATE, NAME one of "
                            f"{', '.join(sorted(names))}", file="<command line>")
    try:
        rate = float(value)
    except ValueError:
        raise ScenarioError(f"--fault {text!r}: {value!r} is not a number",
                            file="<command line>") from None
    if not 0.0 <= rate <= 1.0:
        raise ScenarioError(f"--fault {text!r}: {rate} is not a probability in [0, 1]",
                            file="<command line>")
    return name.strip(), rate


def fault_argument(text: str) -> str:
    """`--fault NAME=RATE` checked as the command line is parsed, so that a bad one is bad
    usage (exit status 2); the text is kept for `fault_overrides`."""
    import argparse

    try:
        fault_rate(text)
    except ScenarioError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("<command line>: ")) from None
    return text


def fault_overrides(items: list[str] | None, none: bool = False) -> dict[str, float]:
    """The fault rates a command line sets: every rate 0 with `none` (`--no-faults`), then each
    `NAME=RATE` (`--fault`, repeatable) in order."""
    rates = {f.name: 0.0 for f in fields(FaultMix) if f.name not in NOT_RATES} if none else {}
    for item in items or ():
        name, rate = fault_rate(item)
        rates[name] = rate
    return rates


def load_packaged_scenario(name: str) -> Scenario:
    """One of the scenarios shipped in `rsu_sim/scenarios` (e.g. ``"mixed"``)."""
    resource = resources.files("rsu_sim") / "scenarios" / f"{name}.toml"
    try:
        text = resource.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"no packaged scenario {name!r}", file=f"{name}.toml") from exc
    return parse_scenario(text, f"rsu_sim/scenarios/{name}.toml")


def parse_scenario(text: str, file: str = "<string>") -> Scenario:
    """Validate TOML `text`; `file` names it in errors."""
    try:
        doc = tomllib.loads(text)
        return _scenario(doc)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", file=file) from exc
    except ScenarioError as exc:
        raise ScenarioError(exc.detail, file=file, table=exc.table, field=exc.field) from exc


def _get(table: Table, name: str, kind: type | tuple[type, ...], where: str, default: Any) -> Any:
    value = table.get(name, default)
    if value is default:
        return value
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ScenarioError(f"{value!r} is not a {_kind_name(kind)}", table=where, field=name)
    if not isinstance(value, kind):
        raise ScenarioError(f"{value!r} is not a {_kind_name(kind)}", table=where, field=name)
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _table(doc: Table, name: str, where: str = "") -> Table:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise ScenarioError("must be a table", table=where or name)
    return value


def _check_keys(table: Table, allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ScenarioError(f"unknown key {unknown[0]!r}", table=where, field=unknown[0])


_NUMBER = (int, float)


def _flat(table: Table, where: str, cls: Callable[..., Any], spec: dict[str, Any]) -> Any:
    """Build `cls` from a table whose keys are its fields, each of the given type."""
    _check_keys(table, set(spec), where)
    kwargs = {name: _get(table, name, kind, where, None) for name, kind in spec.items()}
    return cls(**{k: v for k, v in kwargs.items() if v is not None})


def _lane(item: Any, index: int) -> LaneSpec:
    where = f"lanes[{index}]"
    if not isinstance(item, dict):
        raise ScenarioError("must be a table", table=where)
    _check_keys(item, {"id", "mode", "network", "station", "lane", "port"}, where)
    mode = _get(item, "mode", str, where, None)
    if mode not in ("entry", "exit"):
        raise ScenarioError(f'{mode!r} is not "entry" or "exit"', table=where, field="mode")
    lane_id = _get(item, "id", str, where, None)
    if lane_id is None:
        raise ScenarioError("a lane needs an id", table=where, field="id")
    try:
        return LaneSpec(
            lane_id, LaneMode.ENTRY if mode == "entry" else LaneMode.EXIT,
            _get(item, "network", str, where, "3701"), _get(item, "station", int, where, 1),
            _get(item, "lane", int, where, 1), _get(item, "port", int, where, None),
        )
    except ScenarioError as exc:
        raise ScenarioError(exc.detail, table=where, field=exc.field) from exc


def _arrivals(table: Table) -> ArrivalProcess:
    where = "arrivals"
    kind = _get(table, "kind", str, where, "poisson")
    if kind == "poisson":
        _check_keys(table, {"kind", "rate_per_hour"}, where)
        return PoissonArrivals(float(_get(table, "rate_per_hour", _NUMBER, where, 600.0)))
    if kind == "replay":
        _check_keys(table, {"kind", "times", "lanes"}, where)
        times = _get(table, "times", list, where, [])
        lanes = _get(table, "lanes", list, where, [])
        if not all(isinstance(t, _NUMBER) and not isinstance(t, bool) for t in times):
            raise ScenarioError("times must be numbers of seconds", table=where, field="times")
        if not all(isinstance(lane, str) for lane in lanes):
            raise ScenarioError("lanes must be lane ids", table=where, field="lanes")
        return ReplayedArrivals(tuple(float(t) for t in times), tuple(lanes))
    raise ScenarioError(f'{kind!r} is not "poisson" or "replay"', table=where, field="kind")


def _classes(table: Table) -> ClassMix:
    if not table:
        return ClassMix()
    weights = []
    for name, weight in table.items():
        try:
            vehicle_class = VehicleClass[name.upper()]
        except KeyError:
            raise ScenarioError("not a vehicle class name (e.g. PASSENGER_1, TRUCK_2)",
                                table="classes", field=name) from None
        if isinstance(weight, bool) or not isinstance(weight, _NUMBER):
            raise ScenarioError(f"{weight!r} is not a number", table="classes", field=name)
        weights.append((vehicle_class, float(weight)))
    return ClassMix(tuple(weights))


def _population(table: Table) -> PopulationSpec:
    where = "population"
    _check_keys(table, {"credit_share", "issuers", "b_balance", "credit_balance_fen",
                        "upstream_share", "upstream_stations", "min_trip_s"}, where)
    kwargs: dict[str, Any] = {}
    for name in ("credit_share", "upstream_share", "min_trip_s"):
        if name in table:
            kwargs[name] = float(_get(table, name, _NUMBER, where, None))
    if "credit_balance_fen" in table:
        kwargs["credit_balance_fen"] = _get(table, "credit_balance_fen", int, where, None)
    if "b_balance" in table:
        kwargs["b_balance"] = _flat(_table(table, "b_balance", "population.b_balance"),
                                    "population.b_balance", BalanceDistribution,
                                    {"median_fen": int, "sigma": _NUMBER, "min_fen": int,
                                     "max_fen": int})
    if "issuers" in table:
        items = _get(table, "issuers", list, where, None)
        kwargs["issuers"] = tuple(
            _flat(item if isinstance(item, dict) else {}, "population.issuers", IssuerSpec,
                  {"province": str, "code": str, "network": str, "plate_prefix": str,
                   "weight": _NUMBER})
            for item in items
        )
    stations = table.get("upstream_stations", "any")
    if stations == "any":
        kwargs["upstream_any"] = True
    elif isinstance(stations, list):
        kwargs["upstream_any"] = False
        kwargs["upstream_stations"] = tuple(
            _flat(item if isinstance(item, dict) else {}, "population.upstream_stations",
                  StationRef, {"network": str, "station": int, "lane": int})
            for item in stations
        )
    else:
        raise ScenarioError('must be "any" or a list of {network, station, lane}',
                            table=where, field="upstream_stations")
    return PopulationSpec(**kwargs)


def _typed_fields(cls: Any) -> dict[str, Any]:
    """Field name → accepted TOML types, from the dataclass's defaults."""
    return {f.name: (int if isinstance(f.default, int) else _NUMBER) for f in fields(cls)}


def _scenario(doc: Table) -> Scenario:
    # [days] is the province's (`rsu_sim.province.config`), read by `rsu-sim run --days`.
    _check_keys(doc, {"name", "seed", "start", "duration_s", "lanes", "arrivals", "speed",
                      "classes", "population", "keys", "faults", "radio", "days"}, "")
    lanes = _get(doc, "lanes", list, "lanes", [])
    start = _get(doc, "start", dt.datetime, "", None)
    if start is not None and start.tzinfo is None:
        raise ScenarioError("start needs a time zone offset, e.g. +08:00", field="start")
    kwargs: dict[str, Any] = {
        "lanes": tuple(_lane(item, i) for i, item in enumerate(lanes)),
        "arrivals": _arrivals(_table(doc, "arrivals")),
        "speed": _flat(_table(doc, "speed"), "speed", SpeedDistribution,
                       dict.fromkeys(("mean_kmh", "sd_kmh", "min_kmh", "max_kmh"), _NUMBER)),
        "classes": _classes(_table(doc, "classes")),
        "population": _population(_table(doc, "population")),
        "keys": _flat(_table(doc, "keys"), "keys", KeySetSpec, {"seed": int, "file": str}),
        "faults": _flat(_table(doc, "faults"), "faults", FaultMix,
                        dict.fromkeys((f.name for f in fields(FaultMix)), _NUMBER)),
        "radio": _flat(_table(doc, "radio"), "radio", RadioConfig, _typed_fields(RadioConfig)),
    }
    if "name" in doc:
        kwargs["name"] = _get(doc, "name", str, "", None)
    if "seed" in doc:
        kwargs["seed"] = _get(doc, "seed", int, "", None)
    if "duration_s" in doc:
        kwargs["duration_s"] = float(_get(doc, "duration_s", _NUMBER, "", None))
    if start is not None:
        kwargs["start_unix"] = int(start.timestamp())
    return Scenario(**kwargs)
