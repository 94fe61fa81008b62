"""Lane records with genuine TACs, made for the clearing tests: a key set, a small fee table and
policy, cards registered at a centre, and exit and entry records signed as the card would."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from centre.clearing.arrivals import Arrival, from_message
from centre.clearing.clearer import Clearer
from centre.clearing.evidence import TacCheck
from centre.clearing.tariff import Tariff
from centre.store.devices import CardRecord
from centre.store.registry import CustomerData, VehicleData
from centre.store.store import Store
from centre.values import CardKind, CardStatus, PaymentMethod
from keys import Algorithm, generate_key_set
from keys.card_keys import CardKeys
from keys.derivation import issuer_factor
from keys.keyset import seeded_random_bytes
from keys.purchase import PurchaseTerms, tac
from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from lane_engine.core.policy import Policy, cash_fee, discounted_fee
from lane_engine.fees.builder import build_fee_table
from lane_engine.fees.synthetic import synthetic_network
from lane_engine.journal.codec import record_to_dict
from protocols.frames import TransType
from protocols.records import CardType
from tests.centre.store.helpers import OUTLET

KEYS = generate_key_set(["3701"], Algorithm.SM4, 1, seeded_random_bytes("clearing-tests"))
FEES = build_fee_table(synthetic_network(8, 5, networks=("3701",)), "t-1", "2026-11-01T00:00:00Z")
POLICY = Policy("p-1")
ISSUER = "37010001"
ZONE = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=ZONE)
STATIONS = [key for key in FEES.stations]
_CARD_KEYS = CardKeys(KEYS)


def card_number(n: int) -> str:
    return f"3701{26_160_000_0000_0000 + n:016d}"


def register(store: Store, cards: dict[str, CardKind]) -> None:
    """The outlet, and one customer, vehicle and active card per card number."""
    with store.transaction() as tx:
        if tx.registry.outlet(OUTLET.outlet_id) is None:
            tx.registry.add_outlet(OUTLET)
        for index, (number, kind) in enumerate(sorted(cards.items())):
            customer = tx.registry.add_customer(
                CustomerData("person", f"客户{index}", "id_card", f"3701{index:014d}"),
                OUTLET.outlet_id, T0)
            vehicle = tx.registry.add_vehicle(customer, VehicleData(f"鲁A{index:05d}", 0, 1), T0)
            tx.devices.add_card(CardRecord(
                number, kind, vehicle, customer, OUTLET.outlet_id, CardStatus.ACTIVE, T0, T0,
                vehicle_class=1, key_version=1, algorithm=int(Algorithm.SM4),
                start_date=dt.date(2026, 11, 1), expiry_date=dt.date(2036, 11, 1),
                payment_method=PaymentMethod.WECHAT if kind is CardKind.B else None))


def signed(record: TransactionRecord) -> TransactionRecord:
    """The record with the TAC its card computes for it."""
    dtk = _CARD_KEYS.dtk("3701", 1, Algorithm.SM4, issuer_factor(bytes.fromhex(ISSUER)),
                         bytes.fromhex(record.card_number[4:]))
    when = dt.datetime.fromisoformat(record.transaction_time).astimezone(ZONE).replace(tzinfo=None)
    terms = PurchaseTerms(record.amount_debited, TransType.COMPOSITE_PURCHASE,
                          bytes.fromhex(record.psam_terminal_number), when)
    return dataclasses.replace(record, tac=tac(Algorithm.SM4, dtk, terms,
                                               record.terminal_trans_serial).hex())


def terminal(station: int, lane: int) -> str:
    return f"370100{station % 10_000:04d}{lane:02d}"


def _base(card: str, kind: CardKind, ctc: int, at: dt.datetime, station: tuple[str, int],
          lane: int, serial: int, mode: str) -> TransactionRecord:
    return TransactionRecord(
        transaction_id=f"{station[0]}-{station[1]:05d}-{lane:03d}-{serial:08d}-{int(at.timestamp())}",
        lane_network=station[0], lane_station=station[1], lane_number=lane, mode=mode,
        outcome=Outcome.ENTRY_WRITTEN, reason=ReasonCode.OK, obu_id=1, obu_serial="3701",
        card_number=card, card_type=int(CardType.STORED_VALUE if kind is CardKind.B
                                        else CardType.CREDIT),
        plate="鲁A00001", vehicle_class=1, entry_network="", entry_station=0, entry_time=0,
        fee=0, discounted_fee=0, amount_debited=0, cash_fee=0, balance_before=10_000,
        balance_after=10_000, ctc=ctc, psam_terminal_number=terminal(station[1], lane),
        terminal_trans_serial=serial, tac="", alg_flag=int(Algorithm.SM4), key_version=1,
        transaction_time=at.isoformat(timespec="seconds"), policy_version=POLICY.version,
        fee_table_version=FEES.version, blacklist_version=1, card_issuer_code=ISSUER)


def entry(card: str, ctc: int, at: dt.datetime, station: tuple[str, int] = STATIONS[0],
          lane: int = 1, serial: int = 1, kind: CardKind = CardKind.B,
          balance: int = 10_000) -> TransactionRecord:
    record = dataclasses.replace(_base(card, kind, ctc, at, station, lane, serial, "entry"),
                                 balance_before=balance, balance_after=balance)
    return signed(record)


def exit_(card: str, ctc: int, at: dt.datetime, entered: tuple[str, int] = STATIONS[0],
          station: tuple[str, int] = STATIONS[1], lane: int = 2, serial: int = 1,
          kind: CardKind = CardKind.B, balance: int = 10_000, amount: int | None = None,
          entry_at: dt.datetime | None = None) -> TransactionRecord:
    """A debit (or, for a short B card, a cash-required 0-fen close) of the trip."""
    fee = FEES.fee(entered[0], entered[1], station, 1)
    assert fee is not None and fee > 0
    discounted = discounted_fee(fee, POLICY)
    record = dataclasses.replace(
        _base(card, kind, ctc, at, station, lane, serial, "exit"),
        entry_network=entered[0], entry_station=entered[1],
        entry_time=int((entry_at or at - dt.timedelta(hours=1)).timestamp()),
        fee=fee, discounted_fee=discounted, balance_before=balance)
    short = kind is CardKind.B and balance < discounted
    if short and amount is None:
        record = dataclasses.replace(record, outcome=Outcome.CASH_REQUIRED,
                                     reason=ReasonCode.INSUFFICIENT_BALANCE,
                                     flags=(ReasonCode.INSUFFICIENT_BALANCE,),
                                     cash_fee=cash_fee(fee, POLICY))
    else:
        taken = discounted if amount is None else amount
        record = dataclasses.replace(record, outcome=Outcome.DEBITED, amount_debited=taken,
                                     balance_after=balance - taken)
    return signed(record)


def unresolved(record: TransactionRecord, *, ctc_known: bool = True) -> TransactionRecord:
    """The record the lane closes when it cannot tell whether the card committed it."""
    changes: dict[str, object] = dict(outcome=Outcome.UNRESOLVED, reason=ReasonCode.RESULT_UNKNOWN,
                                      amount_debited=0, balance_after=record.balance_before, tac="")
    if not ctc_known:
        changes.update(ctc=-1, terminal_trans_serial=-1)
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def message(record: TransactionRecord, seq: int, topic: str = "etc/3701/1/2/transactions"
            ) -> bytes:
    return json.dumps({"idempotency_key": record.idempotency_key, "seq": seq,
                       "record": record_to_dict(record)}, ensure_ascii=False).encode()


def arrival(record: TransactionRecord, seq: int) -> Arrival:
    return from_message(message(record, seq), f"etc/{record.lane_network}/{record.lane_station}/"
                                               f"{record.lane_number}/transactions")


def clearer(store: Store, tariff: Tariff | None = None) -> Clearer:
    return Clearer(store, TacCheck(KEYS), tariff or Tariff(FEES, POLICY))
