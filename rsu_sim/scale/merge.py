"""One summary and one audit from the shards of a run, the same whatever ran them: counts and
money add up, transaction-time percentiles come from every shard's times together, audit
problems are listed shard by shard."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rsu_sim.harness.summary import Summary
from rsu_sim.results.audit import AuditReport


@dataclass(frozen=True, slots=True)
class ShardResult:
    """What one shard came to: its summary, its transaction times, its audit, what it cost."""

    index: int
    name: str
    summary: dict[str, Any]  # `Summary.to_dict()`
    durations_s: Counter[float]  # transaction times (simulated s) and how often each came
    audit_problems: tuple[str, ...]
    audit_counts: dict[str, int]
    cpu_s: float
    wall_s: float
    host: str = ""
    pid: int = 0
    extra: dict[str, float] = field(default_factory=dict)


def percentiles_of_counts(counts: Mapping[float, int]) -> dict[str, float]:
    """p50, p90, p99 (linear between ranks, as numpy's default) and max, in ms to 0.1 ms, of
    durations in seconds given with how often each came; empty without durations."""
    n = sum(counts.values())
    if not n:
        return {}
    values = sorted(counts)
    ends = []  # the rank just past each value
    seen = 0
    for value in values:
        seen += counts[value]
        ends.append(seen)

    def at(rank: int) -> float:
        low, high = 0, len(ends) - 1
        while low < high:
            mid = (low + high) // 2
            if ends[mid] > rank:
                high = mid
            else:
                low = mid + 1
        return values[low]

    found: dict[str, float] = {}
    for name, q in (("p50", 50), ("p90", 90), ("p99", 99)):
        position = (n - 1) * q / 100
        below = int(position)
        a, b = at(below) * 1000.0, at(min(below + 1, n - 1)) * 1000.0
        found[name] = round(float(a + (b - a) * (position - below)), 1)
    found["max"] = round(values[-1] * 1000.0, 1)
    return found


def _add(parts: Sequence[Mapping[str, int]], ordered: bool = False) -> dict[str, int]:
    total: Counter[str] = Counter()
    keys: dict[str, None] = {}
    for part in parts:
        total.update(part)
        keys.update(dict.fromkeys(part))
    names = sorted(keys) if ordered else list(keys)
    return {name: total[name] for name in names}


def merge_summary(results: Sequence[ShardResult], *, scenario: str, seed: int,
                  speed: dict[str, float]) -> Summary:
    """The run's summary from its shards' (in shard order)."""
    parts = [r.summary for r in sorted(results, key=lambda r: r.index)]
    durations: Counter[float] = Counter()
    for r in results:
        durations.update(r.durations_s)

    def total(name: str) -> int:
        return sum(int(p[name]) for p in parts)

    return Summary(
        scenario=scenario, seed=seed, vehicles=total("vehicles"), passes=total("passes"),
        transactions=total("transactions"), completed=_add([p["completed"] for p in parts]),
        refused=_add([p["refused"] for p in parts], ordered=True),
        not_debited=_add([p["not_debited"] for p in parts], ordered=True),
        unresolved=total("unresolved"), recovered_by_c8=total("recovered_by_c8"),
        settled_on_later_pass=total("settled_on_later_pass"),
        recoveries_started=total("recoveries_started"), revenue_fen=total("revenue_fen"),
        cash_due_fen=total("cash_due_fen"), transaction_ms=percentiles_of_counts(durations),
        pass_ends=_add([p["pass_ends"] for p in parts], ordered=True),
        link=_add([p["link"] for p in parts]), speed=speed,
    )


def merge_audit(results: Sequence[ShardResult]) -> AuditReport:
    """The run's audit: every shard's problems, named by shard, and the counts added up."""
    return merge_reports([(r.name, AuditReport(list(r.audit_problems), Counter(r.audit_counts)))
                          for r in sorted(results, key=lambda r: r.index)])


def merge_reports(named: Sequence[tuple[str, AuditReport]]) -> AuditReport:
    """Audit reports of shards as one: problems named by shard, in the order given."""
    report = AuditReport()
    for name, part in named:
        report.problems.extend(f"{name}: {problem}" for problem in part.problems)
        report.counts.update(part.counts)
    return report
