"""`lane-engine top`: a live view of a running plaza, read from its metrics endpoint.

Per lane: state, RSU link, the last vehicle (how long ago, its outcome), counts by outcome,
decision latency p50/p99 over the last `WINDOW_S` seconds (since the start when the window has
no vehicle), rejected frames and RSU reconnects; for the plaza: the broker link, the outbox
backlog and the alarms raised. `--once` prints one view, `--json` one snapshot as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lane_engine.config import DEFAULT_METRICS_PORT
from lane_engine.errors import LaneError
from lane_engine.times import iso_time

__all__ = [
    "LaneRow",
    "PlazaSnapshot",
    "TopError",
    "Window",
    "add_top_parser",
    "metrics_url",
    "parse_snapshot",
    "quantile",
    "read_snapshot",
    "render",
    "run_top",
    "snapshot_document",
]

#: Latency percentiles are taken over this many seconds of the most recent snapshots.
WINDOW_S = 10.0
#: The outcome columns, in the order shown, with their headings.
OUTCOMES = ("debited", "entry_written", "cash_required", "refused", "not_debited", "unresolved")
_HEADINGS = ("debited", "entry", "cash", "refused", "failed", "unres.")
#: Columns of a view printed to a file or a pipe (a terminal gives its own width).
_PRINT_WIDTH = 160


class TopError(LaneError):
    """The metrics endpoint could not be read (exit status 1)."""


@dataclass(slots=True)
class LaneRow:
    """What the metrics say about one lane."""

    state: str = "?"
    rsu_connected: bool = False
    last_at: float | None = None
    last_outcome: str = ""
    last_reason: str = ""
    outcomes: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    #: cumulative histogram of decision seconds: upper bound -> count
    buckets: dict[float, float] = field(default_factory=dict)
    rejected: float = 0
    reconnects: float = 0


@dataclass(slots=True)
class PlazaSnapshot:
    """One scrape of a plaza's endpoint."""

    at: float
    info: dict[str, str] = field(default_factory=dict)
    lanes: dict[int, LaneRow] = field(default_factory=dict)
    broker_connected: bool | None = None
    outbox_backlog: float = 0
    alarms: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))


def parse_snapshot(text: str, at: float) -> PlazaSnapshot:
    """A snapshot from the Prometheus text of `/metrics` (scraped at `at`)."""
    from prometheus_client.parser import text_string_to_metric_families

    snapshot = PlazaSnapshot(at)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels, value = sample.labels, sample.value
            name = sample.name
            if name == "etc_lane_info":
                snapshot.info = dict(labels)
            elif name == "etc_lane_outbox_backlog":
                snapshot.outbox_backlog = value
            elif name == "etc_lane_broker_connected":
                snapshot.broker_connected = bool(value)
            elif name == "etc_lane_alarms_total":
                snapshot.alarms[labels["alarm"]] += value
            elif "lane" in labels:
                _lane_sample(snapshot.lanes.setdefault(int(labels["lane"]), LaneRow()), name,
                             labels, value)
    return snapshot


def _lane_sample(row: LaneRow, name: str, labels: dict[str, str], value: float) -> None:
    if name == "etc_lane_state" and value:
        row.state = labels["state"]
    elif name == "etc_lane_rsu_connected":
        row.rsu_connected = bool(value)
    elif name == "etc_lane_transactions_total":
        row.outcomes[labels["outcome"]] += value
    elif name == "etc_lane_decision_seconds_bucket":
        row.buckets[float(labels["le"])] = value
    elif name == "etc_lane_last_vehicle_timestamp_seconds":
        row.last_at = value
    elif name == "etc_lane_last_vehicle":
        row.last_outcome, row.last_reason = labels["outcome"], labels["reason"]
    elif name == "etc_lane_frames_rejected_total":
        row.rejected = value
    elif name == "etc_lane_rsu_reconnects_total":
        row.reconnects = value


