"""List versions in the lane's own formats: what a lane loads and applies is what the store
holds."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from centre.lists.announcing import lane_version, messages
from centre.lists.building import delta_of, full_list, reason_table
from centre.lists.categories import CARD_REASONS, OBU_REASONS, CardCategory
from centre.lists.publishing import full_due, publish_version, write_full_list
from centre.store.store import Store
from lane_engine.core.blacklist import Reason
from lane_engine.files.blacklist import load_binary, load_delta_text
from lane_engine.station.centre import decode_announcement, decode_blacklist_delta
from tests.centre.store.helpers import T0

A, B, C = "37012616000000000001", "37012616000000000002", "32012616000000000003"
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def store(store_url: str) -> Store:
    return Store.open(store_url, T0)


def _set(store: Store, number: str, category: int, at: dt.datetime = T0) -> None:
    with store.transaction() as tx:
        tx.lists.set_category("card", number, category, at, None)


def test_every_category_has_a_lane_reason() -> None:
    assert set(CARD_REASONS.values()) <= set(Reason) and len(CARD_REASONS) == 6
    assert len(OBU_REASONS) == 4
    table = reason_table("card")
    assert table[CardCategory.SUSPENDED] == Reason.SUSPENDED and table[0] == 0


def test_a_lane_catches_up_by_deltas_or_from_the_next_full_list(
        store: Store, tmp_path: Path) -> None:
    _set(store, A, CardCategory.LOST)
    _set(store, B, CardCategory.OVERDRAWN)
    first = publish_version(store, tmp_path, "card", T0, full=True)
    assert first is not None and first.full_path is not None
    assert first.version.version == 1 and first.version.entries == 2
    _set(store, A, 0)  # unlocked
    _set(store, C, CardCategory.CLASS_MISMATCH)
    _set(store, B, CardCategory.LOST)  # a listed card changes category
    second = publish_version(store, tmp_path, "card", T0 + HOUR, full=True)
    assert second is not None and second.full_path is not None
    lane = load_binary(first.full_path).applied(load_delta_text(second.delta_path))
    assert dict(lane.entries()) == dict(load_binary(second.full_path).entries()) == {
        B: Reason.LOST, C: Reason.CLASS_MISMATCH}
    assert lane.version == 2
    assert second.delta == decode_blacklist_delta(messages(
        [second], [("3701", 120)], tmp_path)[1][1])


def test_nothing_changed_is_no_version_unless_a_full_list_is_due(
        store: Store, tmp_path: Path) -> None:
    assert publish_version(store, tmp_path, "card", T0) is None
    assert full_due(store, "card", T0, HOUR)
    empty = publish_version(store, tmp_path, "card", T0, full=True)
    assert empty is not None and empty.delta.additions == () and empty.version.entries == 0
    assert not full_due(store, "card", T0 + HOUR / 2, HOUR)
    assert full_due(store, "card", T0 + HOUR, HOUR)


def test_the_full_list_is_the_published_version_even_while_changes_come_in(
        store: Store, tmp_path: Path) -> None:
    _set(store, A, CardCategory.LOST)
    publish_version(store, tmp_path, "card", T0)
    _set(store, B, CardCategory.LOST)  # not published yet
    path = write_full_list(store, tmp_path, "card", 1)
    assert path is not None and dict(load_binary(path).entries()) == {A: Reason.LOST}
    publish_version(store, tmp_path, "card", T0)
    assert write_full_list(store, tmp_path, "card", 1) is None  # version 2 is the one now


def test_the_full_list_is_built_from_chunks_in_columns() -> None:
    rows = [[(3701, 2616000000000001, 1), (3701, 2616000000000002, 4)],
            [(3201, 5, 6)]]
    listed = full_list("card", 9, rows)
    assert listed.version == 9 and len(listed) == 3
    assert listed.reason_for("32010000000000000005") is Reason.CLASS_MISMATCH
    assert full_list("obu", 1, []).version == 1
    delta = delta_of("obu", 4, [("37013701202600000001", 3), ("37013701202600000002", 0)])
    assert delta.additions == (("37013701202600000001", Reason.CANCELLED),)
    assert delta.removals == ("37013701202600000002",)


def test_announcements_name_the_file_where_the_lanes_read_it_full_first(
        store: Store, tmp_path: Path) -> None:
    _set(store, A, CardCategory.LOST)
    published = publish_version(store, tmp_path, "card", T0, full=True)
    assert published is not None
    out = messages([published], [("3701", 120), ("3701", 101)], Path("/srv/etc/lists"))
    assert [topic for topic, _ in out] == [
        "etc/3701/120/centre/blacklist/full", "etc/3701/120/centre/blacklist/delta",
        "etc/3701/101/centre/blacklist/full", "etc/3701/101/centre/blacklist/delta"]
    announced = decode_announcement(out[0][1], "blacklist/full")
    assert (announced.version, announced.path) == ("1", Path("/srv/etc/lists/card-full-1.bin"))


@pytest.mark.parametrize(("payload", "version"), [
    (b'{"lane": 1, "status": "online", "blacklist_version": 7}', 7),
    (b'{"lane": 1, "status": "offline"}', None),
    (b'{"lane": 1, "status": "online", "blacklist_version": "7"}', None),
    (b"not json", None),
    (json.dumps(["online"]).encode(), None),
])
def test_a_lanes_status_says_which_list_it_applies(payload: bytes, version: int | None) -> None:
    assert lane_version(payload) == version
