"""What a real-TCP plaza run came to, from its journal (authoritative), the server's summary and
the edge's measurements: a frozen `PlazaSummary`, as a table for people and a dict for JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from lane_engine.core.outcomes import Outcome
from lane_engine.journal import EntryState
from rsu_sim.plaza.run import PlazaRunResult, decision_latency_definition
from rsu_sim.results.figures import (
    joined_counts,
    joined_ms,
    outcome_figures,
    outcome_rows,
    percentiles_ms,
    render_table,
)

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
    figures = outcome_figures(e.record for e in result.journal
                              if e.state is not EntryState.DUPLICATE)
    outcomes = figures.outcomes
    served = result.serve
    return PlazaSummary(
        scenario=scenario, seed=seed, lanes=lanes, speed=speed, vehicles=served.vehicles,
        arrivals=served.arrivals,
        pass_ends={end.value: n for end, n in sorted(served.ended.items(),
                                                     key=lambda kv: kv[0].value)},
        transactions=figures.transactions,
        completed={o.value: outcomes[o] for o in COMPLETED if outcomes[o]},
        refused=figures.refused, not_debited=figures.not_debited,
        unresolved=outcomes[Outcome.UNRESOLVED],
        recoveries_started=result.edge.recoveries_started,
        recovered=figures.recovered,
        settled_on_later_pass=result.edge.settled_later,
        revenue_fen=figures.revenue_fen, cash_due_fen=figures.cash_due_fen,
        decision_ms=percentiles_ms(result.edge.latencies_s),
        link={"rsu_connections": served.connections, "frames_sent": served.frames_sent,
              "frames_received": served.frames_received,
              "corrupted_frames": served.corrupted_frames,
              "duplicated_frames": served.duplicated_frames, "rsu_restarts": served.restarts},
        outbox_backlog=result.outbox_backlog, wall_s=round(result.wall_s, 2),
        audit_clean=result.audit.clean,
    )


def format_summary(s: PlazaSummary, *, published: bool) -> str:
    """The summary as a readable text table; `published`: whether an MQTT broker was given."""
    rows: list[tuple[str, str]] = [
        ("scenario", f"{s.scenario} (seed {s.seed}), {s.lanes} exit lanes, speed x{s.speed:g}"),
        ("vehicles / arrivals", f"{s.vehicles:,} / {s.arrivals:,}"),
        ("passes ended", joined_counts(s.pass_ends) or "0"),
        ("transactions journaled", f"{s.transactions:,}"),
    ]
    rows += outcome_rows(s, recovered=("completed by recovery", s.recovered))
    if s.decision_ms:
        rows.append(("decision latency (ms)", joined_ms(s.decision_ms)))
    rows.append(("link", joined_counts(s.link)))
    if published:
        rows.append(("MQTT", "every record published" if not s.outbox_backlog
                     else f"{s.outbox_backlog:,} records still in the outbox"))
    rate = s.arrivals / s.wall_s if s.wall_s > 0 else 0.0
    rows.append(("wall time", f"{s.wall_s:.1f} s ({rate:.1f} vehicles/s)"))
    return render_table(rows, footnote=f"decision latency: {decision_latency_definition()}")
