"""A simulated province of several days, cleared and reconciled by the centre's code: clean
every day, audited clean, deterministic, and finding exactly the faults it injects."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from centre.clearing.values import FindingKind
from rsu_sim.cli.province import verdict
from rsu_sim.province.config import Habits, Injected, ProvinceConfig, Uploads
from rsu_sim.province.outcome import Outcome
from rsu_sim.province.run import ProvinceOptions, run_province

#: A busy little province: short purses, careless holders, many losses, outages, offline days.
BUSY = ProvinceConfig(
    days=3, vehicles=220, plazas=3, seed=5, radio_fade=0.02, zone_exit_early=0.02,
    habits=Habits(trips_per_day=0.9, opening_top_up=(500, 1_500), top_up_below=600,
                  top_up_amount=(2_000, 5_000),
                  careless_share=0.5, loss_per_vehicle_day=0.01),
    uploads=Uploads(outage_per_plaza_day=0.4, offline_per_plaza_day=0.2))
WALL = {"wall s", "cpu s", "clearing wall s", "clearing records per s"}


def _run(config: ProvinceConfig, out: Path) -> Outcome:
    return run_province(config, ProvinceOptions(out))


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return _run(BUSY, tmp_path_factory.mktemp("busy"))


def test_a_busy_province_reconciles_clean_every_day(busy: Outcome) -> None:
    assert [r.day.isoformat() for r in busy.reconciliations if not r.clean] == []
    assert len(busy.reconciliations) == 1 + BUSY.days + busy.figures["closing days"]
    assert busy.audit.clean, busy.audit.problems[:5]
    assert busy.findings == [] and busy.expected == {}
    assert verdict(busy)


def test_the_busy_province_did_what_its_people_do(busy: Outcome) -> None:
    figures = busy.figures
    assert figures["issued"] == BUSY.vehicles
    assert figures["passes"] == 2 * figures["trips"] > 0
    assert figures["revenue ETC fen"] > 0 and figures["debits A cards"] > 0
    assert figures["cash trips"] > 0 and figures["cash at lanes fen"] > 0
    assert figures["top-ups"] > figures["issued"] / 2
    assert figures["cards lost"] > 0 and figures["list versions"] > 0
    assert figures["journal files uploaded"] > 0 and figures["broker outages"] > 0
    assert figures["records sent"] >= figures["records booked"]
    assert busy.audit.counts["card loads"] == figures["top-ups"]


def test_the_same_seed_makes_the_same_province(tmp_path: Path) -> None:
    small = dataclasses.replace(BUSY, vehicles=80, days=2)
    first = _run(small, tmp_path / "a").figures
    second = _run(small, tmp_path / "b").figures
    assert {k: v for k, v in first.items() if k not in WALL} == \
        {k: v for k, v in second.items() if k not in WALL}
    other = _run(dataclasses.replace(small, seed=6), tmp_path / "c").figures
    assert other["revenue ETC fen"] != first["revenue ETC fen"]


def test_injected_faults_are_found_exactly_and_nothing_else(tmp_path: Path) -> None:
    faulty = dataclasses.replace(
        BUSY, days=3, vehicles=300, uploads=Uploads(),
        faults=Injected(double_upload_lane="2/3", wrong_fee_lane="3/4", forged_tacs=2,
                        late_upload_days=5, fault_day=1))
    outcome = _run(faulty, tmp_path)
    with sqlite3.connect(tmp_path / "centre.sqlite3") as db:
        # The double-uploading lane is an exit lane: each debit it sent twice posted once.
        doubled = db.execute(
            "SELECT COUNT(*), SUM(r.amount), SUM((SELECT COUNT(*) FROM entries e"
            " WHERE e.memo = r.idempotency_key)) FROM clearing_records r"
            " JOIN clearing_findings f USING (idempotency_key)"
            " WHERE f.kind = 'duplicate_upload' AND r.state = 'booked'").fetchone()
    assert doubled[0] > 0 and doubled[1] > 0 and doubled[2] == doubled[0]
    kinds = {kind for kind in outcome.expected.values()}
    assert kinds == {FindingKind.DUPLICATE_UPLOAD, FindingKind.AMOUNT_MISMATCH,
                     FindingKind.TAC_INVALID, FindingKind.LATE_UPLOAD}
    assert sum(1 for k in outcome.expected.values() if k is FindingKind.TAC_INVALID) == 2
    assert outcome.findings_as_expected
    assert outcome.audit.clean
    assert verdict(outcome)
    unclean = [r for r in outcome.reconciliations if not r.clean]
    assert unclean and all(d.check == "finding" for r in unclean for d in r.differences)


def test_a_month_refunds_the_first_mornings_cancellations(tmp_path: Path) -> None:
    month = ProvinceConfig(days=30, vehicles=40, plazas=2, seed=9,
                           habits=Habits(trips_per_day=0.3, cancel_on_first_day=0.25,
                                         a_card_share=0.0, bill_day=0),
                           uploads=Uploads(interval_s=900.0, list_interval_s=1800.0,
                                           outage_per_plaza_day=0.0, offline_per_plaza_day=0.0))
    outcome = _run(month, tmp_path)
    assert outcome.figures["cards cancelled"] >= 1
    assert outcome.figures["refunds paid"] == outcome.figures["cards cancelled"]
    assert outcome.figures["refunds paid fen"] > 0
    assert outcome.days_clean == len(outcome.reconciliations)
    assert outcome.audit.clean
