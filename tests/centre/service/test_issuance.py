"""Issuing cards and OBUs: one per vehicle, personalised with the issuer's keys so that the card
trades at a lane; the time limits; retries; replacement."""

from __future__ import annotations

import datetime as dt
import os

from centre.ledger import accounts
from centre.service.issuance import (
    CardApplication,
    OldCardReading,
    issue_card,
    issue_obu,
    replace_card,
)
from centre.service.loading import top_up
from centre.service.outcomes import RefusalReason, Refused
from centre.values import CardKind, PaymentMethod
from keys import TacVerifier
from keys.clearing import ReportedTransaction
from lane_engine.core.effects import TransactionCompleted
from lane_engine.core.outcomes import Outcome
from protocols.records import CardType
from rsu_sim.site.card_image import load_card, load_obu
from tests.centre.service.desk import ID_LI, QINGDAO, SHIZHONG, T0, Desk, ok
from tests.centre.service.lane import ENTRY, EXIT, drive


def test_a_b_card_is_personalised_for_the_vehicle(desk: Desk) -> None:
    desk.customer()
    number = desk.b_card()
    assert len(number) == 20 and number.startswith("37012616")
    path = desk.folder / f"card-{number}.json"
    assert os.stat(path).st_mode & 0o077 == 0
    card, secrets = load_card(path)
    info = card.issuer_info
    assert (info.card_type, info.plate.text, info.vehicle_class, info.plate_colour) == (
        CardType.STORED_VALUE, "鲁A12345", 1, 0)
    assert info.issuer_identifier == "山东".encode("gbk") + bytes.fromhex("37010001")
    assert (info.start_date, info.expiry_date) == (dt.date(2026, 11, 2), dt.date(2036, 11, 2))
    assert card.balance == 0 and secrets.dlk is not None
    with desk.centre.store.transaction() as tx:
        stored = tx.devices.card(number)
    assert stored is not None and stored.payment_method is PaymentMethod.WECHAT


def test_one_vehicle_one_card_and_one_obu(desk: Desk) -> None:
    desk.customer()
    first = desk.b_card()
    again = issue_card(desk.centre, desk.request(), CardApplication(
        CardKind.A, "鲁A12345", 0, bank_account="1", credit_guarantee="g"), desk.personaliser)
    assert isinstance(again, Refused) and again.reason is RefusalReason.CARD_ALREADY_ACTIVE
    assert first in again.message
    desk.obu()
    twice = issue_obu(desk.centre, desk.request(), "鲁A12345", 0, desk.personaliser)
    assert isinstance(twice, Refused) and twice.reason is RefusalReason.OBU_ALREADY_ACTIVE
    assert sorted(p.name.split("-")[0] for p in desk.folder.iterdir()) == ["card", "obu"]


def test_an_a_card_needs_its_bank_account_and_guarantee(desk: Desk) -> None:
    desk.customer()
    bare = issue_card(desk.centre, desk.request(), CardApplication(CardKind.A, "鲁A12345", 0),
                      desk.personaliser)
    assert isinstance(bare, Refused) and bare.reason is RefusalReason.BAD_INPUT
    assert not desk.folder.exists()
    number = desk.a_card()
    card, secrets = load_card(desk.folder / f"card-{number}.json")
    assert card.card_type == CardType.CREDIT and secrets.dlk is None
    assert number[4:8] == "2617"


def test_an_unregistered_vehicle_gets_nothing(desk: Desk) -> None:
    outcome = issue_card(desk.centre, desk.request(), CardApplication(
        CardKind.B, "鲁Z99999", 0, PaymentMethod.CASH), desk.personaliser)
    assert isinstance(outcome, Refused) and outcome.reason is RefusalReason.UNKNOWN_VEHICLE
    assert not desk.folder.exists()


def test_a_retried_issue_gives_the_same_card_and_writes_no_second_one(desk: Desk) -> None:
    desk.customer()
    request = desk.request()
    application = CardApplication(CardKind.B, "鲁A12345", 0, PaymentMethod.WECHAT)
    first = ok(issue_card(desk.centre, request, application, desk.personaliser))
    again = ok(issue_card(desk.centre, request, application, desk.personaliser))
    assert again.replayed and again.result["card"] == first.result["card"]
    assert len(list(desk.folder.iterdir())) == 1


