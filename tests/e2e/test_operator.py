"""What an operator sees of a plaza, end to end: mixed traffic with faults against the
simulator's RSUs, a TLS-only mosquitto that wants a client certificate and a password, and a
broker outage mid-run. The faults are in the log at WARNING (text and JSON alike), the outage is
on the bus and in the log, the metrics endpoint is scraped while the lanes sell (and `lane-engine
top` reads it), the alarms reach the station over TLS, and nothing is lost."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from dataclasses import replace
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from lane_engine.aio.bus import EndpointListening, EventBus, LaneEvent
from lane_engine.aio.event_log import EventLog
from lane_engine.cli.main import main as lane_engine
from lane_engine.config import MetricsSettings, MqttSettings, MqttTls, RuntimeTimeouts
from lane_engine.logfmt import JsonFormatter, KeyValueFormatter
from lane_engine.station.events import Alarm, BrokerLink, LinkState
from rsu_sim.model.scenario import mixed_scenario
from rsu_sim.plaza.run import EdgeTally, arrivals_of, run_plaza_against_sim
from rsu_sim.plaza.setup import PLAZA_NETWORK, PLAZA_STATION, exit_plaza_scenario, prepare_run
from tests.e2e.station import Station, check_audit, check_delivered_once
from tests.support.broker import Broker

VEHICLES, LANES, SPEED = 400, 3, 24.0
TIMEOUTS = RuntimeTimeouts(drain_s=20.0)
CENTRE = f"etc/{PLAZA_NETWORK}/{PLAZA_STATION}/centre"


def _logs() -> tuple[logging.Logger, io.StringIO, io.StringIO]:
    """A lane logger at WARNING writing both formats, as `run --log-format text|json` would."""
    text, json_lines = io.StringIO(), io.StringIO()
    logger = logging.getLogger("lane_engine.e2e_operator")
    logger.handlers.clear()
    for stream, formatter in ((text, KeyValueFormatter()), (json_lines, JsonFormatter())):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    return logger, text, json_lines


async def _get(address: str, path: str) -> tuple[int, str]:
    host, port = address.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n".encode())
    raw = (await reader.read()).decode()
    writer.close()
    head, _, body = raw.partition("\r\n\r\n")
    return int(head.split()[1]), body


def _totals(text: str) -> dict[str, float]:
    """Each metric's samples summed over their labels."""
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def _mqtt(broker: Broker, tmp_path: Path) -> MqttSettings:
    assert broker.tls is not None
    (user, password), = broker.users.items()
    return MqttSettings(broker.host, broker.port, publish_timeout_s=2.0, username=user,
                        password=password,
                        tls=MqttTls(broker.tls.ca, broker.tls.client_cert, broker.tls.client_key))


