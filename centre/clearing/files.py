"""Lane journals exported as JSON Lines (`lane-engine journal export --format jsonl`, or a file
of MQTT transaction messages), cleared as an offline lane's upload: read a batch of lines at a
time, each batch one store transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from centre.clearing.arrivals import from_journal_line
from centre.clearing.clearer import BatchReport, Clearer, Inbound, Unreadable
from centre.clearing.values import Source
from centre.errors import ClearingError, ClearingInputError
from cli_conventions.files import NotText, text_lines

#: Lines per store transaction.
FILE_BATCH = 1000


def journal_lines(path: Path) -> Iterator[Inbound]:
    """Every line of an exported journal with something to clear, as clearing takes it."""
    try:
        with path.open("rb") as lines:
            for number, line in text_lines(lines, str(path)):
                origin = f"{path.name}:{number}"
                try:
                    arrival = from_journal_line(line, origin)
                except ClearingInputError as exc:
                    yield Unreadable(Source.JOURNAL, origin, str(exc), line.rstrip("\n"))
                    continue
                if arrival is not None:
                    yield arrival
    except OSError as exc:
        raise ClearingError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except NotText as exc:
        raise ClearingError(str(exc)) from None


def clear_journal_file(clearer: Clearer, path: Path, batch: int = FILE_BATCH,
                       now: dt.datetime | None = None) -> BatchReport:
    """Clear every record of the file (received `now`: the clearer's clock by default); what
    was taken, and the findings."""
    report = BatchReport()
    pending: list[Inbound] = []
    for item in journal_lines(path):
        pending.append(item)
        if len(pending) >= batch:
            report.merge(clearer.clear(pending, now))
            pending = []
    if pending:
        report.merge(clearer.clear(pending, now))
    return report
