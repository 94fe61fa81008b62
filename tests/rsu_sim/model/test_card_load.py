"""The ICC emulator's load (card.md §3.1a): the host's MAC2 against the card's MAC1 and TAC with
real keys, the atomic credit and its log, and every refusal leaving the purse as it was."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keys import (
    Algorithm,
    CardKeys,
    LoadTerms,
    LoadType,
    generate_key_set,
    issuer_factor,
    load_mac2,
    load_session_key,
    seeded_random_bytes,
    verify_load_mac1,
    verify_load_tac,
)
from protocols.apdu import (
    CreditForLoad,
    GetTransactionProve,
    InitializeForCappPurchase,
    InitializeForLoad,
    Select,
    StatusWord,
    decode_load_initialized,
    decode_response,
    decode_transaction_proof,
    encode_command,
)
from protocols.records import CardType, IssuerInfo, Plate
from rsu_sim.model.card import Card, card_keys_for, load_key_for

TERMINAL = bytes.fromhex("370101000001")
WHEN = dt.datetime(2026, 11, 2, 9, 30, 5)


def _info(card_type: int = CardType.STORED_VALUE) -> IssuerInfo:
    return IssuerInfo(bytes.fromhex("C9BDB6AB37010001"), card_type, 0x10, "3701",
                      "2616000000000001", dt.date(2026, 11, 2), dt.date(2036, 11, 2),
                      Plate.from_text("鲁A12345"), 0, 0, 1)


class Host:
    """The issuer's side of the load, from the same key set."""

    def __init__(self, algorithm: Algorithm) -> None:
        self.key_set = generate_key_set(["3701"], algorithm, 1, seeded_random_bytes("host"))
        self.card_keys = CardKeys(self.key_set)
        self.algorithm = algorithm
        factor, serial = issuer_factor(bytes.fromhex("37010001")), bytes.fromhex(
            "2616000000000001")
        self.dlk = self.card_keys.dlk("3701", 1, algorithm, factor, serial)
        self.dtk = self.card_keys.dtk("3701", 1, algorithm, factor, serial)

    def card(self, info: IssuerInfo | None = None, balance: int = 1_000,
             with_load_key: bool = True) -> Card:
        info = info or _info()
        keys = card_keys_for(self.card_keys, info, 1)
        load_key = load_key_for(self.card_keys, info, 1) if with_load_key else None
        card = Card(info, balance, 3, None, seeded_random_bytes("card"), keys=keys,
                    load_key=load_key, online_serial=5)
        card.execute(Select())
        return card


def _send(card: Card, command: object) -> tuple[bytes, StatusWord | int]:
    answer = decode_response(card.handle_apdu(encode_command(command)))  # type: ignore[arg-type]
    return answer.data, answer.sw


def _load(host: Host, card: Card, amount: int) -> tuple[bytes, StatusWord | int, LoadTerms]:
    """INITIALIZE (MAC1 checked as the host would), then CREDIT with the host's MAC2."""
    data, sw = _send(card, InitializeForLoad(1, amount, TERMINAL))
    assert sw == StatusWord.OK, sw
    opened = decode_load_initialized(data)
    terms = LoadTerms(amount, LoadType.PURSE, TERMINAL)
    session = load_session_key(host.algorithm, host.dlk, opened.pseudo_random,
                               opened.online_serial)
    assert verify_load_mac1(host.algorithm, session, opened.balance, terms, opened.mac1)
    tac, sw = _send(card, CreditForLoad(WHEN, load_mac2(host.algorithm, session, terms, WHEN)))
    return tac, sw, terms


@pytest.mark.parametrize("algorithm", [Algorithm.TDES, Algorithm.SM4])
def test_a_load_credits_once_with_a_tac_the_issuer_verifies(algorithm: Algorithm) -> None:
    host = Host(algorithm)
    card = host.card(balance=1_000)
    tac, sw, terms = _load(host, card, 5_000)
    assert sw == StatusWord.OK and len(tac) == 4
    assert (card.balance, card.online_serial, card.ctc) == (6_000, 6, 3)
    assert verify_load_tac(algorithm, host.dtk, 6_000, 5, terms, WHEN, tac)
    logged = card.load_log[5]
    assert (logged.amount, logged.balance_after, logged.tac) == (5_000, 6_000, tac)
    # The log answers for the load by its online serial, as the centre asks after a torn load.
    proof, sw = _send(card, GetTransactionProve(ctc=5, trans_type=LoadType.PURSE))
    assert sw == StatusWord.OK and decode_transaction_proof(proof).tac == tac
    assert _send(card, GetTransactionProve(ctc=6, trans_type=LoadType.PURSE))[1] == (
        StatusWord.RECORD_NOT_FOUND)
    # CREDIT again without a new INITIALIZE credits nothing.
    assert _send(card, CreditForLoad(WHEN, bytes(4)))[1] == StatusWord.CONDITIONS_NOT_SATISFIED
    assert card.balance == 6_000


