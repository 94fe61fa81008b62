"""`etc-centre lists publish|run|show|mark`: the card and OBU status lists for the lanes."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import signal
import sys
import time
from pathlib import Path
from typing import Any

from centre.cli.desk import (
    add_json,
    add_request,
    add_store,
    broker_address,
    dump,
    moment,
    open_centre,
    open_store,
    report,
    request_of,
    shown_path,
)
from centre.config import CentreConfig
from centre.link.mqtt import BrokerSettings
from centre.lists.announcing import Arrivals, announce
from centre.lists.categories import CardCategory, ObuCategory, category_name
from centre.lists.publishing import Published, full_due, publish_version
from centre.service import status
from centre.store.lists import LISTS
from centre.store.store import Store
from centre.values import CENTRE_ZONE, shown
from lane_engine.cli.args import UsageError

NAME = "lists"
HELP = """\
The card and OBU status lists (lost, suspended, cancelled, overdrawn, partner-listed, class
mismatch). `publish` makes the next version of each list from the changes since the last:
its delta as a file in the lane's text format, and (with --full, or when the configuration's
full_interval has passed) its full list in the lane's binary format; with --broker it announces
them to every configured plaza on the topics the lane engine consumes (centre/blacklist/full,
centre/blacklist/delta; OBU lists on centre/obu-list/...) and, for --wait seconds, watches the
lanes' status topics to time when each lane has the new card list. `run` publishes every
delta_interval until SIGINT/SIGTERM. `show` lists the versions, one version's changes and
arrivals, or one number's history. `mark` puts a hand category on a number (suspended,
partner_listed, class_mismatch; none clears it).

examples:
  etc-centre lists publish --broker 127.0.0.1:1883 --wait 10
  etc-centre lists publish --full
  etc-centre lists show --version 3
  etc-centre lists show --number 37012616000000000001
  etc-centre lists mark --outlet 370101001 --operator wang --card 37012616000000000001 \\
      --category suspended
