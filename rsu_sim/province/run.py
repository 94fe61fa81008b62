"""`run_province(config, out)`: a province run from a fresh directory to its judged outcome.

DIR/centre.sqlite3 (the centre's store: registry, ledger, loads, refunds, lists, clearing) with
the centre's keys.toml, fees.etcfee and policy.toml (what `etc-centre clear` is given),
DIR/journal.sqlite3 (every plaza's journal, as `rsu-sim audit --dir DIR` reads it), keys.toml,
cards.jsonl (every card, its purchases and loads), uploads/ (the offline plazas' journal
files), reconcile/ (each day's report as `etc-centre reconcile` writes it), summary.json,
summary.md and summary.png.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from centre.clearing.clearer import Clearer
from centre.clearing.evidence import TacCheck
from centre.clearing.rules import UPLOAD_WINDOW
from centre.clearing.tariff import Tariff
from centre.devices.issuer import IssuerHost
from centre.link.mqtt import BrokerSettings
from centre.store.store import Store
from keys.keyset_file import write_key_set
from lane_engine.fees.table_file import write_fee_table
from lane_engine.files.policy import policy_toml
from lane_engine.journal import EntryState, SqliteJournal
from rsu_sim.errors import OutputError, SimError
from rsu_sim.model.random_bytes import BufferedRandomBytes
from rsu_sim.province.config import ProvinceConfig
from rsu_sim.province.desk import KEY_VERSION, CardLists, Desk
from rsu_sim.province.faults import wrong_fee_findings
from rsu_sim.province.outcome import (
    Outcome,
    card_state,
    exposure,
    findings_by_kind,
    money_figures,
    reconcile_all,
)
from rsu_sim.province.site import Site, build_site
from rsu_sim.province.summary import write_summary
from rsu_sim.province.transport import InProcess, OverBroker, Transport
from rsu_sim.province.world import DAY_S, Province
from rsu_sim.results.audit import audit
from rsu_sim.results.files import JOURNAL_FILE, KEYS_FILE, write_outputs

STORE_FILE = "centre.sqlite3"
FEES_FILE = "fees.etcfee"
POLICY_FILE = "policy.toml"
LISTS_DIR = "lists"
#: How long a run whose clearing is others' waits for them to take its last records.
EXTERNAL_WAIT_S = 300.0


@dataclass(frozen=True, slots=True)
class ProvinceOptions:
    """Where a run writes, and how its plazas reach the centre."""

    out: Path
    #: the broker the plazas publish to (None: in-process clearing)
    broker: BrokerSettings | None = None
    #: with a broker: False leaves the clearing to `etc-centre clear` processes of their own
    clear: bool = True
    progress: Callable[[int, int], None] | None = None


def _prepare(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in (STORE_FILE, JOURNAL_FILE):
            for suffix in ("", "-wal", "-shm"):
                (out / f"{name}{suffix}").unlink(missing_ok=True)
        for folder in ("uploads", "reconcile", LISTS_DIR):
            shutil.rmtree(out / folder, ignore_errors=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot prepare ({exc.strerror})") from exc


def _clock(province: list[Province]) -> Callable[[], dt.datetime]:
    """The province's virtual clock once it exists (the wall clock before)."""
    def now() -> dt.datetime:
        if province:
            return dt.datetime.fromtimestamp(province[0].now(), dt.UTC)
        return dt.datetime.now(dt.UTC)
    return now


def _write_journal(path: Path, province: Province) -> list[Any]:
    entries = [entry for plaza in province.plazas for entry in plaza.entries()]
    target = SqliteJournal(path, clock=lambda: 0.0)
    try:
        with target.batch():
            for entry in entries:
                if entry.state is EntryState.OPEN:
                    target.open_intent(entry.record)
                elif entry.state is EntryState.CLOSED:
                    target.close(entry.record)
    finally:
        target.close_journal()
    return entries


def _write_centre_files(out: Path, site: Site) -> None:
    """The key set, fee table and policy as the centre's files, for `etc-centre clear`."""
    write_key_set(out / KEYS_FILE, site.key_set, replace=True)
    write_fee_table(site.fees, out / FEES_FILE)
    (out / POLICY_FILE).write_text(policy_toml(site.policy), encoding="utf-8")


