"""What a run came to: counts by outcome and reason, money, transaction times and speed.

`Tally` collects during the run; `Summary` is the frozen result, as a table for people and a
dict for summary.json. Everything but `speed` depends on the scenario and seed only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from lane_engine.core.outcomes import Outcome, TransactionRecord
from rsu_sim.results.figures import (
    joined_counts,
    joined_ms,
    outcome_figures,
    outcome_rows,
    percentiles_ms,
    render_table,
)

#: Outcomes that completed the vehicle's transaction.
COMPLETED = (Outcome.DEBITED, Outcome.ENTRY_WRITTEN, Outcome.CASH_REQUIRED)


def transaction_time_definition() -> str:
    """What the transaction time percentiles measure (our decision): simulated time from the
    moment the lane reads the B2 to the moment its C1 acknowledging the B5 (or B8) leaves."""
    return "B2 read by the lane -> C1 acknowledging B5/B8 sent, simulated ms"


@dataclass(slots=True)
class Tally:
    """Mutable counters of a run in progress."""

    final: dict[str, TransactionRecord] = field(default_factory=dict)
    durations_s: list[float] = field(default_factory=list)
    pass_ends: Counter[str] = field(default_factory=Counter)
    recoveries_started: int = 0
    settled_later: int = 0
    violations: int = 0
    frames_rejected_by_rsu: int = 0
    frames_dropped: int = 0
    restarts: int = 0

    def closed(self, record: TransactionRecord) -> None:
        """A record was journaled final (a later close of the same id replaces it)."""
        self.final[record.transaction_id] = record


@dataclass(frozen=True, slots=True)
class Summary:
    """The result of one run."""

    scenario: str
    seed: int
    vehicles: int
    passes: int
    transactions: int
    completed: dict[str, int]
    refused: dict[str, int]
    not_debited: dict[str, int]
    unresolved: int
    recovered_by_c8: int
    settled_on_later_pass: int
    recoveries_started: int
    revenue_fen: int
    cash_due_fen: int
    transaction_ms: dict[str, float]
    pass_ends: dict[str, int]
    link: dict[str, int]
    speed: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON values."""
        return asdict(self)

    def deterministic(self) -> dict[str, Any]:
        """Everything but the measured speed: equal for equal scenario and seed."""
        values = self.to_dict()
        values.pop("speed")
        return values


def summarise(tally: Tally, *, scenario: str, seed: int, vehicles: int, passes: int,
              link: dict[str, int], speed: dict[str, float]) -> Summary:
    """Freeze a tally into a `Summary`."""
    figures = outcome_figures(tally.final.values())
    return Summary(
        scenario=scenario, seed=seed, vehicles=vehicles, passes=passes,
        transactions=figures.transactions,
        completed={o.value: figures.outcomes[o] for o in COMPLETED},
        refused=figures.refused, not_debited=figures.not_debited,
        unresolved=figures.outcomes[Outcome.UNRESOLVED],
        recovered_by_c8=figures.recovered - tally.settled_later,
        settled_on_later_pass=tally.settled_later,
        recoveries_started=tally.recoveries_started,
        revenue_fen=figures.revenue_fen, cash_due_fen=figures.cash_due_fen,
        transaction_ms=percentiles_ms(tally.durations_s),
        pass_ends=dict(sorted(tally.pass_ends.items())),
        link={**link, "rsu_restarts": tally.restarts, "lane_frames_refused_by_rsu":
              tally.frames_rejected_by_rsu, "rsu_frames_dropped_while_down": tally.frames_dropped,
              "protocol_violations": tally.violations},
        speed=speed,
    )


def format_table(summary: Summary) -> str:
    """The summary as a readable text table."""
    s = summary
    rows: list[tuple[str, str]] = [
        ("scenario", f"{s.scenario} (seed {s.seed})"),
        ("vehicles / passes", f"{s.vehicles:,} / {s.passes:,}"),
        ("transactions journaled", f"{s.transactions:,}"),
    ]
    rows += outcome_rows(s, recovered=("completed by C8/B8", s.recovered_by_c8))
    if s.transaction_ms:
        rows.append(("transaction time (ms)", joined_ms(s.transaction_ms)))
    rows.append(("passes ended", joined_counts(s.pass_ends)))
    rows.append(("link", joined_counts(s.link)))
    if s.speed:
        rows.append(("speed", f"{s.speed.get('vehicles_per_cpu_s', 0):,.0f} vehicles per CPU "
                              f"second ({s.speed.get('cpu_s', 0):.2f} s CPU)"))
    return render_table(rows, footnote=f"transaction time: {transaction_time_definition()}")
