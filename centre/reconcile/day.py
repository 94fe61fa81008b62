"""`reconcile_day(store, day)`: read one day from the store and run the three checks.

A day is midnight to midnight in the centre's zone. Cards are checked when they had anything
that day (a booked lane record, a load, a refund, a posting); a card quiet all day stands as it
did on its last active day, which was checked then. Reconcile a day once its upload window has
closed (`etc-centre clear --settle` run after it): a record still on its way shows as the
difference it is until it arrives.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from centre.clearing.values import StoredFinding
from centre.reconcile.checks import (
    FINDING,
    backing_differences,
    bill_differences,
    credit_differences,
    latest_word,
    ledger_totals,
    purse_differences,
    report_differences,
    report_totals,
    unbalanced_differences,
)
from centre.reconcile.values import DayOperations, DayRecord, Difference
from centre.store.store import Store, StoreTransaction
from centre.values import CENTRE_ZONE, CardKind


def day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a day in the centre's zone."""
    start = dt.datetime.combine(day, dt.time(0, 0), CENTRE_ZONE)
    return start, start + dt.timedelta(days=1)


@dataclass(slots=True)
class Reconciliation:
    """A day reconciled: its differences, its findings and the day's figures."""

    day: dt.date
    differences: list[Difference] = field(default_factory=list)
    findings: list[StoredFinding] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)  # the day's report (fen)
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def clean(self) -> bool:
        return not self.differences


def _records(tx: StoreTransaction, start: dt.datetime, end: dt.datetime) -> list[DayRecord]:
    return [DayRecord(key, f"{network}/{station}", f"{network}/{station}/{lane}", card, outcome,
                      int(amount), int(cash), state, bool(verified), settled, entry_id)
            for key, network, station, lane, card, _kind, outcome, amount, cash, state,
            verified, settled, entry_id in tx.daybook.records_in(start, end)]


def _accounts(tx: StoreTransaction, end: dt.datetime, cards: list[str]) -> list[Difference]:
    kinds = {}
    for card in cards:
        record = tx.devices.card(card)
        kinds[card] = None if record is None else record.kind
    b_cards = [c for c in cards if kinds[c] is CardKind.B]
    a_cards = [c for c in cards if kinds[c] is CardKind.A]
    records = tx.daybook.last_card_records(b_cards, end)
    loads = tx.daybook.last_loads(b_cards, end)
    words = {}
    for card in b_cards:
        word = latest_word(records.get(card), loads.get(card))
        if word is not None:
            words[card] = word
    out = purse_differences(b_cards, tx.daybook.purse_balances(b_cards, end), words,
                            tx.daybook.refunds_paid(b_cards, end))
    out += credit_differences(a_cards, tx.daybook.credit_debits(a_cards, end),
                              tx.daybook.booked_debits(a_cards, end))
    return out


def reconcile_day(store: Store, day: dt.date) -> Reconciliation:
    """Reconcile `day` (see the module docstring)."""
    start, end = day_window(day)
    result = Reconciliation(day)
    with store.transaction() as tx:
        cards = tx.daybook.active_cards(start, end)
        records = _records(tx, start, end)
        ops = DayOperations(tx.daybook.loads_in(start, end), tx.daybook.refunds_in(start, end),
                            records)
        entries = tx.daybook.entries_in(start, end)
        evidence = tx.daybook.evidence_of([e.entry_id for e in entries])
        lane_of_entry = {r.entry_id: r.lane for r in records if r.entry_id is not None}
        outlet_of_load_entry = {entry_id: outlet for _, _, outlet, _, _, entry_id in ops.loads
                                if entry_id is not None}
        result.totals = report_totals(ops)
        result.differences += unbalanced_differences(tx.daybook.unbalanced())
        result.differences += _accounts(tx, end, cards)
        bills = tx.daybook.bills_in(start, end)
        result.differences += bill_differences(bills)
        result.differences += report_differences(
            result.totals, ledger_totals(entries, lane_of_entry, outlet_of_load_entry))
        result.differences += backing_differences(entries, evidence, records)
        result.findings = tx.clearing.findings_between(start, end)
    for finding in result.findings:
        result.differences.append(Difference(
            FINDING, f"record {finding.idempotency_key}", finding.expected, finding.amount,
            (f"record {finding.idempotency_key}",) + (
                (f"record {finding.other_key}",) if finding.other_key else ()),
            f"{finding.kind.value} at lane {finding.network}/{finding.station}/{finding.lane},"
            f" card {finding.card_number}{' (booked)' if finding.booked else ' (held)'}: "
            f"{finding.detail}"))
    counts = result.counts
    counts["cards checked"] = len(cards)
    counts["ledger entries"] = len(entries)
    counts["loads"] = len(ops.loads)
    counts["refunds paid"] = len(ops.refunds)
    counts["bills"] = len(bills)
    for record in records:
        counts[f"lane records {record.state}"] += 1
        if record.settled_how:
            counts[f"settled by {record.settled_how}"] += 1
        if record.state == "booked" and record.tac_verified:
            counts["verified TACs"] += 1
    return result
