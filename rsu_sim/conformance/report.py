"""The conformance report: per lane, each rule's verdict with its evidence; as JSON
(`conformance.json`) and as Markdown for a person (`conformance.md`); and which verdicts fail a
CI run (`--fail-on`)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rsu_sim.conformance.rules import BY_ID, RULE_IDS, RULES, Family, Rule

#: Evidence kept per rule and lane (every failure is counted; the first ones are shown).
EVIDENCE_KEPT = 50
#: Evidence shown per rule and lane in the Markdown report.
EVIDENCE_SHOWN = 5


class Verdict(enum.Enum):
    """How a rule came out for a lane."""

    #: every check held (or nothing of its kind happened: `checked` 0)
    PASS = "pass"
    #: at least one check failed
    FAIL = "fail"
    #: what the rule needs was not given (a note says what)
    NOT_JUDGED = "not_judged"


@dataclass(frozen=True, slots=True)
class FrameRef:
    """A frame of the evidence: which way, which type, its SEQ and when."""

    direction: str  # "RX" from the lane, "TX" to the lane
    frame: str  # "B4", "C6", ...
    seq: int
    at: float  # UNIX seconds

    def to_json(self, zone: dt.tzinfo) -> dict[str, Any]:
        return {"direction": self.direction, "frame": self.frame, "seq": f"{self.seq:02x}",
                "time": _iso(self.at, zone)}

    def text(self, zone: dt.tzinfo) -> str:
        arrow = "lane→RSU" if self.direction == "RX" else "RSU→lane"
        return f"{self.frame} SEQ {self.seq:02x} {arrow} {_iso(self.at, zone)[11:23]}"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One failed check: the vehicle (or '-'), the frames, what was expected and what was seen."""

    connection: str
    vehicle: str
    frames: tuple[FrameRef, ...]
    expected: str
    seen: str


@dataclass(slots=True)
class RuleResult:
    """A rule's verdict for one lane."""

    rule: Rule
    checked: int = 0
    failed: int = 0
    evidence: list[Evidence] = field(default_factory=list)
    note: str = ""
    judged: bool = True

    @property
    def verdict(self) -> Verdict:
        if not self.judged:
            return Verdict.NOT_JUDGED
        return Verdict.FAIL if self.failed else Verdict.PASS

    def check(self, ok: bool, evidence: Evidence | None = None) -> None:
        """Count one check; a failed one keeps its evidence (up to `EVIDENCE_KEPT`)."""
        self.checked += 1
        if not ok:
            self.failed += 1
            if evidence is not None and len(self.evidence) < EVIDENCE_KEPT:
                self.evidence.append(evidence)


@dataclass(slots=True)
class LaneResult:
    """One lane's verdicts."""

    lane_id: str
    mode: str
    station: str
    connections: list[str] = field(default_factory=list)
    frames: int = 0
    passes: int = 0
    rules: dict[str, RuleResult] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.rules:
            self.rules = {rule.id: RuleResult(rule) for rule in RULES}


