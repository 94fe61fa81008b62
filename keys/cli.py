"""`python -m keys`: generate simulation key sets; recompute card cryptography by hand.

Hex in, upper-case hex out (`--json`: one JSON object). Errors are one line on stderr, exit
status 1 for bad input and 2 for bad usage (`cli_conventions`); a key given on the command line
is never echoed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import string
from collections.abc import Sequence
from pathlib import Path

from cli_conventions import (
    EXIT_STATUS,
    Parser,
    add_commands,
    add_json_flag,
    add_version_flag,
    print_json,
    run_command,
)
from keys.ciphers import Algorithm
from keys.derivation import diversify, purchase_session_key
from keys.errors import KeysError
from keys.keyset import ALGORITHM_NAMES, generate_key_set, seeded_random_bytes
from keys.keyset_file import write_key_set
from keys.purchase import PurchaseTerms, purchase_mac, tac
from keys.secret import SecretKey

__all__ = [
    "PROG",
    "main",
]

PROG = "python -m keys"


class _InputError(Exception):
    pass


def _hex(name: str, text: str, *sizes: int) -> bytes:
    wanted = " or ".join(f"{size} bytes ({2 * size} hex digits)" for size in sizes)
    bad = next((i for i, char in enumerate(text) if char not in string.hexdigits), None)
    if bad is not None:
        raise _InputError(f"{name}: not hexadecimal ({text[bad]!r} at position {bad + 1})")
    if len(text) % 2:
        raise _InputError(f"{name}: {len(text)} hex digits, an odd number"
                          + (f"; wants {wanted}" if sizes else ""))
    value = bytes.fromhex(text)
    if sizes and len(value) not in sizes:
        raise _InputError(f"{name}: wants {wanted}, got {len(value)} bytes")
    return value


def _algorithm(args: argparse.Namespace) -> Algorithm:
    return ALGORITHM_NAMES[args.algorithm]


def _key_length(algorithm: Algorithm) -> tuple[int, ...]:
    return (16,) if algorithm is Algorithm.SM4 else (8, 16)


def _diversify(args: argparse.Namespace) -> str:
    key = SecretKey(_hex("KEY", args.key, 16))
    return diversify(_algorithm(args), key, _hex("FACTOR", args.factor, 8)).reveal().hex()


def _session_key(args: argparse.Namespace) -> str:
    dpk = SecretKey(_hex("DPK", args.dpk, 16))
    ctc = int.from_bytes(_hex("CTC", args.ctc, 2))
    serial = int.from_bytes(_hex("TERMINAL_SERIAL", args.terminal_serial, 2, 4))
    key = purchase_session_key(_algorithm(args), dpk, _hex("RANDOM", args.random, 4), ctc, serial)
    return key.reveal().hex()


def _mac(args: argparse.Namespace) -> str:
    algorithm = _algorithm(args)
    session_key = SecretKey(
        _hex("SESSION_KEY", args.session_key, 8 if algorithm is Algorithm.TDES else 16)
    )
    return purchase_mac(algorithm, session_key, _hex("DATA", args.data)).hex()


def _tac(args: argparse.Namespace) -> str:
    algorithm = _algorithm(args)
    dtk = SecretKey(_hex("DTK", args.dtk, 16))
    if not args.amount.isdigit():
        raise _InputError("AMOUNT: wants a decimal number of fen")
    try:
        when = dt.datetime.strptime(args.datetime, "%Y%m%d%H%M%S")
    except ValueError:
        raise _InputError("DATETIME: wants yyyymmddHHMMSS") from None
    terms = PurchaseTerms(
        amount=int(args.amount),
        trans_type=_hex("TRANS_TYPE", args.trans_type, 1)[0],
        terminal_number=_hex("TERMINAL_NUMBER", args.terminal_number, 6),
        transaction_time=when,
    )
    serial = int.from_bytes(_hex("TERMINAL_SERIAL", args.terminal_serial, 4))
    return tac(algorithm, dtk, terms, serial).hex()


def _generate(args: argparse.Namespace) -> str:
    for network in args.network:
        if len(network) != 4 or not network.isdigit():
            raise _InputError(f"--network {network}: wants 4 digits")
    if Path(args.output).exists() and not args.force:
        raise _InputError(f"{args.output}: exists (--force replaces it)")
    random_bytes = secrets.token_bytes if args.seed is None else seeded_random_bytes(args.seed)
    key_set = generate_key_set(args.network, _algorithm(args), args.key_version, random_bytes)
    write_key_set(args.output, key_set, replace=args.force)
    return str(len(key_set.entries))


def _key_version(text: str) -> int:
    if not text.isdigit() or int(text) > 0xFF:
        raise argparse.ArgumentTypeError("wants 0..255")
    return int(text)


_EPILOG = f"""\
examples:
  python -m keys generate --network 3701 --network 3201 --algorithm sm4 -o var/keys.toml
  python -m keys diversify --algorithm 3des 0123456789ABCDEFFEDCBA9876543210 3701000012345678

