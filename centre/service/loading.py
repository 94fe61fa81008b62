"""Loading a B card through the outlet's reader (圈存, seed art. 21, 26; card.md §3.1a), and
settling a load whose answer was lost from the card's own log.

The load: the card is read and checked (it is the card named, a B card of ours, active);
any earlier load of it still pending is settled first; INITIALIZE FOR LOAD (its MAC1 verified:
a genuine card), the purse limit checked against the card's own balance; the load is journaled
`pending` and committed; CREDIT FOR LOAD with the host's MAC2; the TAC verified; then, in one
transaction, the load `credited`, its ledger entry and the request's journal entry.

A torn load (the card committed, the outlet never heard, or the process died before its
commit) stays `pending`. On the next contact with that card, at any outlet, GET TRANSACTION
PROVE of type 02 for the pending load's online serial answers from the card's load log: with a
TAC that verifies for exactly that load, it is credited then (ledger and journal, once; a retry
of the same request gets that answer); with no such record, it was never credited. Never both,
never twice: one pending load per card, one credit per request (unique indexes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from centre.devices.card_session import CardSession
from centre.devices.ports import CardReader
from centre.errors import CardProtocolError, CardRefusedError, DeviceError
from centre.ledger import accounts, entries
from centre.ledger.entries import Entry
from centre.ledger.limits import Service
from centre.ledger.purse import top_up_problem
from centre.service import guards
from centre.service.centre import Centre
from centre.service.outcomes import Done, Outcome, Refusal, RefusalReason, Refused
from centre.service.requests import Work, fingerprint, journal, replay
from centre.store.journal import DoneRequest
from centre.store.loads import LoadRecord, LoadStatus, NewLoad, Settlement
from centre.store.store import StoreTransaction, wall_clock
from centre.values import CENTRE_ZONE, CardStatus, PaymentMethod, Request
from keys.load import LoadTerms, LoadType
from protocols.records import IssuerInfo


def card_time(at: dt.datetime) -> dt.datetime:
    """The date and time a card is sent (BCD, the centre's zone, whole seconds)."""
    return at.astimezone(CENTRE_ZONE).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True, slots=True)
class Funding:
    """Where a load's money comes from: the customer at the counter, or another B card's
    balance (a refund to a card, a bad-card replacement)."""

    method: PaymentMethod | None = None
    from_card: str | None = None

    def __str__(self) -> str:
        if self.from_card is not None:
            return f"refund:{self.from_card}"
        assert self.method is not None
        return f"cash:{self.method.value}"

    @classmethod
    def parse(cls, text: str) -> Funding:
        kind, _, rest = text.partition(":")
        if kind == "refund":
            return cls(from_card=rest)
        return cls(method=PaymentMethod(rest))

    def entry(self, card_number: str, outlet: str, amount: int) -> Entry:
        if self.from_card is not None:
            return entries.balance_moved(self.from_card, card_number, amount,
                                         memo="refund to another B card")
        return entries.top_up(card_number, outlet, amount, memo=str(self))


@dataclass(frozen=True, slots=True)
class Settled:
    """A pending load settled from the card's log on a later contact."""

    load_id: int
    request_id: str
    credited: bool
    amount: int

    def as_dict(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "amount": self.amount,
                "credited": self.credited}


@dataclass(frozen=True, slots=True)
class CardReading:
    """A card as read at the reader, after its torn loads were settled."""

    info: IssuerInfo
    balance: int
    ctc: int
    settled: tuple[Settled, ...]


def _load_result(load: LoadRecord, tac: bytes, how: Settlement) -> dict[str, Any]:
    new = load.new
    return {"card": new.card_number, "amount": new.amount,
            "balance_after": new.balance_before + new.amount,
            "online_serial": new.online_serial, "tac": tac.hex().upper(),
            "funding": new.funding, "settled_from": how.value}


def _commit_credit(centre: Centre, tx: StoreTransaction, load: LoadRecord, tac: bytes,
                   how: Settlement) -> dict[str, Any]:
    """Credit `load` (pending) in the ledger, journal its request; the request's result."""
    new = load.new
    funding = Funding.parse(new.funding)
    entry_id = tx.book.post(funding.entry(new.card_number, new.outlet_id, new.amount),
                            new.transaction_time, new.request_id)
    if not tx.loads.settle(load.load_id, LoadStatus.CREDITED, new.transaction_time, how, tac,
                           entry_id):
        raise CardProtocolError(f"load {load.load_id} was settled meanwhile")
    result = _load_result(load, tac, how)
    if funding.from_card is not None:
        tx.money.mark_refund_paid(funding.from_card, new.transaction_time, new.amount,
                                  new.card_number, entry_id)
        result["refund_of"] = funding.from_card
    return result


