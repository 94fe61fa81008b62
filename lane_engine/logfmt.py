"""The one log format of the lane process and the simulator: a `key=value` line for people, or
one JSON object per line for collectors (`--log-format json`).

A line is the time (ISO 8601 with the lane's offset), the level, the event and its fields:

    at=2024-06-01T08:00:00.250+08:00 level=warning event=frame_rejected lane=2 detail="bad CRC"

Code that logs passes the event and its fields through `extra` (`log_event` does it):
``log.warning("frame rejected", extra=event_fields("frame_rejected", lane=2, detail=...))``.
A record without them (a library's) is logged with `event=log`, its logger and its message.
Values are kept short: floats to three decimals, bytes as hex, enums by name, `None` left out.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator, Mapping
from enum import Enum
from typing import Any, TextIO

from lane_engine.times import iso_time

__all__ = [
    "LOG_FORMATS",
    "JsonFormatter",
    "KeyValueFormatter",
    "configure_logging",
    "event_fields",
    "log_event",
    "logging_configured",
    "plain",
]

#: The names `--log-format` takes.
LOG_FORMATS = ("text", "json")
#: The attributes `event_fields` sets on a log record.
_EVENT, _FIELDS = "etc_event", "etc_fields"
_BARE = re.compile(r"[\w.,:/+@-]+")


def event_fields(event: str, **fields: Any) -> dict[str, Any]:
    """The `extra` of a log call that logs `event` with `fields`."""
    return {_EVENT: event, _FIELDS: fields}


def log_event(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """Log `event` with `fields` at `level` (the message is the event, for plain handlers)."""
    if logger.isEnabledFor(level):
        logger.log(level, "%s", event.replace("_", " "), extra=event_fields(event, **fields))


def plain(value: Any) -> Any:
    """A field value as JSON-ready data: short floats, hex bytes, enums by name, sequences as
    lists."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value.name if isinstance(value, Enum) else value
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, tuple | list | set | frozenset):
        return [plain(item) for item in value]
    return str(value)


def _text(value: Any) -> str:
    value = plain(value)
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, list):
        value = ",".join(str(item) for item in value)
    text = str(value)
    return text if _BARE.fullmatch(text) else json.dumps(text, ensure_ascii=False)


def _items(record: logging.LogRecord) -> tuple[str, Mapping[str, Any]]:
    """The event and the fields of a record (a library's record: its logger and message)."""
    event = getattr(record, _EVENT, None)
    if event is None:
        return "log", {"logger": record.name, "msg": record.getMessage()}
    return event, getattr(record, _FIELDS, {})


def _error(record: logging.LogRecord, formatter: logging.Formatter) -> str | None:
    if record.exc_info:
        return formatter.formatException(record.exc_info)
    return None


class KeyValueFormatter(logging.Formatter):
    """`at=… level=… event=… key=value …`, one line per record (a traceback on the lines after)."""

    def format(self, record: logging.LogRecord) -> str:
        event, fields = _items(record)
        parts = [f"at={iso_time(record.created)}", f"level={record.levelname.lower()}",
                 f"event={_text(event)}"]
        parts += [f"{key}={_text(value)}" for key, value in fields.items() if value is not None]
        line = " ".join(parts)
        error = _error(record, self)
        return line if error is None else f"{line}\n{error}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: `at`, `level`, `event`, the fields (`error`: a traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        event, fields = _items(record)
        document: dict[str, Any] = {"at": iso_time(record.created),
                                    "level": record.levelname.lower(), "event": event}
        document.update((key, plain(value)) for key, value in fields.items()
                        if value is not None)
        error = _error(record, self)
        if error is not None:
            document["error"] = error
        return json.dumps(document, ensure_ascii=False)


def configure_logging(level: str = "info", log_format: str = "text",
                      stream: TextIO | None = None) -> logging.Handler:
    """Send every log record at `level` or above to `stream` (stderr) in `log_format`; replaces
    the handlers of the root logger. Returns the handler."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else KeyValueFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler


@contextlib.contextmanager
def logging_configured(level: str = "info", log_format: str = "text",
                       stream: TextIO | None = None) -> Iterator[logging.Handler]:
    """`configure_logging` for the time of a `with` block; the root logger's handlers and level
    are put back afterwards (a command run in-process leaves the caller's logging alone)."""
    root = logging.getLogger()
    handlers, previous = list(root.handlers), root.level
    try:
        yield configure_logging(level, log_format, stream)
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(previous)
