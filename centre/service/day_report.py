"""An outlet's (or every outlet's) day at the centre: the requests done by operation, outlet and
operator, the time limits breached, the money moved by kind, the top-ups still awaiting their
card (torn loads), the refunds falling due, and the status-list versions published with how
long each change took to go out and to reach the lanes. Midnight to midnight, UTC+8."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from centre.ledger import accounts
from centre.ledger.accounts import AccountKind
from centre.service.centre import Centre
from centre.service.refunds import figures
from centre.store.lists import LISTS
from centre.values import CENTRE_ZONE, shown


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0, 0), CENTRE_ZONE)
    return start, start + dt.timedelta(days=1)


def day_report(centre: Centre, day: dt.date, outlet: str | None = None) -> dict[str, Any]:
    """The figures of `day` (of one outlet when given)."""
    start, end = day_bounds(day)
    with centre.store.transaction(snapshot=True) as tx:
        requests = [r for r in tx.journal.between(start, end)
                    if outlet is None or r.outlet_id == outlet]
        entries = tx.book.entries_between(start, end)
        pending = [load for load in tx.loads.pending()
                   if outlet is None or load.new.outlet_id == outlet]
        refunds = [figures(tx, r) for r in tx.money.refunds_pending()
                   if (outlet is None or r.outlet_id == outlet) and r.due_at < end]
        versions = [(name, v, tx.lists.changes_in(name, v.version),
                     tx.lists.arrivals(name, v.version))
                    for name in LISTS for v in tx.lists.versions(name)
                    if start <= v.published_at < end]
        cash = {} if outlet is None else {
            "outlet_cash": tx.book.balance(accounts.outlet_cash(outlet)),
            "outlet_arrears": tx.book.balance(accounts.outlet_arrears(outlet))}
        unbalanced = tx.book.unbalanced()
    by_operation = Counter(r.operation for r in requests)
    by_outlet: dict[str, Counter[str]] = defaultdict(Counter)
    for r in requests:
        by_outlet[r.outlet_id][r.operator] += 1
    money: dict[str, dict[str, int]] = {}
    for stored in entries:
        entry = stored.entry
        if outlet is not None and not any(
                p.account.kind in (AccountKind.OUTLET_CASH, AccountKind.OUTLET_ARREARS)
                and p.account.key == outlet for p in entry.postings):
            continue
        row = money.setdefault(entry.kind.value, {"entries": 0, "fen": 0})
        row["entries"] += 1
        row["fen"] += entry.amount
    lists = []
    for name, version, changes, arrivals in versions:
        delays = [(version.published_at - c.at).total_seconds() for c in changes]
        first = min((a.seen_at for a in arrivals), default=None)
        earliest = min((c.at for c in changes), default=version.published_at)
        lists.append({
            "list": name, "version": version.version, "entries": version.entries,
            "additions": version.additions, "removals": version.removals,
            "published_at": shown(version.published_at),
            "change_to_publish_s_max": round(max(delays), 3) if delays else None,
            "lanes_reached": len(arrivals),
            "change_to_first_lane_s": None if first is None else round(
                (first - earliest).total_seconds(), 3)})
    return {
        "day": day.isoformat(), "outlet": outlet,
        "requests": {"total": len(requests), "by_operation": dict(sorted(by_operation.items())),
                     "by_outlet": {o: dict(c) for o, c in sorted(by_outlet.items())}},
        "time_limits_breached": [
            {"request_id": r.request_id, "operation": r.operation, "outlet": r.outlet_id,
             "applied_at": shown(r.applied_at),
             "deadline": None if r.deadline is None else shown(r.deadline),
             "done_at": shown(r.at)} for r in requests if r.breached],
        "money": money, **cash,
        "loads_awaiting_the_card": [
            {"request_id": load.new.request_id, "card": load.new.card_number,
             "amount": load.new.amount, "outlet": load.new.outlet_id,
             "opened_at": shown(load.new.opened_at)} for load in pending],
        "refunds_due_by_end_of_day": [f.as_dict() for f in refunds],
        "lists": lists,
        "ledger_unbalanced_entries": len(unbalanced),
    }
