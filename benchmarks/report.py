"""`python -m benchmarks.report [RAW.json]`: where the engine stands, from a pytest-benchmark JSON.

Writes benchmarks/results/<date>.json (figures, targets, machine), <date>.md and latest.md (the
summary) and <date>.png (chart). Every figure is set beside a baseline measured in the same run.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
RAW_DEFAULT = RESULTS / "raw.json"


@dataclass(frozen=True, slots=True)
class Target:
    """One goal: the figure, its same-run baseline, their ratio and whether the goal is met."""

    name: str
    figure: float | None
    unit: str
    goal: str
    baseline_name: str
    baseline: float | None
    ratio: float | None
    met: bool | None  # None: not measured in this run
    judged: bool = True  # False: the same figure against another baseline, shown for reference


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

    def machine(self) -> dict[str, Any]:
        info = self.raw.get("machine_info", {})
        return {**info.get("etc", {}), "host": info.get("node", "")}


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


TCP = "test_tcp_32_lanes_throughput_and_decision_latency"
TCP_TARGET_LOAD = "test_tcp_32_lanes_at_target_load"
TCP_SIMULATED = "test_tcp_32_lanes_simulated_rsus"
GROUP_COMMIT_NOTE = (
    "The group-commit target (durable ≥ 50 % of in-memory, 32 lanes) is judged against "
    "SqliteJournal(\":memory:\"): the same SQLite engine and statements without the disk, so "
    "the ratio isolates what durability (WAL, fsync per group commit) costs and what group "
    "commit keeps of it. The ratio against MemoryJournal (pure Python dicts, the fastest "
    "in-memory journal) is shown beside it, not judged: it also counts the SQLite engine's own "
    "cost, which no commit strategy removes.")
TCP_NOTE = (
    "Real TCP: the sustained rate is the lane process's capacity, driven by scripted RSUs in "
    "another process that answer at once (20 s window after a warm-up); the p99 target is "
    "judged at the target's load (1,000 vehicles/s offered), and the p99 at full saturation "
    "is its baseline. The realistic figure (the simulator's RSUs, radio timing in real time, "
    "~0.2 s per pass) is the baseline of the rate. Decision latency is B4 read off the socket "
    "→ its C6 written to the socket, measured in the lane process.")


def targets(run: Run) -> list[Target]:
    """The targets of the benchmarks issue, each with its baseline from the same run."""
    found: list[Target] = []
    cpu_memory = run.extra("test_transaction[exit-memory]", "cpu_us_per_item")
    cpu_core = run.extra("test_transaction[exit-none]", "cpu_us_per_item")
    found.append(Target(
        "exit transaction, lane core + in-memory journal (MemoryJournal), CPU", cpu_memory, "µs",
        "≤ 50 µs", "lane core alone, no journal", cpu_core, _ratio(cpu_memory, cpu_core),
        None if cpu_memory is None else cpu_memory <= 50))
    durable = run.extra("test_group_commit_32_lanes[durable]", "transactions_per_s")
    for kind, label, judged in (("sqlite-memory", 'SqliteJournal(":memory:")', True),
                                ("memory", "MemoryJournal", False)):
        base = run.extra(f"test_group_commit_32_lanes[{kind}]", "transactions_per_s")
        ratio = _ratio(durable, base)
        found.append(Target(
            "32 lanes, durable journal with group commit"
            + ("" if judged else " (reference ratio, not judged)"), durable, "tps",
            "≥ 50 % of in-memory", f"same 32 lanes, {label}", base, ratio,
            None if ratio is None else ratio >= 0.5, judged))
    sim = run.extra("test_virtual_time_simulation", "vehicles_per_cpu_s")
    core_rate = None if cpu_core is None else 1e6 / cpu_core
    found.append(Target(
        "virtual-time simulation, full crypto, one core", sim, "vehicles/s", "≥ 5,000",
        "lane core alone (exit txn/CPU s)", core_rate, _ratio(sim, core_rate),
        None if sim is None else sim >= 5_000))
    for stations in (200, 2_000):
        numba = run.extra(f"test_batch_pricing[numba-{stations}]", "seconds_for_10m")
        for other, goal in (("numpy", 1.5), ("python", 50.0)):
            base = run.extra(f"test_batch_pricing[{other}-{stations}]", "seconds_for_10m")
            speed_up = _ratio(base, numba)
            sample = " (1 % sample, scaled)" if other == "python" else ""
            found.append(Target(
                f"batch pricing 10M trips, {stations} stations: numba vs {other}", numba, "s",
                f"≥ {goal:g}× faster", f"{other}{sample}", base, speed_up,
                None if speed_up is None else speed_up >= goal))
    tcp = run.extra(TCP, "transactions_per_s")
    realistic = run.extra(TCP_SIMULATED, "transactions_per_s")
    found.append(Target(
        "real TCP, 32 lanes, sustained (lane capacity, scripted RSUs)", tcp, "tps", "≥ 1,000",
        "simulated RSUs in real time (realistic)", realistic, _ratio(tcp, realistic),
        None if tcp is None else tcp >= 1_000))
    p99 = run.extra(TCP_TARGET_LOAD, "decision_ms_p99")
    saturated = run.extra(TCP, "decision_ms_p99")
    found.append(Target(
        "real TCP decision latency B4 → C6, p99, at 1,000 vehicles/s offered", p99, "ms",
        "≤ 5 ms", "p99 at saturation (lane capacity run)", saturated, _ratio(p99, saturated),
        None if p99 is None else p99 <= 5))
    return found


JOURNAL_LABELS = {"none": "none", "memory": "MemoryJournal",
                  "sqlite-memory": 'SqliteJournal(":memory:")',
                  "durable": "SqliteJournal(file), durable"}


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _status(met: bool | None, judged: bool = True) -> str:
    if not judged:
        return {True: "reference (≥ 50 %)", False: "reference (< 50 %)",
                None: "not measured"}[met]
    return {True: "met", False: "**missed**", None: "not measured"}[met]


def _us(seconds: float | None) -> str:
    return "—" if seconds is None else _fmt(seconds * 1e6)


def figures(run: Run) -> list[tuple[str, list[str], list[list[str]]]]:
    """Every suite as a (title, header, rows) table."""
    tables: list[tuple[str, list[str], list[list[str]]]] = []
    frames = sorted({b["extra_info"]["frame"] for b in run.by_name.values()
                     if b["extra_info"].get("kind") == "decode"})
    rows = []
    for frame in frames:
        fast = run.median(f"test_decode[fast-{frame}]")
        fast_bench = run.get(f"test_decode[fast-{frame}]")
        hand = run.median(f"test_decode_struct_baseline[{frame}]")
        rows.append([frame, fast_bench["extra_info"]["impl"] if fast_bench else "—", _us(fast),
                     _us(run.median(f"test_decode[interpreted-{frame}]")), _us(hand),
                     _us(run.median(f"test_encode[fast-{frame}]")),
                     _us(run.median(f"test_encode[interpreted-{frame}]")),
                     _us(run.median(f"test_encode_struct_baseline[{frame}]")),
                     _fmt(_ratio(fast, hand))])
    tables.append(("Frames (µs per frame, median)",
                   ["frame", "default path", "decode default", "decode construct interpreted",
                    "decode hand-written struct (baseline)", "encode default",
                    "encode construct interpreted", "encode hand-written struct (baseline)",
                    "decode default / hand-written"], rows))
    crc = [b for b in run.by_name.values() if b["extra_info"].get("kind") == "crc"]
    table_crc = run.median("test_crc16_x25[table (protocols.crc)]")
    tables.append((f"CRC-16/X-25 over {crc[0]['extra_info']['bytes'] if crc else '?'} bytes",
                   ["implementation", "µs", "vs protocols.crc table"],
                   [[b["extra_info"]["impl"], _us(b["stats"]["median"]),
                     _fmt(_ratio(b["stats"]["median"], table_crc))] for b in crc]))
    ops = sorted({b["extra_info"]["operation"] for b in run.by_name.values()
                  if b["extra_info"].get("kind") == "crypto"})
    tables.append(("Crypto (µs per operation, median)", ["operation", "3DES", "SM4", "SM4 / 3DES"],
                   [[op, _us(run.median(f"test_crypto[{op}-TDES]")),
                     _us(run.median(f"test_crypto[{op}-SM4]")),
                     _fmt(_ratio(run.median(f"test_crypto[{op}-SM4]"),
                                 run.median(f"test_crypto[{op}-TDES]")))] for op in ops]))
    rows = []
    for name in ("test_fee_lookup_scalar", "test_fee_lookup_scalar_dict_baseline"):
        rows.append([f"scalar lookup, {run.get(name)['extra_info']['impl']}" if run.get(name)
                     else name, _fmt(run.extra(name, "wall_us_per_item")), "µs"])
    for stations in (200, 2_000):
        for impl in ("numba", "numpy", "python"):
            name = f"test_batch_pricing[{impl}-{stations}]"
            note = " (1 % sample ×100)" if impl == "python" else ""
            cold = run.extra(name, "first_call_in_process_s")
            cold_note = f"; first call in process {cold:.2f} s" if cold else ""
            rows.append([f"10M trips, {stations} stations, {impl}{note}",
                         _fmt(run.extra(name, "seconds_for_10m")), f"s{cold_note}"])
        for impl in ("numba builder", "scipy dijkstra"):
            name = f"test_fee_table_build[{impl}-{stations}]"
            mem = (f"; peak traced {_fmt(run.extra(name, 'traced_peak_mib'))} MiB, "
                   f"RSS peak +{_fmt(run.extra(name, 'rss_peak_over_start_mib'))} MiB")
            rows.append([f"table build {stations} stations × 16 classes, {impl}",
                         _fmt(run.median(name)), "s" + mem])
    tables.append(("Fees", ["what", "figure", "unit / notes"], rows))
    rows = []
    for name, bench in run.by_name.items():
        if "blacklist" in bench.get("fullname", ""):
            info = {k: v for k, v in bench["extra_info"].items()}
            rows.append([name, _fmt(bench["stats"]["median"]),
                         ", ".join(f"{k}={v}" for k, v in info.items())])
    tables.append(("Blacklist, 10M entries", ["test", "median s", "figures"],
                   rows))
    rows = []
    for mode in ("exit", "entry"):
        for kind in ("none", "memory", "sqlite-memory", "durable"):
            name = f"test_transaction[{mode}-{kind}]"
            rows.append([f"{mode}, journal {JOURNAL_LABELS[kind]}",
                         _fmt(run.extra(name, "cpu_us_per_item")),
                         _fmt(run.extra(name, "wall_us_per_item")),
                         _fmt(run.extra(name, "decision_us_p50")),
                         _fmt(run.extra(name, "decision_us_p99"))])
    for kind in ("memory", "sqlite-memory", "durable"):
        name = f"test_group_commit_32_lanes[{kind}]"
        rows.append([f"32 lanes group commit, journal {JOURNAL_LABELS[kind]}",
                     _fmt(run.extra(name, "cpu_us_per_item")),
                     _fmt(run.extra(name, "wall_us_per_item")),
                     f"{_fmt(run.extra(name, 'transactions_per_s'))} tps", ""])
    tables.append(("Lane core, per transaction (B2 → C1, B4 → C6, B5 → C1), in process",
                   ["case", "CPU µs", "wall µs", "decision p50 µs (B4 → C6 ready)",
                    "decision p99 µs"], rows))
    rows = []
    for name, what in ((TCP, "scripted RSUs, as fast as the lane answers"),
                       (TCP_TARGET_LOAD, "scripted RSUs, 1,000 vehicles/s offered"),
                       (TCP_SIMULATED, "simulated RSUs, real time")):
        x = run.get(name)
        info = {} if x is None else x["extra_info"]
        rows.append([what, _fmt(info.get("transactions_per_s")),
                     f"{info.get('decisions', '—')} / {info.get('window_s', '—')} s",
                     _fmt(info.get("lane_cpu_us_per_transaction")),
                     _fmt(info.get("decision_ms_p50")), _fmt(info.get("decision_ms_p99")),
                     _fmt(info.get("decision_ms_max")),
                     f"{_fmt(info.get('rsu_rtt_ms_p50'))} / {_fmt(info.get('rsu_rtt_ms_p99'))}"])
    tables.append(("Real TCP, 32 lanes on loopback, durable journal (WAL, synchronous=FULL)",
                   ["RSUs", "tps", "decisions / window", "lane process CPU µs per txn",
                    "B4 → C6 p50 ms", "p99 ms", "max ms",
                    "RSU side B4 sent → C6 read p50 / p99 ms"], rows))
    return tables


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(run: Run, found: list[Target], day: str, chart: str | None) -> str:
    """The summary page."""
    m = run.machine()
    parts = [
        f"# Benchmarks {day}",
        "",
        f"Machine: {m.get('cpu_model', '?')}, {m.get('cores', '?')} cores, "
        f"{m.get('ram_gib', '?')} GiB RAM; Python {m.get('python', '?')}, numpy "
        f"{m.get('numpy', '?')}, numba {m.get('numba', '?')}. Load average (1, 5, 15 min) "
        f"at the start {m.get('load_average_start', '?')}, at the end "
        f"{m.get('load_average_end', '?')} (other jobs share the machine).",
        "Ratios are against a baseline measured in the same run, so they hold on a noisy machine.",
        "",
        "## Targets",
        "",
        _markdown_table(
            ["target", "figure", "goal", "baseline (same run)", "ratio", "status"],
            [[t.name, f"{_fmt(t.figure)} {t.unit}", t.goal,
              f"{t.baseline_name}: {_fmt(t.baseline)}", _fmt(t.ratio), _status(t.met, t.judged)]
             for t in found]),
        "",
        GROUP_COMMIT_NOTE,
        "",
        TCP_NOTE,
    ]
    if chart:
        parts += ["", f"![chart]({chart})"]
    for title, header, rows in figures(run):
        parts += ["", f"## {title}", "", _markdown_table(header, rows)]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Read the raw JSON, write the dated JSON, Markdown and chart, and latest.md."""
    args = sys.argv[1:] if argv is None else argv
    raw_path = Path(args[0]) if args else RAW_DEFAULT
    if not raw_path.is_file():
        print(f"no benchmark data at {raw_path}: run `make bench`", file=sys.stderr)
        return 1
    run = Run(json.loads(raw_path.read_text()))
    day = dt.date.today().isoformat()
    RESULTS.mkdir(parents=True, exist_ok=True)
    found = targets(run)
    chart_name: str | None = f"{day}.png"
    try:
        from benchmarks.chart import draw

        draw(run, found, RESULTS / f"{day}.png")
    except ImportError as exc:  # matplotlib is in the bench extra only
        print(f"no chart: {exc}", file=sys.stderr)
        chart_name = None
    summary = {
        "date": day,
        "machine": run.machine(),
        "targets": [asdict(t) for t in found],
        "figures": [{"title": t, "header": h, "rows": r} for t, h, r in figures(run)],
        "benchmarks": {name: {"median_s": b["stats"]["median"], "rounds": b["stats"]["rounds"],
                              "extra_info": {k: v for k, v in b["extra_info"].items()
                                             if not k.endswith("_samples")}}
                       for name, b in run.by_name.items()},
    }
    (RESULTS / f"{day}.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    page = markdown(run, found, day, chart_name)
    (RESULTS / f"{day}.md").write_text(page)
    (RESULTS / "latest.md").write_text(page)
    print(page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
