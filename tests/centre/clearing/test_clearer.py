"""Clearing lane records into the store: booked once by key, every rule's finding, UNRESOLVED
records settled by the lane or from the card's later transactions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from centre.clearing.arrivals import from_journal_line
from centre.clearing.clearer import Unreadable
from centre.clearing.tariff import Tariff
from centre.clearing.values import ClearingState, FindingKind, Settled, Source
from centre.ledger import accounts
from centre.store.store import Store
from centre.values import CardKind
from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from lane_engine.core.policy import Policy
from lane_engine.journal.codec import record_to_dict
from tests.centre.clearing.records import (
    FEES,
    STATIONS,
    T0,
    arrival,
    card_number,
    clearer,
    entry,
    exit_,
    register,
    unresolved,
)
from tests.centre.store.helpers import opened

B1, B2, A1 = card_number(1), card_number(2), card_number(3)
SOON = T0 + dt.timedelta(hours=6)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = opened(str(tmp_path / "centre.sqlite3"))
    register(store, {B1: CardKind.B, B2: CardKind.B, A1: CardKind.A})
    return store


def _balance(store: Store, account: accounts.Account) -> int:
    with store.transaction() as tx:
        return tx.book.balance(account)


def _kept(store: Store, key: str):  # type: ignore[no-untyped-def]
    with store.transaction() as tx:
        return tx.clearing.record(key)


def _findings(store: Store) -> list[tuple[str, FindingKind]]:
    with store.transaction() as tx:
        return [(f.idempotency_key, f.kind) for f in tx.clearing.findings()]


def test_a_trip_is_booked_from_the_purse_and_to_the_plaza(store: Store) -> None:
    first = entry(B1, 0, T0)
    second = exit_(B1, 1, T0 + dt.timedelta(hours=1), serial=7)
    report = clearer(store).clear([arrival(first, 1), arrival(second, 2)], SOON)
    assert report.findings == []
    assert report.taken["new booked"] == 2
    assert _balance(store, accounts.purse(B1)) == -second.amount_debited
    assert _balance(store, accounts.toll(*STATIONS[1])) == second.amount_debited
    kept = _kept(store, second.idempotency_key)
    assert kept.state is ClearingState.BOOKED and kept.tac_verified and kept.entry_id
    with store.transaction() as tx:
        debit = tx.money.cleared_debit(second.idempotency_key)
    assert debit is not None and debit.amount == second.amount_debited and debit.ctc == 1


def test_an_a_card_debit_goes_onto_its_account(store: Store) -> None:
    record = exit_(A1, 4, T0, kind=CardKind.A, balance=0)
    clearer(store).clear([arrival(record, 1)], SOON)
    assert _balance(store, accounts.credit(A1)) == record.amount_debited
    assert _findings(store) == []


def test_a_short_b_card_pays_cash_at_the_lane(store: Store) -> None:
    record = exit_(B2, 3, T0, balance=10, lane=4)
    assert record.outcome is Outcome.CASH_REQUIRED
    clearer(store).clear([arrival(record, 1)], SOON)
    lane = accounts.lane_cash(STATIONS[1][0], STATIONS[1][1], 4)
    assert _balance(store, lane) == record.cash_fee > 0
    assert _balance(store, accounts.purse(B2)) == 0
    assert _findings(store) == []


def _trip_not_closed(record: TransactionRecord) -> TransactionRecord:
    """The lane's record when the 0-fen purchase closing a short card's trip failed."""
    return dataclasses.replace(record, tac="", ctc=-1, terminal_trans_serial=-1,
                               flags=(*record.flags, ReasonCode.TRIP_NOT_CLOSED))


def test_cash_taken_for_a_trip_left_open_on_the_card_is_booked_without_a_tac(
        store: Store) -> None:
    record = _trip_not_closed(exit_(B2, 3, T0, balance=10, lane=4))
    assert record.outcome is Outcome.CASH_REQUIRED and not record.card_committed
    clearer(store).clear([arrival(record, 1)], SOON)
    kept = _kept(store, record.idempotency_key)
    assert (kept.state, kept.settled_how, kept.tac_verified) == (
        ClearingState.BOOKED, Settled.LANE, False)
    lane = accounts.lane_cash(STATIONS[1][0], STATIONS[1][1], 4)
    assert _balance(store, lane) == record.cash_fee > 0
    assert _balance(store, accounts.purse(B2)) == 0
    assert _findings(store) == []


def test_a_doubtful_trip_close_that_did_not_commit_still_books_the_cash(store: Store) -> None:
    doubtful = exit_(B2, 3, T0, balance=10, lane=4)
    retried = entry(B2, 3, T0 + dt.timedelta(hours=4), balance=10)
    clearer(store).clear([arrival(unresolved(doubtful), 1), arrival(retried, 2)],
                         T0 + dt.timedelta(days=4))
    kept = _kept(store, doubtful.idempotency_key)
    assert (kept.state, kept.outcome, kept.settled_how) == (
        ClearingState.BOOKED, Outcome.CASH_REQUIRED.value, Settled.CTC_GAP)
    lane = accounts.lane_cash(STATIONS[1][0], STATIONS[1][1], 4)
    assert _balance(store, lane) == doubtful.cash_fee > 0
    assert _balance(store, accounts.purse(B2)) == 0


def test_redeliveries_and_the_same_record_from_a_journal_are_booked_once(store: Store) -> None:
    record = exit_(B1, 1, T0)
    line = from_journal_line(__import__("json").dumps(
        {**record_to_dict(record), "journal_state": "closed"}), "lane.jsonl:1")
    assert line is not None and line.source is Source.JOURNAL
    c = clearer(store)
    c.clear([arrival(record, 5)], SOON)
    report = c.clear([arrival(record, 5), line, arrival(record, 5)], SOON)
    assert report.taken == {"redelivery": 3}
    assert _balance(store, accounts.purse(B1)) == -record.amount_debited
    assert _findings(store) == []


def test_a_second_outbox_entry_of_one_record_is_a_duplicate_upload(store: Store) -> None:
    record = exit_(B1, 1, T0)
    c = clearer(store)
    c.clear([arrival(record, 5), arrival(record, 6)], SOON)
    c.clear([arrival(record, 6)], SOON)  # the duplicate redelivered: still one finding
    assert _findings(store) == [(record.idempotency_key, FindingKind.DUPLICATE_UPLOAD)]
    assert _balance(store, accounts.purse(B1)) == -record.amount_debited


def test_a_forged_tac_is_held_and_not_booked(store: Store) -> None:
    record = exit_(B1, 1, T0)
    forged = dataclasses.replace(record, tac="%08X" % (int(record.tac, 16) ^ 1))
    report = clearer(store).clear([arrival(forged, 1)], SOON)
    assert [f.kind for _, f in report.findings] == [FindingKind.TAC_INVALID]
    assert _kept(store, record.idempotency_key).state is ClearingState.HELD
    assert _balance(store, accounts.purse(B1)) == 0


def test_an_amount_off_the_fee_table_is_booked_and_found(store: Store) -> None:
    record = exit_(B1, 1, T0)
    cheap = Tariff(FEES, Policy("p-2", etc_rate_bp=9000))
    report = clearer(store, cheap).clear([arrival(record, 1)], SOON)
    [(_, finding)] = report.findings
    assert finding.kind is FindingKind.AMOUNT_MISMATCH
    assert finding.expected == record.fee * 9000 // 10_000 != record.amount_debited
    assert _balance(store, accounts.purse(B1)) == -record.amount_debited


def test_a_lane_debiting_more_than_the_table_is_found(store: Store) -> None:
    record = exit_(B1, 1, T0, amount=exit_(B1, 1, T0).amount_debited + 100)
    report = clearer(store).clear([arrival(record, 1)], SOON)
    assert [f.kind for _, f in report.findings] == [FindingKind.AMOUNT_MISMATCH]


def test_a_card_reused_ctc_with_another_amount_is_held(store: Store) -> None:
    first = exit_(B1, 5, T0)
    again = exit_(B1, 5, T0 + dt.timedelta(hours=3), entered=STATIONS[2], serial=9)
    assert again.amount_debited != first.amount_debited
    report = clearer(store).clear([arrival(first, 1), arrival(again, 2)], SOON)
    assert [(k, f.kind) for k, f in report.findings] == [
        (again.idempotency_key, FindingKind.CTC_REPEATED)]
    assert _kept(store, again.idempotency_key).state is ClearingState.HELD
    assert _balance(store, accounts.purse(B1)) == -first.amount_debited


def test_a_ctc_running_backwards_is_held(store: Store) -> None:
    later = exit_(B1, 8, T0 + dt.timedelta(hours=5), serial=3)
    earlier_higher = exit_(B1, 9, T0, serial=2)
    report = clearer(store).clear([arrival(later, 1), arrival(earlier_higher, 2)], SOON)
    assert [(k, f.kind) for k, f in report.findings] == [
        (earlier_higher.idempotency_key, FindingKind.CTC_BACKWARDS)]


def test_a_late_upload_is_booked_and_found(store: Store) -> None:
    record = exit_(B1, 1, T0)
    report = clearer(store).clear([arrival(record, 1)], T0 + dt.timedelta(days=10))
    [(_, finding)] = report.findings
    assert finding.kind is FindingKind.LATE_UPLOAD and "10.0 days" in finding.detail
    assert _balance(store, accounts.purse(B1)) == -record.amount_debited


def test_a_listed_card_debited_by_a_lane_that_had_the_list_is_found(store: Store) -> None:
    with store.transaction() as tx:
        tx.lists.set_category("card", B2, 1, T0 - dt.timedelta(days=1))
        tx.lists.publish("card", 1, T0 - dt.timedelta(days=1), None, None)
    had_it = exit_(B2, 1, T0)  # the records say list version 1
    before = dataclasses.replace(exit_(B1, 1, T0), blacklist_version=0)
    report = clearer(store).clear([arrival(had_it, 1), arrival(before, 2)], SOON)
    assert [(k, f.kind) for k, f in report.findings] == [
        (had_it.idempotency_key, FindingKind.LISTED_CARD_DEBITED)]


def test_a_card_the_centre_never_issued_is_held(store: Store) -> None:
    record = exit_(card_number(99), 1, T0)
    report = clearer(store).clear([arrival(record, 1)], SOON)
    assert [f.kind for _, f in report.findings] == [FindingKind.UNKNOWN_CARD]


def test_a_message_that_is_not_a_record_is_kept_as_a_reject(store: Store) -> None:
    report = clearer(store).clear([Unreadable(Source.MQTT, "etc/3701/1/2/transactions",
                                              "not JSON", "{oops")], SOON)
    assert report.taken == {"rejected": 1}
    with store.transaction() as tx:
        assert [r[3] for r in tx.clearing.rejects()] == ["not JSON"]


def test_the_lanes_settlement_replaces_an_unresolved_record(store: Store) -> None:
    record = exit_(B1, 1, T0)
    c = clearer(store)
    c.clear([arrival(unresolved(record), 1)], SOON)
    assert _kept(store, record.idempotency_key).state is ClearingState.UNRESOLVED
    assert _balance(store, accounts.purse(B1)) == 0
    c.clear([arrival(record, 2), arrival(unresolved(record), 1)], SOON)
    kept = _kept(store, record.idempotency_key)
    assert kept.state is ClearingState.BOOKED and kept.settled_how is Settled.LANE
    assert _balance(store, accounts.purse(B1)) == -record.amount_debited
    assert _findings(store) == []


def test_a_settlement_days_after_an_unresolved_record_uploaded_in_time_is_not_late(
        store: Store) -> None:
    # The lane learns the answer when the card comes back, here a week later.
    record = exit_(B1, 1, T0)
    c = clearer(store)
    c.clear([arrival(unresolved(record), 1)], SOON)
    c.clear([arrival(record, 2)], T0 + dt.timedelta(days=7))
    kept = _kept(store, record.idempotency_key)
    assert kept.state is ClearingState.BOOKED and kept.settled_how is Settled.LANE
    assert _findings(store) == []


def test_an_unresolved_record_uploaded_late_is_late_when_the_lane_settles_it(
        store: Store) -> None:
    record = exit_(B1, 1, T0)
    c = clearer(store)
    c.clear([arrival(unresolved(record), 1)], T0 + dt.timedelta(days=5))
    c.clear([arrival(record, 2)], T0 + dt.timedelta(days=6))
    assert _findings(store) == [(record.idempotency_key, FindingKind.LATE_UPLOAD)]
    with store.transaction() as tx:
        [finding] = tx.clearing.findings()
    assert "5.0 days" in finding.detail


def test_the_cards_next_ctc_settles_an_unresolved_debit_once_its_window_closes(
        store: Store) -> None:
    doubtful = exit_(B1, 1, T0)
    following = entry(B1, 2, T0 + dt.timedelta(hours=4), balance=doubtful.balance_after)
    c = clearer(store)
    c.clear([arrival(unresolved(doubtful), 1), arrival(following, 1)], SOON)
    assert _kept(store, doubtful.idempotency_key).state is ClearingState.UNRESOLVED
    c.settle_due(T0 + dt.timedelta(days=4))
    kept = _kept(store, doubtful.idempotency_key)
    assert (kept.state, kept.settled_how, kept.amount) == (
        ClearingState.BOOKED, Settled.CTC_GAP, doubtful.amount_debited)
    assert kept.evidence_key == following.idempotency_key
    assert _balance(store, accounts.purse(B1)) == -doubtful.amount_debited
    c.clear([arrival(doubtful, 2)], T0 + dt.timedelta(days=4))  # the lane's own, agreeing
    assert _findings(store) == []
    assert _kept(store, doubtful.idempotency_key).tac_verified


def test_a_ctc_used_again_shows_the_unresolved_purchase_did_not_commit(store: Store) -> None:
    doubtful = exit_(B1, 1, T0)
    retried = entry(B1, 1, T0 + dt.timedelta(hours=4), balance=doubtful.balance_before)
    c = clearer(store)
    c.clear([arrival(unresolved(doubtful), 1), arrival(retried, 1)],
            T0 + dt.timedelta(days=4))
    kept = _kept(store, doubtful.idempotency_key)
    assert (kept.state, kept.outcome) == (ClearingState.NO_MONEY, Outcome.NOT_DEBITED.value)
    assert _balance(store, accounts.purse(B1)) == 0


def test_without_its_ctc_an_unresolved_debit_is_settled_from_the_ctcs_around_it(
        store: Store) -> None:
    before = entry(B1, 3, T0 - dt.timedelta(hours=1))
    doubtful = exit_(B1, 4, T0)
    after = entry(B1, 5, T0 + dt.timedelta(hours=2), serial=2, balance=doubtful.balance_after)
    missing_ctc = unresolved(doubtful, ctc_known=False)
    assert missing_ctc.idempotency_key == doubtful.transaction_id
    clearer(store).clear([arrival(before, 1), arrival(missing_ctc, 2), arrival(after, 3)],
                         T0 + dt.timedelta(days=4))
    kept = _kept(store, missing_ctc.idempotency_key)
    assert (kept.state, kept.ctc, kept.settled_how) == (
        ClearingState.BOOKED, None, Settled.CTC_GAP)
    assert _balance(store, accounts.purse(B1)) == -doubtful.amount_debited


def test_a_record_still_on_its_way_keeps_an_unresolved_purchase_waiting(store: Store) -> None:
    """The purchase did not commit, and a trip in between has not arrived yet: the CTCs alone
    would count the one in between as this purchase; the purse does not agree, so it waits."""
    before = entry(B1, 3, T0 - dt.timedelta(hours=1))
    doubtful = exit_(B1, 4, T0)  # never committed
    on_its_way = exit_(B1, 4, T0 + dt.timedelta(hours=2), entered=STATIONS[2], serial=8)
    after = entry(B1, 5, T0 + dt.timedelta(hours=5), serial=9, balance=on_its_way.balance_after)
    c = clearer(store)
    c.clear([arrival(before, 1), arrival(unresolved(doubtful, ctc_known=False), 2),
             arrival(after, 3)], T0 + dt.timedelta(days=1))
    c.settle_due(T0 + dt.timedelta(days=4))
    assert _kept(store, doubtful.transaction_id).state is ClearingState.UNRESOLVED
    c.clear([arrival(on_its_way, 4)], T0 + dt.timedelta(days=2))
    c.settle_due(T0 + dt.timedelta(days=4))
    kept = _kept(store, doubtful.transaction_id)
    assert (kept.state, kept.outcome) == (ClearingState.NO_MONEY, Outcome.NOT_DEBITED.value)
    assert _findings(store) == []
    assert _balance(store, accounts.purse(B1)) == -on_its_way.amount_debited