"""


def _broker(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--broker", type=broker_address, metavar="HOST[:PORT]",
                        help="announce to the plazas through this MQTT broker")
    parser.add_argument("--wait", type=float, default=10.0, metavar="S",
                        help="how long to watch the lanes take the new card list (default 10)")


def add_parser(commands: Any) -> None:
    lists = commands.add_parser(NAME, help="status lists for the lanes", description=HELP)
    actions = lists.add_subparsers(dest="action", required=True, metavar="ACTION")
    publish = actions.add_parser("publish", help="publish the next version of each list")
    add_store(publish)
    publish.add_argument("--full", action="store_true", help="write full lists too")
    publish.add_argument("--at", type=moment, metavar="TIME", help="default now")
    _broker(publish)
    add_json(publish)
    run = actions.add_parser("run", help="publish every delta_interval until stopped")
    add_store(run)
    _broker(run)
    run.add_argument("--interval", type=float, metavar="S",
                     help="seconds between versions (default: the configuration's)")
    add_json(run)
    show = actions.add_parser("show", help="versions, a version's changes, a number's history")
    add_store(show)
    show.add_argument("--list", choices=LISTS, default="card")
    which = show.add_mutually_exclusive_group()
    which.add_argument("--version", type=int, metavar="V")
    which.add_argument("--number", metavar="NUMBER", help="a card number (or an OBU's list "
                       "number: network + contract serial)")
    add_json(show)
    mark = actions.add_parser("mark", help="put a hand category on a card or OBU")
    add_store(mark)
    add_request(mark)
    device = mark.add_mutually_exclusive_group(required=True)
    device.add_argument("--card", metavar="NUMBER")
    device.add_argument("--obu", metavar="NUMBER")
    mark.add_argument("--category", required=True, metavar="NAME",
                      help="suspended, partner_listed, class_mismatch, or none")
    add_json(mark)


def _publish(store: Store, config: CentreConfig, now: dt.datetime, full: bool
             ) -> list[Published]:
    folder = Path(config.lists.folder)
    interval = dt.timedelta(seconds=config.lists.full_interval_s)
    out = []
    for name in LISTS:
        published = publish_version(store, folder, name, now,
                                    full=full or full_due(store, name, now, interval))
        if published is not None:
            out.append(published)
    return out


def _announce(store: Store, config: CentreConfig, published: list[Published],
              args: argparse.Namespace) -> Arrivals | None:
    if args.broker is None or not published:
        return None
    if not config.lists.plazas:
        raise UsageError("lists: the configuration names no plazas ([lists] plazas)")
    host, port = args.broker
    announced = Path(config.lists.announced_folder or config.lists.folder)
    return asyncio.run(announce(BrokerSettings(host, port, client_id="etc-centre-lists"),
                                published, config.lists.plazas, announced, wait_s=args.wait,
                                clock=lambda: dt.datetime.now(CENTRE_ZONE), store=store))


def _summary(published: list[Published], arrivals: Arrivals | None) -> dict[str, Any]:
    versions = []
    for p in published:
        v = p.version
        changes = [{"number": c.number, "category": category_name(p.list, c.category),
                    "at": shown(c.at),
                    "to_publish_s": round((v.published_at - c.at).total_seconds(), 3)}
                   for c in p.changes]
        entry: dict[str, Any] = {
            "list": p.list, "version": v.version, "entries": v.entries,
            "additions": v.additions, "removals": v.removals,
            "delta": shown_path(p.delta_path), "full": shown_path(p.full_path),
            "published_at": shown(v.published_at), "changes": changes}
        if p.list == "card" and arrivals is not None:
            earliest = min((c.at for c in p.changes), default=v.published_at)
            entry["arrivals"] = {
                plaza: {"lanes": sorted(lanes), "after_publish_s": round(
                    (min(lanes.values()) - v.published_at).total_seconds(), 3),
                        "after_change_s": round(
                    (min(lanes.values()) - earliest).total_seconds(), 3)}
                for plaza, lanes in sorted(arrivals.seen.items())}
        versions.append(entry)
    return {"versions": versions}


def _text(summary: dict[str, Any]) -> str:
    if not summary["versions"]:
        return "nothing to publish: no list changed"
    lines = []
    for v in summary["versions"]:
        full = f", full list {v['entries']} entries {v['full']}" if v["full"] else ""
        lines.append(f"{v['list']} list version {v['version']}: +{v['additions']}"
                     f" -{v['removals']} ({v['delta']}{full})")
        for c in v["changes"]:
            lines.append(f"  {c['number']} {c['category']}: published"
                         f" {c['to_publish_s']:.3f} s after the change")
        for plaza, seen in v.get("arrivals", {}).items():
            lines.append(f"  plaza {plaza}: lanes {seen['lanes']} applied it"
                         f" {seen['after_publish_s']:.3f} s after publishing,"
                         f" {seen['after_change_s']:.3f} s after the change")
        if "arrivals" in v and not v["arrivals"]:
            lines.append("  no lane reported it within the wait")
    return "\n".join(lines)


def _run_loop(store: Store, config: CentreConfig, args: argparse.Namespace) -> int:
    interval = args.interval or config.lists.delta_interval_s
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    while not stopping:
        now = dt.datetime.now(CENTRE_ZONE)
        published = _publish(store, config, now, full=False)
        arrivals = _announce(store, config, published, args)
        summary = _summary(published, arrivals)
        if published:
            dump(summary, args, _text(summary))
            sys.stdout.flush()
        deadline = now + dt.timedelta(seconds=interval)
        while not stopping and dt.datetime.now(CENTRE_ZONE) < deadline:
            time.sleep(0.2)
    return 0


def _show(store: Store, args: argparse.Namespace) -> int:
    with store.transaction(snapshot=True) as tx:
        if args.number is not None:
            history = tx.lists.history(args.list, args.number)
            rows = [{"category": category_name(args.list, c.category), "at": shown(c.at),
                     "version": c.version, "request_id": c.request_id} for c in history]
            text = "\n".join([f"{args.list} {args.number}: {len(rows)} change(s)"] + [
                f"  {r['at']} {r['category']} (version {r['version'] or 'unpublished'})"
                for r in rows])
            return dump({"number": args.number, "history": rows}, args, text)
        if args.version is not None:
            version = tx.lists.version(args.list, args.version)
            if version is None:
                raise UsageError(f"no {args.list} list version {args.version}")
            changes = tx.lists.changes_in(args.list, args.version)
            arrivals = tx.lists.arrivals(args.list, args.version)
            document = {
                "version": args.version, "published_at": shown(version.published_at),
                "entries": version.entries, "full": version.full_path,
                "delta": version.delta_path,
                "changes": [{"number": c.number, "category": category_name(args.list,
                                                                           c.category),
                             "at": shown(c.at)} for c in changes],
                "arrivals": [{"plaza": a.plaza, "lane": a.lane, "seen_at": shown(a.seen_at),
                              "after_publish_s": round(
                                  (a.seen_at - version.published_at).total_seconds(), 3)}
                             for a in arrivals]}
            lines = [f"{args.list} list version {args.version}, published"
                     f" {document['published_at']}: {version.entries} entries"]
            lines += [f"  {c['number']} {c['category']} (changed {c['at']})"
                      for c in document["changes"]]
            lines += [f"  plaza {a['plaza']} lane {a['lane']}: had it"
                      f" {a['after_publish_s']:.3f} s after publishing"
                      for a in document["arrivals"]]
            return dump(document, args, "\n".join(lines))
        versions = tx.lists.versions(args.list)
        pending = tx.lists.unpublished(args.list)
    rows = [{"version": v.version, "published_at": shown(v.published_at),
             "entries": v.entries, "additions": v.additions, "removals": v.removals,
             "full": v.full_path, "delta": v.delta_path} for v in versions]
    lines = [f"{args.list} list: {len(rows)} version(s), {len(pending)} change(s) unpublished"]
    lines += [f"  v{r['version']} {r['published_at']} entries {r['entries']} +{r['additions']}"
              f" -{r['removals']}{' full' if r['full'] else ''}" for r in rows]
    return dump({"list": args.list, "versions": rows, "unpublished": len(pending)}, args,
                "\n".join(lines))


def _mark(store: Store, args: argparse.Namespace) -> int:
    list_name = "card" if args.card else "obu"
    enum = CardCategory if list_name == "card" else ObuCategory
    allowed = {"suspended", "partner_listed", "class_mismatch"} & {
        c.name.lower() for c in enum}
    if args.category != "none" and args.category not in allowed:
        raise UsageError(f"--category {args.category!r}: a hand mark is one of "
                         f"{', '.join(sorted(allowed))} or none")
    category = 0 if args.category == "none" else int(enum[args.category.upper()])
    centre, _ = open_centre(args, store)
    number = args.card or args.obu
    return report(status.mark(centre, request_of(args), list_name, number, category), args)


def run(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        if args.action == "show":
            return _show(store, args)
        if args.action == "mark":
            return _mark(store, args)
        _, config = open_centre(args, store)
        if args.action == "run":
            return _run_loop(store, config, args)
        now = args.at or dt.datetime.now(CENTRE_ZONE)
        published = _publish(store, config, now, args.full)
        summary = _summary(published, _announce(store, config, published, args))
        return dump(summary, args, _text(summary))
