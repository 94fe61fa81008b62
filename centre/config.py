"""The centre's configuration file (TOML, see `examples/centre.toml`): the issuer, the rules'
parameters, the outlets and the status lists' publishing. `etc-centre init` reads it once into
the store (`centre_meta` and `outlets`), so every later command finds the same parameters in
the database whatever machine it runs on.

Every fault is a `CentreConfigError` naming the file and the field; unknown fields are refused.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from centre.errors import CentreConfigError
from centre.ledger.limits import WorkingCalendar
from centre.settings import (
    DEFAULT_DELTA_INTERVAL_S,
    DEFAULT_FULL_INTERVAL_S,
    IssuerSettings,
    ServiceSettings,
)
from centre.store.registry import Outlet
from centre.store.store import StoreTransaction
from cli_conventions.files import NotText, decode_text

FORMAT_VERSION = 1
#: The name under which the settings live in `centre_meta`.
META_NAME = "settings"


@dataclass(frozen=True, slots=True)
class ListSettings:
    """Where and how often the status lists are published."""

    plazas: tuple[tuple[str, int], ...] = ()  # (network, station) the lists are announced to
    delta_interval_s: float = DEFAULT_DELTA_INTERVAL_S
    full_interval_s: float = DEFAULT_FULL_INTERVAL_S
    #: the folder the list files are written to (relative: to the configuration file)
    folder: str = "lists"
    #: how the lanes see that folder in announcements ("": the folder's absolute path)
    announced_folder: str = ""


@dataclass(frozen=True, slots=True)
class CentreConfig:
    service: ServiceSettings = field(default_factory=ServiceSettings)
    lists: ListSettings = field(default_factory=ListSettings)
    outlets: tuple[Outlet, ...] = ()


_TABLES = {"format", "issuer", "rules", "lists", "outlets"}
_ISSUER = {"network", "issuer_code", "province", "key_version", "card_version",
           "validity_years"}
_RULES = {"purse_limit_fen", "a_card_balance_fen", "bill_payment_days", "holidays",
          "working_weekends"}
_LISTS = {"plazas", "delta_interval_s", "full_interval_s", "folder", "announced_folder"}
_OUTLET = {"id", "service_centre", "name", "terminal"}


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> CentreConfigError:
        return CentreConfigError(f"{self.source}: {where}: {message}")

    def table(self, document: dict[str, Any], name: str, known: set[str]) -> dict[str, Any]:
        value = document.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, "must be a table")
        unknown = sorted(set(value) - known)
        if unknown:
            raise self.fail(f"{name}.{unknown[0]}", "unknown field")
        return value

    def integer(self, table: dict[str, Any], where: str, key: str, default: int,
                low: int, high: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(f"{where}.{key}", f"must be an integer {low}..{high}, got {value!r}")
        return value

    def number(self, table: dict[str, Any], where: str, key: str, default: float) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.fail(f"{where}.{key}", f"must be a number > 0, got {value!r}")
        return float(value)

    def text(self, table: dict[str, Any], where: str, key: str, default: str | None) -> str:
        value = table.get(key, default)
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", "missing or not a string")
        return value

    def dates(self, table: dict[str, Any], where: str, key: str) -> frozenset[dt.date]:
        value = table.get(key, [])
        if not isinstance(value, list):
            raise self.fail(f"{where}.{key}", "must be a list of dates")
        out = set()
        for item in value:
            try:
                out.add(item if isinstance(item, dt.date) else dt.date.fromisoformat(str(item)))
            except ValueError:
                raise self.fail(f"{where}.{key}", f"{item!r} is not a date") from None
        return frozenset(out)


def _issuer(r: _Reader, table: dict[str, Any]) -> IssuerSettings:
    defaults = IssuerSettings()
    network = r.text(table, "issuer", "network", defaults.network)
    if len(network) != 4 or not (network.isascii() and network.isdigit()):
        raise r.fail("issuer.network", f"{network!r} is not 4 digits")
    code = r.text(table, "issuer", "issuer_code", defaults.issuer_code)
    try:
        ok = len(bytes.fromhex(code)) == 4
    except ValueError:
        ok = False
    if not ok:
        raise r.fail("issuer.issuer_code", f"{code!r} is not 8 hex digits")
    province = r.text(table, "issuer", "province", defaults.province)
    try:
        fits = len(province.encode("gbk")) == 4
    except UnicodeEncodeError:
        fits = False
    if not fits:
        raise r.fail("issuer.province", f"{province!r} is not 4 bytes of GBK (2 characters)")
    return IssuerSettings(
        network, code.upper(), province,
        r.integer(table, "issuer", "key_version", defaults.key_version, 0, 255),
        r.integer(table, "issuer", "card_version", defaults.card_version, 0, 255),
        r.integer(table, "issuer", "validity_years", defaults.validity_years, 1, 50))


def _outlets(r: _Reader, document: dict[str, Any]) -> tuple[Outlet, ...]:
    items = document.get("outlets", [])
    if not isinstance(items, list):
        raise r.fail("outlets", "must be an array of tables ([[outlets]])")
    outlets, seen, terminals = [], set(), set()
    for index, item in enumerate(items):
        where = f"outlets[{index}]"
        if not isinstance(item, dict):
            raise r.fail(where, "must be a table")
        unknown = sorted(set(item) - _OUTLET)
        if unknown:
            raise r.fail(f"{where}.{unknown[0]}", "unknown field")
        outlet_id = r.text(item, where, "id", None)
        terminal = r.text(item, where, "terminal", None)
        try:
            number = bytes.fromhex(terminal)
        except ValueError:
            number = b""
        if len(number) != 6:
            raise r.fail(f"{where}.terminal", f"{terminal!r} is not 12 hex digits")
        if not outlet_id or outlet_id in seen:
            raise r.fail(f"{where}.id", f"{outlet_id!r} is empty or given twice")
        if number in terminals:
            raise r.fail(f"{where}.terminal", f"{terminal} is another outlet's terminal")
        seen.add(outlet_id)
        terminals.add(number)
        outlets.append(Outlet(outlet_id, r.text(item, where, "service_centre", None),
                              r.text(item, where, "name", ""), number))
    return tuple(outlets)


def _plazas(r: _Reader, table: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    items = table.get("plazas", [])
    if not isinstance(items, list):
        raise r.fail("lists.plazas", 'must be a list of "NET/STATION"')
    out = []
    for item in items:
        network, slash, station = str(item).partition("/")
        if not (slash and len(network) == 4 and network.isdigit() and station.isdigit()
                and int(station) <= 0xFFFF):
            raise r.fail("lists.plazas", f"{item!r} is not NET/STATION (e.g. 3701/120)")
        out.append((network, int(station)))
    return tuple(out)


def parse_config(text: str, source: str) -> CentreConfig:
    """The configuration of a TOML text (CentreConfigError names `source` and the field)."""
    r = _Reader(source)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CentreConfigError(f"{source}: not valid TOML: {exc}") from exc
    unknown = sorted(set(document) - _TABLES)
    if unknown:
        raise r.fail(unknown[0], "unknown table or field")
    if document.get("format") != FORMAT_VERSION:
        raise r.fail("format", f"must be {FORMAT_VERSION}")
    issuer = _issuer(r, r.table(document, "issuer", _ISSUER))
    rules = r.table(document, "rules", _RULES)
    defaults = ServiceSettings()
    service = ServiceSettings(
        issuer,
        r.integer(rules, "rules", "purse_limit_fen", defaults.purse_limit, 1, 0xFFFF_FFFF),
        r.integer(rules, "rules", "a_card_balance_fen", defaults.a_card_balance, 1,
                  0xFFFF_FFFF),
        dt.timedelta(days=r.integer(rules, "rules", "bill_payment_days",
                                    defaults.bill_term.days, 1, 365)),
        WorkingCalendar(r.dates(rules, "rules", "holidays"),
                        r.dates(rules, "rules", "working_weekends")))
    lists = r.table(document, "lists", _LISTS)
    list_settings = ListSettings(
        _plazas(r, lists),
        r.number(lists, "lists", "delta_interval_s", DEFAULT_DELTA_INTERVAL_S),
        r.number(lists, "lists", "full_interval_s", DEFAULT_FULL_INTERVAL_S),
        r.text(lists, "lists", "folder", "lists"),
        r.text(lists, "lists", "announced_folder", ""))
    return CentreConfig(service, list_settings, _outlets(r, document))


def load_config(path: Path) -> CentreConfig:
    try:
        text = decode_text(path.read_bytes(), str(path))
    except OSError as exc:
        raise CentreConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except NotText as exc:
        raise CentreConfigError(str(exc)) from None
    config = parse_config(text, str(path))
    folder = Path(config.lists.folder)
    if not folder.is_absolute():
        folder = (path.parent / folder).resolve()
    lists = ListSettings(config.lists.plazas, config.lists.delta_interval_s,
                         config.lists.full_interval_s, str(folder),
                         config.lists.announced_folder)
    return CentreConfig(config.service, lists, config.outlets)


# ------------------------------------------------------------------ kept in the store


def _to_json(config: CentreConfig) -> str:
    service = config.service
    return json.dumps({
        "issuer": asdict(service.issuer), "purse_limit": service.purse_limit,
        "a_card_balance": service.a_card_balance, "bill_term_days": service.bill_term.days,
        "holidays": sorted(d.isoformat() for d in service.calendar.holidays),
        "working_weekends": sorted(d.isoformat() for d in service.calendar.working_weekends),
        "lists": {**asdict(config.lists), "plazas": [f"{n}/{s}" for n, s in config.lists.plazas]},
    }, ensure_ascii=False, sort_keys=True)


def keep_config(tx: StoreTransaction, config: CentreConfig) -> None:
    """Write the configuration into the store: its settings, and each outlet added or
    updated."""
    tx.sql.execute("INSERT INTO centre_meta (name, value) VALUES (?, ?) ON CONFLICT (name)"
                   " DO UPDATE SET value = excluded.value", (META_NAME, _to_json(config)))
    for outlet in config.outlets:
        if tx.registry.outlet(outlet.outlet_id) is None:
            tx.registry.add_outlet(outlet)
        else:
            tx.registry.update_outlet(outlet)


def stored_config(tx: StoreTransaction) -> CentreConfig:
    """The configuration `etc-centre init` kept (CentreConfigError when it never ran)."""
    text = tx.sql.value("SELECT value FROM centre_meta WHERE name = ?", (META_NAME,))
    if text is None:
        raise CentreConfigError("the store has no centre configuration: run `etc-centre init"
                                " --config FILE` first")
    data = json.loads(text)
    service = ServiceSettings(
        IssuerSettings(**data["issuer"]), data["purse_limit"], data["a_card_balance"],
        dt.timedelta(days=data["bill_term_days"]),
        WorkingCalendar.of(map(dt.date.fromisoformat, data["holidays"]),
                           map(dt.date.fromisoformat, data["working_weekends"])))
    lists = data["lists"]
    plazas = tuple((p.split("/")[0], int(p.split("/")[1])) for p in lists["plazas"])
    return CentreConfig(service, ListSettings(plazas, lists["delta_interval_s"],
                                              lists["full_interval_s"], lists["folder"],
                                              lists["announced_folder"]),
                        tuple(tx.registry.outlets()))
