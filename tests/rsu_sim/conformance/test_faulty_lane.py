"""The deliberately faulty lane (`faulty_lane.py`) against `rsu-sim serve` over TCP: the
conformance report names each of its bugs, with evidence."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from lane_engine.core.policy import Policy, Rounding
from lane_engine.fees.builder import build_fee_table
from lane_engine.files.network import load_network
from protocols.frames import LaneMode
from rsu_sim.cli.conformance import Terms, conformance_report, tariff_of
from rsu_sim.conformance.report import Report, Verdict
from rsu_sim.model.radio import RadioConfig
from rsu_sim.model.scenario import (
    FaultMix,
    LaneSpec,
    PopulationSpec,
    ReplayedArrivals,
    Scenario,
    StationRef,
    rebase_start,
)
from rsu_sim.server.server import serve
from rsu_sim.site.served import build_site
from tests.rsu_sim.conformance.faulty_lane import FaultyLane

ROOT = Path(__file__).resolve().parents[3]
LANE = LaneSpec("exit-1", LaneMode.EXIT, "3701", 102, 2)
VEHICLES = 48
FAULTS = FaultMix(no_card=0.08, tampered=0.08, expired_obu=0.05, expired_card=0.08,
                  blacklisted=0.1, plate_mismatch=0.08, insufficient_balance=0.15,
                  duplicate_frames=0.3)


def faulty_scenario(now: float) -> Scenario:
    upstream = tuple(StationRef("3701", s) for s in (101, 120, 130))
    scene = Scenario(
        (LANE,), name="faulty-lane", seed=23, duration_s=VEHICLES * 3.0,
        arrivals=ReplayedArrivals(tuple(0.5 + 3.0 * i for i in range(VEHICLES)),
                                  (LANE.lane_id,) * VEHICLES),
        population=PopulationSpec(upstream_share=1.0, upstream_any=False,
                                  upstream_stations=upstream),
        faults=FAULTS, radio=replace(RadioConfig(), frame_loss_probability=0.0))
    return rebase_start(scene, now)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    import time

    table = build_fee_table(load_network(ROOT / "examples" / "network.toml"), "2026.11",
                            "2026-11-01T00:00:00Z")
    # The province rounds the discounted fee half up; the faulty lane truncates.
    policy = Policy("half-up", etc_rounding=Rounding.HALF_UP)
    scene = faulty_scenario(time.time())
    site = build_site(scene)
    log = tmp_path_factory.mktemp("faulty") / "frames.log"

    def fees(network: str, station: int, vehicle_class: int) -> int | None:
        return table.fee(network, station, (LANE.network, LANE.station), vehicle_class)

    async def main() -> None:
        lanes: list[asyncio.Task[None]] = []

        async def ready(ports: Mapping[str, int]) -> None:
            lane = await FaultyLane.connect(ports[LANE.lane_id], fees, LANE.network,
                                            LANE.station, LANE.lane_number)
            lanes.append(asyncio.create_task(lane.run()))

        await asyncio.wait_for(serve(scene, base_port=0, on_ready=ready, vehicles=VEHICLES,
                                     speed=6.0, site=site, frame_log=log), 120)
        for task in lanes:
            await asyncio.wait_for(task, 10)

    asyncio.run(main())
    blacklisted = site.traffic.population.blacklisted_card_numbers()
    terms = Terms(tariff_of(table, policy), table, blacklisted.__contains__, {}, frozenset())
    return conformance_report(scene, log, terms, None)


def rule(report: Report, rule_id: str) -> tuple[Verdict, list[str]]:
    result = report.lanes[0].rules[rule_id]
    return result.verdict, [f"{e.expected} | {e.seen}" for e in result.evidence]


@pytest.mark.parametrize("rule_id, seen", [
    ("debit_amount", "1 fen short"),  # int(yuan * 100)
    ("retransmission_not_acted_on", "C6 number 2"),  # a second C6 for a retransmitted B4
    ("b5_error_closed", "nothing after it"),  # an error B5 left unanswered
    ("answered_in_time", "no answer"),
    ("refuse_blacklisted", "C6"),  # everybody debited
    ("refuse_expired", "C6"),
    ("refuse_tampered", "C6"),
    ("refuse_no_card", "C6"),
    ("refuse_plate_mismatch", "C6"),
    ("b_card_short_not_debited", "C6"),
    ("answers_in_place", "C1 answering nothing"),  # the old C1 again
])
def test_each_bug_is_reported_with_evidence(report: Report, rule_id: str, seen: str) -> None:
    verdict, evidence = rule(report, rule_id)
    assert verdict is Verdict.FAIL, report.markdown()
    assert evidence and any(seen in e for e in evidence), evidence


@pytest.mark.parametrize("rule_id", ["lane_seq", "heartbeat_answered", "initialise_first",
                                     "standard_values", "no_c6_outside_purchase"])
def test_what_the_faulty_lane_does_right_passes(report: Report, rule_id: str) -> None:
    assert rule(report, rule_id)[0] is Verdict.PASS, report.markdown()


def test_the_report_reads_and_names_its_failures(report: Report) -> None:
    text = report.markdown()
    assert "**FAIL**" in text and "### `debit_amount`" in text and "fen short" in text
    document = report.to_json()
    assert "debit_amount" in document["summary"]["failed_rules"]
    [lane] = document["lanes"]
    amounts = next(r for r in lane["rules"] if r["rule"] == "debit_amount")
    assert amounts["failed"] > 0 and amounts["evidence"][0]["frames"][0]["frame"] == "B4"
