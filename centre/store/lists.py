"""The status lists as stored: what is on each list now, what was published, every change.

A list is `"card"` or `"obu"`; an entry is a 20-digit number (network 4 + serial 16, as the
lane's list files key it) with a national category code (`centre.lists.categories`), 0 meaning
"not on the list". Each entry row keeps its current category and the one last published, so
the next delta is exactly the rows where the two differ.

* `tx.lists.set_category(list, number, category, at, request_id)`: put an entry on (category
  > 0) or take it off (0); journaled in `list_changes` with its time, for the history and the
  loss-to-plaza latency.
* `category(list, number)`, `published_category(list, number)`.
* `unpublished(list) -> [(number, category)]`: the changes since the last published version.
* `listed_columns(list, chunk, published=False)`: (network, serial, category) rows of every
  listed entry, in chunks (10 million rows are read without holding them twice); with
  `published`, as of the last published version (the full list of that version, whatever has
  changed since).
* `publish(list, version, at, full_path, delta_path) -> PublishedVersion`: the unpublished
  changes become `version` (one transaction with the caller's file names).
* `latest_version(list)`, `versions(list)`, `version(list, v)`, `changes_in(list, version)`,
  `history(list, number)`: which versions put a number on or off, and when.
* `record_arrival(list, version, plaza, lane, seen_at)`, `arrivals(list, version)`: when a lane
  reported the version applied.
* `set_mark(list, number, category, at)`, `mark(list, number)`: a category the centre's staff
  put on a number by hand (suspended, partner-listed, class mismatch), 0 to clear it; the
  service weighs it with the card's own state when it decides the entry's category.
* `bulk_set(list, rows)`: many entries at once, published as they are (benchmarks, imports).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from centre.errors import StoreError
from centre.store.database import Row, Transaction, from_db_time, to_db_time

LISTS = ("card", "obu")
NETWORK_DIGITS = 4
NUMBER_DIGITS = 20


def split_number(number: str) -> tuple[int, int]:
    """(network, serial) of a 20-digit list number."""
    if len(number) != NUMBER_DIGITS or not (number.isascii() and number.isdigit()):
        raise StoreError(f"list number {number!r} is not {NUMBER_DIGITS} decimal digits")
    return int(number[:NETWORK_DIGITS]), int(number[NETWORK_DIGITS:])


def join_number(network: int, serial: int) -> str:
    return f"{network:0{NETWORK_DIGITS}d}{serial:0{NUMBER_DIGITS - NETWORK_DIGITS}d}"


@dataclass(frozen=True, slots=True)
class ListChange:
    """One change of one entry."""

    number: str
    category: int  # 0: left the list
    at: dt.datetime
    request_id: str | None
    version: int | None  # None until published


@dataclass(frozen=True, slots=True)
class PublishedVersion:
    list: str
    version: int
    published_at: dt.datetime
    entries: int  # listed after this version
    additions: int
    removals: int
    full_path: str | None
    delta_path: str | None


@dataclass(frozen=True, slots=True)
class Arrival:
    plaza: str  # "<network>/<station>"
    lane: int
    seen_at: dt.datetime


def _check_list(name: str) -> str:
    if name not in LISTS:
        raise StoreError(f"no status list {name!r} (lists: {', '.join(LISTS)})")
    return name


def _version(row: Row) -> PublishedVersion:
    return PublishedVersion(row[0], row[1], from_db_time(row[2]), row[3], row[4], row[5],
                            row[6], row[7])


_VERSION_COLUMNS = ("list, version, published_at, entries, additions, removals, full_path,"
                    " delta_path")


class Lists:
    """The status lists inside one transaction."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    def set_category(self, name: str, number: str, category: int, at: dt.datetime,
                     request_id: str | None = None) -> None:
        network, serial = split_number(number)
        self._tx.execute(
            "INSERT INTO list_entries (list, network, serial, category, published_category)"
            " VALUES (?, ?, ?, ?, 0) ON CONFLICT (list, network, serial)"
            " DO UPDATE SET category = excluded.category",
            (_check_list(name), network, serial, category))
        self._tx.execute(
            "INSERT INTO list_changes (list, number, category, at, request_id)"
            " VALUES (?, ?, ?, ?, ?)", (name, number, category, to_db_time(at), request_id))

    def category(self, name: str, number: str) -> int:
        network, serial = split_number(number)
        found = self._tx.value("SELECT category FROM list_entries WHERE list = ? AND network = ?"
                               " AND serial = ?", (_check_list(name), network, serial))
        return 0 if found is None else int(found)

    def published_category(self, name: str, number: str) -> int:
        network, serial = split_number(number)
        found = self._tx.value("SELECT published_category FROM list_entries WHERE list = ?"
                               " AND network = ? AND serial = ?",
                               (_check_list(name), network, serial))
        return 0 if found is None else int(found)

    def unpublished(self, name: str) -> list[tuple[str, int]]:
        rows = self._tx.all("SELECT network, serial, category FROM list_entries WHERE list = ?"
                            " AND category <> published_category ORDER BY network, serial",
                            (_check_list(name),))
        return [(join_number(r[0], r[1]), int(r[2])) for r in rows]

    def listed_count(self, name: str) -> int:
        return int(self._tx.value("SELECT COUNT(*) FROM list_entries WHERE list = ?"
                                  " AND category <> 0", (_check_list(name),)))

    def listed_columns(self, name: str, chunk: int = 1_000_000, *, published: bool = False
                       ) -> Iterator[list[Row]]:
        """Every listed (network, serial, category), `chunk` rows at a time (keyset paging)."""
        column = "published_category" if published else "category"
        after = (-1, -1)
        while True:
            rows = self._tx.all(
                f"SELECT network, serial, {column} FROM list_entries WHERE list = ?"
                f" AND {column} <> 0 AND (network > ? OR (network = ? AND serial > ?))"
                " ORDER BY network, serial LIMIT ?",
                (_check_list(name), after[0], after[0], after[1], chunk))
            if not rows:
                return
            yield rows
            after = (rows[-1][0], rows[-1][1])

    def latest_version(self, name: str) -> int:
        return int(self._tx.value("SELECT COALESCE(MAX(version), 0) FROM list_versions"
                                  " WHERE list = ?", (_check_list(name),)))

    def publish(self, name: str, version: int, at: dt.datetime, full_path: str | None,
                delta_path: str | None) -> PublishedVersion:
        """Make every unpublished change part of `version` (the next one)."""
        _check_list(name)
        latest = self.latest_version(name)
        if version != latest + 1:
            raise StoreError(f"{name} list: version {version} does not follow {latest}")
        additions = int(self._tx.value(
            "SELECT COUNT(*) FROM list_entries WHERE list = ? AND category <> published_category"
            " AND category <> 0", (name,)))
        removals = int(self._tx.value(
            "SELECT COUNT(*) FROM list_entries WHERE list = ? AND category <> published_category"
            " AND category = 0", (name,)))
        self._tx.execute("UPDATE list_entries SET published_category = category WHERE list = ?"
                         " AND category <> published_category", (name,))
        self._tx.execute("DELETE FROM list_entries WHERE list = ? AND category = 0"
                         " AND published_category = 0", (name,))
        self._tx.execute("UPDATE list_changes SET version = ? WHERE list = ? AND version IS NULL",
                         (version, name))
        published = PublishedVersion(name, version, at, self.listed_count(name), additions,
                                     removals, full_path, delta_path)
        self._tx.execute(
            f"INSERT INTO list_versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (name, version, to_db_time(at), published.entries, additions, removals, full_path,
             delta_path))
        return published

    def set_paths(self, name: str, version: int, full_path: str | None,
                  delta_path: str | None) -> None:
        self._tx.execute("UPDATE list_versions SET full_path = COALESCE(?, full_path),"
                         " delta_path = COALESCE(?, delta_path) WHERE list = ? AND version = ?",
                         (full_path, delta_path, _check_list(name), version))

    def versions(self, name: str) -> list[PublishedVersion]:
        rows = self._tx.all(f"SELECT {_VERSION_COLUMNS} FROM list_versions WHERE list = ?"
                            " ORDER BY version", (_check_list(name),))
        return [_version(row) for row in rows]

    def version(self, name: str, version: int) -> PublishedVersion | None:
        row = self._tx.one(f"SELECT {_VERSION_COLUMNS} FROM list_versions WHERE list = ?"
                           " AND version = ?", (_check_list(name), version))
        return None if row is None else _version(row)

    def changes_in(self, name: str, version: int | None) -> list[ListChange]:
        """The changes that went out with `version` (None: not yet published)."""
        if version is None:
            rows = self._tx.all("SELECT number, category, at, request_id, version FROM"
                                " list_changes WHERE list = ? AND version IS NULL"
                                " ORDER BY change_id", (_check_list(name),))
        else:
            rows = self._tx.all("SELECT number, category, at, request_id, version FROM"
                                " list_changes WHERE list = ? AND version = ?"
                                " ORDER BY change_id", (_check_list(name), version))
        return [ListChange(r[0], int(r[1]), from_db_time(r[2]), r[3], r[4]) for r in rows]

    def history(self, name: str, number: str) -> list[ListChange]:
        rows = self._tx.all("SELECT number, category, at, request_id, version FROM list_changes"
                            " WHERE list = ? AND number = ? ORDER BY change_id",
                            (_check_list(name), number))
        return [ListChange(r[0], int(r[1]), from_db_time(r[2]), r[3], r[4]) for r in rows]

    def record_arrival(self, name: str, version: int, plaza: str, lane: int,
                       seen_at: dt.datetime) -> bool:
        """Note that a lane reported `version`; False when it was already noted."""
        changed = self._tx.execute(
            "INSERT INTO list_arrivals (list, version, plaza, lane, seen_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (list, version, plaza, lane) DO NOTHING",
            (_check_list(name), version, plaza, lane, to_db_time(seen_at)))
        return changed == 1

    def arrivals(self, name: str, version: int) -> list[Arrival]:
        rows = self._tx.all("SELECT plaza, lane, seen_at FROM list_arrivals WHERE list = ?"
                            " AND version = ? ORDER BY seen_at, plaza, lane",
                            (_check_list(name), version))
        return [Arrival(r[0], int(r[1]), from_db_time(r[2])) for r in rows]

    def set_mark(self, name: str, number: str, category: int, at: dt.datetime) -> None:
        split_number(number)
        if category == 0:
            self._tx.execute("DELETE FROM list_marks WHERE list = ? AND number = ?",
                             (_check_list(name), number))
            return
        self._tx.execute(
            "INSERT INTO list_marks (list, number, category, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (list, number) DO UPDATE SET category = excluded.category,"
            " at = excluded.at", (_check_list(name), number, category, to_db_time(at)))

    def mark(self, name: str, number: str) -> int:
        found = self._tx.value("SELECT category FROM list_marks WHERE list = ? AND number = ?",
                               (_check_list(name), number))
        return 0 if found is None else int(found)

    def bulk_set(self, name: str, rows: Sequence[tuple[int, int, int]]) -> None:
        """(network, serial, category) rows written as already published (no change journal)."""
        self._tx.execute_many(
            "INSERT INTO list_entries (list, network, serial, category, published_category)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (list, network, serial) DO UPDATE SET"
            " category = excluded.category, published_category = excluded.published_category",
            [(_check_list(name), n, s, c, c) for n, s, c in rows])