def test_the_time_limits_are_tracked_and_a_breach_reported(desk: Desk) -> None:
    desk.customer()
    desk.customer("鲁A54321", id_number=ID_LI)
    friday = dt.datetime(2026, 10, 30, 16, 0, tzinfo=T0.tzinfo)
    on_time = ok(issue_card(desk.centre, desk.request(applied_at=friday), CardApplication(
        CardKind.B, "鲁A12345", 0, PaymentMethod.WECHAT), desk.personaliser))
    assert on_time.time_limit is not None and not on_time.time_limit.breached
    thursday = friday - dt.timedelta(days=1)
    late = ok(issue_card(desk.centre, desk.request(applied_at=thursday), CardApplication(
        CardKind.B, "鲁A54321", 0, PaymentMethod.WECHAT), desk.personaliser))
    assert late.time_limit is not None and late.time_limit.breached
    assert late.time_limit.deadline == friday
    assert late.notes and "breached" in late.notes[0]
    with desk.centre.store.transaction() as tx:
        journaled = tx.journal.find(late.request_id)
    assert journaled is not None and journaled.breached and journaled.applied_at == thursday


def test_a_card_issued_here_trades_at_the_lanes(desk: Desk) -> None:
    desk.customer()
    card_number, obu_number = desk.b_card(), desk.obu()
    ok(top_up(desk.centre, desk.request(SHIZHONG), card_number, 10_000, PaymentMethod.CASH,
              desk.reader(card_number)))
    entry = drive(desk.folder, card_number, obu_number, ENTRY, desk.keys, T0)
    [written] = entry.of(TransactionCompleted)
    assert written.record.outcome is Outcome.ENTRY_WRITTEN, entry.events
    exit_ = drive(desk.folder, card_number, obu_number, EXIT, desk.keys,
                  T0 + dt.timedelta(hours=1))
    [debited] = exit_.of(TransactionCompleted)
    record = debited.record
    assert (record.outcome, record.amount_debited, record.balance_after) == (
        Outcome.DEBITED, 1_189, 10_000 - 1_189)
    card, _ = load_card(desk.folder / f"card-{card_number}.json")
    assert card.balance == 8_811
    purchase = card.log[record.ctc]
    assert purchase.tac.hex().upper() == record.tac.upper()
    info = card.issuer_info
    assert card.algorithm is not None
    assert TacVerifier(desk.keys).is_genuine(ReportedTransaction(
        info.issuer_code, bytes.fromhex(info.card_serial), info.network, 1, card.algorithm,
        1_189, purchase.trans_type, EXIT.terminal_number, record.terminal_trans_serial,
        purchase.transaction_time, purchase.tac))
    obu = load_obu(desk.folder / f"obu-{obu_number}.json", None)
    assert obu.system_info.contract_serial == obu_number

def test_a_bad_card_is_replaced_and_its_balance_is_to_move(desk: Desk) -> None:
    desk.customer()
    old = desk.b_card()
    ok(top_up(desk.centre, desk.request(), old, 3_000, PaymentMethod.CASH, desk.reader(old)))
    other_centre = replace_card(desk.centre, desk.request(QINGDAO), old, desk.personaliser,
                                None)
    assert isinstance(other_centre, Refused)
    assert other_centre.reason is RefusalReason.OTHER_SERVICE_CENTRE
    done = ok(replace_card(desk.centre, desk.request(SHIZHONG), old, desk.personaliser,
                           OldCardReading(balance=3_000, ctc=0)))
    new = done.result["card"]
    assert new != old and done.result["balance_to_move"] == 3_000
    with desk.centre.store.transaction() as tx:
        replaced, fresh = tx.devices.card(old), tx.devices.card(new)
        refund = tx.money.refund(old)
        assert tx.book.balance(accounts.purse(old)) == 3_000
        assert tx.lists.category("card", old) == 0  # surrendered, not listed
    assert replaced is not None and replaced.status.value == "replaced"
    assert fresh is not None and fresh.replaces == old and fresh.status.value == "active"
    assert refund is not None and refund.due_at == done.time_limit.completed_at  # type: ignore[union-attr]
