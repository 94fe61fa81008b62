"""What a province run comes to: every day reconciled by the centre's own code (the reports
written as `etc-centre reconcile` writes them), the cards audited against every plaza's
journal (`rsu-sim audit`), the findings against those the run injected, and the world's
figures: revenue, cash, top-ups, refunds, list latency and exposure."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from centre.clearing.values import FindingKind, StoredFinding
from centre.reconcile.day import Reconciliation, reconcile_day
from centre.reconcile.report import write_report
from centre.store.store import Store
from lane_engine.times import LANE_TIME_ZONE
from rsu_sim.model.card import Card
from rsu_sim.results.audit import AuditReport
from rsu_sim.results.files import CardLoadEntry, CardLogEntry, CardState

RECONCILE_DIR = "reconcile"


@dataclass(slots=True)
class Outcome:
    """A finished province run, judged."""

    reconciliations: list[Reconciliation]
    audit: AuditReport
    findings: list[StoredFinding]
    expected: dict[str, FindingKind]
    figures: dict[str, Any]

    @property
    def days_clean(self) -> int:
        return sum(1 for r in self.reconciliations if r.clean)

    @property
    def findings_as_expected(self) -> bool:
        return not self.findings_not_injected and not self.injected_not_found

    @property
    def findings_not_injected(self) -> list[tuple[str, FindingKind]]:
        """Findings the centre made that the run did not inject, by record key."""
        return sorted(self._found() - set(self.expected.items()))

    @property
    def injected_not_found(self) -> list[tuple[str, FindingKind]]:
        """Injected faults the centre did not find, by record key."""
        return sorted(set(self.expected.items()) - self._found())

    def _found(self) -> set[tuple[str, FindingKind]]:
        return {(f.idempotency_key, f.kind) for f in self.findings}


def card_state(number: str, vehicle_id: int, card: Card, opening: int) -> CardState:
    """A card at the end of the run, as the audit reads it (issued at CTC 0 with `opening`,
    the balance figure personalisation wrote: 0 on a B card)."""
    info = card.issuer_info
    log = tuple(
        CardLogEntry(e.ctc, e.amount, e.trans_type, e.terminal_number.hex(),
                     e.terminal_trans_serial,
                     e.transaction_time.replace(tzinfo=LANE_TIME_ZONE).isoformat(), e.tac.hex(),
                     e.balance_after, e.record.hex())
        for _, e in sorted(card.log.items()))
    loads = tuple(
        CardLoadEntry(e.online_serial, e.amount,
                      e.transaction_time.replace(tzinfo=LANE_TIME_ZONE).isoformat(),
                      e.balance_after)
        for _, e in sorted(card.load_log.items()))
    return CardState(number, vehicle_id, card.issuer_raw.hex(), info.network,
                     info.issuer_code.hex(), info.card_type, card.key_version,
                     -1 if card.algorithm is None else int(card.algorithm), opening, 0,
                     card.balance, card.ctc, card.record_raw.hex(), log, loads)


def reconcile_all(store: Store, first: dt.date, last: dt.date, out: Path) -> list[Reconciliation]:
    """Reconcile every day from `first` to `last`, writing each day's report."""
    results = []
    day = first
    while day <= last:
        result = reconcile_day(store, day)
        write_report(result, out / RECONCILE_DIR)
        results.append(result)
        day += dt.timedelta(days=1)
    return results


def money_figures(store: Store) -> dict[str, int]:
    """Revenue, cash, top-ups and refunds as the centre's store has them (fen)."""
    with store.transaction() as tx:
        sql = tx.sql
        etc = sql.all("SELECT card_kind, COALESCE(SUM(amount), 0), COUNT(*) FROM clearing_records"
                      " WHERE state = 'booked' AND amount > 0 GROUP BY card_kind")
        cash = sql.one("SELECT COALESCE(SUM(cash_fee), 0), COUNT(*) FROM clearing_records"
                       " WHERE state = 'booked' AND outcome = 'cash_required'")
        loads = sql.one("SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM loads"
                        " WHERE status = 'credited'")
        refunds = sql.one("SELECT COALESCE(SUM(paid_amount), 0), COUNT(*) FROM refunds"
                          " WHERE status = 'paid'")
        states = tx.clearing.counts()
        settled = sql.all("SELECT settled_how, COUNT(*) FROM clearing_records"
                          " WHERE settled_how IS NOT NULL GROUP BY settled_how")
    figures = {f"revenue ETC {kind} cards fen": int(total) for kind, total, _ in etc}
    figures.update({f"debits {kind} cards": int(n) for kind, _, n in etc})
    figures["revenue ETC fen"] = sum(int(total) for _, total, _ in etc)
    assert cash is not None and loads is not None and refunds is not None
    figures.update({"cash at lanes fen": int(cash[0]), "cash trips": int(cash[1]),
                    "top-ups fen": int(loads[0]), "top-ups": int(loads[1]),
                    "refunds paid fen": int(refunds[0]), "refunds paid": int(refunds[1])})
    figures.update({f"records {state.value}": n for state, n in states.items()})
    figures.update({f"unresolved settled by {how}": int(n) for how, n in settled})
    return figures


def exposure(store: Store, losses: list[tuple[str, float]]) -> dict[str, Any]:
    """Lost cards debited before the list reached the lane, and how long the list took."""
    debited, fen = 0, 0
    latencies: list[float] = []
    with store.transaction() as tx:
        for card, lost_at in losses:
            since = dt.datetime.fromtimestamp(lost_at, dt.UTC)
            for record in tx.clearing.of_card(card):
                if record.state.value == "booked" and record.transaction_time > since \
                        and (record.amount or record.cash_fee):
                    debited += 1
                    fen += record.amount
            for change in tx.lists.history("card", card):
                if change.category > 0 and change.version is not None and change.at >= since:
                    latencies += [(a.seen_at - change.at).total_seconds()
                                  for a in tx.lists.arrivals("card", change.version)]
                    break
    out: dict[str, Any] = {"lost cards": len(losses), "exposed debits": debited,
                           "exposed fen": fen}
    if latencies:
        latencies.sort()
        out["loss to plaza median s"] = round(statistics.median(latencies), 1)
        out["loss to plaza p95 s"] = round(latencies[int(0.95 * (len(latencies) - 1))], 1)
        out["loss to plaza max s"] = round(latencies[-1], 1)
    return out


def findings_by_kind(findings: list[StoredFinding]) -> dict[str, int]:
    return dict(sorted(Counter(f.kind.value for f in findings).items()))
