"""Times as the lane writes and reads them: ISO 8601 with the offset, in the lane's time zone.

Logs, records, journal exports, status messages and the CLI's filters all take their text from
`iso_time` and read it back with `parse_time`, so a time copied from any of them can be handed
to any other (`journal list --since 2024-06-01T08:00:00+08:00`). Pure functions: the caller
passes the time in.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["LANE_TIME_ZONE", "iso_time", "lane_datetime", "parse_time"]

#: The lane's time zone for BCD date-times, record times and every time it writes (our decision:
#: China, UTC+8, no daylight saving; the RSU and the cards expect local wall-clock time).
LANE_TIME_ZONE = dt.timezone(dt.timedelta(hours=8), "CST")


def iso_time(seconds: float, timespec: str = "milliseconds") -> str:
    """UNIX `seconds` as ISO 8601 in the lane's time zone with its offset, e.g.
    ``2024-06-01T08:00:00.250+08:00`` (`timespec` as `datetime.isoformat`: "seconds" for
    record times, which the card keeps to the second)."""
    return dt.datetime.fromtimestamp(seconds, LANE_TIME_ZONE).isoformat(timespec=timespec)


def lane_datetime(text: str) -> dt.datetime:
    """An ISO 8601 time as an aware datetime in the lane's time zone; a time without an offset
    is lane local time (what records held before they carried the offset). ValueError when
    `text` is not an ISO 8601 time."""
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=LANE_TIME_ZONE)
    return value.astimezone(LANE_TIME_ZONE)


def parse_time(text: str) -> float:
    """ISO 8601 (with an offset; without one, lane local time; a date alone is its midnight) or
    UNIX seconds, as UNIX seconds. ValueError names the text when it is neither."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return lane_datetime(text.strip()).timestamp()
    except ValueError:
        raise ValueError(f"not a time: {text!r} (want ISO 8601, e.g. "
                         f"2024-06-01T08:00:00+08:00, or UNIX seconds)") from None
