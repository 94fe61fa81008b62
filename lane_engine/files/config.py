"""Reads a plaza configuration from TOML; every fault is a ConfigError naming the file and field.

Relative paths in the file are taken from the working directory of the process (like the
journal command's default), not from the configuration file's folder.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from cli_conventions.files import NotText, decode_text
from lane_engine.config import (
    DEFAULT_JOURNAL,
    DEFAULT_MQTT_PORT,
    DEFAULT_MQTTS_PORT,
    AuditSettings,
    LaneSettings,
    MetricsSettings,
    MqttSettings,
    MqttTls,
    PlazaConfig,
    Reconnect,
    RuntimeTimeouts,
)
from lane_engine.core.config import Timeouts
from lane_engine.errors import ConfigError
from lane_engine.files.toml_reader import field_error, load_toml
from protocols.envelope import EnvelopeKind
from protocols.frames import LaneMode

__all__ = [
    "config_from_mapping",
    "load_config",
]

T = TypeVar("T")

_TABLES: dict[str, set[str]] = {
    "plaza": {"network", "station", "name"},
    "paths": {"journal", "policy", "fee_table", "blacklist"},
    "audit": {"key_set"},
    "mqtt": {"host", "port", "client_id", "keepalive_s", "publish_timeout_s", "batch_size",
             "username", "password", "password_file", "tls"},
    "timeouts": {"connect_s", "shutdown_s", "drain_s", "initialise_s", "vehicle_read_s",
                 "purchase_s", "refetch_s", "refetch_attempts"},
    "reconnect": {"initial_s", "max_s", "jitter"},
    "metrics": {"host", "port"},
    "journal": {"writer_thread"},
}
_TLS_KEYS = {"ca_file", "cert_file", "key_file"}
_LANE_KEYS = {"number", "mode", "rsu", "envelope", "bst_interval_ms", "tx_power",
              "pll_channel_id"}
_MODES = {"entry": LaneMode.ENTRY, "exit": LaneMode.EXIT}
_ENVELOPES = {kind.value: kind for kind in EnvelopeKind}


def load_config(path: str | Path) -> PlazaConfig:
    """Read and validate a plaza configuration file."""
    return load_toml(path, config_from_mapping, what="configuration", error=ConfigError)


def config_from_mapping(document: dict[str, Any], source: str = "<config>") -> PlazaConfig:
    """Build a PlazaConfig from a parsed TOML document (`source` names it in errors)."""
    reader = _Reader(source)
    for key, value in document.items():
        if key == "lanes":
            continue
        if key not in _TABLES:
            raise reader.error(key, "unknown table or field")
        if not isinstance(value, dict):
            raise reader.error(key, "must be a table")
        for inner in value:
            if inner not in _TABLES[key]:
                raise reader.error(f"{key}.{inner}", "unknown field")
    tables = {name: document.get(name, {}) for name in _TABLES}
    plaza, paths = tables["plaza"], tables["paths"]
    lanes = reader.lanes(document.get("lanes"))
    try:
        return PlazaConfig(
            network=reader.get(plaza, "plaza.network", str),
            station=reader.get(plaza, "plaza.station", int),
            name=reader.get(plaza, "plaza.name", str, ""),
            lanes=lanes,
            policy=Path(reader.get(paths, "paths.policy", str)),
            fee_table=reader.path(paths, "paths.fee_table"),
            blacklist=reader.path(paths, "paths.blacklist"),
            journal=reader.path(paths, "paths.journal") or DEFAULT_JOURNAL,
            audit=reader.audit(tables["audit"]) if "audit" in document else None,
            mqtt=reader.mqtt(tables["mqtt"]) if "mqtt" in document else None,
            metrics=reader.made(MetricsSettings, "metrics", tables["metrics"], host=str,
                                port=int) if "metrics" in document else None,
            lane_timeouts=reader.lane_timeouts(tables["timeouts"]),
            timeouts=reader.made(RuntimeTimeouts, "timeouts", tables["timeouts"],
                                 connect_s=float, shutdown_s=float, drain_s=float),
            reconnect=reader.made(Reconnect, "reconnect", tables["reconnect"],
                                  initial_s=float, max_s=float, jitter=float),
            commit_on_writer_thread=reader.get(tables["journal"], "journal.writer_thread", bool,
                                               True),
            source=source,
        )
    except ConfigError as exc:
        text = str(exc)
        raise ConfigError(text if text.startswith(source) else f"{source}: {text}") from exc


class _Reader:
    """Typed field access that names the file and the dotted field in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, dotted: str, reason: str) -> ConfigError:
        return field_error(ConfigError, self.source, dotted, reason)

    def get(self, table: dict[str, Any], dotted: str, kind: type[T], *default: T) -> T:
        key = dotted.rsplit(".", 1)[-1]
        if key not in table:
            if default:
                return default[0]
            raise self.error(dotted, "missing")
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(dotted, f"must be {_KIND_NAMES.get(kind, kind.__name__)}, "
                                     f"got {value!r}")
        return value

    def path(self, table: dict[str, Any], dotted: str) -> Path | None:
        text = self.get(table, dotted, str, "")
        return Path(text) if text else None

    def made(self, cls: Callable[..., T], name: str, table: dict[str, Any],
             **kinds: type) -> T:
        values: dict[str, Any] = {key: self.get(table, f"{name}.{key}", kind)
                  for key, kind in kinds.items() if key in table}
        try:
            return cls(**values)
        except ConfigError as exc:
            raise self.error(name, str(exc)) from exc

    def lane_timeouts(self, table: dict[str, Any]) -> Timeouts:
        names = {"initialise_s": "initialise", "vehicle_read_s": "vehicle_read",
                 "purchase_s": "purchase", "refetch_s": "refetch"}
        values: dict[str, Any] = {
            field: self.get(table, f"timeouts.{key}", float)
            for key, field in names.items() if key in table
        }
        if "refetch_attempts" in table:
            attempts = self.get(table, "timeouts.refetch_attempts", int)
            if attempts < 1:
                raise self.error("timeouts.refetch_attempts", "must be at least 1")
            values["refetch_attempts"] = attempts
        for key, field in names.items():
            if field in values and values[field] <= 0:
                raise self.error(f"timeouts.{key}", "must be > 0")
        return Timeouts(**values)

    def mqtt(self, table: dict[str, Any]) -> MqttSettings:
        host = self.get(table, "mqtt.host", str)
        tls = self.tls(table["tls"]) if "tls" in table else None
        password = self.get(table, "mqtt.password", str, "")
        if "password_file" in table:
            if password:
                raise self.error("mqtt.password_file", "give password or password_file, not both")
            password = self.secret(Path(self.get(table, "mqtt.password_file", str)))
        port = DEFAULT_MQTTS_PORT if tls is not None else DEFAULT_MQTT_PORT
        return self.made(
            lambda **kw: MqttSettings(host, **{"port": port, **kw}, password=password, tls=tls),
            "mqtt", table, port=int, client_id=str, keepalive_s=int, publish_timeout_s=float,
            batch_size=int, username=str,
        )

    def tls(self, table: object) -> MqttTls:
        if not isinstance(table, dict):
            raise self.error("mqtt.tls", "must be a table ([mqtt.tls])")
        for key in table:
            if key not in _TLS_KEYS:
                raise self.error(f"mqtt.tls.{key}", "unknown field")
        files = {key: self.path(table, f"mqtt.tls.{key}") for key in _TLS_KEYS}
        try:
            return MqttTls(**files)
        except ConfigError as exc:
            raise self.error("mqtt.tls", str(exc)) from exc

    def secret(self, path: Path) -> str:
        """The first line of a password file that only its owner may read."""
        try:
            with path.open("rb") as stream:
                mode = os.fstat(stream.fileno()).st_mode
                text = decode_text(stream.read(), str(path))
        except OSError as exc:
            raise self.error("mqtt.password_file", f"{path}: {exc.strerror or exc}") from exc
        except NotText as exc:
            raise self.error("mqtt.password_file", str(exc)) from None
        if mode & 0o077:
            raise self.error("mqtt.password_file", f"{path}: mode {stat.S_IMODE(mode):04o} lets "
                                                   "group or others read it; want 0600")
        password = text.split("\n", 1)[0].rstrip("\r")
        if not password:
            raise self.error("mqtt.password_file", f"{path}: empty")
        return password

    def audit(self, table: dict[str, Any]) -> AuditSettings:
        return AuditSettings(Path(self.get(table, "audit.key_set", str)))

    def lanes(self, value: object) -> tuple[LaneSettings, ...]:
        if value is None:
            raise self.error("lanes", "missing (add one [[lanes]] table per lane)")
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error("lanes", "must be an array of tables ([[lanes]])")
        return tuple(self.lane(index, table) for index, table in enumerate(value))

    def lane(self, index: int, table: dict[str, Any]) -> LaneSettings:
        where = f"lanes[{index}]"
        for key in table:
            if key not in _LANE_KEYS:
                raise self.error(f"{where}.{key}", "unknown field")
        mode_text = self.get(table, f"{where}.mode", str)
        if mode_text not in _MODES:
            raise self.error(f"{where}.mode", f"must be entry or exit, got {mode_text!r}")
        envelope_text = self.get(table, f"{where}.envelope", str, EnvelopeKind.V3.value)
        if envelope_text not in _ENVELOPES:
            raise self.error(f"{where}.envelope", f"must be v3 or bcc, got {envelope_text!r}")
        host, port = self.address(f"{where}.rsu", self.get(table, f"{where}.rsu", str))
        extras = {key: self.get(table, f"{where}.{key}", int)
                  for key in ("bst_interval_ms", "tx_power", "pll_channel_id") if key in table}
        try:
            return LaneSettings(
                number=self.get(table, f"{where}.number", int), mode=_MODES[mode_text],
                rsu_host=host, rsu_port=port, envelope=_ENVELOPES[envelope_text], **extras,
            )
        except ConfigError as exc:
            raise self.error(where, str(exc)) from exc

    def address(self, dotted: str, text: str) -> tuple[str, int]:
        host, sep, port = text.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise self.error(dotted, f"must be host:port, got {text!r}")
        return host.strip("[]"), int(port)


_KIND_NAMES = {str: "a string", int: "an integer", float: "a number", dict: "a table"}
