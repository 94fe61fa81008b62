"""The command-line conventions every tool of the project shares (`lane-engine`, `rsu-sim`,
`etc-centre`, `python -m protocols`, `python -m keys`), so that they behave alike:

* `--version` prints `<prog> <version>` (the distribution's version) and exits 0.
* `--json` on every command that reports prints one JSON document on stdout instead of text
  (`add_json_flag`, `print_json`; values made JSON-ready by `json_ready`).
* Exit status: 0 ok, 1 a negative answer (a card not listed, an audit that is not clean, a frame
  that does not decode) or a failure (bad data, a missing file: one line on stderr), 2 bad usage
  (`EXIT_STATUS`, to put in each help's epilog).
* Errors are one line on stderr, `<prog>: error: <what>` (`run_command`); argparse's own usage
  errors too (`Parser` raises `UsageError` instead of exiting).
* Each help lists its commands once, under "commands:" (`add_commands`), and keeps its text as
  written, examples on their own lines (`HelpFormatter`).

It depends on nothing of the project, so every package may use it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import enum
import json
import os
import sys
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn, TextIO

__all__ = [
    "DISTRIBUTION",
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_STATUS",
    "EXIT_USAGE",
    "HelpFormatter",
    "Parser",
    "UsageError",
    "__version__",
    "add_commands",
    "add_json_flag",
    "add_version_flag",
    "distribution_version",
    "json_ready",
    "print_json",
    "run_command",
]

#: The installed distribution whose version `--version` prints.
DISTRIBUTION = "etc-lane-engine"
EXIT_OK = 0
#: A negative answer or a failure.
EXIT_FAILURE = 1
EXIT_USAGE = 2
#: The exit-status line of a help's epilog.
EXIT_STATUS = ("exit status: 0 ok, 1 a negative answer or a failure (one line on stderr), "
               "2 bad usage")


class UsageError(Exception):
    """Bad command-line arguments (exit status 2)."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs as written; commands listed once, one a line with its help."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 30,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, width)

    def _format_action(self, action: argparse.Action) -> str:
        # The subcommands' own line ("COMMAND") is the usage's placeholder: leave it out and
        # list the commands themselves at the group's indentation.
        if isinstance(action, argparse._SubParsersAction):
            return "".join(super(HelpFormatter, self)._format_action(sub)
                           for sub in action._get_subactions())
        return super()._format_action(action)

    def add_argument(self, action: argparse.Action) -> None:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action._get_subactions():
                super().add_argument(sub)
            return
        super().add_argument(action)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises UsageError instead of exiting, and keeps help text as
    written (examples stay on their lines)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def distribution_version() -> str:
    """The installed version of the project ("0+unknown" in a tree never installed)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"


#: The version of the etc-lane-engine distribution this package belongs to.
__version__ = distribution_version()


def add_version_flag(parser: argparse.ArgumentParser, prog: str | None = None) -> None:
    """`--version`: print `<prog> <version>` and exit 0."""
    parser.add_argument("--version", action="version",
                        version=f"{prog or parser.prog} {distribution_version()}",
                        help="print the version and exit")


def add_commands(parser: argparse.ArgumentParser, dest: str = "command",
                 required: bool = True) -> Any:
    """The parser's subcommands (argparse's subparsers action: `add_parser(name, ...)`), listed
    once under "commands:" with their help."""
    return parser.add_subparsers(title="commands", dest=dest, metavar="COMMAND",
                                 required=required)


def add_json_flag(parser: argparse.ArgumentParser, what: str = "the report") -> None:
    """`--json`: print `what` as one JSON document instead of text."""
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")


def json_ready(value: Any) -> Any:
    """`value` as JSON-ready data: dataclasses as objects, enums by value, paths and times as
    text (ISO 8601), bytes as hex, tuples and sets as lists."""
    if isinstance(value, enum.Enum):
        return json_ready(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_ready(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(json_ready(k)): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_ready(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def print_json(document: Any, stream: TextIO | None = None) -> None:
    """Print `document` (made JSON-ready) as indented UTF-8 JSON."""
    out = sys.stdout if stream is None else stream
    out.write(json.dumps(json_ready(document), ensure_ascii=False, indent=2) + "\n")


def run_command(prog: str, command: Callable[[], int], *,
                failures: tuple[type[Exception], ...] = (),
                failure_status: int = EXIT_FAILURE) -> int:
    """Run `command` (parsing included) and return its exit status: a UsageError is one line on
    stderr and status 2, one of `failures` one line and `failure_status`; a reader that goes
    away (`| head`) ends it quietly."""
    try:
        return command()
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except failures as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return failure_status
    except BrokenPipeError:
        # Keep Python from complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
