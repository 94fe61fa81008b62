"""Status lists as stored: changes, versions, the full list in chunks, arrivals."""

from __future__ import annotations

import datetime as dt

import pytest

from centre.errors import StoreError
from tests.centre.store.helpers import T0, opened

A = "37012616000000000001"
B = "37012616000000000002"
C = "32012616000000000003"


def test_a_version_publishes_exactly_the_changes_since_the_last(store_url: str) -> None:
    with opened(store_url) as store:
        with store.transaction() as tx:
            tx.lists.set_category("card", A, 1, T0, "r-1")
            tx.lists.set_category("card", B, 1, T0, "r-2")
            tx.lists.set_category("card", B, 0, T0 + dt.timedelta(minutes=1), "r-3")
            assert tx.lists.unpublished("card") == [(A, 1)]  # B came and went: not in the delta
            assert tx.lists.latest_version("card") == 0
            first = tx.lists.publish("card", 1, T0, "/l/card-full-1.bin", "/l/card-delta-1.txt")
            assert (first.entries, first.additions, first.removals) == (1, 1, 0)
            assert [c.version for c in tx.lists.changes_in("card", 1)] == [1, 1, 1]
        with store.transaction() as tx:
            tx.lists.set_category("card", A, 0, T0, "r-4")  # unlocked
            tx.lists.set_category("card", C, 3, T0, "r-5")  # cancelled without card
            assert tx.lists.unpublished("card") == [(C, 3), (A, 0)]
            assert tx.lists.category("card", A) == 0
            assert tx.lists.published_category("card", A) == 1
            second = tx.lists.publish("card", 2, T0, None, "/l/card-delta-2.txt")
            assert (second.entries, second.additions, second.removals) == (1, 1, 1)
            assert tx.lists.unpublished("card") == []
            assert [v.version for v in tx.lists.versions("card")] == [1, 2]
            assert tx.lists.version("card", 2) == second
            assert [(c.category, c.version) for c in tx.lists.history("card", A)] == [
                (1, 1), (0, 2)]
            assert tx.lists.versions("obu") == []
            with pytest.raises(StoreError, match="does not follow 2"):
                tx.lists.publish("card", 4, T0, None, None)


def test_the_full_list_is_read_in_chunks_in_number_order(store_url: str) -> None:
    rows = [(3701, serial, 1 + serial % 6) for serial in range(25)] + [(3201, 5, 4)]
    with opened(store_url) as store, store.transaction() as tx:
        tx.lists.bulk_set("card", rows)
        tx.lists.set_category("card", "37010000000000000003", 0, T0)
        chunks = list(tx.lists.listed_columns("card", chunk=10))
        assert [len(c) for c in chunks] == [10, 10, 5]
        got = [tuple(row) for chunk in chunks for row in chunk]
        assert got == sorted(r for r in rows if r[:2] != (3701, 3))
        assert tx.lists.listed_count("card") == 25


def test_lane_arrivals_are_noted_once(store_url: str) -> None:
    with opened(store_url) as store, store.transaction() as tx:
        assert tx.lists.record_arrival("card", 3, "3701/120", 2, T0)
        assert not tx.lists.record_arrival("card", 3, "3701/120", 2, T0 + dt.timedelta(1))
        assert tx.lists.arrivals("card", 3)[0].seen_at == T0


@pytest.mark.parametrize("number", ["3701", "3701261600000000000X", "370126160000000000011"])
def test_list_numbers_are_twenty_digits(store_url: str, number: str) -> None:
    with opened(store_url) as store, store.transaction() as tx, pytest.raises(StoreError):
        tx.lists.set_category("card", number, 1, T0)


def test_only_the_card_and_obu_lists_exist(store_url: str) -> None:
    with opened(store_url) as store, store.transaction() as tx, pytest.raises(
            StoreError, match="no status list 'plates'"):
        tx.lists.latest_version("plates")


def test_hand_marks_are_kept_apart_and_cleared_by_zero(store_url: str) -> None:
    with opened(store_url) as store, store.transaction() as tx:
        assert tx.lists.mark("card", A) == 0
        tx.lists.set_mark("card", A, 2, T0)
        tx.lists.set_mark("card", A, 5, T0)
        assert tx.lists.mark("card", A) == 5 and tx.lists.mark("obu", A) == 0
        assert tx.lists.category("card", A) == 0  # a mark is an input, not the list
        tx.lists.set_mark("card", A, 0, T0)
        assert tx.lists.mark("card", A) == 0


def test_a_snapshot_reads_the_published_list_while_writers_go_on(store_url: str) -> None:
    with opened(store_url) as store:
        with store.transaction() as tx:
            tx.lists.set_category("card", A, 1, T0)
            tx.lists.publish("card", 1, T0, None, None)
        writer = opened(store_url)
        try:
            with store.transaction(snapshot=True) as reading:
                first = list(reading.lists.listed_columns("card", published=True))
                with writer.transaction() as tx:  # not held up by the open read
                    tx.lists.set_category("card", B, 4, T0)
                    tx.lists.publish("card", 2, T0, None, None)
                again = list(reading.lists.listed_columns("card", published=True))
                assert reading.lists.latest_version("card") == 1
        finally:
            writer.close()
        assert first == again
        assert [tuple(r) for c in first for r in c] == [(3701, 2616000000000001, 1)]
        with store.transaction(snapshot=True) as reading:
            assert reading.lists.latest_version("card") == 2