def _journal_settled(tx: StoreTransaction, load: LoadRecord, result: dict[str, Any],
                     at: dt.datetime) -> None:
    """Journal the request of a load settled on a later contact, unless it is journaled."""
    new = load.new
    if tx.journal.find(new.request_id) is not None:
        return
    tx.journal.record(DoneRequest(new.request_id, new.operation, new.fingerprint, new.outlet_id,
                                  new.operator, new.opened_at, new.opened_at, wall_clock(),
                                  f"card:{new.card_number}", result, new.opened_at,
                                  at > new.opened_at))


#: `settle_from_card` looks the card's pending load up itself.
LOOK_UP = object()


def settle_from_card(centre: Centre, session: CardSession, info: IssuerInfo,
                     at: dt.datetime, pending: LoadRecord | object | None = LOOK_UP
                     ) -> Settled | None:
    """Settle the card's pending load, if it has one (`pending`, when the caller read it
    already), from its load log."""
    if pending is LOOK_UP:
        with centre.store.transaction(snapshot=True) as tx:
            pending = tx.loads.pending_for(info.card_number)
    if not isinstance(pending, LoadRecord) or pending.new.card_number != info.card_number:
        return None
    load = pending
    new = load.new
    proof = session.load_proof(new.online_serial)
    with centre.store.transaction() as tx:
        if proof is None:
            tx.loads.settle(load.load_id, LoadStatus.NOT_CREDITED, at, Settlement.NOT_ON_CARD)
            return Settled(load.load_id, new.request_id, False, new.amount)
        terms = LoadTerms(new.amount, LoadType.PURSE, new.terminal_number)
        if not centre.host.tac_is_genuine(info, new.balance_before + new.amount,
                                          new.online_serial, terms,
                                          card_time(new.transaction_time), proof.tac):
            raise CardProtocolError(
                f"card {info.card_number}: its log holds another load at online serial "
                f"{new.online_serial} than the one journaled (request {new.request_id})")
        result = _commit_credit(centre, tx, load, proof.tac, Settlement.CARD_LOG)
        _journal_settled(tx, load, result, at)
    return Settled(load.load_id, new.request_id, True, new.amount)


def open_card(centre: Centre, reader: CardReader, card_number: str | None, at: dt.datetime,
              pending: LoadRecord | object | None = LOOK_UP
              ) -> tuple[CardSession, IssuerInfo, Settled | None]:
    """Read the card in the reader (the one named, when named) and settle its torn load."""
    session = CardSession(reader)
    info = session.open()
    if card_number is not None and info.card_number != card_number:
        raise Refusal(RefusalReason.WRONG_CARD_IN_READER,
                      f"the card in the reader is {info.card_number}, not {card_number}")
    return session, info, settle_from_card(centre, session, info, at, pending)


def read_card(centre: Centre, reader: CardReader, card_number: str | None,
              terminal_number: bytes, at: dt.datetime) -> CardReading:
    """The card's balance and CTC as it reports them (nothing committed), torn loads settled.
    DeviceError / CardRefusedError / CardProtocolError / Refusal on failure."""
    session, info, settled = open_card(centre, reader, card_number, at)
    purse = session.purse(terminal_number)
    return CardReading(info, purse.balance, purse.ctc, () if settled is None else (settled,))


def _refusal_of(exc: Exception) -> Refused:
    if isinstance(exc, Refusal):
        return Refused(exc.reason, exc.message)
    if isinstance(exc, CardRefusedError):
        return Refused(RefusalReason.CARD_REFUSED, str(exc))
    if isinstance(exc, CardProtocolError):
        return Refused(RefusalReason.CARD_NOT_GENUINE, str(exc))
    return Refused(RefusalReason.DEVICE_FAILED, str(exc))


