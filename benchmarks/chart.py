"""The benchmark chart (matplotlib, Agg): decision latency as a CDF with p50, p99 and the target
drawn; the rate targets on linear axes, one per unit, each bar with its goal, misses in red. The
title's counts are the report table's (`judge.tally`)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from benchmarks.judge import Run, Target, tally

#: Latency runs drawn as CDFs: (benchmark, label, colour).
LATENCY_RUNS = (
    ("test_tcp_32_lanes_at_target_load[idle]", "TCP, 1,000 vehicles/s, machine as found",
     "tab:blue"),
    ("test_tcp_32_lanes_at_target_load[loaded]", "TCP, 1,000 vehicles/s, machine loaded",
     "tab:orange"),
    ("test_tcp_32_lanes_at_target_load_commit_on_the_loop",
     "TCP, 1,000 vehicles/s, commit on the loop", "tab:purple"),
)
#: Units of throughput: the targets in these units get a bar.
RATE_UNITS = ("tps", "vehicles/CPU s", "vehicles/s", "×")
COLOURS = {True: "tab:green", False: "tab:red", None: "tab:grey"}


def _cdf(axis: Any, samples: list[float], label: str, colour: str,
         target: Target | None, row: int) -> float:
    """One CDF with its p50 and p99 marked and its target drawn; returns the x it needs."""
    ordered = sorted(samples)
    n = len(ordered)
    axis.plot(ordered, [(i + 1) / n for i in range(n)], color=colour,
              label=f"{label} (n = {n:,})")
    p99 = ordered[min(n - 1, int(n * 0.99))]
    for fraction, name in ((0.50, "p50"), (0.99, "p99")):
        value = ordered[min(n - 1, int(n * fraction))]
        axis.plot([value], [fraction], "o", color=colour)
        axis.annotate(f"{name} {value:.2f} ms", (value, fraction), textcoords="offset points",
                      xytext=(8, -12 - 11 * row), fontsize=8, color=colour)
    needed = 2.5 * p99
    if target is not None and target.absolute_goal is not None:
        needed = max(needed, 1.3 * target.absolute_goal)
        miss = target.met is False
        axis.axvline(target.absolute_goal, color="tab:red" if miss else colour, linestyle="--",
                     linewidth=1.2, label=f"target: fsync p99 + 2 ms = {target.absolute_goal:.2f}"
                     + (" (missed)" if miss else ""))
    return needed


def _latency(axis: Any, run: Run, by_bench: dict[str, Target]) -> None:
    drawn, right = False, 0.0
    for row, (bench, label, colour) in enumerate(LATENCY_RUNS):
        found = run.get(bench)
        samples = [] if found is None else found["extra_info"].get("decision_ms_samples", [])
        if samples:
            right = max(right, _cdf(axis, samples, label, colour, by_bench.get(bench), row))
            drawn = True
    if drawn:
        axis.set_xlabel("ms, B4 read off the socket → its C6 written (lane process)")
        axis.set_title("Real TCP decision latency, 32 lanes, durable journal")
    else:  # no TCP run: the in-process lane core
        bench = run.get("test_transaction[exit-durable]")
        samples = [] if bench is None else bench["extra_info"].get("decision_us_samples", [])
        if samples:
            right = _cdf(axis, [s / 1000 for s in samples],
                         "exit lane, durable journal, in process", "tab:blue", None, 0)
            drawn = True
        axis.set_xlabel("ms, B4 handed to the lane → C6 may leave (intent durable)")
        axis.set_title("Decision latency, in process")
    if right:
        axis.set_xlim(0, right)  # the tail past it is in the table (max)
    axis.set_ylabel("fraction of decisions")
    axis.set_ylim(0, 1.02)
    axis.grid(alpha=0.3)
    if drawn:
        axis.legend(fontsize=7, loc="lower right")
    else:
        axis.text(0.5, 0.5, "no latency samples in this run", ha="center",
                  transform=axis.transAxes)


def _rates(fig: Any, slots: list[Any], targets: list[Target]) -> None:
    by_unit: dict[str, list[Target]] = {}
    for t in targets:
        if t.unit in RATE_UNITS:
            by_unit.setdefault(t.unit, []).append(t)
    for axis, unit in zip(slots, RATE_UNITS, strict=True):
        rows = by_unit.get(unit, [])
        if not rows:
            axis.set_visible(False)
            continue
        labels = [textwrap.fill(t.name, 40) for t in rows]
        values = [t.figure or 0.0 for t in rows]
        axis.barh(labels, values, color=[COLOURS[t.met] if t.judged else "tab:grey"
                                         for t in rows])
        for y, t in enumerate(rows):
            if t.absolute_goal is not None:
                axis.vlines(t.absolute_goal, y - 0.4, y + 0.4, colors="black", linestyles="--")
            axis.text(t.figure or 0, y, " n/a" if t.figure is None else f" {t.figure:,.0f}",
                      va="center", fontsize=8)
        axis.set_xlabel(f"{unit} (linear; dashed: the goal in this run)")
        axis.tick_params(axis="y", labelsize=7)
        axis.invert_yaxis()
        axis.grid(axis="x", alpha=0.3)


def draw(run: Run, targets: list[Target], path: Path) -> None:
    """The chart of one report, as a PNG at `path`."""
    fig = plt.figure(figsize=(15, 8))
    grid = fig.add_gridspec(len(RATE_UNITS), 2, width_ratios=(1.1, 1))
    latency = fig.add_subplot(grid[:, 0])
    by_bench = {t.bench: t for t in targets if t.unit == "ms" and t.compare == "margin"}
    _latency(latency, run, by_bench)
    _rates(fig, [fig.add_subplot(grid[i, 1]) for i in range(len(RATE_UNITS))], targets)
    fig.suptitle(f"ETC lane engine benchmarks: {tally(targets).headline()} "
                 "(red: missed, green: met)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
