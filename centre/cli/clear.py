"""`etc-centre clear`: clear the lanes' transactions from the broker (a shared subscription
several processes may split) and from exported lane journals."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from centre.clearing.clearer import BatchReport, Clearer
from centre.clearing.consumer import (
    DEFAULT_BATCH,
    DEFAULT_GROUP,
    TRANSACTION_FILTER,
    ConsumerOptions,
    ConsumerStats,
    consume,
)
from centre.clearing.evidence import TacCheck
from centre.clearing.files import clear_journal_file
from centre.clearing.rules import UPLOAD_WINDOW
from centre.clearing.tariff import Tariff
from centre.cli.desk import broker_address
from centre.errors import CentreConfigError
from centre.link.mqtt import DEFAULT_SESSION_EXPIRY_S, BrokerSettings, Delivery
from centre.store.store import Store
from cli_conventions.files import NotText, decode_text
from keys.keyset_file import load_key_set
from lane_engine.cli.args import EXIT_STATUS, UsageError, add_json_flag, positive_int, print_json
from lane_engine.fees.table_file import load_fee_table
from lane_engine.files.policy import load_policy
from lane_engine.logfmt import LOG_FORMATS, log_event, logging_configured

_log = logging.getLogger("centre.clearing")
NAME = "clear"
DEFAULT_STORE = "var/centre.sqlite3"
HELP = """\
Clear every lane record once (by its idempotency key): verify its TAC, check its CTC against the
card's other transactions, the status list the lane had, the fee table × policy and the upload
delay, post it to the ledger or hold it with its findings, and settle UNRESOLVED records.