def quantile(buckets: dict[float, float], q: float) -> float | None:
    """The `q` quantile of a cumulative histogram (upper bound -> count), interpolated within
    its bucket as Prometheus' histogram_quantile does; None without observations."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0
    if total <= 0:
        return None
    target, lower, below = q * total, 0.0, 0.0
    for upper in bounds:
        count = buckets[upper]
        if count >= target:
            if upper == float("inf"):
                return lower
            inside = count - below
            return lower + (upper - lower) * ((target - below) / inside if inside else 1.0)
        lower, below = upper, count
    return lower


def _delta(new: dict[float, float], old: dict[float, float]) -> dict[float, float]:
    return {bound: count - old.get(bound, 0.0) for bound, count in new.items()}


def read_snapshot(url: str, timeout: float = 2.0) -> PlazaSnapshot:
    """Scrape `url` once (TopError when it cannot be read)."""
    at = time.time()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            text = response.read().decode("utf-8")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TopError(f"cannot read {url}: {reason}") from exc
    try:
        return parse_snapshot(text, at)
    except ValueError as exc:
        raise TopError(f"{url}: not Prometheus metrics: {exc}") from exc


class Window:
    """The snapshots of the last `WINDOW_S` seconds, for latency over a moving window."""

    def __init__(self) -> None:
        self._snapshots: deque[PlazaSnapshot] = deque()

    def add(self, snapshot: PlazaSnapshot) -> None:
        self._snapshots.append(snapshot)
        while len(self._snapshots) > 2 and snapshot.at - self._snapshots[1].at >= WINDOW_S:
            self._snapshots.popleft()

    def latency(self, lane: int) -> tuple[float | None, float | None]:
        """p50 and p99 decision seconds of `lane`: over the window, else since the start."""
        newest = self._snapshots[-1].lanes.get(lane)
        if newest is None:
            return None, None
        buckets = newest.buckets
        oldest = self._snapshots[0].lanes.get(lane)
        if len(self._snapshots) > 1 and oldest is not None:
            recent = _delta(buckets, oldest.buckets)
            if quantile(recent, 0.5) is not None:
                buckets = recent
        return quantile(buckets, 0.5), quantile(buckets, 0.99)


def snapshot_document(snapshot: PlazaSnapshot, window: Window) -> dict[str, Any]:
    """The view as JSON-ready data (what `--json` prints)."""
    lanes = {}
    for number, row in sorted(snapshot.lanes.items()):
        p50, p99 = window.latency(number)
        lanes[str(number)] = {
            "state": row.state, "rsu": "connected" if row.rsu_connected else "disconnected",
            "last_vehicle": None if row.last_at is None else {
                "at": iso_time(row.last_at), "outcome": row.last_outcome,
                "reason": row.last_reason},
            "outcomes": {name: int(row.outcomes[name]) for name in OUTCOMES},
            "decision_ms": {"p50": _ms(p50), "p99": _ms(p99)},
            "frames_rejected": int(row.rejected), "rsu_reconnects": int(row.reconnects),
        }
    broker = snapshot.broker_connected
    return {
        "at": iso_time(snapshot.at), "plaza": snapshot.info,
        "broker": None if broker is None else ("connected" if broker else "disconnected"),
        "outbox_backlog": int(snapshot.outbox_backlog),
        "alarms": {name: int(n) for name, n in sorted(snapshot.alarms.items())},
        "lanes": lanes,
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _age(now: float, at: float | None) -> str:
    if at is None:
        return "–"
    seconds = max(0.0, now - at)
    if seconds < 60:
        return f"{seconds:.0f} s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def render(snapshot: PlazaSnapshot, window: Window, error: str = "") -> Any:
    """The view as a rich renderable."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    info = snapshot.info
    broker = {None: "none", True: "[green]connected[/]", False: "[red]disconnected[/]"}[
        snapshot.broker_connected]
    alarms = int(sum(snapshot.alarms.values()))
    title = (f"plaza {info.get('network', '?')}/{info.get('station', '?')} "
             f"{info.get('name', '')}  ·  lane-engine {info.get('version', '?')}  ·  "
             f"broker {broker}  ·  outbox {int(snapshot.outbox_backlog)}  ·  "
             f"alarms {alarms}  ·  {iso_time(snapshot.at, 'seconds')}")
    table = Table(title=title, title_justify="left", expand=False)
    for column in ("lane", "state", "RSU", "last vehicle", *_HEADINGS, "p50 ms", "p99 ms",
                   "rejected", "reconn."):
        table.add_column(column, justify="left" if column in ("state", "RSU", "last vehicle")
                         else "right")
    for number, row in sorted(snapshot.lanes.items()):
        p50, p99 = window.latency(number)
        rsu = "[green]up[/]" if row.rsu_connected else "[red]down[/]"
        last = _age(snapshot.at, row.last_at)
        if row.last_outcome:
            last += f" {row.last_outcome}"
            if row.last_reason != "OK":
                last += f" ({row.last_reason})"
        table.add_row(str(number), row.state, rsu, last,
                      *(str(int(row.outcomes[name])) for name in OUTCOMES),
                      "–" if p50 is None else f"{p50 * 1000:.0f}",
                      "–" if p99 is None else f"{p99 * 1000:.0f}",
                      str(int(row.rejected)), str(int(row.reconnects)))
    parts: list[Any] = [table]
    if error:
        parts.append(Text(error, style="red"))
    return Group(*parts)


