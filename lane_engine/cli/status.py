"""`lane-engine status`: what the journal says about a plaza, as one value (text or JSON)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lane_engine.journal import JournalFilter, SqliteJournal
from lane_engine.journal.codec import record_to_dict

__all__ = [
    "StatusReport",
    "status_report",
]


@dataclass(frozen=True, slots=True)
class StatusReport:
    """Journal counts, open intents, outbox backlog and the latest records."""

    journal: str
    transactions: int
    by_outcome: dict[str, int]
    open_intents: tuple[str, ...]  # transaction ids
    outbox_backlog: int
    last_records: tuple[dict[str, Any], ...]  # newest first

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "journal": self.journal, "transactions": self.transactions,
            "by_outcome": self.by_outcome, "open_intents": list(self.open_intents),
            "outbox_backlog": self.outbox_backlog, "last_records": list(self.last_records),
        }

    def to_text(self) -> str:
        """The report for a terminal."""
        lines = [f"journal: {self.journal}", f"transactions: {self.transactions}"]
        lines += [f"  {name:15} {n:>8}" for name, n in sorted(self.by_outcome.items())]
        lines.append(f"open intents: {len(self.open_intents)}")
        lines += [f"  {transaction_id}" for transaction_id in self.open_intents]
        lines.append(f"outbox backlog: {self.outbox_backlog}")
        lines.append(f"last records: {len(self.last_records)}")
        lines += [
            f"  {r['transaction_id']}  {r['outcome']:13} {r['reason']:>3}  lane {r['lane_number']}"
            f"  {r['amount_debited']:>7} fen  {r['transaction_time']}"
            for r in self.last_records
        ]
        return "\n".join(lines) + "\n"


def status_report(journal_path: Path, last: int = 5) -> StatusReport:
    """Read the report from an existing journal (JournalError when it is missing or unreadable)."""
    with SqliteJournal(journal_path, create=False) as journal:
        by_outcome: Counter[str] = Counter()
        for (outcome, _), n in journal.counts().items():
            by_outcome[outcome.value] += n
        newest = journal.entries(JournalFilter(limit=last, newest_first=True)) if last else []
        return StatusReport(
            journal=str(journal_path),
            transactions=sum(by_outcome.values()),
            by_outcome=dict(by_outcome),
            open_intents=tuple(r.transaction_id for r in journal.open_intents()),
            outbox_backlog=journal.pending_count(),
            last_records=tuple(record_to_dict(e.record) for e in newest),
        )
