"""Clearing throughput: records made durable per second by one `etc-centre clear` consumer over
a real mosquitto, beside the rate at which one lane's station link publishes them (the ratio is
judged: one clearing process keeps up with a lane publishing as fast as it can)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from benchmarks.clearing_run import (
    INFLIGHT,
    ClearingBroker,
    centre_store,
    clearer_for,
    clearing_rate,
    publish_rate,
    register,
    workload,
)
from centre.clearing.values import ClearingState
from tests.support.broker import find_mosquitto, free_port

VEHICLES = 3_000


#: The in-flight limit of the clearing broker: a deployment's (judged), mosquitto's default.
INFLIGHTS = [INFLIGHT, 20]


@pytest.mark.parametrize("inflight", INFLIGHTS, ids=[f"inflight-{n}" for n in INFLIGHTS])
def test_clearing_throughput(benchmark, tmp_path: Path, inflight: int) -> None:  # type: ignore[no-untyped-def]
    binary = find_mosquitto()
    assert binary is not None, "Debian's mosquitto is needed"
    work = workload(VEHICLES)
    store = centre_store(tmp_path / "centre.sqlite3", work)
    lanes = tuple(sorted({r.lane_number for r in work.records}))
    figures: dict[str, float] = {}

    def once() -> None:
        broker = ClearingBroker(binary=binary, workdir=tmp_path, port=free_port(),
                                inflight=inflight)
        broker.start()
        try:
            asyncio.run(register(broker))
            figures["lane_publish_per_s"] = asyncio.run(
                publish_rate(broker, work.records, tmp_path / "lane.sqlite3", lanes))
            rate, stats = asyncio.run(clearing_rate(broker, clearer_for(store, work),
                                                    len(work.records), min(inflight, 500)))
            figures["clearing_durable_per_s"] = rate
            figures["batches"] = stats.batches
        finally:
            broker.stop()

    benchmark.pedantic(once, rounds=1, iterations=1)
    with store.transaction() as tx:
        counts = tx.clearing.counts()
        findings = tx.clearing.findings()
    store.close()
    assert sum(counts.values()) == len({r.idempotency_key for r in work.records})
    assert findings == [] and ClearingState.HELD not in counts
    benchmark.extra_info.update(
        kind="clearing", records=len(work.records), inflight=inflight,
        impl="MQTT 5 shared subscription, durable SQLite (WAL, synchronous=FULL), every check",
        lane_publish_per_s=round(figures["lane_publish_per_s"], 1),
        clearing_durable_per_s=round(figures["clearing_durable_per_s"], 1),
        ratio_to_lane=round(figures["clearing_durable_per_s"] / figures["lane_publish_per_s"],
                            3),
        batches=int(figures["batches"]))
