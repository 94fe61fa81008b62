"""What the simulator's run summary and the plaza demo's summary share: the figures of a run's
final records, durations as millisecond percentiles, and the rows and layout of the text table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from lane_engine.core.outcomes import Outcome, TransactionRecord


@dataclass(frozen=True, slots=True)
class OutcomeFigures:
    """Counts and money of a run's final records."""

    transactions: int
    outcomes: Counter[Outcome]
    refused: dict[str, int]  # reason name -> count, by name
    not_debited: dict[str, int]  # reason name -> count, by name
    recovered: int  # closed by recovery (C8/B8 or a later pass) with a known outcome
    revenue_fen: int
    cash_due_fen: int


def outcome_figures(records: Iterable[TransactionRecord]) -> OutcomeFigures:
    """Count the final records of a run by outcome and reason, and add up their money."""
    final = list(records)
    refused = Counter(r.reason.name for r in final if r.outcome is Outcome.REFUSED)
    failed = Counter(r.reason.name for r in final if r.outcome is Outcome.NOT_DEBITED)
    return OutcomeFigures(
        transactions=len(final),
        outcomes=Counter(r.outcome for r in final),
        refused=dict(sorted(refused.items())), not_debited=dict(sorted(failed.items())),
        recovered=sum(1 for r in final if r.recovered and r.outcome is not Outcome.UNRESOLVED),
        revenue_fen=sum(r.amount_debited for r in final if r.outcome is Outcome.DEBITED),
        cash_due_fen=sum(r.cash_fee for r in final if r.outcome is Outcome.CASH_REQUIRED),
    )


def percentiles_ms(durations_s: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99 and max of durations in seconds, in ms to 0.1 ms; empty for no durations."""
    durations = np.array(durations_s) * 1000.0
    percentiles: dict[str, float] = {}
    if durations.size:
        for name, q in (("p50", 50), ("p90", 90), ("p99", 99)):
            percentiles[name] = round(float(np.percentile(durations, q)), 1)
        percentiles["max"] = round(float(durations.max()), 1)
    return percentiles


class CountedOutcomes(Protocol):
    """The outcome figures a summary shows (both summaries have these fields)."""

    @property
    def completed(self) -> dict[str, int]: ...
    @property
    def refused(self) -> dict[str, int]: ...
    @property
    def not_debited(self) -> dict[str, int]: ...
    @property
    def unresolved(self) -> int: ...
    @property
    def recoveries_started(self) -> int: ...
    @property
    def settled_on_later_pass(self) -> int: ...
    @property
    def revenue_fen(self) -> int: ...
    @property
    def cash_due_fen(self) -> int: ...


def outcome_rows(s: CountedOutcomes, *, recovered: tuple[str, int]) -> list[tuple[str, str]]:
    """Table rows from "completed" to "cash due"; `recovered`: the label and count of the
    recoveries that completed, as this summary counts them."""
    rows = [("completed", f"{sum(s.completed.values()):,}")]
    rows += [(f"  {name}", f"{count:,}") for name, count in s.completed.items()]
    rows.append(("refused", f"{sum(s.refused.values()):,}"))
    rows += [(f"  {name.lower()}", f"{count:,}") for name, count in s.refused.items()]
    rows.append(("not debited", f"{sum(s.not_debited.values()):,}"))
    rows += [(f"  {name.lower()}", f"{count:,}") for name, count in s.not_debited.items()]
    label, count = recovered
    rows += [
        ("unresolved (left for clearing)", f"{s.unresolved:,}"),
        ("recoveries: C8 sent", f"{s.recoveries_started:,}"),
        (f"  {label}", f"{count:,}"),
        ("  settled on a later pass", f"{s.settled_on_later_pass:,}"),
        ("revenue", f"{s.revenue_fen:,} fen = {_yuan(s.revenue_fen)} yuan"),
        ("cash due", f"{s.cash_due_fen:,} fen = {_yuan(s.cash_due_fen)} yuan"),
    ]
    return rows


def joined_counts(counts: Mapping[str, int]) -> str:
    """`name count, name count` with thousands separators."""
    return ", ".join(f"{name} {count:,}" for name, count in counts.items())


def joined_ms(percentiles: Mapping[str, float]) -> str:
    """`p50 1.0  p90 2.5 ...` in ms to 0.1 ms."""
    return "  ".join(f"{name} {ms:.1f}" for name, ms in percentiles.items())


def render_table(rows: Sequence[tuple[str, str]], *, footnote: str) -> str:
    """Labels padded to one column, values beside them, the footnote last under the values."""
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    lines.append(f"{'':<{width}}  ({footnote})")
    return "\n".join(lines)


def _yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"
