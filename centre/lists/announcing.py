"""Announcing list versions to the plazas over MQTT, on the topics the lane engine consumes, and
watching the lanes' status topics to see when each lane has applied the new card list.

Per plaza `etc/{network}/{station}/centre/`:

* card list: `blacklist/full` (retained) `{"version": v, "path": "<where the lanes read it>"}`,
  then `blacklist/delta` (retained) `{"base_version": v-1, "additions": [...], "removals":
  [...]}` (`lane_engine.station.centre`); the full list first, so that a lane that takes it
  finds the delta old news rather than refusing the full list as not newer;
* OBU list: the same on `obu-list/full` and `obu-list/delta` (the lane engine does not apply
  OBU lists yet; they are there for lanes that do).

A lane reports the card list version it applies in its retained status
(`{lane}/status`, `blacklist_version`); each lane seen at or past the version is an arrival,
timed on the centre's clock and kept in the store.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from centre.link.mqtt import BrokerSettings, session
from centre.lists.publishing import Published
from centre.store.store import Store
from lane_engine.station.centre import encode_blacklist_delta

Plaza = tuple[str, int]
_KINDS = {"card": "blacklist", "obu": "obu-list"}


def plaza_name(plaza: Plaza) -> str:
    return f"{plaza[0]}/{plaza[1]}"


def topic(plaza: Plaza, list_name: str, what: str) -> str:
    return f"etc/{plaza[0]}/{plaza[1]}/centre/{_KINDS[list_name]}/{what}"


@dataclass
class Arrivals:
    """Lanes that reported the card list version, by plaza: {plaza: {lane: seen_at}}."""

    version: int
    seen: dict[str, dict[int, dt.datetime]] = field(default_factory=dict)

    def first_at(self, plaza: str) -> dt.datetime | None:
        lanes = self.seen.get(plaza)
        return min(lanes.values()) if lanes else None


def _full_payload(published: Published, announced_folder: Path) -> bytes:
    assert published.full_path is not None
    path = announced_folder / published.full_path.name
    return json.dumps({"version": published.version.version, "path": str(path)}).encode()


def messages(published: Sequence[Published], plazas: Sequence[Plaza],
             announced_folder: Path) -> list[tuple[str, bytes]]:
    """(topic, payload) of every announcement, in the order they go out."""
    out = []
    for version in published:
        for plaza in plazas:
            if version.full_path is not None:
                out.append((topic(plaza, version.list, "full"),
                            _full_payload(version, announced_folder)))
            out.append((topic(plaza, version.list, "delta"),
                        encode_blacklist_delta(version.delta)))
    return out


def lane_version(payload: bytes) -> int | None:
    """The card list version a lane's status message reports, None when it reports none."""
    try:
        status = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    version = status.get("blacklist_version") if isinstance(status, dict) else None
    online = isinstance(status, dict) and status.get("status") == "online"
    return version if online and isinstance(version, int) else None


async def announce(settings: BrokerSettings, published: Sequence[Published],
                   plazas: Sequence[Plaza], announced_folder: Path, *, wait_s: float,
                   clock: Callable[[], dt.datetime], store: Store | None = None,
                   client_id: str | None = None) -> Arrivals | None:
    """Announce the versions and, for `wait_s` at most, note the lanes that apply the new card
    list version (in `store` too when given). None when no card list version went out."""
    card = next((p for p in published if p.list == "card"), None)
    arrivals = None if card is None else Arrivals(card.version.version)
    statuses = {f"etc/{n}/{s}/": plaza_name((n, s)) for n, s in plazas}
    async with session(settings, client_id) as link:
        if arrivals is not None and wait_s > 0:
            await link.subscribe([f"etc/{n}/{s}/+/status" for n, s in plazas])
        for name, payload in messages(published, plazas, announced_folder):
            await link.publish(name, payload, retain=True)
        if arrivals is None or wait_s <= 0:
            return arrivals
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while (left := deadline - loop.time()) > 0:
            delivery = await link.next(left)
            if delivery is None:
                break
            prefix = next((p for p in statuses if delivery.topic.startswith(p)), None)
            version = lane_version(delivery.payload)
            lane_text = delivery.topic.rsplit("/", 2)[-2]
            if prefix is None or version is None or version < arrivals.version:
                continue
            if not lane_text.isdigit():
                continue
            seen = arrivals.seen.setdefault(statuses[prefix], {})
            seen.setdefault(int(lane_text), clock())
    if store is not None:
        _keep(store, arrivals)
    return arrivals


def _keep(store: Store, arrivals: Arrivals) -> None:
    with store.transaction() as tx:
        for plaza, lanes in arrivals.seen.items():
            for lane, at in lanes.items():
                tx.lists.record_arrival("card", arrivals.version, plaza, lane, at)


__all__ = ["Arrivals", "announce", "lane_version", "messages", "plaza_name", "topic"]
