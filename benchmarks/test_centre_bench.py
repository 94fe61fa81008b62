"""The centre: top-ups per second with the full load (store, APDUs, the emulated card, both
sides' cryptography) beside the bare cryptography of a load, and the build of a 10-million-entry
status list from the store beside the lane's own table build and write of the same entries.

* Top-up: `centre.service.loading.top_up` of 1 fen on one B card in an emulated reader (in
  memory: the card's own file is the simulator's cost, not the centre's), the store a durable
  SQLite file (WAL, synchronous=FULL: the pending load and the credit are two commits, two
  fsyncs). The floor is what the card and the host compute for a load and nothing else: the
  load session key on each side, MAC1 (card) and its check (host), MAC2 (host) and its check
  (card), the TAC (card) and its check (host), with the card's keys already derived.
* List: 10 million card entries already in the store (published), `write_full_list` reads them
  from a snapshot in chunks into numpy columns, builds the lane's table and writes the binary
  file. The baseline builds the table from the same columns in memory and writes it
  (`Blacklist.from_columns` + `save_binary`): what the lane's format costs, without the store.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from centre.devices.issuer import IssuerHost
from centre.lists.publishing import write_full_list
from centre.service.centre import Centre
from centre.service.issuance import CardApplication, issue_card
from centre.service.loading import card_time, top_up
from centre.service.outcomes import Done
from centre.service.registration import add_customer
from centre.settings import ServiceSettings
from centre.store.registry import CustomerData, Outlet, VehicleData
from centre.store.store import Store
from centre.values import CENTRE_ZONE, CardKind, PaymentMethod, Request
from keys import (
    Algorithm,
    CardKeys,
    LoadTerms,
    LoadType,
    generate_key_set,
    issuer_factor,
    load_mac1,
    load_mac2,
    load_session_key,
    load_tac,
    seeded_random_bytes,
    verify_load_mac1,
    verify_load_mac2,
    verify_load_tac,
)
from lane_engine.core.blacklist import Blacklist
from lane_engine.files.blacklist import save_binary
from rsu_sim.model.card import Card
from rsu_sim.site.card_image import CardImagePersonaliser, EmulatedCardReader, load_card

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=CENTRE_ZONE)
OUTLET = Outlet("370101001", "3701-01", "bench outlet", bytes.fromhex("370101000001"))
LIST_ENTRIES = 10_000_000
ROUNDS = 200


class _Desk:
    """A centre on a durable SQLite store with one B card in an emulated reader."""

    def __init__(self, folder: Path, algorithm: Algorithm) -> None:
        self.keys = generate_key_set(["3701"], algorithm, 1, seeded_random_bytes("bench"))
        self.store = Store.open(str(folder / "centre.sqlite3"), T0)
        with self.store.transaction() as tx:
            tx.registry.add_outlet(OUTLET)
        self.centre = Centre(self.store, IssuerHost(self.keys, 1), ServiceSettings())
        self.ids = itertools.count()
        add_customer(self.centre, self.request(), CustomerData(
            "person", "张三", "id_card", "11010519491231002X"), VehicleData("鲁A12345", 0, 1))
        done = issue_card(self.centre, self.request(), CardApplication(
            CardKind.B, "鲁A12345", 0, PaymentMethod.CASH), CardImagePersonaliser(folder))
        assert isinstance(done, Done)
        self.number = str(done.result["card"])
        card, _ = load_card(folder / f"card-{self.number}.json")
        self.card: Card = card
        self.reader = EmulatedCardReader(card)

    def request(self) -> Request:
        n = next(self.ids)
        return Request(f"bench-{n}", OUTLET.outlet_id, "op", T0 + dt.timedelta(seconds=n))


@pytest.fixture(params=[Algorithm.TDES, Algorithm.SM4], ids=lambda a: a.name)
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[_Desk]:
    opened = _Desk(tmp_path, request.param)
    try:
        yield opened
    finally:
        opened.store.close()


def test_top_up_full(benchmark, desk: _Desk) -> None:  # type: ignore[no-untyped-def]
    """One top-up of 1 fen: store, APDUs, emulated card, both sides' crypto, two fsyncs."""
    cpu: list[float] = []

    def once() -> None:
        started = time.process_time()
        done = top_up(desk.centre, desk.request(), desk.number, 1, PaymentMethod.CASH,
                      desk.reader)
        cpu.append(time.process_time() - started)
        assert isinstance(done, Done)

    once()  # the first load derives and caches the card's keys
    cpu.clear()
    before = desk.card.balance
    benchmark.group = f"centre top-up {desk.keys.entries[0].algorithm.name}"
    benchmark.pedantic(once, rounds=ROUNDS, iterations=1)
    assert desk.card.balance == before + len(cpu)
    median_cpu = float(np.median(cpu))
    benchmark.extra_info.update(
        kind="centre", impl=f"top-up {desk.keys.entries[0].algorithm.name}",
        cpu_us_per_item=round(median_cpu * 1e6, 1),
        top_ups_per_s=round(1 / benchmark.stats.stats.median, 1),
        top_ups_per_cpu_s=round(1 / median_cpu, 1))


