"""Exit passes as the lane reads them off the wire: each vehicle's B2, B4 and B5 in V3 envelopes,
the B5 carrying the TAC the card would compute under a generated key set, so that a lane (or the
floor) that checks TACs finds every one genuine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from benchmarks.samples import NETWORK, T0, exchanges
from keys import generate_key_set
from keys.card_keys import CardKeys
from keys.ciphers import Algorithm
from keys.derivation import issuer_factor
from keys.keyset import KeySet, seeded_random_bytes
from keys.purchase import PurchaseTerms, tac
from protocols.envelope import encode_v3
from protocols.frame_codec import encode_frame

#: Our decision: the wire benchmarks' cards are SM4-family cards of network 3701, key version 1.
ALGORITHM = Algorithm.SM4
KEY_VERSION = 1
COMPOSITE_PURCHASE = 0x09


def china_time(at: float) -> dt.datetime:
    """The naive China time of a clock reading, as the lane stamps a purchase."""
    return dt.datetime.fromtimestamp(at, dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None)


def bench_key_set() -> KeySet:
    """The key set of the wire samples (derived from a fixed seed)."""
    return generate_key_set([NETWORK], ALGORITHM, KEY_VERSION, seeded_random_bytes("bench-wire"))


@dataclass(frozen=True, slots=True)
class WirePass:
    """One vehicle's three RSU frames as V3 bytes, the amount the lane will debit and the time
    (the injected clock) the lane serves it at: the purchase time its TAC covers."""

    b2: bytes
    b4: bytes
    b5: bytes
    amount: int
    at: float


def served_at(number: int) -> float:
    """The clock reading vehicle `number` is served at (one vehicle a second)."""
    return T0 + 1 + number


def wire_passes(count: int, amounts, entry_stations: tuple[int, ...], first: int = 0,  # type: ignore[no-untyped-def]
                key_set: KeySet | None = None) -> list[WirePass]:
    """`count` distinct exit passes from number `first` on; `amounts(entry_station)` is what the
    lane debits, which the B5 and its TAC are built for."""
    card_keys = CardKeys(key_set or bench_key_set())
    made = []
    for k, x in enumerate(exchanges(count, amounts, entry_stations=entry_stations, now=T0 + 1,
                                    first=first), start=first):
        card = x.vehicle_and_card.issuer_info
        assert card is not None
        at = served_at(k)
        b5 = dataclasses.replace(x.transaction_result, trans_time=china_time(at))
        amount = x.vehicle_and_card.card_rest_money - b5.card_balance
        dtk = card_keys.dtk(NETWORK, KEY_VERSION, ALGORITHM,
                            issuer_factor(card.issuer_identifier[4:]),
                            bytes.fromhex(card.card_serial))
        assert b5.trans_time is not None
        terms = PurchaseTerms(amount, COMPOSITE_PURCHASE, b5.psam_no, b5.trans_time)
        b5 = dataclasses.replace(b5, alg_flag=ALGORITHM, key_version=KEY_VERSION,
                                 tac=tac(ALGORITHM, dtk, terms, b5.psam_trans_serial))
        seq = 1 + 3 * k % 9
        made.append(WirePass(encode_v3(seq, encode_frame(x.obu_found)),
                             encode_v3(seq % 9 + 1, encode_frame(x.vehicle_and_card)),
                             encode_v3((seq + 1) % 9 + 1, encode_frame(b5)), amount, at))
    return made


def floor_lane_and_passes(count: int):  # type: ignore[no-untyped-def]
    """The floor lane and `count` passes for it."""
    from benchmarks.exit_floor import FloorExitLane
    from benchmarks.lane_driver import ENTRY_STATIONS, EXIT_STATION, FlatFees, amount_from

    fees = {s: FlatFees().fee(NETWORK, s, 1) or 0 for s in ENTRY_STATIONS}
    lane = FloorExitLane(EXIT_STATION, fees, bytes.fromhex("20231115"))
    return lane, wire_passes(count, amount_from, ENTRY_STATIONS)
