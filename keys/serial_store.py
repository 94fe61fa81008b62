"""Terminal trans serial stores: a serial is persisted before the PSAM hands it out, so it is
never reused across restarts and crashes.

`FileSerialStore` reserves serials in blocks: the file holds the first serial not yet reserved
(written to a temp file, fsynced, renamed, directory fsynced). A crash loses the unused rest of
the current block (the next process starts after it): serials stay unique at the price of a gap.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Protocol

from keys.errors import SerialStoreError

__all__ = [
    "MAX_SERIAL",
    "FileSerialStore",
    "MemorySerialStore",
    "TerminalSerialStore",
]

MAX_SERIAL = 0xFFFFFFFF  # 4 bytes on the wire


class TerminalSerialStore(Protocol):
    """Hands out terminal trans serials, each one at most once, ever."""

    def allocate(self) -> int:
        """The next serial; it is durable before this returns."""
        ...


class MemorySerialStore:
    """For simulation and tests: serials counted in memory, lost with the process."""

    def __init__(self, first: int = 1) -> None:
        self._next = first

    def allocate(self) -> int:
        """The next serial."""
        if self._next > MAX_SERIAL:
            raise SerialStoreError("terminal trans serials exhausted")
        serial = self._next
        self._next += 1
        return serial


class FileSerialStore:
    """A durable store in one small text file; `block_size` serials reserved per write.

    A missing file starts the count at `first`; a file that cannot be read is an error (never a
    silent restart from 1). An exclusive lock on `<path>.lock` keeps a second process out.
    """

    def __init__(self, path: str | os.PathLike[str], *, block_size: int = 64, first: int = 1):
        if block_size < 1:
            raise ValueError("block_size must be at least 1")
        self._path = Path(path)
        self._block_size = block_size
        self._lock_fd = self._lock()
        self._next = self._read(first)
        self._reserved_until = self._next

    def _lock(self) -> int:
        lock_path = self._path.with_name(self._path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise SerialStoreError(f"{lock_path}: cannot open ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise SerialStoreError(f"{self._path}: in use by another process") from None
        return fd

    def _read(self, first: int) -> int:
        try:
            text = self._path.read_text(encoding="ascii")
        except FileNotFoundError:
            return first
        except (OSError, UnicodeDecodeError) as exc:
            raise SerialStoreError(f"{self._path}: cannot read ({exc})") from None
        value = text.strip()
        if not value.isdigit():
            raise SerialStoreError(f"{self._path}: does not hold a serial")
        return int(value)

    def _write(self, value: int) -> None:
        temp = self._path.with_name(f".{self._path.name}.tmp")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as file:
                file.write(f"{value}\n")
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, self._path)
            dir_fd = os.open(self._path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise SerialStoreError(f"{self._path}: cannot write ({exc.strerror})") from None

    def allocate(self) -> int:
        """The next serial, its block made durable first."""
        if self._next > MAX_SERIAL:
            raise SerialStoreError("terminal trans serials exhausted")
        if self._next >= self._reserved_until:
            limit = min(self._next + self._block_size, MAX_SERIAL + 1)
            self._write(limit)
            self._reserved_until = limit
        serial = self._next
        self._next += 1
        return serial

    def close(self) -> None:
        """Release the lock; the unused rest of the block is skipped by the next process."""
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1
