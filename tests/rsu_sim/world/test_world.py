"""A served world: made once, reopened with every card where the file left it; PSAM serials
never handed out twice across reopenings; a world is refused when asked to become another."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from keys.errors import SerialStoreError
from rsu_sim.errors import WorldError
from rsu_sim.model.card import CardTransaction
from rsu_sim.scenario_file import scenario_source
from rsu_sim.site.devices import terminal_number
from rsu_sim.world.durable import SERIAL_BLOCK, DurableWorld, WorldSerialStore
from rsu_sim.world.opening import WorldRecipe, open_world
from rsu_sim.world.store import WORLD_FILE, WorldStore

NOW = 1_790_000_000.0


def recipe(**changes: object) -> WorldRecipe:
    label, text = scenario_source("clean")
    return replace(WorldRecipe(label, text), **changes)  # type: ignore[arg-type]


def purchase(world: DurableWorld, vehicle_index: int = 0, amount: int = 1189) -> str:
    """Make the card of a vehicle commit a purchase, as the card emulator's DEBIT does."""
    record = sorted(world.site.traffic.population, key=lambda r: r.vehicle_id)[vehicle_index]
    obu = world.site.fleet.obu(record)
    card = obu.card
    assert card is not None
    world.watch(obu)
    entry = CardTransaction(card.ctc, amount, 0x09, bytes(6), 7, dt.datetime(2026, 11, 1, 8),
                            b"\x01\x02\x03\x04", b"\x05\x06\x07\x08", card.balance - amount,
                            bytes(43))
    card.log[card.ctc] = entry
    card.balance -= amount
    card.ctc += 1
    return card.issuer_info.card_number


def card_of(world: DurableWorld, number: str) -> tuple[int, int, int]:
    for obu in world.site.fleet:
        if obu.card is not None and obu.card.issuer_info.card_number == number:
            return obu.card.balance, obu.card.ctc, len(obu.card.log)
    raise AssertionError(number)


def test_a_synced_purchase_is_there_after_reopening(tmp_path: Path) -> None:
    world = open_world(tmp_path, recipe(), now=NOW)
    number = purchase(world)
    before = card_of(world, number)
    world.fed(5)
    world.sync()
    world.abandon()  # no clean close: as after a SIGKILL

    again = open_world(tmp_path, None, now=NOW + 60)
    assert card_of(again, number) == before and before[2] == 1
    assert again.arrivals_fed == 5 and again.session == 2
    assert again.site.scenario.start_unix == world.site.scenario.start_unix
    again.close("done")
    sessions = WorldStore.open(tmp_path / WORLD_FILE).sessions()
    assert [s.ended_at is None for s in sessions] == [True, False]


def test_a_purchase_not_synced_is_not_there(tmp_path: Path) -> None:
    world = open_world(tmp_path, recipe(), now=NOW)
    number = purchase(world)
    world.abandon()
    again = open_world(tmp_path, None, now=NOW)
    assert card_of(again, number)[2] == 0
    again.abandon()


def test_serials_continue_after_the_reserved_block(tmp_path: Path) -> None:
    world = open_world(tmp_path, recipe(), now=NOW)
    terminal = terminal_number(world.site.scenario.lanes[0])
    store = WorldSerialStore(world.store, terminal)
    first = [store.allocate() for _ in range(3)]
    again = WorldSerialStore(world.store, terminal)  # a restart: the block's rest is skipped
    assert first == [1, 2, 3] and again.allocate() == 1 + SERIAL_BLOCK
    assert WorldSerialStore(world.store, terminal).next_serial == 1 + 2 * SERIAL_BLOCK
    cut_off = WorldSerialStore(world.store, terminal)
    world.abandon()
    with pytest.raises(SerialStoreError):  # the file is gone: a PSAM error, never a reuse
        cut_off.allocate()


def test_a_world_refuses_to_become_another(tmp_path: Path) -> None:
    open_world(tmp_path, recipe(), now=NOW).abandon()
    for other in (recipe(seed=9), recipe(faults={"radio_fade": 0.5}),
                  WorldRecipe(*scenario_source("mixed"))):
        with pytest.raises(WorldError, match="give --new"):
            open_world(tmp_path, other, now=NOW)
    open_world(tmp_path, recipe(), now=NOW).abandon()  # the same recipe goes on


def test_a_world_whose_population_changed_is_refused(tmp_path: Path) -> None:
    open_world(tmp_path, recipe(), now=NOW).abandon()
    with sqlite3.connect(tmp_path / WORLD_FILE) as db:
        db.execute("UPDATE meta SET value = 'x' WHERE key = 'population'")
    with pytest.raises(WorldError, match="another population"):
        open_world(tmp_path, None, now=NOW)


def test_a_foreign_or_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WorldError, match="no world here"):
        open_world(tmp_path, None, now=NOW)
    (tmp_path / WORLD_FILE).write_bytes(b"not a database at all, just some bytes here")
    with pytest.raises(WorldError, match="cannot read"):
        open_world(tmp_path, None, now=NOW)
    with sqlite3.connect(tmp_path / "other.sqlite3") as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(WorldError, match="not a served world"):
        WorldStore.open(tmp_path / "other.sqlite3")


def test_a_world_without_its_keys_is_refused(tmp_path: Path) -> None:
    open_world(tmp_path, recipe(), now=NOW).abandon()
    (tmp_path / "keys.toml").unlink()
    with pytest.raises(WorldError, match=r"keys\.toml"):
        open_world(tmp_path, None, now=NOW)


def test_one_process_serves_a_world_at_a_time(tmp_path: Path) -> None:
    world = open_world(tmp_path, recipe(), now=NOW)
    with pytest.raises(WorldError, match="being served by another"):
        open_world(tmp_path, None, now=NOW)
    world.close("done")
    open_world(tmp_path, None, now=NOW).abandon()
