"""The configuration of a lane process (a plaza of lanes): typed, validated values.

`config_file.load_config` reads them from TOML; tests and the demo may build them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lane_engine.core.config import LaneConfig, Timeouts
from lane_engine.errors import ConfigError
from protocols.envelope import EnvelopeKind
from protocols.frames import LaneMode

__all__ = [
    "DEFAULT_JOURNAL",
    "DEFAULT_METRICS_PORT",
    "DEFAULT_MQTTS_PORT",
    "DEFAULT_MQTT_PORT",
    "AuditSettings",
    "LaneSettings",
    "MetricsSettings",
    "MqttSettings",
    "MqttTls",
    "PlazaConfig",
    "Reconnect",
    "RuntimeTimeouts",
]

#: Where the lane keeps its journal unless told otherwise (relative to the working directory).
DEFAULT_JOURNAL = Path("var/journal.sqlite3")
#: The default MQTT port (plain TCP).
DEFAULT_MQTT_PORT = 1883
#: The default MQTT port over TLS.
DEFAULT_MQTTS_PORT = 8883


@dataclass(frozen=True, slots=True)
class LaneSettings:
    """One lane of the plaza and the RSU it drives."""

    number: int  # 0..255, the lane number in records and topics
    mode: LaneMode
    rsu_host: str
    rsu_port: int
    envelope: EnvelopeKind = EnvelopeKind.V3
    bst_interval_ms: int = 10
    tx_power: int = 10
    pll_channel_id: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.number <= 0xFF:
            raise ConfigError(f"lane number {self.number} out of range 0..255")
        if not 0 < self.rsu_port <= 0xFFFF:
            raise ConfigError(f"lane {self.number}: RSU port {self.rsu_port} out of range")
        if not self.rsu_host:
            raise ConfigError(f"lane {self.number}: RSU host is empty")


@dataclass(frozen=True, slots=True)
class MqttTls:
    """TLS to the broker: the CA that signed the broker's certificate (None: the system's CAs)
    and, for a broker that wants clients to prove who they are, the lane's certificate and key
    (the key may be in the certificate's file). The broker's name is checked against `host`."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    def __post_init__(self) -> None:
        if self.key_file is not None and self.cert_file is None:
            raise ConfigError("MQTT TLS: key_file needs cert_file")


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """The station's MQTT broker; absent from the configuration means no publishing."""

    host: str
    port: int = DEFAULT_MQTT_PORT
    client_id: str = ""  # "" : lane-<network>-<station>
    keepalive_s: int = 30
    #: how long a QoS 1 publish may wait for its PUBACK before the link is treated as down
    publish_timeout_s: float = 5.0
    #: outbox records published per round (pipelined, then marked published together)
    batch_size: int = 100
    #: MQTT username and password ("": none); the password is never shown in a repr or a log
    username: str = ""
    password: str = field(default="", repr=False)
    #: None: plain TCP
    tls: MqttTls | None = None

    def __post_init__(self) -> None:
        if not 0 < self.port <= 0xFFFF:
            raise ConfigError(f"MQTT port {self.port} out of range")
        if self.keepalive_s < 1 or self.publish_timeout_s <= 0 or self.batch_size < 1:
            raise ConfigError("MQTT keepalive_s, publish_timeout_s and batch_size must be > 0")
        if self.password and not self.username:
            raise ConfigError("MQTT password needs a username")

    @property
    def address(self) -> str:
        """`host:port`, for logs and events."""
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Reconnect:
    """Exponential back-off between connection attempts (RSU and broker alike)."""

    initial_s: float = 0.5
    max_s: float = 30.0
    #: each delay is scaled by a factor drawn from [1 - jitter, 1 + jitter]
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if not 0 < self.initial_s <= self.max_s:
            raise ConfigError("reconnect: need 0 < initial_s <= max_s")
        if not 0 <= self.jitter < 1:
            raise ConfigError("reconnect: jitter must be in [0, 1)")


@dataclass(frozen=True, slots=True)
class RuntimeTimeouts:
    """Timeouts of the process itself (the lane's own are `core.config.Timeouts`)."""

    #: TCP connect to an RSU
    connect_s: float = 3.0
    #: at shutdown, how long a lane may take to settle a purchase in flight before it is
    #: closed UNRESOLVED (left for clearing)
    shutdown_s: float = 10.0
    #: at shutdown, how long the publisher may go on draining the outbox
    drain_s: float = 3.0

    def __post_init__(self) -> None:
        if self.connect_s <= 0 or self.shutdown_s < 0 or self.drain_s < 0:
            raise ConfigError("timeouts: connect_s must be > 0, shutdown_s and drain_s >= 0")


#: The default port of the metrics endpoint (our decision).
DEFAULT_METRICS_PORT = 9464


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """The Prometheus endpoint (`/metrics`) and `/healthz` of the process; absent from the
    configuration means none. Port 0 takes a free port (the plaza tells which)."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_METRICS_PORT

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 0xFFFF:
            raise ConfigError(f"metrics port {self.port} out of range")
        if not self.host:
            raise ConfigError("metrics host is empty")


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """Optional TAC audit: completed records are checked against a key set (each record carries
    its card's issuer code, the first diversification level)."""

    key_set: Path


@dataclass(frozen=True, slots=True)
class PlazaConfig:
    """Everything one lane process needs: the plaza, its lanes, data files and links."""

    network: str
    station: int
    name: str
    lanes: tuple[LaneSettings, ...]
    policy: Path
    fee_table: Path | None = None
    blacklist: Path | None = None
    journal: Path = DEFAULT_JOURNAL
    audit: AuditSettings | None = None
    mqtt: MqttSettings | None = None
    metrics: MetricsSettings | None = None
    lane_timeouts: Timeouts = field(default_factory=Timeouts)
    timeouts: RuntimeTimeouts = RuntimeTimeouts()
    reconnect: Reconnect = Reconnect()
    #: group commits on the journal's writer thread (False: on the event loop, the fsync
    #: holding every lane)
    commit_on_writer_thread: bool = True
    source: str = field(default="<config>", compare=False)

    def __post_init__(self) -> None:
        if not self.lanes:
            raise ConfigError(f"{self.source}: lanes: at least one lane is needed")
        numbers = [lane.number for lane in self.lanes]
        if len(set(numbers)) != len(numbers):
            raise ConfigError(f"{self.source}: lanes: a lane number is used twice")
        if self.fee_table is None and any(lane.mode is LaneMode.EXIT for lane in self.lanes):
            raise ConfigError(f"{self.source}: paths.fee_table: exit lanes need a fee table")
        for lane in self.lanes:
            self.lane_config(lane)  # the core checks network, station, tx power

    def lane_config(self, lane: LaneSettings) -> LaneConfig:
        """The core's view of one lane."""
        try:
            return LaneConfig(
                network=self.network, station=self.station, lane=lane.number, mode=lane.mode,
                timeouts=self.lane_timeouts, bst_interval_ms=lane.bst_interval_ms,
                tx_power=lane.tx_power, pll_channel_id=lane.pll_channel_id,
            )
        except ConfigError as exc:
            raise ConfigError(f"{self.source}: lane {lane.number}: {exc}") from exc

    @property
    def client_id(self) -> str:
        """The MQTT client id of the plaza."""
        if self.mqtt is not None and self.mqtt.client_id:
            return self.mqtt.client_id
        return f"lane-{self.network}-{self.station}"
