"""Reconciling a day: clean when every fen agrees; each kind of difference named with the
card, the amounts and the records."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from centre.cli.main import main
from centre.ledger import entries
from centre.reconcile.checks import ACCOUNTS, BACKING, FINDING, REPORT
from centre.reconcile.day import reconcile_day
from centre.store.loads import LoadStatus, NewLoad, Settlement
from centre.store.store import Store
from centre.values import CardKind
from tests.centre.clearing.records import (
    STATIONS,
    T0,
    arrival,
    card_number,
    clearer,
    entry,
    exit_,
    register,
)
from tests.centre.store.helpers import OUTLET, opened

B1, A1 = card_number(1), card_number(3)
DAY = T0.date()
TOP_UP = 10_000


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = opened(str(tmp_path / "centre.sqlite3"))
    register(store, {B1: CardKind.B, A1: CardKind.A})
    return store


def _top_up(store: Store, card: str, amount: int, before: int, at: dt.datetime,
            serial: int) -> None:
    with store.transaction() as tx:
        load_id = tx.loads.open(NewLoad(f"req-{card}-{serial}", card, OUTLET.outlet_id,
                                        OUTLET.terminal_number, amount, before, serial, at,
                                        "cash:wechat", at))
        entry_id = tx.book.post(entries.top_up(card, OUTLET.outlet_id, amount), at,
                                f"req-{card}-{serial}")
        tx.loads.settle(load_id, LoadStatus.CREDITED, at, Settlement.ANSWER, b"\x01\x02\x03\x04",
                        entry_id)


def _trip(store: Store, first: dt.timedelta = dt.timedelta(hours=1)):  # type: ignore[no-untyped-def]
    _top_up(store, B1, TOP_UP, 0, T0 - dt.timedelta(hours=1), 0)
    going = entry(B1, 0, T0, balance=TOP_UP)
    back = exit_(B1, 1, T0 + first, serial=5, balance=TOP_UP)
    return going, back


def test_a_day_where_every_fen_agrees_is_clean(store: Store) -> None:
    going, back = _trip(store)
    a_debit = exit_(A1, 0, T0 + dt.timedelta(hours=2), kind=CardKind.A, balance=0, serial=6)
    clearer(store).clear([arrival(going, 1), arrival(back, 2), arrival(a_debit, 3)],
                         T0 + dt.timedelta(hours=5))
    result = reconcile_day(store, DAY)
    assert result.differences == []
    assert result.totals[f"plaza {STATIONS[1][0]}/{STATIONS[1][1]} ETC"] == \
        back.amount_debited + a_debit.amount_debited
    assert result.totals[f"outlet {OUTLET.outlet_id} top-ups"] == TOP_UP
    assert result.counts["verified TACs"] == 3


def test_a_record_that_never_came_shows_as_the_cards_balance_disagreeing(store: Store) -> None:
    _top_up(store, B1, TOP_UP, 0, T0 - dt.timedelta(hours=1), 0)
    lost = exit_(B1, 1, T0, serial=5, balance=TOP_UP)
    later = exit_(B1, 2, T0 + dt.timedelta(hours=3), serial=6, balance=lost.balance_after,
                  entered=STATIONS[2])
    clearer(store).clear([arrival(later, 2)], T0 + dt.timedelta(hours=5))
    [difference] = reconcile_day(store, DAY).differences
    assert difference.check == ACCOUNTS and difference.subject == f"card {B1}"
    assert difference.expected == later.balance_after
    assert difference.actual == TOP_UP - later.amount_debited
    assert difference.records == (f"record {later.idempotency_key}",)
    clearer(store).clear([arrival(lost, 1)], T0 + dt.timedelta(hours=6))
    assert reconcile_day(store, DAY).clean


def test_an_entry_no_record_backs_is_found_by_every_check_it_breaks(store: Store) -> None:
    going, back = _trip(store)
    clearer(store).clear([arrival(going, 1), arrival(back, 2)], T0 + dt.timedelta(hours=5))
    with store.transaction() as tx:
        tx.book.post(entries.lane_debit(B1, True, *STATIONS[1], 99), T0 + dt.timedelta(hours=2))
    found = {(d.check, d.subject) for d in reconcile_day(store, DAY).differences}
    plaza = f"{STATIONS[1][0]}/{STATIONS[1][1]}"
    assert (ACCOUNTS, f"card {B1}") in found
    assert (REPORT, f"plaza {plaza} ETC") in found
    assert any(check == BACKING and subject.startswith("entry ") for check, subject in found)


def test_a_finding_makes_the_day_unclean(store: Store) -> None:
    going, back = _trip(store)
    forged = dataclasses.replace(back, tac="00000000")
    clearer(store).clear([arrival(going, 1), arrival(forged, 2)], T0 + dt.timedelta(hours=5))
    [difference] = reconcile_day(store, DAY).differences
    assert difference.check == FINDING and "tac_invalid" in difference.detail
    assert difference.records == (f"record {back.idempotency_key}",)


def test_etc_centre_reconcile_writes_the_report_and_says_clean_or_not(
        store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    going, back = _trip(store)
    clearer(store).clear([arrival(going, 1), arrival(back, 2)], T0 + dt.timedelta(hours=5))
    url = store.where
    store.close()
    out = tmp_path / "report"
    assert main(["reconcile", "--day", DAY.isoformat(), "--store", url, "--out", str(out),
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["clean"] is True
    assert sorted(p.name for p in out.iterdir()) == [
        f"reconcile-{DAY}.json", f"reconcile-{DAY}.md", f"reconcile-{DAY}.png"]
    assert (out / f"reconcile-{DAY}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with opened(url) as again, again.transaction() as tx:
        tx.book.post(entries.lane_cash(*STATIONS[1], 2, 500), T0 + dt.timedelta(hours=3))
    assert main(["reconcile", "--day", DAY.isoformat(), "--store", url, "--out", str(out),
                 "--no-chart"]) == 1
    text = capsys.readouterr().out
    assert "DIFFERENCE backing entry" in text and "difference(s)" in text
    assert "# Reconciliation of" in (out / f"reconcile-{DAY}.md").read_text()


def test_an_a_card_bill_must_bill_exactly_its_cleared_debits(store: Store) -> None:
    first = exit_(A1, 0, T0, kind=CardKind.A, balance=0, serial=6)
    second = exit_(A1, 1, T0 + dt.timedelta(hours=2), kind=CardKind.A, balance=0, serial=7,
                   entered=STATIONS[2])
    clearer(store).clear([arrival(first, 1), arrival(second, 2)], T0 + dt.timedelta(hours=5))
    billed_at = T0 + dt.timedelta(hours=8)
    total = first.amount_debited + second.amount_debited
    with store.transaction() as tx:
        tx.money.open_bill(A1, billed_at, billed_at + dt.timedelta(days=15),
                           [first.idempotency_key, second.idempotency_key], total)
    assert reconcile_day(store, DAY).clean
    with store.transaction() as tx:
        bill = tx.money.open_bill(A1, billed_at, billed_at + dt.timedelta(days=15),
                                  [second.idempotency_key], 123)
    [difference] = reconcile_day(store, DAY).differences
    assert (difference.check, difference.records, difference.actual) == (
        ACCOUNTS, (f"bill {bill}",), 123)