From the broker (--broker): an MQTT 5 shared subscription $share/GROUP/FILTER on a persistent
session; a batch is acknowledged only once it is committed to the store, so a process killed at
any moment loses nothing and books nothing twice. Start several with distinct --client-id to
split the load; restart a dead one with its own --client-id to take back its messages.
From files (--journal, repeatable): lane journals exported with
`lane-engine journal export --format jsonl` (an offline lane's upload).

examples:
  etc-centre clear --broker 127.0.0.1:1883 --client-id clearing-1 --keys var/keys.toml \\
      --fees var/fees.etcfee --policy examples/policy.toml
  etc-centre clear --journal var/lane-3701-120.jsonl --keys var/keys.toml \\
      --fees var/fees.etcfee --policy examples/policy.toml --json
  etc-centre clear --settle --keys var/keys.toml --fees var/fees.etcfee \\
      --policy examples/policy.toml
"""




def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds > 0")
    return value


def add_parser(commands: Any) -> None:
    clear = commands.add_parser(NAME, help="clear lane transactions (broker, journal files)",
                                description=HELP, epilog=EXIT_STATUS)
    clear.add_argument("--store", default=DEFAULT_STORE, metavar="URL",
                       help=f"the centre's database: a SQLite path or postgresql://… "
                            f"(default {DEFAULT_STORE})")
    clear.add_argument("--keys", type=Path, required=True, metavar="FILE",
                       help="the key set (TOML, mode 0600): the issuers' TAC keys")
    clear.add_argument("--fees", type=Path, required=True, metavar="FILE",
                       help="the fee table the centre publishes to the lanes")
    clear.add_argument("--policy", type=Path, required=True, metavar="FILE",
                       help="the pricing policy the centre publishes to the lanes")
    clear.add_argument("--window-days", type=positive_int, default=UPLOAD_WINDOW.days,
                       metavar="N", help=f"upload window in days (default {UPLOAD_WINDOW.days})")
    source = clear.add_argument_group("sources")
    source.add_argument("--broker", type=broker_address, metavar="HOST[:PORT]",
                        help="clear from this MQTT broker until SIGINT/SIGTERM")
    source.add_argument("--journal", type=Path, action="append", default=[], metavar="FILE",
                        help="clear an exported lane journal (JSON Lines); repeatable")
    source.add_argument("--settle", action="store_true",
                        help="settle the UNRESOLVED records the cards' transactions now tell")
    mqtt = clear.add_argument_group("broker")
    mqtt.add_argument("--client-id", default="etc-centre-clearing", metavar="ID",
                      help="this process's session (one per process; the same id after a "
                           "restart takes back its unacknowledged messages)")
    mqtt.add_argument("--group", default=DEFAULT_GROUP, metavar="NAME",
                      help=f"shared-subscription group (default {DEFAULT_GROUP})")
    mqtt.add_argument("--topic", action="append", metavar="FILTER",
                      help=f"topic filter (default {TRANSACTION_FILTER}); repeatable")
    mqtt.add_argument("--username", metavar="NAME")
    mqtt.add_argument("--password-file", type=Path, metavar="FILE",
                      help="the broker password's file (first line; mode 0600)")
    mqtt.add_argument("--ca-file", type=Path, metavar="FILE", help="TLS: the broker's CA")
    mqtt.add_argument("--cert-file", type=Path, metavar="FILE", help="TLS: client certificate")
    mqtt.add_argument("--key-file", type=Path, metavar="FILE", help="TLS: client key")
    mqtt.add_argument("--session-expiry", type=positive_int, default=DEFAULT_SESSION_EXPIRY_S,
                      metavar="S", help="seconds the broker keeps the session of a dead process "
                                        f"(default {DEFAULT_SESSION_EXPIRY_S})")
    mqtt.add_argument("--batch", type=positive_int, default=DEFAULT_BATCH,
                      metavar="N", help="records per store transaction at most")
    mqtt.add_argument("--idle-exit", type=_seconds, metavar="S",
                      help="stop after S seconds without a message")
    clear.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    clear.add_argument("--log-format", default="text", choices=LOG_FORMATS,
                       help="progress and broker lines on stderr: text (default) key=value, "
                            "json one object a line")
    add_json_flag(clear, "the result")


def _password(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        if path.stat().st_mode & 0o077:
            raise CentreConfigError(f"{path}: readable by group or others; want mode 0600")
        return decode_text(path.read_bytes(), str(path)).splitlines()[0].strip()
    except NotText as exc:
        raise CentreConfigError(str(exc)) from None
    except (OSError, IndexError) as exc:
        raise CentreConfigError(f"{path}: cannot read the password ({exc})") from exc


def make_clearer(args: argparse.Namespace) -> Clearer:
    """The clearer of the arguments: the store, keys, fee table and policy they name."""
    tac = TacCheck(load_key_set(args.keys))
    tariff = Tariff(load_fee_table(args.fees), load_policy(args.policy))
    store = Store.open(args.store)
    return Clearer(store, tac, tariff, window=dt.timedelta(days=args.window_days))


def _merge_stats(report: BatchReport, stats: ConsumerStats | None) -> dict[str, Any]:
    taken = dict(report.taken)
    if stats is not None:
        for name, count in stats.report.taken.items():
            taken[name] = taken.get(name, 0) + count
    return taken


def run(args: argparse.Namespace) -> int:
    if args.broker is None and not args.journal and not args.settle:
        raise UsageError("clear: give --broker, --journal FILE or --settle")
    clearer = make_clearer(args)
    report = BatchReport()
    stats: ConsumerStats | None = None
    started = time.monotonic()
    try:
        for path in args.journal:
            report.merge(clear_journal_file(clearer, path))
        if args.broker is not None:
            stats = asyncio.run(_consume(clearer, args))
        if args.settle:
            report.merge(clearer.settle_due())
    finally:
        clearer.store.close()
    findings = report.findings + ([] if stats is None else stats.report.findings)
    result = {
        "taken": _merge_stats(report, stats),
        "findings": [{"key": key, "kind": f.kind.value, "detail": f.detail}
                     for key, f in findings],
        "broker": None if stats is None else stats.to_dict(),
        "wall_s": round(time.monotonic() - started, 3),
    }
    if args.json:
        print_json(result)
    else:
        for name, count in sorted(result["taken"].items()):  # type: ignore[union-attr]
            print(f"{name:<28} {count:>9,}")
        for key, finding in findings:
            print(f"FINDING {finding.kind.value} {key}: {finding.detail}")
        print(f"findings: {len(findings)}")
    return 0


async def _consume(clearer: Clearer, args: argparse.Namespace) -> ConsumerStats:
    host, port = args.broker
    settings = BrokerSettings(
        host, port, client_id=args.client_id, username=args.username,
        password=_password(args.password_file), ca_file=args.ca_file, cert_file=args.cert_file,
        key_file=args.key_file, session_expiry_s=args.session_expiry)
    options = ConsumerOptions(group=args.group,
                              filters=tuple(args.topic or (TRANSACTION_FILTER,)),
                              batch_size=args.batch, idle_exit_s=args.idle_exit)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    last = [0.0]

    def progress(deliveries: Sequence[Delivery], report: BatchReport,
                 stats: ConsumerStats) -> None:
        now = time.monotonic()
        if now - last[0] >= 5.0:
            last[0] = now
            rate = stats.messages / stats.committed_s if stats.committed_s else 0.0
            log_event(_log, logging.INFO, "clearing", messages=stats.messages,
                      batches=stats.batches, durable_per_s=round(rate),
                      findings=len(stats.report.findings))

    def session(state: str, detail: str) -> None:
        level = logging.INFO if state == "subscribed" else logging.WARNING
        log_event(_log, level, "broker", state=state, client_id=args.client_id, detail=detail)

    # Progress and the broker session in the one log format of every tool of the project.
    with logging_configured("warning" if args.quiet else "info", args.log_format):
        return await consume(clearer, settings, options, stop, progress, session)
