"""The one log format: key=value lines for people, JSON lines for collectors, times with offset."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from lane_engine.core.outcomes import ReasonCode
from lane_engine.logfmt import configure_logging, event_fields, log_event
from lane_engine.times import iso_time, parse_time

AT = 1_717_200_000.25  # 2024-06-01T08:00:00.250+08:00


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def _record(level: int, event: str | None, **fields: object) -> logging.LogRecord:
    extra = event_fields(event, **fields) if event else {}
    record = logging.LogRecord("lane_engine", level, __file__, 1, "hello %s", ("world",), None)
    record.__dict__.update(extra)
    record.created = AT
    return record


def _lines(log_format: str, *records: logging.LogRecord) -> list[str]:
    stream = io.StringIO()
    handler = configure_logging("debug", log_format, stream)
    for record in records:
        handler.handle(record)
    return stream.getvalue().splitlines()


@pytest.mark.usefixtures("restore_root")
def test_a_key_value_line_is_short_and_readable() -> None:
    [line] = _lines("text", _record(logging.WARNING, "frame_rejected", lane=2,
                                    detail="CRC 1A2B, want 3C4D", retry_in_s=0.4769667286167571,
                                    reason=ReasonCode.PSAM_ERROR, tac=b"\x01\xab", gone=None,
                                    flags=(ReasonCode.CLASS_MISMATCH, ReasonCode.TAC_INVALID),
                                    verified=False))
    assert line == (
        'at=2024-06-01T08:00:00.250+08:00 level=warning event=frame_rejected lane=2 '
        'detail="CRC 1A2B, want 3C4D" retry_in_s=0.477 reason=PSAM_ERROR tac=01ab '
        'flags=CLASS_MISMATCH,TAC_INVALID verified=false')


@pytest.mark.usefixtures("restore_root")
def test_a_json_line_carries_the_same_fields() -> None:
    [line] = _lines("json", _record(logging.ERROR, "transaction_unresolved", lane=3, fen=1189,
                                    card="37011234567890123456", gone=None))
    assert json.loads(line) == {
        "at": "2024-06-01T08:00:00.250+08:00", "level": "error",
        "event": "transaction_unresolved", "lane": 3, "fen": 1189,
        "card": "37011234567890123456"}


@pytest.mark.usefixtures("restore_root")
def test_a_library_record_keeps_its_logger_and_message() -> None:
    text, = _lines("text", _record(logging.INFO, None))
    assert text.endswith('event=log logger=lane_engine msg="hello world"')
    document = json.loads(_lines("json", _record(logging.INFO, None))[0])
    assert (document["event"], document["msg"]) == ("log", "hello world")


@pytest.mark.usefixtures("restore_root")
def test_configure_sets_the_level_and_replaces_handlers() -> None:
    stream = io.StringIO()
    configure_logging("warning", "json", stream)
    configure_logging("warning", "json", stream)
    logger = logging.getLogger("lane_engine.test")
    log_event(logger, logging.INFO, "not_shown")
    log_event(logger, logging.WARNING, "shown", lane=1)
    [line] = stream.getvalue().splitlines()
    assert json.loads(line)["event"] == "shown"
    with pytest.raises(ValueError, match="log format"):
        configure_logging("info", "xml")


def test_times_carry_the_lane_offset_and_read_back() -> None:
    assert iso_time(AT) == "2024-06-01T08:00:00.250+08:00"
    assert iso_time(AT, "seconds") == "2024-06-01T08:00:00+08:00"
    for text in ("2024-06-01T08:00:00.250+08:00", "2024-06-01T00:00:00.250Z",
                 "2024-06-01T08:00:00.250", "1717200000.25"):
        assert parse_time(text) == AT, text
    assert parse_time("2024-06-01") == AT - 8 * 3600 - 0.25
    with pytest.raises(ValueError, match="not a time: 'yesterday'"):
        parse_time("yesterday")
