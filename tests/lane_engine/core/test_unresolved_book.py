"""One UNRESOLVED book for the lanes of a plaza: a purchase left in doubt at one lane is settled
when its card is read at another; intents recovered from the journal are settled the same way."""

from __future__ import annotations

from dataclasses import replace

from scripted_rsu import (
    FEE,
    LANE,
    NETWORK,
    STATION,
    DictFees,
    FakeClock,
    b0,
    b2,
    b4,
    entry_record,
    of_type,
    ready_lane,
)

from lane_engine.core.blacklist import Blacklist
from lane_engine.core.config import LaneConfig
from lane_engine.core.effects import (
    CloseTransaction,
    OpenBarrier,
    OpenIntent,
    SendFrame,
    UnresolvedTransactionSettled,
)
from lane_engine.core.lane import Lane
from lane_engine.core.outcomes import Outcome, TransactionRecord
from lane_engine.core.policy import Policy, discounted_fee
from lane_engine.core.settling import UnresolvedBook
from protocols.frames import LaneMode, Purchase, Stop, StopType
from protocols.records import EntryExitRecord, EntryExitStatus

DISCOUNTED = discounted_fee(FEE, Policy("policy-3"))
OTHER_LANE = LANE + 1


def other_lane(clock: FakeClock, book: UnresolvedBook | None,
               mode: LaneMode = LaneMode.EXIT) -> Lane:
    lane = Lane(LaneConfig(NETWORK, STATION, OTHER_LANE, mode), Policy("policy-3"), DictFees(),
                Blacklist.empty(5), unresolved=book)
    lane.start(clock.now)
    lane.receive_frame(b0(), clock.now, seq=1)
    return lane


def left_unresolved(lane: Lane, clock: FakeClock) -> tuple[TransactionRecord, EntryExitRecord]:
    """A purchase at `lane` whose B5 never comes: its intent and the 0019 its C6 wrote."""
    lane.receive_frame(b2(), clock.advance(0.05), seq=2)
    on_b4 = lane.receive_frame(b4(), clock.advance(0.05), seq=3)
    intent, c6 = on_b4[0].record, on_b4[1].frame  # type: ignore[union-attr]
    assert isinstance(c6, Purchase)
    deadline = lane.get_timer()
    assert deadline is not None
    lane.handle_timer(deadline)
    return intent, c6.station


def read_at(lane: Lane, clock: FakeClock, balance: int,
            last: EntryExitRecord) -> list[object]:
    lane.receive_frame(b2(), clock.advance(20), seq=5)
    return lane.receive_frame(b4(balance, last=last), clock.advance(0.05), seq=6)  # type: ignore[return-value]


def test_the_write_seen_at_another_lane_settles_it_debited_and_lets_the_vehicle_go() -> None:
    clock, book = FakeClock(), UnresolvedBook()
    intent, written = left_unresolved(ready_lane(clock, unresolved=book), clock)
    lane_b = other_lane(clock, book)
    effects = read_at(lane_b, clock, 10_000 - DISCOUNTED, written)
    settled = effects[0].record  # type: ignore[attr-defined]
    assert settled.transaction_id == intent.transaction_id and settled.lane_number == LANE
    assert settled.outcome is Outcome.DEBITED and settled.recovered
    assert settled.amount_debited == DISCOUNTED and settled.balance_after == 10_000 - DISCOUNTED
    assert f"lane {OTHER_LANE}" in settled.detail
    assert effects == [CloseTransaction(settled), UnresolvedTransactionSettled(settled),
                       SendFrame(Stop(b2().obu_id, StopType.FREEZE, int(clock.now))),
                       OpenBarrier(settled.transaction_id)]
    assert len(book) == 0


def test_the_old_entry_seen_at_another_lane_settles_it_not_debited_and_charges_there() -> None:
    clock, book = FakeClock(), UnresolvedBook()
    intent, _ = left_unresolved(ready_lane(clock, unresolved=book), clock)
    lane_b = other_lane(clock, book)
    effects = read_at(lane_b, clock, 10_000, entry_record())
    settled = effects[0].record  # type: ignore[attr-defined]
    assert (settled.transaction_id, settled.outcome) == (intent.transaction_id,
                                                         Outcome.NOT_DEBITED)
    fresh = of_type(effects, OpenIntent)[0].record  # type: ignore[attr-defined]
    assert fresh.lane_number == OTHER_LANE and fresh.discounted_fee == DISCOUNTED


