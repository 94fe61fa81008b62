"""What a real-TCP plaza run came to, from its journal (authoritative), the server's summary and
the edge's measurements: a frozen `PlazaSummary`, as a table for people and a dict for JSON."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from lane_engine.core.outcomes import Outcome
from lane_engine.journal import EntryState
from rsu_sim.plaza_run import PlazaRunResult, decision_latency_definition

#: Outcomes that completed the vehicle's transaction, as the summary lists them.
COMPLETED = (Outcome.DEBITED, Outcome.CASH_REQUIRED, Outcome.ENTRY_WRITTEN)


@dataclass(frozen=True, slots=True)
class PlazaSummary:
    """The result of one run, every figure a plain value."""

    scenario: str
    seed: int
    lanes: int
    speed: float
    vehicles: int
    arrivals: int
    pass_ends: dict[str, int]
    transactions: int
    completed: dict[str, int]
    refused: dict[str, int]
    not_debited: dict[str, int]
    unresolved: int
    recoveries_started: int
    recovered: int
    settled_on_later_pass: int
    revenue_fen: int
    cash_due_fen: int
    decision_ms: dict[str, float]
    link: dict[str, int]
    outbox_backlog: int
    wall_s: float
    audit_clean: bool

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON values."""
        return asdict(self)


def summarise_run(result: PlazaRunResult, *, scenario: str, seed: int, lanes: int,
                  speed: float) -> PlazaSummary:
    """Freeze a finished run into a `PlazaSummary` (counts from the journal's final records)."""
    records = [e.record for e in result.journal if e.state is not EntryState.DUPLICATE]
    outcomes = Counter(r.outcome for r in records)
    refused = Counter(r.reason.name for r in records if r.outcome is Outcome.REFUSED)
    failed = Counter(r.reason.name for r in records if r.outcome is Outcome.NOT_DEBITED)
    latencies = np.array(result.edge.latencies_s) * 1000.0
    decision: dict[str, float] = {}
    if latencies.size:
        for name, q in (("p50", 50), ("p90", 90), ("p99", 99)):
            decision[name] = round(float(np.percentile(latencies, q)), 1)
        decision["max"] = round(float(latencies.max()), 1)
    served = result.serve
    return PlazaSummary(
        scenario=scenario, seed=seed, lanes=lanes, speed=speed, vehicles=served.vehicles,
        arrivals=served.arrivals,
        pass_ends={end.value: n for end, n in sorted(served.ended.items(),
                                                     key=lambda kv: kv[0].value)},
        transactions=len(records),
        completed={o.value: outcomes[o] for o in COMPLETED if outcomes[o]},
        refused=dict(sorted(refused.items())), not_debited=dict(sorted(failed.items())),
        unresolved=outcomes[Outcome.UNRESOLVED],
        recoveries_started=result.edge.recoveries_started,
        recovered=sum(1 for r in records if r.recovered and r.outcome is not Outcome.UNRESOLVED),
        settled_on_later_pass=result.edge.settled_later,
        revenue_fen=sum(r.amount_debited for r in records if r.outcome is Outcome.DEBITED),
        cash_due_fen=sum(r.cash_fee for r in records if r.outcome is Outcome.CASH_REQUIRED),
        decision_ms=decision,
        link={"rsu_connections": served.connections, "frames_sent": served.frames_sent,
              "frames_received": served.frames_received,
              "corrupted_frames": served.corrupted_frames,
              "duplicated_frames": served.duplicated_frames, "rsu_restarts": served.restarts},
        outbox_backlog=result.outbox_backlog, wall_s=round(result.wall_s, 2),
        audit_clean=result.audit.clean,
    )


def _yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"


def format_summary(s: PlazaSummary, *, published: bool) -> str:
    """The summary as a readable text table; `published`: whether an MQTT broker was given."""
    rows: list[tuple[str, str]] = [
        ("scenario", f"{s.scenario} (seed {s.seed}), {s.lanes} exit lanes, speed x{s.speed:g}"),
        ("vehicles / arrivals", f"{s.vehicles:,} / {s.arrivals:,}"),
        ("passes ended", ", ".join(f"{k} {v:,}" for k, v in s.pass_ends.items()) or "0"),
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
        ("  completed by recovery", f"{s.recovered:,}"),
        ("  settled on a later pass", f"{s.settled_on_later_pass:,}"),
        ("revenue", f"{s.revenue_fen:,} fen = {_yuan(s.revenue_fen)} yuan"),
        ("cash due", f"{s.cash_due_fen:,} fen = {_yuan(s.cash_due_fen)} yuan"),
    ]
    if s.decision_ms:
        rows.append(("decision latency (ms)",
                     "  ".join(f"{k} {v:.1f}" for k, v in s.decision_ms.items())))
    rows.append(("link", ", ".join(f"{k} {v:,}" for k, v in s.link.items())))
    if published:
        rows.append(("MQTT", "every record published" if not s.outbox_backlog
                     else f"{s.outbox_backlog:,} records still in the outbox"))
    rate = s.arrivals / s.wall_s if s.wall_s > 0 else 0.0
    rows.append(("wall time", f"{s.wall_s:.1f} s ({rate:.1f} vehicles/s)"))
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value}" for label, value in rows]
    lines.append(f"{'':<{width}}  (decision latency: {decision_latency_definition()})")
    return "\n".join(lines)