def add_top_parser(commands: Any) -> None:
    """`top` in `lane-engine`'s command list."""
    top = commands.add_parser(
        "top", help="live view of a running plaza (from its metrics)",
        description="A live view of a running plaza, read from its metrics endpoint "
                    "(`[metrics]` in its configuration): per lane state, RSU link, last "
                    "vehicle, outcome counts and decision latency; the broker link, the "
                    "outbox backlog and the alarms. Ctrl-C leaves.",
        epilog="examples:\n  lane-engine top --config examples/lane.toml\n"
               "  lane-engine top --url http://10.0.0.5:9464/metrics --once\n\n"
               "exit status: 0 ok, 1 the endpoint cannot be read (--once, --json), 2 bad usage")
    source = top.add_mutually_exclusive_group()
    source.add_argument("--config", type=Path, metavar="FILE",
                        help="the plaza's configuration: its [metrics] host and port")
    source.add_argument("--url", metavar="URL",
                        help=f"the metrics URL (default http://127.0.0.1:{DEFAULT_METRICS_PORT}"
                             "/metrics)")
    top.add_argument("--interval", type=float, default=1.0, metavar="S",
                     help="seconds between refreshes (default 1)")
    top.add_argument("--once", action="store_true", help="print one view and exit")
    top.add_argument("--json", action="store_true", help="print one snapshot as JSON and exit")


def metrics_url(args: argparse.Namespace) -> str:
    """The URL to scrape, from `--url`, the configuration's `[metrics]` or the default."""
    if args.url:
        if not str(args.url).startswith(("http://", "https://")):
            from lane_engine.cli.args import UsageError

            raise UsageError(f"--url must be an http:// or https:// URL, got {args.url!r}")
        return str(args.url)
    host, port = "127.0.0.1", DEFAULT_METRICS_PORT
    if args.config is not None:
        from lane_engine.files.config import load_config

        metrics = load_config(args.config).metrics
        if metrics is None:
            raise TopError(f"{args.config}: no [metrics] table: the plaza serves no metrics")
        host = "127.0.0.1" if metrics.host in ("0.0.0.0", "::") else metrics.host
        port = metrics.port
    return f"http://{host}:{port}/metrics"


def run_top(args: argparse.Namespace) -> int:
    """Run `lane-engine top`; returns the exit status."""
    if args.interval <= 0:
        from lane_engine.cli.args import UsageError

        raise UsageError("--interval must be > 0")
    url, window = metrics_url(args), Window()
    if args.json or args.once:
        snapshot = read_snapshot(url)
        window.add(snapshot)
        if args.json:
            print(json.dumps(snapshot_document(snapshot, window), ensure_ascii=False, indent=2))
        else:
            from rich.console import Console

            console = Console()
            if not console.is_terminal:
                console = Console(width=_PRINT_WIDTH)
            console.print(render(snapshot, window))
        return 0
    return _live(url, window, args.interval)


def _live(url: str, window: Window, interval: float) -> int:
    from rich.console import Console
    from rich.live import Live

    snapshot, error = PlazaSnapshot(time.time()), ""
    with Live(render(snapshot, window), console=Console(), auto_refresh=False) as live:
        try:
            while True:
                try:
                    snapshot, error = read_snapshot(url), ""
                    window.add(snapshot)
                except TopError as exc:
                    error = f"{exc} (retrying)"
                live.update(render(snapshot, window, error), refresh=True)
                time.sleep(interval)
        except KeyboardInterrupt:
            pass
    print(file=sys.stderr)
    return 0