def test_lanes_with_books_of_their_own_do_not_settle_each_others() -> None:
    clock = FakeClock()
    _, written = left_unresolved(ready_lane(clock), clock)
    effects = read_at(other_lane(clock, None), clock, 10_000 - DISCOUNTED, written)
    assert not of_type(effects, UnresolvedTransactionSettled)


def test_an_entry_lane_settles_an_exit_lanes_debit_and_still_writes_the_entry() -> None:
    clock, book = FakeClock(), UnresolvedBook()
    _, written = left_unresolved(ready_lane(clock, unresolved=book), clock)
    entry_lane = other_lane(clock, book, LaneMode.ENTRY)
    effects = read_at(entry_lane, clock, 10_000 - DISCOUNTED, written)
    assert effects[0].record.outcome is Outcome.DEBITED  # type: ignore[attr-defined]
    assert of_type(effects, OpenIntent) and not of_type(effects, OpenBarrier)


def test_an_intent_from_the_journal_is_settled_by_the_write_it_made() -> None:
    clock = FakeClock()
    intent, written = left_unresolved(ready_lane(clock), clock)
    book = UnresolvedBook()  # a restarted process: only the journal's intent is known
    assert book.remember_intent(intent)
    effects = read_at(other_lane(clock, book), clock, 10_000 - DISCOUNTED, written)
    settled = effects[0].record  # type: ignore[attr-defined]
    assert (settled.transaction_id, settled.outcome) == (intent.transaction_id, Outcome.DEBITED)
    assert settled.amount_debited == DISCOUNTED and of_type(effects, OpenBarrier)


def test_an_intent_from_the_journal_is_settled_by_the_entry_it_was_priced_from() -> None:
    clock = FakeClock()
    intent, _ = left_unresolved(ready_lane(clock), clock)
    book = UnresolvedBook()
    book.remember_intent(intent)
    effects = read_at(other_lane(clock, book), clock, 10_000, entry_record())
    assert effects[0].record.outcome is Outcome.NOT_DEBITED  # type: ignore[attr-defined]


def test_an_intent_from_the_journal_is_not_settled_by_a_write_of_another_lane() -> None:
    clock = FakeClock()
    intent, written = left_unresolved(ready_lane(clock), clock)
    book = UnresolvedBook()
    book.remember_intent(intent)
    for elsewhere in (replace(written, lane=OTHER_LANE), replace(written, time=written.time + 1),
                      replace(written, status=EntryExitStatus.ENTERED)):
        effects = read_at(other_lane(clock, book), clock, 10_000, elsewhere)
        assert not of_type(effects, UnresolvedTransactionSettled)
    assert intent.card_number in book


def test_an_intent_with_no_card_or_time_is_not_kept() -> None:
    clock = FakeClock()
    intent, _ = left_unresolved(ready_lane(clock), clock)
    book = UnresolvedBook()
    assert not book.remember_intent(replace(intent, card_number=""))
    assert not book.remember_intent(replace(intent, transaction_time="garbled"))
    assert len(book) == 0


def test_a_card_topped_up_since_its_unresolved_debit_settles_at_the_purchases_balance() -> None:
    # A load at an outlet leaves the card's station record as the purchase wrote it; the
    # settled record keeps the balance the purchase left, not the one read after the load.
    clock, book = FakeClock(), UnresolvedBook()
    intent, written = left_unresolved(ready_lane(clock, unresolved=book), clock)
    lane_b = other_lane(clock, book)
    loaded = 10_000 - DISCOUNTED + 31_600
    settled = read_at(lane_b, clock, loaded, written)[0].record  # type: ignore[attr-defined]
    assert settled.outcome is Outcome.DEBITED and settled.recovered
    assert settled.balance_before == intent.balance_before == 10_000
    assert settled.balance_after == 10_000 - DISCOUNTED
