"""`python -m benchmarks.report [RAW.json] [--save] [--out DIR]`: where the engine stands.

Judges the targets of `benchmarks/targets/*.toml` against a pytest-benchmark JSON (each as a
comparison with a baseline measured in the same run), writes the report (Markdown, JSON, chart)
to an untracked folder (`var/bench/` by default) and, with `--save`, also as the saved run
`benchmarks/results/<date>.*` and `latest.md`. Each target is set beside the previous saved
run. Exit status 1 when a judged target is missed, 2 when the data cannot be read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.judge import Run, Target, TargetFileError, judge_all, tally
from benchmarks.tables import figures, fmt

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
UNSAVED = ROOT / "var" / "bench"
RAW_DEFAULT = UNSAVED / "raw.json"
JUDGING_NOTE = (
    "Every target is judged as a comparison with a baseline measured in the same run (a ratio, "
    "or for latency a margin over the disk's own fsync); the absolute figures are what they "
    "were on this machine and are not judged. A goal first set in absolute units was turned "
    "into its ratio once, on the reference machine (see each target's note and "
    "benchmarks/targets/).")


def status(target: Target) -> str:
    """How a target stands, in the table's words."""
    if not target.judged:
        return {True: "reference (goal met)", False: "reference (goal not met)",
                None: "not measured"}[target.met]
    return {True: "met", False: "**missed**", None: "not measured"}[target.met]


def _comparison(target: Target) -> str:
    if target.ratio is None:
        return "—"
    if target.compare == "margin":
        return f"{target.ratio:+.3g} {target.unit}"
    return f"{fmt(target.ratio)}×"


def previous_saved(results: Path, excluding: Path | None = None) -> dict[str, Any] | None:
    """The most recent saved run in `results` (by file name, which starts with its date)."""
    runs = sorted(p for p in results.glob("*.json") if p != excluding and p.name[:1].isdigit())
    for path in reversed(runs):
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and "targets" in data:
            data.setdefault("saved_as", path.name)
            return data
    return None


def _earlier(target: Target, previous: dict[str, Any] | None) -> dict[str, Any] | None:
    if previous is None:
        return None
    for old in previous.get("targets", []):
        if old.get("id") == target.id or (not old.get("id") and old.get("name") == target.name):
            return old
    return None


def _previous_cell(target: Target, previous: dict[str, Any] | None) -> str:
    old = _earlier(target, previous)
    if old is None:
        return "—"
    figure = f"{fmt(old.get('figure'))} {old.get('unit', '')}".strip()
    ratio = old.get("ratio")
    change = ""
    if ratio is not None and target.ratio is not None and target.compare != "margin" and ratio:
        change = f", ratio {target.ratio / ratio:.2f}× of then"
    return f"{figure}; ratio {fmt(ratio)}{change}"


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(run: Run, found: list[Target], title: str, chart: str | None,
             previous: dict[str, Any] | None) -> str:
    """The report page."""
    m = run.machine()
    since = ("" if previous is None else
             f" Previous saved run: {previous.get('saved_as', previous.get('date', '?'))}.")
    header = ["target", "figure on this machine", "baseline on this machine (same run)", "goal",
              "comparison (judged)", "status"]
    if previous is not None:
        header.append(f"previous saved ({previous.get('date', '?')})")
    rows = []
    for t in found:
        row = [t.name + (f" <br>*{t.note}*" if t.note else ""),
               f"{fmt(t.figure)} {t.unit}", f"{t.baseline_name}: {fmt(t.baseline)} "
               f"{t.baseline_unit}", t.goal, _comparison(t), status(t)]
        if previous is not None:
            row.append(_previous_cell(t, previous))
        rows.append(row)
    parts = [
        f"# {title}",
        "",
        f"Machine: {m.get('cpu_model', '?')}, {m.get('cores', '?')} cores, "
        f"{m.get('ram_gib', '?')} GiB RAM; Python {m.get('python', '?')}, numpy "
        f"{m.get('numpy', '?')}, numba {m.get('numba', '?')}. Load average (1, 5, 15 min) "
        f"at the start {m.get('load_average_start', '?')}, at the end "
        f"{m.get('load_average_end', '?')} (other jobs share the machine).{since}",
        "",
        f"## Targets: {tally(found).headline()}",
        "",
        _markdown_table(header, rows),
        "",
        JUDGING_NOTE,
    ]
    if chart:
        parts += ["", f"![chart]({chart})"]
    for table_title, table_header, table_rows in figures(run):
        parts += ["", f"## {table_title}", "", _markdown_table(table_header, table_rows)]
    return "\n".join(parts) + "\n"