@dataclass(slots=True)
class Report:
    """Every lane's verdicts, the notes on what could not be judged, and the inputs named."""

    lanes: list[LaneResult]
    inputs: dict[str, str]
    notes: list[str] = field(default_factory=list)
    zone: dt.tzinfo = dt.UTC

    def failed_rules(self) -> set[str]:
        """Ids of the rules that failed for some lane."""
        return {rid for lane in self.lanes for rid, r in lane.rules.items()
                if r.verdict is Verdict.FAIL}

    def summary(self) -> dict[str, int]:
        """Rules by verdict, over rules and lanes."""
        counts = {verdict.value: 0 for verdict in Verdict}
        for lane in self.lanes:
            for result in lane.rules.values():
                counts[result.verdict.value] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON document."""
        return {
            "format": 1, "inputs": self.inputs, "notes": self.notes,
            "summary": {**self.summary(), "failed_rules": sorted(self.failed_rules())},
            "lanes": [{
                "lane": lane.lane_id, "mode": lane.mode, "station": lane.station,
                "connections": lane.connections, "frames": lane.frames, "passes": lane.passes,
                "rules": [{
                    "rule": rid, "family": r.rule.family.value, "title": r.rule.title,
                    "verdict": r.verdict.value, "checked": r.checked, "failed": r.failed,
                    "note": r.note,
                    "evidence": [{
                        "connection": e.connection, "vehicle": e.vehicle,
                        "frames": [f.to_json(self.zone) for f in e.frames],
                        "expected": e.expected, "seen": e.seen,
                    } for e in r.evidence],
                } for rid, r in lane.rules.items()],
            } for lane in self.lanes],
        }

    def markdown(self) -> str:
        """The report for a person: a table per lane, then the evidence of each failure."""
        summary = self.summary()
        failed = sorted(self.failed_rules())
        lines = ["# Conformance report", "",
                 f"{summary['pass']} rule verdicts pass, {summary['fail']} fail, "
                 f"{summary['not_judged']} not judged"
                 + (f"; failing: {', '.join(f'`{r}`' for r in failed)}" if failed else "") + ".",
                 ""]
        lines += [f"* {name}: {value}" for name, value in self.inputs.items()]
        lines += [f"* note: {note}" for note in self.notes]
        for lane in self.lanes:
            lines += ["", f"## Lane {lane.lane_id} ({lane.mode}, {lane.station})", "",
                      f"Connections {', '.join(lane.connections) or 'none'}; {lane.frames} "
                      f"frames; {lane.passes} passes.", "",
                      "| rule | verdict | checked | failed | |", "|---|---|---|---|---|"]
            for rid, r in lane.rules.items():
                mark = {"pass": "pass", "fail": "**FAIL**", "not_judged": "not judged"}
                lines.append(f"| `{rid}` | {mark[r.verdict.value]} | {r.checked} | {r.failed} "
                             f"| {r.note or r.rule.title} |")
            for rid, r in lane.rules.items():
                if not r.evidence:
                    continue
                lines += ["", f"### `{rid}`: {r.failed} failed", "", r.rule.title, ""]
                for e in r.evidence[:EVIDENCE_SHOWN]:
                    frames = "; ".join(f.text(self.zone) for f in e.frames)
                    lines.append(f"* {e.vehicle} ({e.connection}): expected {e.expected}; "
                                 f"seen {e.seen}. Frames: {frames}")
                if r.failed > EVIDENCE_SHOWN:
                    lines.append(f"* ... {r.failed - EVIDENCE_SHOWN} more in conformance.json"
                                 if len(r.evidence) > EVIDENCE_SHOWN else
                                 f"* ... {r.failed - EVIDENCE_SHOWN} more")
        return "\n".join(lines) + "\n"


def parse_fail_on(text: str) -> frozenset[str]:
    """The rule ids `--fail-on` names: `any`, `none`, `protocol`, `business`, or rule ids,
    comma-separated; ValueError naming an unknown one."""
    chosen: set[str] = set()
    for part in (p.strip() for p in text.split(",")):
        if part == "none" or not part:
            continue
        if part == "any":
            chosen |= RULE_IDS
        elif part in {family.value for family in Family}:
            chosen |= {rule.id for rule in RULES if rule.family.value == part}
        elif part in BY_ID:
            chosen.add(part)
        else:
            raise ValueError(f"{part!r} is not a rule, 'any', 'none', 'protocol' or 'business'")
    return frozenset(chosen)


def fails(report: Report, fail_on: Iterable[str]) -> list[str]:
    """The failed rules among those `fail_on` names (empty: the run passes the gate)."""
    return sorted(report.failed_rules() & set(fail_on))


def _iso(at: float, zone: dt.tzinfo) -> str:
    return dt.datetime.fromtimestamp(at, zone).isoformat(timespec="milliseconds")


__all__ = ["EVIDENCE_KEPT", "Evidence", "FrameRef", "LaneResult", "Report", "RuleResult",
           "Verdict", "fails", "parse_fail_on"]
