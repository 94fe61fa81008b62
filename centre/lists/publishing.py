"""Publishing a status-list version: the changes since the last version become the next one, its
delta is written as a file in the lane's text format (`<list>-delta-<v>.txt`) and, when asked
(every `full_interval` by default), its full list in the lane's binary format
(`<list>-full-<v>.bin`), the one a lane that missed deltas catches up from.

The version is decided and its delta written inside one store transaction, so every change is
in exactly one delta; the full list is then read from a snapshot of that version (the published
categories), without holding the outlets' writes up while ten million rows are read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from centre.errors import StoreError
from centre.lists.building import delta_of, full_list
from centre.store.lists import LISTS, ListChange, PublishedVersion
from centre.store.store import Store
from lane_engine.core.blacklist import BlacklistDelta
from lane_engine.errors import BlacklistError
from lane_engine.files.blacklist import save_binary, save_delta_text


@dataclass(frozen=True, slots=True)
class Published:
    """One list version as published: its delta, its files and the changes it carries."""

    version: PublishedVersion
    delta: BlacklistDelta
    changes: tuple[ListChange, ...]
    full_path: Path | None
    delta_path: Path

    @property
    def list(self) -> str:
        return self.version.list


def delta_path(folder: Path, list_name: str, version: int) -> Path:
    return folder / f"{list_name}-delta-{version}.txt"


def full_path(folder: Path, list_name: str, version: int) -> Path:
    return folder / f"{list_name}-full-{version}.bin"


def full_due(store: Store, list_name: str, now: dt.datetime, interval: dt.timedelta) -> bool:
    """Whether `interval` has passed since the list's last full list (or there was none)."""
    with store.transaction(snapshot=True) as tx:
        fulls = [v for v in tx.lists.versions(list_name) if v.full_path is not None]
    return not fulls or now - fulls[-1].published_at >= interval


def publish_version(store: Store, folder: Path, list_name: str, now: dt.datetime, *,
                    full: bool = False) -> Published | None:
    """Publish the next version of `list_name` (None when nothing changed and no full list
    was asked for)."""
    if list_name not in LISTS:
        raise StoreError(f"no status list {list_name!r}")
    folder.mkdir(parents=True, exist_ok=True)
    with store.transaction() as tx:
        changes = tx.lists.unpublished(list_name)
        if not changes and not full:
            return None
        base = tx.lists.latest_version(list_name)
        version = base + 1
        delta = delta_of(list_name, base, changes)
        path = delta_path(folder, list_name, version)
        _write(lambda: save_delta_text(path, delta))
        published = tx.lists.publish(list_name, version, now, None, str(path))
        carried = tuple(tx.lists.changes_in(list_name, version))
    written: Path | None = None
    if full:
        written = write_full_list(store, folder, list_name, version)
    if written is not None:
        with store.transaction() as tx:
            tx.lists.set_paths(list_name, version, str(written), None)
            refreshed = tx.lists.version(list_name, version)
        assert refreshed is not None
        published = refreshed
    return Published(published, delta, carried, written, path)


def write_full_list(store: Store, folder: Path, list_name: str, version: int) -> Path | None:
    """Write the full list of `version` (None when a newer version was published meanwhile:
    its own full list is the one to write)."""
    with store.transaction(snapshot=True) as tx:
        if tx.lists.latest_version(list_name) != version:
            return None
        listed = full_list(list_name, version, tx.lists.listed_columns(list_name, published=True))
    path = full_path(folder, list_name, version)
    _write(lambda: save_binary(path, listed))
    return path


def _write(write: Callable[[], None]) -> None:
    try:
        write()
    except BlacklistError as exc:
        raise StoreError(str(exc)) from exc


__all__ = ["Published", "delta_path", "full_due", "full_path", "publish_version",
           "write_full_list"]
