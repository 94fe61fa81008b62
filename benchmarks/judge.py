"""Targets, declared in `benchmarks/targets/*.toml` (one file per suite), judged against a run.

Every target compares a figure with a baseline measured in the same run and judges only that
comparison, so a faster or a busier machine moves both and the verdict holds; the absolute
figures are shown as what they were on this machine, never judged. A suite adds its targets by
adding rows (or a file) to `benchmarks/targets/`:

    [[target]]
    id = "exit-wire"                      # stable: the report compares runs by it
    name = "exit transaction with the wire codec, lane side, CPU"
    figure = { bench = "test_exit_lane_with_wire_codec", key = "cpu_us_per_item", unit = "µs" }
    baseline = { bench = "test_exit_floor", key = "cpu_us_per_item", unit = "µs",
                 name = "the floor: struct, fastcrc, cryptography" }
    compare = "ratio"                     # figure / baseline (or "inverse", "margin")
    at_most = 5.0                         # or at_least
    note = "..."                          # optional: where the goal comes from
    judged = true                         # false: shown for reference only

`key` names an `extra_info` figure of the benchmark, or one of its stats (`median`, `mean`,
`min`, `max`) in seconds. `compare`: "ratio" is figure / baseline, "inverse" baseline / figure
(a speed-up when both are times), "margin" figure − baseline in the figure's unit.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TARGETS_DIR = Path(__file__).resolve().parent / "targets"
COMPARISONS = ("ratio", "inverse", "margin")
STATS = ("median", "mean", "min", "max")


class TargetFileError(ValueError):
    """A target file that does not say what the report needs (names the file and the row)."""


class Run:
    """The benchmarks of one pytest-benchmark JSON, found by test name."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.by_name = {b["name"]: b for b in raw.get("benchmarks", [])}

    def get(self, name: str) -> dict[str, Any] | None:
        return self.by_name.get(name)

    def extra(self, name: str, key: str) -> float | None:
        bench = self.get(name)
        value = None if bench is None else bench["extra_info"].get(key)
        return None if value is None else float(value)

    def median(self, name: str) -> float | None:
        bench = self.get(name)
        return None if bench is None else float(bench["stats"]["median"])

    def figure(self, name: str, key: str) -> float | None:
        """`extra_info[key]` of benchmark `name`, or its stat `key` (seconds)."""
        bench = self.get(name)
        if bench is None:
            return None
        if key in STATS and key not in bench["extra_info"]:
            return float(bench["stats"][key])
        return self.extra(name, key)

    def machine(self) -> dict[str, Any]:
        info = self.raw.get("machine_info", {})
        return {**info.get("etc", {}), "host": info.get("node", "")}


@dataclass(frozen=True, slots=True)
class Figure:
    """Where a figure comes from: a benchmark, its key, the unit, and what to call it."""

    bench: str
    key: str
    unit: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """One declared target."""

    id: str
    name: str
    figure: Figure
    baseline: Figure
    compare: str
    at_most: float | None
    at_least: float | None
    judged: bool
    note: str
    suite: str

    def goal_text(self) -> str:
        """The goal in words, e.g. "≤ 5× baseline", "≥ 1.5× faster", "≤ baseline + 2 ms"."""
        bound = ("≤ ", self.at_most) if self.at_most is not None else ("≥ ", self.at_least)
        value = f"{bound[1]:g}"
        if self.compare == "margin":
            return f"{bound[0]}baseline + {value} {self.figure.unit}"
        if self.compare == "inverse":
            return f"baseline / figure {bound[0]}{value}"
        return f"{bound[0]}{value} × baseline"

    def absolute_goal(self, baseline: float | None) -> float | None:
        """The goal in the figure's unit for this run's baseline (what the chart draws)."""
        bound = self.at_most if self.at_most is not None else self.at_least
        if baseline is None or bound is None:
            return None
        if self.compare == "margin":
            return baseline + bound
        if self.compare == "inverse":
            return baseline / bound if bound else None
        return baseline * bound


@dataclass(frozen=True, slots=True)
class Target:
    """A target judged against a run: both figures on this machine, their comparison, verdict."""

    id: str
    name: str
    figure: float | None
    unit: str
    goal: str
    baseline_name: str
    baseline: float | None
    baseline_unit: str
    compare: str
    ratio: float | None  # the judged comparison (a ratio, or a margin for "margin")
    met: bool | None  # None: not measured in this run
    judged: bool = True
    note: str = ""
    absolute_goal: float | None = None  # the goal in the figure's unit, for this baseline
    bench: str = ""  # the benchmark the figure comes from


