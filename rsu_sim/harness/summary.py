"""What a run came to: counts by outcome and reason, money, transaction times and speed.

`Tally` collects during the run; `Summary` is the frozen result, as a table for people and a
dict for summary.json. Everything but `speed` depends on the scenario and seed only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from lane_engine.core.outcomes import Outcome, TransactionRecord

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
    records = list(tally.final.values())
    by_outcome: Counter[Outcome] = Counter(r.outcome for r in records)
    refused = Counter(r.reason.name for r in records if r.outcome is Outcome.REFUSED)
    failed = Counter(r.reason.name for r in records if r.outcome is Outcome.NOT_DEBITED)
    recovered = sum(1 for r in records if r.recovered and r.outcome is not Outcome.UNRESOLVED)
    durations = np.array(tally.durations_s) * 1000.0
    percentiles: dict[str, float] = {}
    if durations.size:
        for name, q in (("p50", 50), ("p90", 90), ("p99", 99)):
            percentiles[name] = round(float(np.percentile(durations, q)), 1)
        percentiles["max"] = round(float(durations.max()), 1)
    return Summary(
        scenario=scenario, seed=seed, vehicles=vehicles, passes=passes,
        transactions=len(records),
        completed={o.value: by_outcome[o] for o in COMPLETED},
        refused=dict(sorted(refused.items())), not_debited=dict(sorted(failed.items())),
        unresolved=by_outcome[Outcome.UNRESOLVED],
        recovered_by_c8=recovered - tally.settled_later,
        settled_on_later_pass=tally.settled_later,
        recoveries_started=tally.recoveries_started,
        revenue_fen=sum(r.amount_debited for r in records if r.outcome is Outcome.DEBITED),
        cash_due_fen=sum(r.cash_fee for r in records if r.outcome is Outcome.CASH_REQUIRED),
        transaction_ms=percentiles,
        pass_ends=dict(sorted(tally.pass_ends.items())),
        link={**link, "rsu_restarts": tally.restarts, "lane_frames_refused_by_rsu":
              tally.frames_rejected_by_rsu, "rsu_frames_dropped_while_down": tally.frames_dropped,
              "protocol_violations": tally.violations},
        speed=speed,
    )


def _yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"


def format_table(summary: Summary) -> str:
    """The summary as a readable text table."""
    s = summary
    rows: list[tuple[str, str]] = [
        ("scenario", f"{s.scenario} (seed {s.seed})"),
        ("vehicles / passes", f"{s.vehicles:,} / {s.passes:,}"),
        ("transactions journaled", f"{s.transactions:,}"),
        ("completed", f"{sum(s.completed.values()):,}"),
    ]
    rows += [(f"  {name}", f"{count:,}") for name, count in s.completed.items()]
    rows.append(("refused", f"{sum(s.refused.values()):,}"))
    rows += [(f"  {name.lower()}", f"{count:,}") for name, count in s.refused.items()]
    rows.append(("not debited", f"{sum(s.not_debited.values()):,}"))
    rows += [(f"  {name.lower()}", f"{count:,}") for name, count in s.not_debited.items()]
    rows += [
        ("unresolved (left for clearing)", f"{s.unresolved:,}"),
        ("recoveries: C8 sent", f"{s.recoveries_started:,}"),
        ("  completed by C8/B8", f"{s.recovered_by_c8:,}"),
        ("  settled on a later pass", f"{s.settled_on_later_pass:,}"),
        ("revenue", f"{s.revenue_fen:,} fen = {_yuan(s.revenue_fen)} yuan"),
        ("cash due", f"{s.cash_due_fen:,} fen = {_yuan(s.cash_due_fen)} yuan"),
    ]
    if s.transaction_ms:
        times = "  ".join(f"{k} {v:.1f}" for k, v in s.transaction_ms.items())
        rows.append(("transaction time (ms)", times))
    rows.append(("passes ended", ", ".join(f"{k} {v:,}" for k, v in s.pass_ends.items())))
    rows.append(("link", ", ".join(f"{k} {v:,}" for k, v in s.link.items())))
    if s.speed:
        rows.append(("speed", f"{s.speed.get('vehicles_per_cpu_s', 0):,.0f} vehicles per CPU "
                              f"second ({s.speed.get('cpu_s', 0):.2f} s CPU)"))
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    lines.append(f"{'':<{width}}  (transaction time: {transaction_time_definition()})")
    return "\n".join(lines)
