"""A SIGKILL between the card's CREDIT FOR LOAD and the outlet's commit: the card holds the
load, the centre's pending load is settled from the card's log on the next contact, and the
money is credited exactly once (both databases)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from centre.ledger import accounts
from centre.service.loading import top_up
from centre.store.loads import LoadStatus, Settlement
from centre.values import PaymentMethod
from rsu_sim.site.card_image import load_card
from tests.centre.service.desk import SHIZHONG, Desk, ok

ROOT = Path(__file__).resolve().parents[3]


def _kill_mid_top_up(desk: Desk, url: str, card: str, request_id: str, amount: int) -> None:
    child = subprocess.run(
        [sys.executable, "-m", "tests.centre.service.killed_top_up", url,
         str(desk.folder / f"card-{card}.json"), card, request_id, str(amount)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr


def test_a_top_up_killed_after_the_card_committed_is_credited_once(
        desk: Desk, store_url: str) -> None:
    desk.customer()
    card = desk.b_card()
    _kill_mid_top_up(desk, store_url, card, "outlet-7:0001", 5_000)
    committed, _ = load_card(desk.folder / f"card-{card}.json")
    assert (committed.balance, committed.online_serial) == (5_000, 1)
    with desk.centre.store.transaction() as tx:
        [pending] = tx.loads.of_card(card)
        assert pending.status is LoadStatus.PENDING
        assert tx.book.balance(accounts.purse(card)) == 0
        assert tx.journal.find("outlet-7:0001") is None

    # Next contact, at another outlet, is a new top-up: the torn one is settled first.
    second = ok(top_up(desk.centre, desk.request(SHIZHONG), card, 1_000, PaymentMethod.CASH,
                       desk.reader(card)))
    assert second.result["settled_first"] == {"request_id": "outlet-7:0001", "amount": 5_000,
                                              "credited": True}
    assert second.result["balance_after"] == 6_000
    card_now, _ = load_card(desk.folder / f"card-{card}.json")
    assert (card_now.balance, card_now.online_serial) == (6_000, 2)
    with desk.centre.store.transaction() as tx:
        assert tx.book.balance(accounts.purse(card)) == 6_000
        settled = tx.loads.of_request("outlet-7:0001")
        journaled = tx.journal.find("outlet-7:0001")
    assert [(load.status, load.settled_how) for load in settled] == [
        (LoadStatus.CREDITED, Settlement.CARD_LOG)]
    assert journaled is not None and journaled.result["balance_after"] == 5_000

    # The killed request retried by its outlet: answered from the journal, nothing loaded.
    retried = ok(top_up(desk.centre, desk.request(request_id="outlet-7:0001"), card, 5_000,
                        PaymentMethod.CASH, desk.reader(card)))
    assert retried.replayed and retried.result["settled_from"] == "card_log"
    assert load_card(desk.folder / f"card-{card}.json")[0].balance == 6_000
    with desk.centre.store.transaction() as tx:
        assert tx.book.balance(accounts.purse(card)) == 6_000
        assert tx.book.unbalanced() == []
