"""Reading a TOML file for the lane's loaders (configuration, policy, road network), each with its
own error type; every error names the file, and the field where there is one."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from cli_conventions.files import NotText, decode_text
from lane_engine.errors import LaneError

__all__ = [
    "dotted",
    "field_error",
    "load_toml",
    "read_toml",
]

E = TypeVar("E", bound=LaneError)
T = TypeVar("T")


def load_toml(path: str | Path, build: Callable[[dict[str, Any], str], T], *, what: str,
              error: type[E]) -> T:
    """`build(document, source)` on the document at `path`, `source` being the path as text;
    reading faults raise `error` as `read_toml` says."""
    path = Path(path)
    return build(read_toml(path, what=what, error=error), str(path))


def read_toml(path: Path, *, what: str, error: type[E]) -> dict[str, Any]:
    """The parsed document at `path`; an unreadable file or bad TOML raises `error` naming the
    file (`what` says what the file is: "configuration", "policy file", ...)."""
    try:
        with path.open("rb") as stream:
            return tomllib.loads(decode_text(stream.read(), str(path)))
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or exc}") from exc
    except NotText as exc:
        raise error(str(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from exc


def field_error(error: type[E], source: str, dotted: str, reason: str) -> E:
    """`error` as every loader words a fault in a field: `<file>: <table.field>: <reason>`."""
    return error(f"{source}: {dotted}: {reason}")


def dotted(where: str, key: str) -> str:
    """The dotted name of `key` inside `where` (`sections[3].to`); `key` alone at the top."""
    return f"{where}.{key}" if where else key
