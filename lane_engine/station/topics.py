"""The topics of a plaza and the JSON the lane publishes on them (our decisions).

* `etc/{network}/{station}/{lane}/transactions`: the outbox, `transaction_payload`.
* `etc/{network}/{station}/{lane}/status`: retained, the plaza's status of the lane (online) or
  `offline_payload` (shutdown, and the session's last will).
* `etc/{network}/{station}/alarms`: `alarm_payload`, not retained.
* `etc/{network}/{station}/centre/{blacklist/full, blacklist/delta, policy, fee-table}`: what the
  centre sends (`lane_engine.station.centre`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lane_engine.journal import OutboxEntry
from lane_engine.journal.codec import record_to_dict
from lane_engine.station.events import Alarm
from lane_engine.times import iso_time

__all__ = [
    "CENTRE_KINDS",
    "Topics",
    "alarm_payload",
    "offline_payload",
    "status_payload",
    "transaction_payload",
]

#: What the centre publishes to a plaza, as topic suffixes after `centre/`.
CENTRE_KINDS = ("blacklist/full", "blacklist/delta", "policy", "fee-table")


@dataclass(frozen=True, slots=True)
class Topics:
    """The topic names of one plaza."""

    network: str
    station: int

    @property
    def root(self) -> str:
        return f"etc/{self.network}/{self.station}"

    @property
    def alarms(self) -> str:
        return f"{self.root}/alarms"

    def transactions(self, lane: int) -> str:
        return f"{self.root}/{lane}/transactions"

    def status(self, lane: int) -> str:
        return f"{self.root}/{lane}/status"

    def centre(self, kind: str) -> str:
        return f"{self.root}/centre/{kind}"

    def centre_kind(self, topic: str) -> str | None:
        """The centre message kind of a topic, or None when it is not one of ours."""
        prefix = f"{self.root}/centre/"
        kind = topic[len(prefix):] if topic.startswith(prefix) else None
        return kind if kind in CENTRE_KINDS else None


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode()


def transaction_payload(entry: OutboxEntry) -> bytes:
    """The JSON of a published record: `idempotency_key`, the outbox `seq` and the `record`.

    The same outbox entry always gives the same bytes. A record left UNRESOLVED may later be
    followed by its settlement under the same key: consumers keep the latest by `seq`.
    """
    return _json({
        "idempotency_key": entry.record.idempotency_key,
        "seq": entry.seq,
        "record": record_to_dict(entry.record),
    })


def status_payload(status: dict[str, Any]) -> bytes:
    """A lane's status (the plaza's `status(lane)`) as published."""
    return json.dumps(status, sort_keys=True, ensure_ascii=False).encode()


def offline_payload(lane: int, at: float, reason: str) -> bytes:
    """The retained status of a lane that is gone: `reason` "shutdown" at `at`, or "connection
    lost" as the session's last will, whose `at` is when the session opened (the broker
    publishes the will later, and cannot stamp it)."""
    return status_payload({"lane": lane, "status": "offline", "reason": reason,
                           "at": iso_time(at)})


def alarm_payload(alarm: Alarm, plaza: str, at: float) -> bytes:
    """An alarm message: `alarm` (its kind), `state` raised or cleared, `plaza` (NET/STATION),
    `lane` (null: the plaza), `detail` (the reason) and `at`."""
    return _json({
        "alarm": alarm.kind.value, "state": "cleared" if alarm.cleared else "raised",
        "plaza": plaza, "lane": alarm.lane, "detail": alarm.detail, "at": iso_time(at),
    })