async def test_faults_outage_and_alarms_as_an_operator_sees_them(
    mqtt_tls_broker: Broker, tmp_path: Path
) -> None:
    base = mixed_scenario(41)
    base = replace(base, faults=replace(base.faults, rsu_restart=0.02, corrupted_tcp=0.003))
    run = prepare_run(exit_plaza_scenario(LANES, vehicles=VEHICLES, seed=41, base=base),
                      tmp_path, now=time.time())
    logger, text, json_lines = _logs()
    bus, edge = EventBus(), EdgeTally()
    bus.subscribe(EventLog(logger))
    seen: list[LaneEvent] = []
    bus.subscribe(lambda e: seen.append(e) if isinstance(e.event, BrokerLink | Alarm) else None)
    outage: list[float] = []
    arrivals = arrivals_of(run, VEHICLES)
    scraped: dict[str, object] = {}

    async def decided(count: int) -> None:
        while edge.decided < count:
            await asyncio.sleep(0.05)

    async def refused_update(station: Station) -> None:
        await decided(arrivals // 6)
        assert station.client is not None
        await station.client.publish(f"{CENTRE}/blacklist/delta", b"not json", qos=1)

    async def broker_outage(station: Station) -> None:
        await decided(arrivals // 3)
        station.subscribed.clear()  # the plaza waits until the station is back
        outage.append(time.time())
        await asyncio.to_thread(mqtt_tls_broker.stop)
        await asyncio.sleep(2.0)
        await asyncio.to_thread(mqtt_tls_broker.start)
        outage.append(time.time())

    async def scrape() -> None:
        await decided(arrivals * 2 // 3)  # after the outage: the link is back
        address = next(e.event.address for e in seen_all if isinstance(e.event,
                                                                      EndpointListening))
        scraped["metrics"] = await _get(address, "/metrics")
        scraped["healthz"] = await _get(address, "/healthz")
        scraped["top"] = await asyncio.to_thread(
            lane_engine, ["top", "--url", f"http://{address}/metrics", "--json"])

    seen_all: list[LaneEvent] = []
    bus.subscribe(lambda e: seen_all.append(e) if isinstance(e.event, EndpointListening)
                  else None)
    async with Station(mqtt_tls_broker) as station:
        faults = [asyncio.create_task(refused_update(station)),
                  asyncio.create_task(broker_outage(station)), asyncio.create_task(scrape())]
        result = await run_plaza_against_sim(
            run, speed=SPEED, vehicles=VEHICLES, bus=bus, edge=edge, timeouts=TIMEOUTS,
            sleep=station.gate, mqtt=_mqtt(mqtt_tls_broker, tmp_path),
            metrics=MetricsSettings(port=0))
        await asyncio.gather(*faults)
        delivered = await check_delivered_once(result, station)
        async with asyncio.timeout(10):
            while not any(a["state"] == "cleared" for a in station.alarms):
                await asyncio.sleep(0.05)

    # Faults at WARNING in both formats, the same lines, nothing below WARNING.
    text_lines = text.getvalue().splitlines()
    documents = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    assert len(text_lines) == len(documents) > 0
    assert {d["level"] for d in documents} <= {"warning", "error"}
    events = {d["event"] for d in documents}
    assert {"frame_rejected", "rsu_disconnected", "broker_link", "alarm"} <= events, events
    for event in ("frame_rejected", "rsu_disconnected", "broker_link"):
        assert any(f"level=warning event={event} " in line for line in text_lines), event
    lost_lines = [d for d in documents if d["event"] == "broker_link" and d["state"] == "lost"]
    assert lost_lines and all(d["level"] == "warning" for d in lost_lines)
    assert any("lane" not in d and d["backlog"] >= 0 and d["tls"] for d in lost_lines)

    # The outage on the bus: the plaza session lost, then connected again, over TLS.
    plaza_links = [(e.at, e.event) for e in seen
                   if isinstance(e.event, BrokerLink) and e.lane is None]
    lost = [at for at, link in plaza_links if link.state is LinkState.LOST]
    assert lost and outage[0] <= lost[0] <= outage[1]
    assert any(link.state is LinkState.CONNECTED and at > lost[0] and link.tls
               for at, link in plaza_links)

    # Alarms over TLS: the RSU restarts (raised and cleared), the refused centre update.
    kinds = {(a["alarm"], a["state"]) for a in station.alarms}
    assert {("rsu_down", "raised"), ("rsu_down", "cleared"),
            ("centre_update_refused", "raised")} <= kinds, kinds
    refused = next(a for a in station.alarms if a["alarm"] == "centre_update_refused")
    assert refused["lane"] is None and "not valid JSON" in refused["detail"]

    # The metrics, scraped while the lanes sold; `top --json` read the same endpoint.
    status, body = scraped["metrics"]  # type: ignore[misc]
    assert status == 200
    totals = _totals(body)
    assert totals["etc_lane_transactions_total"] >= arrivals // 2
    assert totals["etc_lane_decision_seconds_count"] >= arrivals // 2
    assert totals["etc_lane_broker_disconnects_total"] >= 1
    assert totals["etc_lane_broker_connected"] == 1
    assert totals["etc_lane_rsu_reconnects_total"] >= 1
    assert totals["etc_lane_alarms_total"] >= 2
    assert totals["etc_lane_journal_commit_seconds_count"] >= arrivals // 2
    assert totals["etc_lane_rsu_connected"] <= LANES and totals["etc_lane_state"] == LANES
    health_status, health = scraped["healthz"]  # type: ignore[misc]
    assert health_status == 200 and json.loads(health)["broker"] == "connected"
    assert scraped["top"] == 0

    assert result.serve.restarts >= 1 and result.serve.passes == VEHICLES
    assert result.outbox_backlog == 0 and delivered >= VEHICLES * 0.8
    check_audit(result)
    wanted = ("etc_lane_transactions_total", "etc_lane_decision_seconds_count",
              "etc_lane_decision_seconds_sum", "etc_lane_rsu_reconnects_total",
              "etc_lane_frames_rejected_total", "etc_lane_broker_connected",
              "etc_lane_broker_disconnects_total", "etc_lane_outbox_backlog",
              "etc_lane_alarms_total", "etc_lane_journal_commit_seconds_count")
    print("\n".join(["text log (first lines):", *text_lines[:6], "json log (first lines):",
                     *json_lines.getvalue().splitlines()[:6], "alarms received:",
                     *map(json.dumps, station.alarms[:6]), "metrics scraped (summed):",
                     *(f"{name} {totals.get(name, 0):g}" for name in wanted)]))
