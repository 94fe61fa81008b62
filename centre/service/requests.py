"""Running one request: idempotent by its id, journaled with its outlet, operator and time, all
or nothing.

`perform(centre, request, operation, question, work)` looks the id up first: done before with
the same question, the first answer is given again (`replayed`); with another question, it is
refused. Otherwise `work(tx)` runs inside one store transaction and returns a `Work` (result,
subject, service for the time limit); a `Refusal` it raises rolls everything back. When two
outlets race (a uniqueness rule breaks at commit) the request is run once more, so the loser
sees the winner's row and is answered or refused for what it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from centre.errors import ConflictError
from centre.ledger.limits import Service, TimeLimit, time_limit
from centre.service.centre import Centre
from centre.service.outcomes import Done, Outcome, Refusal, RefusalReason, Refused
from centre.store.journal import DoneRequest
from centre.store.store import StoreTransaction, wall_clock
from centre.values import Request, shown


@dataclass(frozen=True, slots=True)
class Work:
    """What an operation did: the answer, what it was about, its service (for the limit)."""

    result: dict[str, Any]
    subject: str
    service: Service | None = None


def fingerprint(operation: str, question: dict[str, Any]) -> str:
    """A digest of what was asked (to tell a retry from a reuse of the id)."""
    text = json.dumps({"operation": operation, **question}, sort_keys=True, ensure_ascii=False,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def replay(tx: StoreTransaction, request: Request, operation: str, digest: str
           ) -> Done | None:
    """The earlier answer to this request id, if any; `Refusal` when it was another request."""
    prior = tx.journal.find(request.request_id)
    if prior is None:
        return None
    if prior.operation != operation or prior.fingerprint != digest:
        raise Refusal(RefusalReason.REQUEST_ID_REUSED,
                      f"request id {request.request_id} was used for another request "
                      f"({prior.operation} at {shown(prior.at)})")
    return Done(request.request_id, operation, prior.result, replayed=True)


def check_outlet(tx: StoreTransaction, request: Request) -> None:
    if tx.registry.outlet(request.outlet) is None:
        raise Refusal(RefusalReason.UNKNOWN_OUTLET, f"unknown outlet {request.outlet}")


def journal(centre: Centre, tx: StoreTransaction, request: Request, operation: str,
            digest: str, work: Work) -> Done:
    """Journal `work` as the answer to `request` (inside the operation's transaction)."""
    limit: TimeLimit | None = None
    if work.service is not None:
        limit = time_limit(work.service, request.application_time, request.at,
                           centre.settings.calendar)
    tx.journal.record(DoneRequest(
        request.request_id, operation, digest, request.outlet, request.operator, request.at,
        request.application_time, wall_clock(), work.subject, work.result,
        None if limit is None else limit.deadline, bool(limit and limit.breached)))
    notes: tuple[str, ...] = ()
    if limit is not None and limit.breached:
        notes = (f"time limit breached: {work.service.value if work.service else ''} was due by "
                 f"{shown(limit.deadline)}, done {limit.late_by} late",)
    return Done(request.request_id, operation, work.result, time_limit=limit, notes=notes)


def perform(centre: Centre, request: Request, operation: str, question: dict[str, Any],
            work: Callable[[StoreTransaction], Work]) -> Outcome:
    """Run `work` once for `request` (see the module docstring)."""
    digest = fingerprint(operation, question)
    for attempt in (1, 2):
        try:
            with centre.store.transaction() as tx:
                earlier = replay(tx, request, operation, digest)
                if earlier is not None:
                    return earlier
                check_outlet(tx, request)
                done = journal(centre, tx, request, operation, digest, work(tx))
            return done
        except Refusal as refusal:
            return Refused(refusal.reason, refusal.message)
        except ConflictError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
