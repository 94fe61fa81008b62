"""`lane-engine top`: the plaza's metrics read back into a per-lane view."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping

import pytest

from lane_engine.aio.bus import FrameRejected, LaneEvent, RsuDisconnected
from lane_engine.aio.http_endpoint import HttpEndpoint
from lane_engine.aio.metrics import CONTENT_TYPE, PlazaMetrics
from lane_engine.cli.main import main
from lane_engine.cli.top import Window, parse_snapshot, quantile, render
from lane_engine.core.effects import ObuDetected, TransactionCompleted, VehicleRefused
from lane_engine.core.machine import LaneState
from lane_engine.core.outcomes import Outcome, ReasonCode
from lane_engine.station.events import Alarm, AlarmKind
from tests.lane_engine.journal.journal_records import debited, intent
from tests.support.broker import free_port


class Plaza:
    """Two lanes: 1 ready and connected, 2 starting without its RSU."""

    def lane_states(self) -> Mapping[int, tuple[LaneState, bool]]:
        return {1: (LaneState.READY, True), 2: (LaneState.STARTING, False)}

    def broker_connected(self) -> bool | None:
        return False

    def outbox_backlog(self) -> int:
        return 17


def metrics() -> PlazaMetrics:
    """Lane 1 debited 3 vehicles (40, 60, 80 ms) and refused one; lane 2 lost its RSU."""
    m = PlazaMetrics(Plaza(), {"network": "3701", "station": "120", "name": "Jinan West",
                               "version": "9.9"})
    at = 1_717_200_000.0
    refused = debited(9, outcome=Outcome.REFUSED, reason=ReasonCode.BLACKLISTED, obu_id=99)
    for n, ms in enumerate((40, 60, 80), start=1):
        record = debited(n)
        m(LaneEvent(1, at, ObuDetected(record.obu_id, "s", 1)))
        m(LaneEvent(1, at + ms / 1000, TransactionCompleted(record)))
        at += 1
    m(LaneEvent(1, at, VehicleRefused(ReasonCode.BLACKLISTED, refused)))
    m(LaneEvent(2, at, RsuDisconnected("cannot connect: refused", 0.5)))
    m(LaneEvent(2, at, FrameRejected("bad CRC")))
    m(LaneEvent(2, at, Alarm(AlarmKind.RSU_DOWN, 2, "cannot connect: refused")))
    m(LaneEvent(None, at, TransactionCompleted(intent(5))))  # start-up recovery: not counted
    return m


def test_quantiles_interpolate_within_a_bucket() -> None:
    buckets = {0.1: 50.0, 0.2: 90.0, 0.5: 100.0, float("inf"): 100.0}
    assert quantile(buckets, 0.5) == pytest.approx(0.1)
    assert quantile(buckets, 0.7) == pytest.approx(0.15)
    assert quantile(buckets, 0.99) == pytest.approx(0.47)
    assert quantile({0.1: 0.0, float("inf"): 0.0}, 0.5) is None
    assert quantile({0.1: 0.0, float("inf"): 4.0}, 0.5) == 0.1  # all above the last bound


def test_a_snapshot_holds_each_lane() -> None:
    snapshot = parse_snapshot(metrics().exposition().decode(), at=1_717_200_010.0)
    assert snapshot.info["version"] == "9.9" and snapshot.broker_connected is False
    assert snapshot.outbox_backlog == 17 and snapshot.alarms == {"rsu_down": 1}
    one, two = snapshot.lanes[1], snapshot.lanes[2]
    assert (one.state, one.rsu_connected, one.outcomes["debited"], one.outcomes["refused"]) == (
        "ready", True, 3, 1)
    assert (one.last_outcome, one.last_reason) == ("refused", "BLACKLISTED")
    assert (two.state, two.rsu_connected, two.reconnects, two.rejected) == ("starting", False,
                                                                              1, 1)
    window = Window()
    window.add(snapshot)
    p50, p99 = window.latency(1)
    assert p50 is not None and 0.05 <= p50 <= 0.075 and p99 is not None and p99 <= 0.1
    assert window.latency(2) == (None, None)


async def test_top_once_and_json_read_a_live_endpoint(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    m = metrics()
    endpoint = HttpEndpoint({"/metrics": lambda: (200, CONTENT_TYPE, m.exposition())})
    await endpoint.start("127.0.0.1", 0)
    url = f"http://127.0.0.1:{endpoint.port}/metrics"
    try:
        assert await asyncio.to_thread(main, ["top", "--url", url, "--json"]) == 0
        document = json.loads(capsys.readouterr().out)
        assert await asyncio.to_thread(main, ["top", "--url", url, "--once"]) == 0
        table = capsys.readouterr().out
    finally:
        await endpoint.close()
    assert document["broker"] == "disconnected" and document["outbox_backlog"] == 17
    lane = document["lanes"]["1"]
    assert lane["outcomes"]["debited"] == 3 and lane["rsu"] == "connected"
    assert lane["last_vehicle"]["outcome"] == "refused"
    assert 50 <= lane["decision_ms"]["p50"] <= 75
    assert "plaza 3701/120 Jinan West" in table and "BLACKLISTED" in table
    assert table.count("\n") >= 5


def test_an_unreachable_endpoint_is_one_line_and_status_1(
    capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}/metrics"
    assert main(["top", "--url", url, "--once"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot read {url}" in err
    assert main(["top", "--url", "file:///etc/passwd", "--once"]) == 2


def test_the_view_renders_without_data() -> None:
    from rich.console import Console

    from lane_engine.cli.top import PlazaSnapshot

    console = Console(record=True, width=160)
    window = Window()
    snapshot = PlazaSnapshot(0.0)
    window.add(snapshot)
    console.print(render(snapshot, window, "cannot read http://x (retrying)"))
    assert "retrying" in console.export_text()