def test_a_wrong_mac2_credits_nothing() -> None:
    host = Host(Algorithm.SM4)
    card = host.card()
    assert _send(card, InitializeForLoad(1, 5_000, TERMINAL))[1] == StatusWord.OK
    assert _send(card, CreditForLoad(WHEN, bytes(4)))[1] == StatusWord.MAC_INVALID
    assert (card.balance, card.online_serial, card.load_log) == (1_000, 5, {})


def test_a_mac2_for_another_time_or_amount_credits_nothing() -> None:
    host = Host(Algorithm.TDES)
    card = host.card()
    data, _ = _send(card, InitializeForLoad(1, 5_000, TERMINAL))
    opened = decode_load_initialized(data)
    session = load_session_key(host.algorithm, host.dlk, opened.pseudo_random,
                               opened.online_serial)
    other = load_mac2(host.algorithm, session, LoadTerms(50_000, LoadType.PURSE, TERMINAL), WHEN)
    assert _send(card, CreditForLoad(WHEN, other))[1] == StatusWord.MAC_INVALID
    assert card.balance == 1_000


def test_a_purchase_initialize_between_the_two_commands_voids_the_load() -> None:
    host = Host(Algorithm.SM4)
    card = host.card()
    data, _ = _send(card, InitializeForLoad(1, 5_000, TERMINAL))
    opened = decode_load_initialized(data)
    session = load_session_key(host.algorithm, host.dlk, opened.pseudo_random,
                               opened.online_serial)
    mac = load_mac2(host.algorithm, session, LoadTerms(5_000, LoadType.PURSE, TERMINAL), WHEN)
    _send(card, InitializeForCappPurchase(1, 0, TERMINAL))
    assert _send(card, CreditForLoad(WHEN, mac))[1] == StatusWord.CONDITIONS_NOT_SATISFIED
    assert card.balance == 1_000


@pytest.mark.parametrize(("make", "command", "expected"), [
    ("a_card", InitializeForLoad(1, 100, TERMINAL), StatusWord.CONDITIONS_NOT_SATISFIED),
    ("no_load_key", InitializeForLoad(1, 100, TERMINAL), StatusWord.KEY_NOT_FOUND),
    ("plain", InitializeForLoad(2, 100, TERMINAL), StatusWord.KEY_NOT_FOUND),
    ("plain", InitializeForLoad(1, 100, TERMINAL, load_type=LoadType.DEPOSIT),
     StatusWord.WRONG_P1_P2),
    ("plain", InitializeForLoad(1, 2**32 - 1000, TERMINAL), StatusWord.CONDITIONS_NOT_SATISFIED),
    ("locked", InitializeForLoad(1, 100, TERMINAL), StatusWord.APPLICATION_LOCKED),
    ("unselected", InitializeForLoad(1, 100, TERMINAL), StatusWord.CONDITIONS_NOT_SATISFIED),
    ("serial_used_up", InitializeForLoad(1, 100, TERMINAL),
     StatusWord.CONDITIONS_NOT_SATISFIED),
])
def test_loads_the_card_refuses(make: str, command: InitializeForLoad, expected: int) -> None:
    host = Host(Algorithm.TDES)
    if make == "a_card":
        card = host.card(_info(CardType.CREDIT))
    else:
        card = host.card(with_load_key=make != "no_load_key")
    card.locked = make == "locked"
    if make == "unselected":
        card.reset()
    if make == "serial_used_up":
        card.online_serial = 0xFFFF
    assert _send(card, command)[1] == expected
    assert (card.balance, card.load_log) == (1_000, {})


def test_an_a_card_gets_no_load_key() -> None:
    host = Host(Algorithm.SM4)
    assert load_key_for(host.card_keys, _info(CardType.CREDIT), 1) is None
    assert load_key_for(host.card_keys, _info(), 1) == host.dlk


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=24), max_size=4))
def test_any_bytes_after_an_initialize_never_credit(apdus: list[bytes]) -> None:
    host = Host(Algorithm.TDES)
    card = host.card()
    _send(card, InitializeForLoad(1, 5_000, TERMINAL))
    for apdu in apdus:
        assert len(card.handle_apdu(b"\x80\x52\x00\x00" + apdu)) >= 2
    assert (card.balance, card.online_serial) == (1_000, 5)
