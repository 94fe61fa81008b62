"""`etc-centre`: the provincial centre's command line.

It follows the conventions of every tool of the project (`cli_conventions`): `--version`,
`--json` on every command (a JSON object on stdout instead of text), errors in one line on
stderr, exit status 0 done (a reconciliation: clean), 1 a negative answer (a reconciliation:
differences found) or a failure (runtime, data), 2 bad usage.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from types import ModuleType

from centre.cli import cards, clear, customer, day, init, issue, lists, money, reconcile
from centre.errors import CentreError
from keys.errors import KeysError
from lane_engine.cli.args import (
    EXIT_STATUS,
    Parser,
    add_commands,
    add_version_flag,
    run_command,
)
from lane_engine.errors import LaneError

#: The command groups, each a module with `NAME` (or `NAMES`, for several commands),
#: `add_parser(commands)` and `run(args)`.
COMMANDS: tuple[ModuleType, ...] = (init, customer, issue, cards, money, lists, day, clear,
                                    reconcile)

EPILOG = f"""\
examples:
  etc-centre init --config examples/centre.toml
  etc-centre customer add --outlet 370101001 --operator wang --name 张三 \\
      --id-number 11010519491231002X --plate 鲁A12345 --class PASSENGER_1
  etc-centre issue b-card --outlet 370101001 --operator wang --keys var/keys.toml \\
      --plate 鲁A12345 --payment wechat --personaliser emulated:var/centre/tray
  etc-centre top-up --outlet 370101001 --operator wang --keys var/keys.toml \\
      --card 37012616000000000001 --amount 100 --reader emulated:CARD_IMAGE
  etc-centre lists publish --broker 127.0.0.1:1883
  etc-centre clear --broker 127.0.0.1:1883 --keys var/keys.toml --fees var/fees.etcfee \\
      --policy examples/policy.toml
  etc-centre clear --journal lane-3701-120.jsonl --keys var/keys.toml --fees var/fees.etcfee \\
      --policy examples/policy.toml
  etc-centre reconcile --day 2026-11-27 --out var/reconcile

{EXIT_STATUS}"""


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = Parser(prog=prog, description="The provincial centre: customer service (register, "
                    "issue, top up, loss, unlock, cancel, refund, bills), the status lists for "
                    "the lanes, clearing and reconciliation of the lanes' transactions.",
                    epilog=EPILOG)
    add_version_flag(parser, prog)
    commands = add_commands(parser)
    for group in COMMANDS:
        group.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "etc-centre") -> int:
    """Run the command; return the exit status."""

    def command() -> int:
        args = build_parser(prog).parse_args(argv)
        for group in COMMANDS:
            if args.command in getattr(group, "NAMES", (getattr(group, "NAME", None),)):
                return int(group.run(args))
        raise AssertionError(f"no command {args.command}")

    return run_command(prog, command, failures=(CentreError, LaneError, KeysError))