def load(centre: Centre, request: Request, operation: str, question: dict[str, Any],
         card_number: str, amount: int, funding: Funding, reader: CardReader,
         check: Any = None) -> Outcome:
    """Load `amount` onto the B card `card_number` in `reader` (see the module docstring).
    `check(tx)` adds the operation's own checks (a refund's), run before the card is touched."""
    digest = fingerprint(operation, question)
    try:
        with centre.store.transaction(snapshot=True) as tx:
            earlier = replay(tx, request, operation, digest)
            if earlier is not None:
                return earlier
            outlet = guards.outlet(tx, request)
            card = guards.b_card(tx, card_number, "a top-up")
            guards.status_is(card, (CardStatus.ACTIVE,), "a top-up")
            problem = top_up_problem(amount, 0, centre.settings.purse_limit)
            if problem is not None:
                reason = (RefusalReason.AMOUNT_NOT_POSITIVE if amount <= 0
                          else RefusalReason.OVER_PURSE_LIMIT)
                raise Refusal(reason, problem)
            if check is not None:
                check(tx)
            pending_load = tx.loads.pending_for(card_number)
        session, info, settled = open_card(centre, reader, card_number, request.at,
                                           pending_load)
    except (Refusal, DeviceError) as exc:
        return _refusal_of(exc)
    notes: tuple[str, ...] = () if settled is None else (
        f"an earlier load of {settled.amount} fen (request {settled.request_id}) was settled"
        f" from the card's log: {'credited' if settled.credited else 'not credited'}",)
    if settled is not None and settled.credited and settled.request_id == request.request_id:
        with centre.store.transaction() as tx:
            done = replay(tx, request, operation, digest)
        assert done is not None
        return Done(done.request_id, operation, done.result, replayed=True, notes=notes)
    when = card_time(request.at)
    try:
        initialized = session.initialize_for_load(amount, outlet.terminal_number)
        opened = centre.host.open_load(info, initialized, amount, outlet.terminal_number)
    except DeviceError as exc:
        return _refusal_of(exc)
    problem = top_up_problem(amount, initialized.balance, centre.settings.purse_limit)
    if problem is not None:
        return Refused(RefusalReason.OVER_PURSE_LIMIT, problem)
    new = NewLoad(request.request_id, card_number, request.outlet, outlet.terminal_number,
                  amount, initialized.balance, initialized.online_serial, request.at,
                  str(funding), request.at, operation, digest, request.operator)
    with centre.store.transaction() as tx:
        load_id = tx.loads.open(new)
        pending = tx.loads.load(load_id)
    assert pending is not None
    # From here the card may commit: the pending load is durable and is settled from the
    # card's log if the answer below never arrives.
    try:
        tac = session.credit_for_load(when, centre.host.mac2(opened, when))
    except CardRefusedError as exc:
        with centre.store.transaction() as tx:
            tx.loads.settle(load_id, LoadStatus.NOT_CREDITED, request.at, Settlement.ANSWER)
        return _refusal_of(exc)
    except DeviceError as exc:
        return Refused(RefusalReason.DEVICE_FAILED,
                       f"{exc}; the card may have been credited: present it again and the load"
                       " is settled from its log")
    genuine = centre.host.tac_is_genuine(info, initialized.balance + amount,
                                         initialized.online_serial, opened.terms, when, tac)
    with centre.store.transaction() as tx:
        result = _commit_credit(centre, tx, pending, tac, Settlement.ANSWER)
        result["tac_verified"] = genuine
        if settled is not None:
            result["settled_first"] = settled.as_dict()
        done = journal(centre, tx, request, operation, digest,
                       Work(result, f"card:{card_number}", Service.TOP_UP))
    if not genuine:
        notes += ("the card's TAC does not verify: the load is credited (the card holds it)"
                  " and left for reconciliation",)
    return Done(done.request_id, operation, done.result, time_limit=done.time_limit,
                notes=done.notes + notes)


def top_up(centre: Centre, request: Request, card_number: str, amount: int,
           method: PaymentMethod, reader: CardReader) -> Outcome:
    """Top up a B card at any outlet (art. 26), paid at the counter by `method`."""
    question = {"card": card_number, "amount": amount, "method": method.value}
    return load(centre, request, "top_up", question, card_number, amount, Funding(method=method),
                reader)


def ledger_balance(tx: StoreTransaction, card_number: str) -> int:
    """What the ledger says the holder has on a B card."""
    return tx.book.balance(accounts.purse(card_number))


__all__ = ["CardReading", "Funding", "Settled", "card_time", "load", "open_card", "read_card",
           "settle_from_card", "top_up"]
