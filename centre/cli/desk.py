"""What the outlet commands share: the store and key-set options, the request's outlet,
operator, id and time, amounts in yuan, and how an outcome is printed (text, or one JSON object
with `--json`; a refusal is also one line on stderr and exit status 1)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from centre.config import CentreConfig, stored_config
from centre.devices.issuer import IssuerHost
from centre.errors import CentreConfigError
from centre.service.centre import Centre
from centre.service.outcomes import Done, Outcome, Refused
from centre.store.store import Store
from centre.values import CENTRE_ZONE, FEN_PER_YUAN, PaymentMethod, Request, shown
from cli_conventions import add_json_flag, print_json
from keys.errors import KeyNotFoundError
from keys.keyset import KeySet
from keys.keyset_file import load_key_set

DEFAULT_STORE = "var/centre.sqlite3"


def add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=DEFAULT_STORE, metavar="URL",
                        help=f"the centre's database: a SQLite path or postgresql://… "
                             f"(default {DEFAULT_STORE})")


def add_keys(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("--keys", type=Path, required=required, metavar="FILE",
                        help="the issuer's key set (TOML, mode 0600): personalisation and the "
                             "load cryptography")


def add_json(parser: argparse.ArgumentParser) -> None:
    add_json_flag(parser, "the answer")


def add_request(parser: argparse.ArgumentParser) -> None:
    """The request options every outlet operation takes."""
    group = parser.add_argument_group("the request")
    group.add_argument("--outlet", required=True, metavar="ID", help="the outlet asking")
    group.add_argument("--operator", required=True, metavar="NAME",
                       help="the operator at the desk (journaled)")
    group.add_argument("--request-id", metavar="ID",
                       help="the outlet's id for this request: the same id again is answered, "
                            "never done twice (default: a new one, printed)")
    group.add_argument("--at", type=moment, metavar="TIME",
                       help="when it is done, ISO 8601 (default now; naive times are UTC+8)")
    group.add_argument("--applied-at", type=moment, metavar="TIME",
                       help="when the customer applied (time limits count from here; "
                            "default --at)")


def moment(text: str) -> dt.datetime:
    """An ISO 8601 time; without an offset it is the centre's time (UTC+8)."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    return value if value.tzinfo else value.replace(tzinfo=CENTRE_ZONE)


def day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def yuan_amount(text: str) -> int:
    """An amount in yuan with at most two decimals (`50`, `50.5`, `50.05`), as fen."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount of yuan (e.g. 50.00)")
    return int(value * FEN_PER_YUAN)


def payment(text: str) -> PaymentMethod:
    try:
        return PaymentMethod(text)
    except ValueError:
        names = ", ".join(m.value for m in PaymentMethod)
        raise argparse.ArgumentTypeError(f"{text!r} is not a payment method ({names})") from None


def broker_address(text: str) -> tuple[str, int]:
    """HOST[:PORT] of an MQTT broker (port 1883 by default)."""
    host, colon, port = text.rpartition(":")
    if not colon:
        host, port = text, "1883"
    if not host or not port.isdigit() or not 0 < int(port) <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST[:PORT]")
    return host, int(port)


def request_of(args: argparse.Namespace) -> Request:
    at = args.at or dt.datetime.now(CENTRE_ZONE)
    request_id = args.request_id or f"{args.outlet}:{uuid.uuid4().hex[:12]}"
    return Request(request_id, args.outlet, args.operator, at, args.applied_at)


def open_store(args: argparse.Namespace) -> Store:
    """The initialised store (never created here: `etc-centre init` does that)."""
    return Store.open(args.store, migrate_schema=False)


def open_centre(args: argparse.Namespace, store: Store) -> tuple[Centre, CentreConfig]:
    with store.transaction() as tx:
        config = stored_config(tx)
    keys = getattr(args, "keys", None)
    key_set = KeySet(()) if keys is None else load_key_set(keys)
    if keys is not None:
        issuer = config.service.issuer
        try:
            key_set.lookup(issuer.network, issuer.key_version)
        except KeyNotFoundError as exc:
            raise CentreConfigError(f"{keys}: {exc}") from exc
    host = IssuerHost(key_set, config.service.issuer.key_version)
    return Centre(store, host, config.service), config


def shown_path(path: Path | str | None) -> str | None:
    """A file as the operator typed its folder: relative to here when it is under here."""
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _line(name: str, value: Any) -> str:
    if isinstance(value, dict):
        value = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    return f"  {name:<18} {'-' if value is None else value}"


def report(outcome: Outcome, args: argparse.Namespace) -> int:
    """Print the outcome; 0 when done, 1 when refused."""
    if isinstance(outcome, Refused):
        line = f"refused ({outcome.reason.value}): {outcome.message}"
        if args.json:
            print_json({"ok": False, "reason": outcome.reason.value,
                        "message": outcome.message})
        print(f"etc-centre: {line}", file=sys.stderr)
        return 1
    assert isinstance(outcome, Done)
    limit = outcome.time_limit
    if args.json:
        print_json({
            "ok": True, "request_id": outcome.request_id, "operation": outcome.operation,
            "replayed": outcome.replayed, "result": outcome.result, "notes": list(outcome.notes),
            "time_limit": None if limit is None else {
                "deadline": shown(limit.deadline), "breached": limit.breached},
        })
        return 0
    again = " (done before: the first answer)" if outcome.replayed else ""
    print(f"{outcome.operation} done, request {outcome.request_id}{again}")
    for name, value in sorted(outcome.result.items()):
        print(_line(name, value))
    if limit is not None:
        state = "breached" if limit.breached else "met"
        print(_line("time limit", f"{state} (due {shown(limit.deadline)})"))
    for note in outcome.notes:
        print(f"  note: {note}")
    return 0


def dump(document: Any, args: argparse.Namespace, text: str) -> int:
    """Print `document` as JSON with --json, else `text`."""
    if args.json:
        print_json(document)
    else:
        print(text)
    return 0
