"""Files a person hands a tool, and files a tool writes, handled alike by every tool:

* Text files are UTF-8; bytes that are not are refused in one line naming the file, the line,
  the column and the byte offset (`decode_text`, `text_lines`, raising `NotText`), never a
  traceback and never replaced by U+FFFD behind the reader's back.
* A file is written whole and durably, or not at all: a temporary file beside it, fsync, rename
  over the target, fsync of the folder (`write_file`, `DurableFile`), so "wrote PATH" is said
  only once the file and its directory entry are on disk; OSError says why not.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

__all__ = [
    "DurableFile",
    "NotText",
    "decode_text",
    "text_lines",
    "write_file",
]


class NotText(ValueError):
    """Bytes that are not UTF-8 text; the message says where: `<where>: line L, column C (byte
    N): not UTF-8 text (byte 0xXX)`."""

    def __init__(self, where: str, line: int, column: int, offset: int, byte: int) -> None:
        super().__init__(f"{where}: line {line}, column {column} (byte {offset}): "
                         f"not UTF-8 text (byte 0x{byte:02x})")
        self.where, self.line, self.column, self.offset = where, line, column, offset


def _not_text(data: bytes, at: int, where: str, first_line: int = 1,
              base: int = 0) -> NotText:
    line_start = data.rfind(b"\n", 0, at) + 1
    line = first_line + data.count(b"\n", 0, at)
    column = len(data[line_start:at].decode("utf-8", errors="replace")) + 1
    return NotText(where, line, column, base + at, data[at])


def decode_text(data: bytes, where: str) -> str:
    """`data` as UTF-8 text; NotText naming `where` and the position of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_text(data, exc.start, where) from None


def text_lines(lines: Iterable[bytes], where: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of a file read line by line in binary (a capture may be large);
    NotText at the first line that is not UTF-8."""
    offset = 0
    for number, raw in enumerate(lines, start=1):
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _not_text(raw, exc.start, where, number, offset) from None
        offset += len(raw)


class DurableFile:
    """A file written beside `path` and put in its place, durably, when the block ends without
    an exception (else removed): `with DurableFile(path, mode=0o600) as stream: ...`.

    `text=True` gives a text stream (UTF-8, newlines as written)."""

    def __init__(self, path: str | os.PathLike[str], *, mode: int = 0o644,
                 text: bool = False) -> None:
        self.path = Path(path)
        self._mode = mode
        self._text = text
        self._temporary: str | None = None
        self._stream: IO[Any] | None = None

    def __enter__(self) -> IO[Any]:
        descriptor, self._temporary = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            os.fchmod(descriptor, self._mode)
            self._stream = (os.fdopen(descriptor, "w", encoding="utf-8", newline="")
                            if self._text else os.fdopen(descriptor, "wb"))
        except BaseException:
            os.close(descriptor)
            os.unlink(self._temporary)
            raise
        return self._stream

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        stream, temporary = self._stream, self._temporary
        assert stream is not None and temporary is not None
        try:
            if kind is None:
                stream.flush()
                os.fsync(stream.fileno())
            stream.close()
            if kind is None:
                os.replace(temporary, self.path)
                _sync_folder(self.path.parent)
        finally:
            if os.path.lexists(temporary):
                os.unlink(temporary)


def write_file(path: str | os.PathLike[str], data: bytes | str, *, mode: int = 0o644) -> None:
    """Write `data` (text as UTF-8) to `path` durably, or raise OSError saying why not."""
    with DurableFile(path, mode=mode) as stream:
        stream.write(data.encode("utf-8") if isinstance(data, str) else data)


def _sync_folder(folder: Path) -> None:
    """fsync the folder, so the rename that put the file there survives a crash."""
    descriptor = os.open(folder if str(folder) else ".", os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
