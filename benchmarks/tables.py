"""The report's figure tables: one per known suite, and every other benchmark by its group, so a
new suite's figures show up without a change here."""

from __future__ import annotations

from typing import Any

from benchmarks import decoding_report
from benchmarks.judge import Run

Table = tuple[str, list[str], list[list[str]]]
TCP = "test_tcp_32_lanes_throughput_and_decision_latency"
TCP_TARGET_LOAD = "test_tcp_32_lanes_at_target_load"
TCP_SIMULATED = "test_tcp_32_lanes_simulated_rsus"
#: Benchmarks the suite tables show (by name prefix, or "blacklist" in the full name).
KNOWN_PREFIXES = ("test_decode", "test_encode", "test_crc16_x25", "test_crypto",
                  "test_fee_lookup_scalar", "test_batch_pricing", "test_fee_table_build",
                  "test_transaction[", "test_group_commit_32_lanes", "test_tcp_32_lanes",
                  *decoding_report.PREFIXES)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def fmt(value: float | None, digits: int = 3) -> str:
    """A figure for a table: thousands grouped from 1,000, else `digits` significant digits."""
    if value is None:
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


_fmt = fmt


JOURNAL_LABELS = {"none": "none", "memory": "MemoryJournal",
                  "sqlite-memory": 'SqliteJournal(":memory:")',
                  "durable": "SqliteJournal(file), durable"}


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _us(seconds: float | None) -> str:
    return "—" if seconds is None else _fmt(seconds * 1e6)


def suite_tables(run: Run) -> list[Table]:
    """The suites the report knows, each as a (title, header, rows) table."""
    tables: list[Table] = []
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
                       (f"{TCP_TARGET_LOAD}[idle]", "scripted RSUs, 1,000 vehicles/s offered"),
                       (f"{TCP_TARGET_LOAD}[loaded]",
                        "scripted RSUs, 1,000 vehicles/s offered, machine loaded"),
                       (f"{TCP_TARGET_LOAD}_commit_on_the_loop",
                        "scripted RSUs, 1,000 vehicles/s offered, commit on the loop"),
                       (TCP_SIMULATED, "simulated RSUs, real time")):
        x = run.get(name)
        info = {} if x is None else x["extra_info"]
        rows.append([what, _fmt(info.get("transactions_per_s")),
                     f"{info.get('decisions', '—')} / {info.get('window_s', '—')} s",
                     f"{_fmt(info.get('lane_cpu_us_per_transaction'))} "
                     f"({_fmt(info.get('lane_cpu_us_per_transaction_loop_thread'))} + "
                     f"{_fmt(info.get('lane_cpu_us_per_transaction_writer_thread'))})",
                     _fmt(info.get("decision_ms_p50")), _fmt(info.get("decision_ms_p99")),
                     _fmt(info.get("decision_ms_max")),
                     f"{_fmt(info.get('fsync_ms_p50'))} / {_fmt(info.get('fsync_ms_p99'))}",
                     f"{_fmt(info.get('rsu_rtt_ms_p50'))} / {_fmt(info.get('rsu_rtt_ms_p99'))}"])
    tables.append(("Real TCP, 32 lanes on loopback, durable journal (WAL, synchronous=FULL)",
                   ["RSUs", "tps", "decisions / window",
                    "lane process CPU µs per txn (event loop + journal writer threads)",
                    "B4 → C6 p50 ms", "p99 ms", "max ms", "disk fsync p50 / p99 ms",
                    "RSU side B4 sent → C6 read p50 / p99 ms"], rows))
    return tables + decoding_report.tables(run)


def _known(bench: dict[str, Any]) -> bool:
    return bench["name"].startswith(KNOWN_PREFIXES) or "blacklist" in bench.get("fullname", "")


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None if value is None else str(value)
    if isinstance(value, int | float):
        return fmt(float(value))
    if isinstance(value, str) and len(value) <= 60:
        return value
    return None  # samples and long texts stay in the JSON


def other_tables(run: Run) -> list[Table]:
    """Every benchmark no suite table shows, one table per benchmark group."""
    groups: dict[str, list[list[str]]] = {}
    for name, bench in run.by_name.items():
        if _known(bench):
            continue
        info = [f"{k}={text}" for k, v in bench["extra_info"].items()
                if not k.endswith("_samples") and (text := _scalar(v)) is not None]
        groups.setdefault(bench.get("group") or "other", []).append(
            [name, fmt(bench["stats"]["median"]), ", ".join(info)])
    return [(group, ["test", "median s", "figures"], rows) for group, rows in groups.items()]


def _measured(table: Table) -> bool:
    return any(char.isdigit() for row in table[2] for cell in row[1:] for char in cell)


def figures(run: Run) -> list[Table]:
    """Every table of the report that holds a figure of this run."""
    return [t for t in suite_tables(run) + other_tables(run) if _measured(t)]