def _saved_name(results: Path, day: str) -> str:
    """`<day>`, or `<day>-2`, `-3`... when a run of that day is saved already."""
    name, n = day, 1
    while (results / f"{name}.json").exists():
        n += 1
        name = f"{day}-{n}"
    return name


def write_report(run: Run, found: list[Target], directory: Path, stem: str,
                 previous: dict[str, Any] | None, title: str) -> str:
    """`<stem>.json`, `<stem>.md` and `<stem>.png` in `directory`; returns the Markdown."""
    directory.mkdir(parents=True, exist_ok=True)
    chart: str | None = f"{stem}.png"
    try:
        from benchmarks.chart import draw

        draw(run, found, directory / f"{stem}.png")
    except ImportError as exc:  # matplotlib is in the bench extra only
        print(f"no chart: {exc}", file=sys.stderr)
        chart = None
    summary = {
        "date": dt.date.today().isoformat(),
        "machine": run.machine(),
        "targets": [asdict(t) for t in found],
        "figures": [{"title": t, "header": h, "rows": r} for t, h, r in figures(run)],
        "benchmarks": {name: {"median_s": b["stats"]["median"], "rounds": b["stats"]["rounds"],
                              "extra_info": {k: v for k, v in b["extra_info"].items()
                                             if not k.endswith("_samples")}}
                       for name, b in run.by_name.items()},
    }
    (directory / f"{stem}.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    page = markdown(run, found, title, chart, previous)
    (directory / f"{stem}.md").write_text(page)
    return page


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.report",
        description="Judge the benchmark targets against a pytest-benchmark JSON and write the "
                    "report. Exit status 1 when a judged target is missed.")
    parser.add_argument("raw", nargs="?", type=Path, default=RAW_DEFAULT,
                        help=f"pytest-benchmark JSON (default {RAW_DEFAULT.relative_to(ROOT)})")
    parser.add_argument("--save", action="store_true",
                        help="also save the run as benchmarks/results/<date>.* and latest.md")
    parser.add_argument("--out", type=Path, default=UNSAVED,
                        help=f"where the report goes (default {UNSAVED.relative_to(ROOT)}, "
                             "untracked)")
    parser.add_argument("--results", type=Path, default=RESULTS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Judge, write, print; 0 when every judged target measured is met."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        run = Run(json.loads(args.raw.read_text()))
        found = judge_all(run)
    except (OSError, json.JSONDecodeError) as exc:
        print(f"benchmarks.report: cannot read {args.raw}: {exc}; run `make bench`",
              file=sys.stderr)
        return 2
    except TargetFileError as exc:
        print(f"benchmarks.report: {exc}", file=sys.stderr)
        return 2
    day = dt.date.today().isoformat()
    previous = previous_saved(args.results)
    page = write_report(run, found, args.out, "report", previous, f"Benchmarks {day} (unsaved)")
    if args.save:
        stem = _saved_name(args.results, day)
        page = write_report(run, found, args.results, stem, previous, f"Benchmarks {stem}")
        (args.results / "latest.md").write_text(page)
        print(f"saved as {args.results / stem}.*", file=sys.stderr)
    print(page)
    missed = [t for t in found if t.judged and t.met is False]
    for t in missed:
        print(f"missed: {t.name}: {_comparison(t)} against {t.goal}", file=sys.stderr)
    print(tally(found).headline(), file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