def _wait_cleared(store: Store, keys: set[str], timeout_s: float = EXTERNAL_WAIT_S) -> None:
    """Until clearing processes of their own have kept every key sent (SimError after
    `timeout_s`)."""
    deadline = time.monotonic() + timeout_s
    while True:
        with store.transaction() as tx:
            kept = int(tx.sql.value("SELECT COUNT(*) FROM clearing_records"))
        if kept >= len(keys):
            return
        if time.monotonic() > deadline:
            raise SimError(f"clearing kept {kept} of the {len(keys)} records sent within "
                           f"{timeout_s:.0f} s")
        time.sleep(0.2)


def run_province(config: ProvinceConfig, options: ProvinceOptions) -> Outcome:
    """Run the province of `config` (see the module docstring)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = options.out
    _prepare(out)
    site = build_site(config)
    holder: list[Province] = []
    clock = _clock(holder)
    store = Store.open(str(out / STORE_FILE), clock=clock)
    _write_centre_files(out, site)
    tariff = Tariff(site.fees, site.policy)
    clearer = Clearer(store, TacCheck(site.key_set), tariff, clock=clock)
    card_random = np.random.default_rng(np.random.SeedSequence([config.seed, 11]))
    desk = Desk(store, IssuerHost(site.key_set, KEY_VERSION), site.outlets,
                BufferedRandomBytes(card_random))
    transport: Transport
    consumer_store: Store | None = None
    if options.broker is None:
        transport = InProcess(clearer)
    else:
        consumer = None
        if options.clear:
            consumer_store = Store.open(str(out / STORE_FILE), clock=clock)
            consumer = Clearer(consumer_store, TacCheck(site.key_set), tariff, clock=clock)
        transport = OverBroker(options.broker, consumer, clearer)
    try:
        province = Province(config, site, desk, CardLists(store, out / LISTS_DIR), transport,
                            clearer, out, options.progress)
        holder.append(province)
        closing = UPLOAD_WINDOW.days + 1
        late = province.faults.faults.late_upload_days
        if late:
            closing = max(closing, config.faults.fault_day + late + 2 - config.days)
        province.run(closing)
        if options.broker is not None and not options.clear:
            _wait_cleared(store, province.keys_sent)
            province.transport_settle(province.now())
    finally:
        transport.close()
        if consumer_store is not None:
            consumer_store.close()
    last_day = (config.start_at + dt.timedelta(days=config.days + closing - 1)).date()
    first_day = config.start - dt.timedelta(days=1)
    journal = _write_journal(out / JOURNAL_FILE, province)
    cards = [card_state(number, h.person.vehicle_id, card, desk.personaliser.opening[number])
             for h in province.holders.values() for number, card in h.cards]
    reconciliations = reconcile_all(store, first_day, last_day, out)
    report = audit(journal, cards, site.key_set)
    with store.transaction() as tx:
        findings = tx.clearing.findings()
    expected = dict(province.faults.expected)
    wrong = config.lane_of(config.faults.wrong_fee_lane)
    if wrong is not None:
        plaza = province.plazas[wrong[0]]
        expected.update(wrong_fee_findings(plaza.entries(), wrong[1], site.fees, site.policy))
    figures: dict[str, Any] = {
        "vehicles": config.vehicles, "plazas": config.plazas,
        "lanes": config.plazas * (config.entry_lanes + config.exit_lanes),
        "days": config.days, "closing days": closing, **province.counts,
        "transactions": dict(sorted(province.tally.outcomes.items())),
        **money_figures(store), **exposure(store, province.losses),
        "findings": findings_by_kind(findings),
        "records sent": province.sent,
        "clearing wall s": round(province.send_wall_s, 3),
        "clearing records per s": round(province.sent / province.send_wall_s, 1)
        if province.send_wall_s else 0.0,
    }
    store.close()
    outcome = Outcome(reconciliations, report, findings, expected, figures)
    figures.update({
        "days reconciled": len(reconciliations), "days clean": outcome.days_clean,
        "audit clean": report.clean, "audit problems": len(report.problems),
        "findings as injected": outcome.findings_as_expected,
        "findings injected": len(expected),
        "wall s": round(time.perf_counter() - wall, 1),
        "cpu s": round(time.process_time() - cpu, 1),
    })
    write_outputs(out, key_set=site.key_set, cards=cards, summary=figures,
                  scenario=config)
    write_summary(outcome, config, out)
    return outcome


__all__ = ["DAY_S", "ProvinceOptions", "run_province"]
