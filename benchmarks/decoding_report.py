"""The decoding tables of the benchmark report (`benchmarks/test_decoding_bench.py`): adversarial
streams against random bytes, by read size, and the mutation campaign's frames lost. The
targets are in `benchmarks/targets/decoding.toml`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.judge import Run

#: benchmarks these tables show (by name prefix)
PREFIXES = ("test_decoding_speed", "test_mutation_campaign")


def _speeds(run: Run, envelope: str) -> dict[str, tuple[bool, float]]:
    return {b["extra_info"]["stream"]: (b["extra_info"]["adversarial"],
                                        float(b["extra_info"]["mib_per_cpu_s"]))
            for b in run.by_name.values()
            if b["extra_info"].get("kind") == "decoding"
            and b["extra_info"].get("envelope") == envelope}


def _campaign(run: Run, envelope: str) -> dict[str, Any] | None:
    bench = run.get(f"test_mutation_campaign[{envelope}]")
    return None if bench is None else bench["extra_info"]


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def tables(run: Run) -> list[tuple[str, list[str], list[list[str]]]]:
    from benchmarks.tables import fmt as _fmt

    v3, bcc = _speeds(run, "v3"), _speeds(run, "bcc")
    rows = []
    for name in v3 or bcc:
        speed_v3 = v3.get(name, (False, None))[1]
        speed_bcc = bcc.get(name, (False, None))[1]
        rows.append([name, "yes" if (v3.get(name) or bcc.get(name) or (False,))[0] else "no",
                     _fmt(speed_v3), _fmt(_ratio(v3.get("random", (0, None))[1], speed_v3)),
                     _fmt(speed_bcc), _fmt(_ratio(bcc.get("random", (0, None))[1], speed_bcc))])
    tables = [("Stream decoding, 1 MiB in 4 KiB reads (MiB per CPU second, best of 5)",
               ["stream", "adversarial", "V3 MiB/s", "V3 random / this", "legacy MiB/s",
                "legacy random / this"], rows)]
    reads = [[str(b["extra_info"]["read_bytes"]), _fmt(b["extra_info"]["mib_per_cpu_s"])]
             for b in run.by_name.values() if b["extra_info"].get("kind") == "decoding-read"]
    if reads:
        tables.append(("V3 fake headers with maximal LEN, by read size",
                       ["bytes per read", "MiB/s"], reads))
    rows = []
    for envelope in ("v3", "bcc"):
        c = _campaign(run, envelope)
        if c is None:
            continue
        rows.append([envelope, f"{c['inputs']:,}", f"{c['lost']:,} of {c['frames']:,}",
                     f"{c['lost_after_garbage']:,} of {c['frames_after_garbage']:,}",
                     f"{c['lost_after_truncated']:,} of {c['frames_after_truncated']:,}",
                     f"{c['lost_chunked']:,}", f"{c['chunking_differs']:,}",
                     f"{c['recovered']:,}", f"{c['false_packets']:,}", f"{c['crashes']:,}"])
    tables.append(("Mutation campaign over the golden frames (seed 1)",
                   ["envelope", "inputs", "frames lost", "lost after garbage",
                    "lost after a truncated frame", "lost, chunked reads",
                    "inputs decoded differently in chunks", "damaged frames recovered",
                    "packets from noise", "crashes"], rows))
    return tables