def _figure(value: Any, where: str) -> Figure:
    if not isinstance(value, dict) or not {"bench", "key"} <= set(value):
        raise TargetFileError(f"{where}: wants a table with bench and key")
    unknown = set(value) - {"bench", "key", "unit", "name"}
    if unknown:
        raise TargetFileError(f"{where}: unknown fields {sorted(unknown)}")
    return Figure(str(value["bench"]), str(value["key"]), str(value.get("unit", "")),
                  str(value.get("name", value["bench"])))


FIELDS = {"id", "name", "figure", "baseline", "compare", "at_most", "at_least", "judged", "note"}


def _spec(row: dict[str, Any], where: str, suite: str) -> TargetSpec:
    unknown = set(row) - FIELDS
    if unknown:
        raise TargetFileError(f"{where}: unknown fields {sorted(unknown)}")
    for name in ("id", "name", "figure", "baseline"):
        if name not in row:
            raise TargetFileError(f"{where}: {name} is missing")
    compare = row.get("compare", "ratio")
    if compare not in COMPARISONS:
        raise TargetFileError(f"{where}.compare: {compare!r} is not one of {COMPARISONS}")
    at_most, at_least = row.get("at_most"), row.get("at_least")
    if (at_most is None) == (at_least is None):
        raise TargetFileError(f"{where}: give exactly one of at_most and at_least")
    return TargetSpec(
        id=str(row["id"]), name=str(row["name"]),
        figure=_figure(row["figure"], f"{where}.figure"),
        baseline=_figure(row["baseline"], f"{where}.baseline"), compare=compare,
        at_most=None if at_most is None else float(at_most),
        at_least=None if at_least is None else float(at_least),
        judged=bool(row.get("judged", True)), note=str(row.get("note", "")), suite=suite)


def load_specs(directory: Path = TARGETS_DIR) -> list[TargetSpec]:
    """Every target of every `*.toml` in `directory`, files in name order, rows in file order."""
    specs: list[TargetSpec] = []
    for path in sorted(directory.glob("*.toml")):
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise TargetFileError(f"{path.name}: {exc}") from exc
        rows = document.get("target", [])
        if not isinstance(rows, list):
            raise TargetFileError(f"{path.name}: [[target]] rows expected")
        for index, row in enumerate(rows):
            specs.append(_spec(row, f"{path.name}: target[{index}]", path.stem))
    ids = [s.id for s in specs]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise TargetFileError(f"target ids repeat: {repeated}")
    return specs


def _compare(spec: TargetSpec, figure: float | None, baseline: float | None) -> float | None:
    if figure is None or baseline is None:
        return None
    if spec.compare == "margin":
        return figure - baseline
    if spec.compare == "inverse":
        return None if figure == 0 else baseline / figure
    return None if baseline == 0 else figure / baseline


def judge(spec: TargetSpec, run: Run) -> Target:
    """`spec` against `run`."""
    figure = run.figure(spec.figure.bench, spec.figure.key)
    baseline = run.figure(spec.baseline.bench, spec.baseline.key)
    value = _compare(spec, figure, baseline)
    met = None
    if value is not None:
        met = value <= spec.at_most if spec.at_most is not None else value >= spec.at_least  # type: ignore[operator]
    return Target(spec.id, spec.name, figure, spec.figure.unit, spec.goal_text(),
                  spec.baseline.name, baseline, spec.baseline.unit, spec.compare, value, met,
                  spec.judged, spec.note, spec.absolute_goal(baseline), spec.figure.bench)


def judge_all(run: Run, specs: list[TargetSpec] | None = None) -> list[Target]:
    """Every declared target against `run`."""
    return [judge(spec, run) for spec in (load_specs() if specs is None else specs)]


@dataclass(frozen=True, slots=True)
class Tally:
    """How the judged targets of a run stand (the table's count and the chart's title)."""

    met: int
    missed: int
    not_measured: int

    @property
    def measured(self) -> int:
        return self.met + self.missed

    def headline(self) -> str:
        text = f"{self.met} of {self.measured} measured targets met"
        if self.missed:
            text += f", {self.missed} missed"
        if self.not_measured:
            text += f" ({self.not_measured} not measured)"
        return text


def tally(targets: list[Target]) -> Tally:
    """Met, missed and not measured among the judged targets."""
    judged = [t for t in targets if t.judged]
    return Tally(sum(t.met is True for t in judged), sum(t.met is False for t in judged),
                 sum(t.met is None for t in judged))
