"""The plaza's `/metrics` and `/healthz`, scraped over HTTP while a lane sells."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tcp_rsu import LANE, plaza_config  # isort: skip (puts scripted_rsu on the path)
from scripted_rsu import b5  # isort: skip
from test_runtime import running, scripted_rsus, sell_up_to_purchase, start_lane  # isort: skip

from lane_engine import __version__
from lane_engine.aio.bus import EndpointListening
from lane_engine.aio.plaza import Plaza
from lane_engine.config import MetricsSettings
from lane_engine.core.effects import OpenBarrier
from lane_engine.errors import ConfigError
from protocols.frames import Continue


async def http_get(address: str, path: str, method: str = "GET") -> tuple[int, str, str]:
    """Status, content type and body of one request."""
    host, port = address.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: {address}\r\n\r\n".encode())
    raw = await reader.read()
    writer.close()
    head, _, body = raw.decode().partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers["Content-Type"], body


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_a_scrape_shows_what_the_lane_did(tmp_path: Path) -> None:
    async with scripted_rsus(1) as (rsu,):
        config = plaza_config(tmp_path, {LANE: rsu.port}, metrics=MetricsSettings(port=0))
        async with running(config) as run:
            await start_lane(rsu)
            c6 = await sell_up_to_purchase(rsu)
            rsu.send(b5(c6.consume_money))
            await rsu.expect(Continue)
            await run.wait_for(OpenBarrier)
            [listening] = run.of(EndpointListening)
            address = listening.address  # type: ignore[attr-defined]
            while run.plaza.outbox_backlog() < 1:  # the close commits a moment later
                await asyncio.sleep(0.01)
            status, kind, body = await http_get(address, "/metrics")
            health = await http_get(address, "/healthz")
            await rsu.drop()
            await asyncio.sleep(0.3)
            _, _, after_drop = await http_get(address, "/metrics")
        stopped = run.plaza.endpoint
    assert status == 200 and kind.startswith("text/plain")
    got, lane = samples(body), str(LANE)
    assert got[("etc_lane_transactions_total",
                (("lane", lane), ("outcome", "debited"), ("reason", "OK")))] == 1
    assert got[("etc_lane_decision_seconds_count", (("lane", lane),))] == 1
    assert 0 < got[("etc_lane_decision_seconds_sum", (("lane", lane),))] < 5
    assert got[("etc_lane_rsu_connected", (("lane", lane),))] == 1
    assert got[("etc_lane_state", (("lane", lane), ("state", "ready")))] == 1
    assert got[("etc_lane_state", (("lane", lane), ("state", "reading")))] == 0
    assert got[("etc_lane_outbox_backlog", ())] == 1  # no broker configured: it waits
    assert ("etc_lane_broker_connected", ()) not in got
    assert got[("etc_lane_journal_commit_seconds_count", ())] >= 1
    assert got[("etc_lane_last_vehicle", (("lane", lane), ("outcome", "debited"),
                                          ("reason", "OK")))] == 1
    info = next(labels for name, labels in got if name == "etc_lane_info")
    assert ("version", __version__) in info and ("station", "120") in info
    code, kind, text = health
    assert code == 200 and kind == "application/json"
    document = json.loads(text)
    assert document["status"] == "ok" and document["broker"] is None
    assert document["lanes"][lane] == {"state": "ready", "rsu": "connected"}
    dropped = samples(after_drop)
    assert dropped[("etc_lane_rsu_reconnects_total", (("lane", lane),))] >= 1
    assert stopped is not None and stopped.http.requests == 3


async def test_the_endpoint_answers_only_what_it_serves(tmp_path: Path) -> None:
    config = plaza_config(tmp_path, {LANE: 1}, metrics=MetricsSettings(port=0))
    async with running(config) as run:
        while run.plaza.endpoint is None:
            await asyncio.sleep(0.01)
        address = run.plaza.endpoint.address
        assert (await http_get(address, "/nowhere"))[0] == 404
        assert (await http_get(address, "/metrics", "POST"))[0] == 405
        head = await http_get(address, "/healthz", "HEAD")
        assert head[0] == 200 and head[2] == ""
        run.stop.set()
        while run.plaza.health()["status"] == "ok":
            await asyncio.sleep(0.01)
        assert run.plaza.health()["status"] == "stopping"


async def test_a_port_in_use_is_a_config_error(tmp_path: Path) -> None:
    blocker = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = blocker.sockets[0].getsockname()[1]
    config = plaza_config(tmp_path, {LANE: 1}, metrics=MetricsSettings(port=port))
    try:
        with pytest.raises(ConfigError, match=f"metrics: cannot listen on 127.0.0.1:{port}"):
            await asyncio.wait_for(Plaza(config).run(asyncio.Event()), 10)
    finally:
        blocker.close()
    assert dataclasses.replace(config, metrics=None).metrics is None
