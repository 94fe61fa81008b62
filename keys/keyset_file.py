"""Key-set files: refused unless private to their owner; written with mode 0600 from the start."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cli_conventions.files import NotText, decode_text, write_file
from keys.errors import KeySetError
from keys.keyset import KeySet, dump_key_set, parse_key_set

__all__ = [
    "load_key_set",
    "write_key_set",
]


def load_key_set(path: str | os.PathLike[str]) -> KeySet:
    """Load the key set at `path`; KeySetError if group or others may read it, or it is bad."""
    where = os.fspath(path)
    try:
        fd = os.open(where, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise KeySetError(f"{where}: cannot open ({exc.strerror})") from None
    # Check the mode of the file we opened, not of whatever the path names a moment later.
    with os.fdopen(fd, "rb") as file:
        mode = os.fstat(file.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise KeySetError(f"{where}: not a regular file")
        if mode & 0o077:
            raise KeySetError(
                f"{where}: mode {stat.S_IMODE(mode):04o} lets group or others in; want 0600"
            )
        raw = file.read()
    try:
        text = decode_text(raw, where)
    except NotText as exc:
        raise KeySetError(str(exc)) from None
    return parse_key_set(text, where)


def write_key_set(path: str | os.PathLike[str], key_set: KeySet, *, replace: bool = False) -> None:
    """Write `key_set` to `path`, created with mode 0600 (temp file, fsync, rename)."""
    target = Path(path)
    if target.exists() and not replace:
        raise KeySetError(f"{target}: exists (pass replace to overwrite)")
    try:
        write_file(target, dump_key_set(key_set), mode=0o600)
    except OSError as exc:
        raise KeySetError(f"{target}: cannot write ({exc.strerror})") from None