def test_top_up_crypto_floor(benchmark, desk: _Desk) -> None:  # type: ignore[no-untyped-def]
    """What the card and the host compute for one load, nothing else."""
    algorithm = desk.keys.entries[0].algorithm
    info = desk.card.issuer_info
    card_keys = CardKeys(desk.keys)
    factor, serial = issuer_factor(info.issuer_code), bytes.fromhex(info.card_serial)
    dlk = card_keys.dlk("3701", 1, algorithm, factor, serial)
    dtk = card_keys.dtk("3701", 1, algorithm, factor, serial)
    terms = LoadTerms(1, LoadType.PURSE, OUTLET.terminal_number)
    when = card_time(T0)
    random_bytes = seeded_random_bytes("floor")
    cpu: list[float] = []

    def once() -> None:
        started = time.process_time()
        pseudo_random = random_bytes(4)
        card_session = load_session_key(algorithm, dlk, pseudo_random, 7)
        mac_1 = load_mac1(algorithm, card_session, 100, terms)
        host_session = load_session_key(algorithm, dlk, pseudo_random, 7)
        assert verify_load_mac1(algorithm, host_session, 100, terms, mac_1)
        mac_2 = load_mac2(algorithm, host_session, terms, when)
        assert verify_load_mac2(algorithm, card_session, terms, when, mac_2)
        tac = load_tac(algorithm, dtk, 101, 7, terms, when)
        assert verify_load_tac(algorithm, dtk, 101, 7, terms, when, tac)
        cpu.append(time.process_time() - started)

    once()
    cpu.clear()
    benchmark.group = f"centre top-up {algorithm.name}"
    benchmark.pedantic(once, rounds=ROUNDS * 10, iterations=1)
    benchmark.extra_info.update(kind="centre", impl=f"load crypto floor {algorithm.name}",
                                cpu_us_per_item=round(float(np.median(cpu)) * 1e6, 2))


@pytest.fixture(scope="module")
def listed_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Path]]:
    """A store whose card list holds 10 million published entries (as version 1)."""
    folder = tmp_path_factory.mktemp("centre-list")
    store = Store.open(str(folder / "centre.sqlite3"), T0)
    with store.transaction() as tx:
        # Generated inside SQLite: the benchmark is the build, not this set-up.
        tx.sql.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
            " INSERT INTO list_entries (list, network, serial, category, published_category)"
            " SELECT 'card', 3701 - (i % 3) * 500, 2600000000000000 + i * 97, 1 + i % 6,"
            " 1 + i % 6 FROM n", (LIST_ENTRIES - 1,))
        tx.sql.execute("INSERT INTO list_versions (list, version, published_at, entries,"
                       " additions, removals) VALUES ('card', 1, ?, ?, ?, 0)",
                       ("2026-11-02T01:00:00.000000Z", LIST_ENTRIES, LIST_ENTRIES))
    try:
        yield store, folder
    finally:
        store.close()


def test_list_build_10m_from_the_store(benchmark, listed_store) -> None:  # type: ignore[no-untyped-def]
    store, folder = listed_store
    cpu: list[float] = []

    def once() -> Path:
        started = time.process_time()
        path = write_full_list(store, folder, "card", 1)
        cpu.append(time.process_time() - started)
        assert path is not None
        return path

    path = benchmark.pedantic(once, rounds=3, iterations=1, warmup_rounds=0)
    benchmark.group = "centre status list, 10M entries"
    benchmark.extra_info.update(kind="centre", impl="store to lane file",
                                entries=LIST_ENTRIES, cpu_s=round(float(np.median(cpu)), 2),
                                file_mib=round(path.stat().st_size / 2**20, 1))


def test_list_build_10m_lane_table_only(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    i = np.arange(LIST_ENTRIES, dtype=np.int64)
    networks = (3701 - (i % 3) * 500).astype(np.uint16)
    serials = (2600000000000000 + i * 97).astype(np.uint64)
    codes = (1 + i % 6).astype(np.uint8)
    Blacklist.from_columns(0, networks[:10], serials[:10], codes[:10])  # compiled once

    def once() -> None:
        save_binary(tmp_path / "card-full.bin", Blacklist.from_columns(1, networks, serials,
                                                                       codes))

    benchmark.pedantic(once, rounds=3, iterations=1)
    benchmark.group = "centre status list, 10M entries"
    benchmark.extra_info.update(kind="centre", impl="lane table and file from columns",
                                entries=LIST_ENTRIES)