{EXIT_STATUS}"""


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="ETC card cryptography by hand (3DES and SM4) and simulation key sets. "
        "Hex arguments, upper-case hex output.", epilog=_EPILOG,
    )
    add_version_flag(parser)
    commands = add_commands(parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text,
                                  epilog=EXIT_STATUS)
        sub.add_argument("--algorithm", required=True, choices=sorted(ALGORITHM_NAMES))
        add_json_flag(sub, "the result")
        return sub

    sub = command("diversify", "sub-key of a 16-byte KEY for an 8-byte FACTOR (ECB of F ‖ NOT F)")
    sub.add_argument("key", metavar="KEY")
    sub.add_argument("factor", metavar="FACTOR")
    sub.set_defaults(run=_diversify)

    sub = command("session-key", "purchase session key from DPK, ICC random, CTC, terminal serial")
    sub.add_argument("dpk", metavar="DPK", help="16-byte card purchase key")
    sub.add_argument("random", metavar="RANDOM", help="4-byte ICC pseudo-random")
    sub.add_argument("ctc", metavar="CTC", help="2-byte offline transaction counter")
    sub.add_argument("terminal_serial", metavar="TERMINAL_SERIAL", help="2 or 4 bytes; last 2 used")
    sub.set_defaults(run=_session_key)

    sub = command("mac", "4-byte purchase MAC of DATA (MAC1: amount‖type‖terminal‖date‖time)")
    sub.add_argument("session_key", metavar="SESSION_KEY", help="8 bytes (3des) or 16 (sm4)")
    sub.add_argument("data", metavar="DATA")
    sub.set_defaults(run=_mac)

    sub = command("tac", "TAC from the card's DTK (applies the family's TAC-key rule)")
    sub.add_argument("dtk", metavar="DTK", help="16-byte card TAC key")
    sub.add_argument("amount", metavar="AMOUNT", help="decimal fen")
    sub.add_argument("trans_type", metavar="TRANS_TYPE", help="1 byte, 09 composite purchase")
    sub.add_argument("terminal_number", metavar="TERMINAL_NUMBER", help="6 bytes")
    sub.add_argument("terminal_serial", metavar="TERMINAL_SERIAL", help="4-byte trans serial")
    sub.add_argument("datetime", metavar="DATETIME", help="yyyymmddHHMMSS")
    sub.set_defaults(run=_tac)

    sub = command("generate", "write a simulation key set (TOML, mode 0600)")
    sub.add_argument("--network", action="append", required=True, help="4 digits; repeatable")
    sub.add_argument("--key-version", type=_key_version, default=1, metavar="N", help="0..255")
    sub.add_argument("--seed", help="derive the keys from this seed (test fixtures only)")
    sub.add_argument("--force", action="store_true", help="replace an existing file")
    sub.add_argument("-o", "--output", required=True, metavar="FILE")
    sub.set_defaults(run=_generate)
    return parser


#: The name of each command's result in `--json`.
_RESULTS = {"diversify": "key", "session-key": "session_key", "mac": "mac", "tac": "tac"}


def _run(args: argparse.Namespace) -> int:
    output = args.run(args)
    if args.command == "generate":
        if args.json:
            print_json({"wrote": str(args.output), "key_sets": int(output), "mode": "0600"})
        else:
            print(f"wrote {output} key sets to {args.output} (mode 0600)")
    elif args.json:
        print_json({"algorithm": args.algorithm, _RESULTS[args.command]: output.upper()})
    else:
        print(output.upper())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 0 on success, 1 on bad input, 2 on bad usage."""
    return run_command(PROG, lambda: _run(_parser().parse_args(argv)),
                       failures=(_InputError, KeysError))
