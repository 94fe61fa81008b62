"""Top-up with the real load cryptography: credited once, whatever is retried or torn; every
refusal before the card commits leaves card, ledger and journal as they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from centre.devices.issuer import IssuerHost
from centre.ledger import accounts
from centre.service.centre import Centre
from centre.service.issuance import _card_image
from centre.service.loading import top_up
from centre.service.outcomes import Done, RefusalReason, Refused
from centre.service.status import report_loss
from centre.settings import ServiceSettings
from centre.store.loads import LoadStatus, Settlement
from centre.values import CardKind, PaymentMethod
from keys import Algorithm, generate_key_set, seeded_random_bytes
from rsu_sim.site.card_image import CardImagePersonaliser, CardImageReader, load_card
from tests.centre.service.desk import LIXIA, QINGDAO, SHIZHONG, Desk, ok, open_desk
from tests.centre.service.readers import LostAfterTheCardCommits, LostBeforeTheCard, WrongMac2

CASH = PaymentMethod.CASH


def _card(desk: Desk, number: str) -> tuple[int, int]:
    card, _ = load_card(desk.folder / f"card-{number}.json")
    return card.balance, card.online_serial


def _books(desk: Desk, number: str) -> dict[str, Any]:
    with desk.centre.store.transaction() as tx:
        return {"purse": tx.book.balance(accounts.purse(number)),
                "loads": [(load.status, load.attempt) for load in tx.loads.of_card(number)],
                "requests": tx.sql.value("SELECT COUNT(*) FROM requests WHERE operation = ?",
                                         ("top_up",)),
                "entries": tx.sql.value("SELECT COUNT(*) FROM entries")}


@pytest.fixture
def card(desk: Desk) -> str:
    desk.customer()
    return desk.b_card()


@pytest.mark.parametrize("algorithm", [Algorithm.TDES, Algorithm.SM4])
def test_a_top_up_loads_the_card_and_the_ledger_once(
        store_url: str, tmp_path: Path, algorithm: Algorithm) -> None:
    desk = open_desk(store_url, tmp_path / "tray", algorithm)
    try:
        desk.customer()
        number = desk.b_card()
        request = desk.request(QINGDAO)  # any outlet of any service centre (art. 26)
        done = ok(top_up(desk.centre, request, number, 5_000, PaymentMethod.WECHAT,
                         desk.reader(number)))
        assert done.result["balance_after"] == 5_000 and done.result["tac_verified"] is True
        assert done.time_limit is not None and not done.time_limit.breached
        assert _card(desk, number) == (5_000, 1)
        again = ok(top_up(desk.centre, request, number, 5_000, PaymentMethod.WECHAT,
                          desk.reader(number)))
        assert again.replayed and again.result == done.result
        assert _card(desk, number) == (5_000, 1)
        with desk.centre.store.transaction() as tx:
            assert tx.book.balance(accounts.purse(number)) == 5_000
            assert tx.book.balance(accounts.outlet_cash(QINGDAO.outlet_id)) == 5_000
        loaded, _ = load_card(desk.folder / f"card-{number}.json")
        assert loaded.load_log[0].tac.hex().upper() == done.result["tac"]
    finally:
        desk.centre.store.close()


def test_refusals_write_nothing_and_leave_the_card_alone(desk: Desk, card: str) -> None:
    desk.customer("鲁B22222", id_number="440524188001010014")
    a_card = desk.a_card("鲁B22222")
    before = _books(desk, card)
    cases = [
        (a_card, 5_000, RefusalReason.NOT_A_B_CARD),
        (card, 0, RefusalReason.AMOUNT_NOT_POSITIVE),
        (card, -100, RefusalReason.AMOUNT_NOT_POSITIVE),
        (card, 1_000_001, RefusalReason.OVER_PURSE_LIMIT),
        ("37012616999999999999", 100, RefusalReason.UNKNOWN_CARD),
    ]
    for number, amount, reason in cases:
        outcome = top_up(desk.centre, desk.request(), number, amount, CASH, desk.reader(card))
        assert isinstance(outcome, Refused) and outcome.reason is reason, (number, outcome)
    wrong = top_up(desk.centre, desk.request(), card, 100, CASH, desk.reader(a_card))
    assert isinstance(wrong, Refused) and wrong.reason is RefusalReason.WRONG_CARD_IN_READER
    assert _books(desk, card) == before and _card(desk, card) == (0, 0)


def test_the_purse_limit_counts_the_cards_own_balance(desk: Desk, card: str) -> None:
    ok(top_up(desk.centre, desk.request(), card, 990_000, CASH, desk.reader(card)))
    before = _books(desk, card)
    over = top_up(desk.centre, desk.request(), card, 20_000, CASH, desk.reader(card))
    assert isinstance(over, Refused) and over.reason is RefusalReason.OVER_PURSE_LIMIT
    assert "990000 + 20000" in over.message
    assert _books(desk, card) == before and _card(desk, card) == (990_000, 1)
    ok(top_up(desk.centre, desk.request(), card, 10_000, CASH, desk.reader(card)))


def test_a_lower_purse_limit_of_the_centre_applies(store_url: str, tmp_path: Path) -> None:
    desk = open_desk(store_url, tmp_path / "tray", settings=ServiceSettings(purse_limit=50_000))
    try:
        desk.customer()
        number = desk.b_card()
        over = top_up(desk.centre, desk.request(), number, 50_001, CASH, desk.reader(number))
        assert isinstance(over, Refused) and over.reason is RefusalReason.OVER_PURSE_LIMIT
    finally:
        desk.centre.store.close()


def test_a_lost_card_is_not_topped_up(desk: Desk, card: str) -> None:
    ok(report_loss(desk.centre, desk.request(), card))
    outcome = top_up(desk.centre, desk.request(), card, 100, CASH, desk.reader(card))
    assert isinstance(outcome, Refused) and outcome.reason is RefusalReason.WRONG_CARD_STATUS


def test_a_card_that_refuses_mac2_is_not_credited_and_the_request_may_try_again(
        desk: Desk, card: str) -> None:
    request = desk.request()
    refused = top_up(desk.centre, request, card, 5_000, CASH, WrongMac2(desk.reader(card)))
    assert isinstance(refused, Refused) and refused.reason is RefusalReason.CARD_REFUSED
    assert "9302" in refused.message
    assert _card(desk, card) == (0, 0)
    assert _books(desk, card)["loads"] == [(LoadStatus.NOT_CREDITED, 1)]
    done = ok(top_up(desk.centre, request, card, 5_000, CASH, desk.reader(card)))
    assert not done.replayed and _card(desk, card) == (5_000, 1)
    books = _books(desk, card)
    assert books["purse"] == 5_000 and books["requests"] == 1
    assert books["loads"] == [(LoadStatus.NOT_CREDITED, 1), (LoadStatus.CREDITED, 2)]


def test_a_torn_load_the_card_committed_is_credited_once_on_the_retry(
        desk: Desk, card: str) -> None:
    request = desk.request()
    torn = top_up(desk.centre, request, card, 5_000, CASH,
                  LostAfterTheCardCommits(desk.reader(card)))
    assert isinstance(torn, Refused) and torn.reason is RefusalReason.DEVICE_FAILED
    assert "present it again" in torn.message
    assert _card(desk, card) == (5_000, 1)  # the card has it ...
    assert _books(desk, card)["purse"] == 0  # ... the ledger not yet
    reader = desk.reader(card)
    settled = ok(top_up(desk.centre, request, card, 5_000, CASH, reader))
    assert settled.replayed and settled.result["settled_from"] == Settlement.CARD_LOG.value
    assert settled.result["balance_after"] == 5_000
    assert _card(desk, card) == (5_000, 1)
    books = _books(desk, card)
    assert books["purse"] == 5_000 and books["requests"] == 1
    assert books["loads"] == [(LoadStatus.CREDITED, 1)]
    again = ok(top_up(desk.centre, request, card, 5_000, CASH, desk.reader(card)))
    assert again.replayed and _card(desk, card) == (5_000, 1)


def test_a_torn_load_is_settled_by_the_next_top_up_at_another_outlet(
        desk: Desk, card: str) -> None:
    top_up(desk.centre, desk.request(LIXIA), card, 5_000, CASH,
           LostAfterTheCardCommits(desk.reader(card)))
    second = ok(top_up(desk.centre, desk.request(SHIZHONG), card, 2_000, CASH,
                       desk.reader(card)))
    assert second.result["settled_first"]["credited"] is True
    assert second.result["balance_after"] == 7_000 and _card(desk, card) == (7_000, 2)
    with desk.centre.store.transaction() as tx:
        assert tx.book.balance(accounts.purse(card)) == 7_000
        assert tx.book.balance(accounts.outlet_cash(LIXIA.outlet_id)) == 5_000
        assert tx.book.balance(accounts.outlet_cash(SHIZHONG.outlet_id)) == 2_000
        assert tx.sql.value("SELECT COUNT(*) FROM requests WHERE operation = 'top_up'") == 2


def test_a_load_that_never_reached_the_card_is_settled_as_not_credited(
        desk: Desk, card: str) -> None:
    request = desk.request()
    torn = top_up(desk.centre, request, card, 5_000, CASH, LostBeforeTheCard(desk.reader(card)))
    assert isinstance(torn, Refused) and torn.reason is RefusalReason.DEVICE_FAILED
    assert _books(desk, card)["loads"] == [(LoadStatus.PENDING, 1)]
    done = ok(top_up(desk.centre, request, card, 5_000, CASH, desk.reader(card)))
    assert isinstance(done, Done) and not done.replayed
    assert done.notes and "not credited" in done.notes[0]
    assert _card(desk, card) == (5_000, 1)
    books = _books(desk, card)
    assert books["purse"] == 5_000
    assert books["loads"] == [(LoadStatus.NOT_CREDITED, 1), (LoadStatus.CREDITED, 2)]


def test_a_card_not_made_with_the_issuers_keys_is_not_genuine(
        desk: Desk, card: str, tmp_path: Path) -> None:
    forged_keys = generate_key_set(["3701"], Algorithm.SM4, 1, seeded_random_bytes("forger"))
    genuine, _ = load_card(desk.folder / f"card-{card}.json")
    forger = Centre(desk.centre.store, IssuerHost(forged_keys, 1), desk.centre.settings)
    # The same 0015 as the genuine card, with keys from another key set.
    CardImagePersonaliser(tmp_path / "forged").personalise_card(
        _card_image(forger, genuine.issuer_info, CardKind.B))
    reader = CardImageReader(tmp_path / "forged" / f"card-{card}.json")
    outcome = top_up(desk.centre, desk.request(), card, 5_000, CASH, reader)
    assert isinstance(outcome, Refused) and outcome.reason is RefusalReason.CARD_NOT_GENUINE
    assert "MAC1" in outcome.message
    assert _books(desk, card)["loads"] == []
