"""The benchmark chart (matplotlib, Agg): decision-latency histograms and throughput bars."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

if TYPE_CHECKING:
    from benchmarks.report import Run, Target


def draw(run: Run, targets: list[Target], path: Path) -> None:
    """Left: in-process decision latency (B4 → C6 ready) per journal; right: throughput bars
    with their targets (log scale)."""
    fig, (latency, throughput) = plt.subplots(1, 2, figsize=(15, 5.5))
    for kind, colour in (("none", "tab:green"), ("memory", "tab:blue"),
                         ("sqlite-memory", "tab:orange"), ("durable", "tab:red")):
        bench = run.get(f"test_transaction[exit-{kind}]")
        samples = [] if bench is None else bench["extra_info"].get("decision_us_samples", [])
        if samples:
            latency.hist(samples, bins=60, alpha=0.6, color=colour, label=f"journal {kind}",
                         log=True)
    latency.set_xscale("log")
    latency.set_xlabel("µs, B4 handed to the lane → C6 may leave (intent journaled)")
    latency.set_ylabel("vehicles")
    latency.set_title("Exit lane decision latency, in process")
    latency.legend()

    sqlite_32 = run.extra("test_group_commit_32_lanes[sqlite-memory]", "transactions_per_s")
    bars = [
        ("core\nno journal",
         _rate(run.extra("test_transaction[exit-none]", "cpu_us_per_item")), None),
        ("core +\nMemoryJournal",
         _rate(run.extra("test_transaction[exit-memory]", "cpu_us_per_item")), 20_000),
        ("32 lanes\nMemoryJ.",
         run.extra("test_group_commit_32_lanes[memory]", "transactions_per_s"), None),
        ("32 lanes\nSQLite mem.", sqlite_32, None),
        ("32 lanes\ndurable", run.extra("test_group_commit_32_lanes[durable]",
                                        "transactions_per_s"), 0.5 * (sqlite_32 or 0)),
        ("simulation\nfull crypto", run.extra("test_virtual_time_simulation",
                                              "vehicles_per_cpu_s"), 5_000),
        ("TCP 32 lanes\nscripted", run.extra(
            "test_tcp_32_lanes_throughput_and_decision_latency", "transactions_per_s"), 1_000),
        ("TCP 32 lanes\nsimulated", run.extra("test_tcp_32_lanes_simulated_rsus",
                                              "transactions_per_s"), None),
    ]
    labels = [label for label, _, _ in bars]
    values = [value or 0.0 for _, value, _ in bars]
    throughput.bar(labels, values, color="tab:blue")
    for x, (_, value, goal) in enumerate(bars):
        if goal:
            throughput.hlines(goal, x - 0.4, x + 0.4, colors="black", linestyles="--")
        throughput.text(x, (value or 0) * 1.02, "n/a" if value is None else f"{value:,.0f}",
                        ha="center", fontsize=8)
    throughput.set_yscale("log")
    throughput.tick_params(axis="x", labelsize=7)
    throughput.set_ylabel("transactions (vehicles) per second; dashed: target")
    throughput.set_title("Throughput")
    met = sum(1 for t in targets if t.judged and t.met)
    measured = sum(1 for t in targets if t.judged and t.met is not None)
    fig.suptitle(f"ETC lane engine benchmarks: {met} of {measured} measured targets met")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _rate(us_per_item: float | None) -> float | None:
    return None if not us_per_item else 1e6 / us_per_item
