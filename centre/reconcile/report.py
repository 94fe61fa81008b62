"""A day's reconciliation as files: `reconcile-<day>.json`, `.md` and the chart `.png`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from centre.errors import CentreError
from centre.reconcile.checks import CHECK_NAMES
from centre.reconcile.day import Reconciliation
from centre.values import yuan


def to_dict(result: Reconciliation) -> dict[str, Any]:
    """The reconciliation as JSON-able data."""
    return {
        "day": result.day.isoformat(),
        "clean": result.clean,
        "differences": [
            {"check": d.check, "subject": d.subject, "expected": d.expected,
             "actual": d.actual, "records": list(d.records), "detail": d.detail}
            for d in result.differences],
        "findings": [
            {"key": f.idempotency_key, "kind": f.kind.value, "booked": f.booked,
             "card": f.card_number, "lane": f"{f.network}/{f.station}/{f.lane}",
             "amount": f.amount, "expected": f.expected, "other_key": f.other_key,
             "transaction_time": f.transaction_time.isoformat(), "detail": f.detail}
            for f in result.findings],
        "totals": dict(sorted(result.totals.items())),
        "counts": dict(sorted(result.counts.items())),
    }


def _fen(value: int | None) -> str:
    return "–" if value is None else yuan(value)


def to_markdown(result: Reconciliation) -> str:
    """The reconciliation for people: verdict, differences by check, the day's totals."""
    verdict = "clean" if result.clean else f"{len(result.differences)} difference(s)"
    lines = [f"# Reconciliation of {result.day.isoformat()}: {verdict}", ""]
    for check, name in CHECK_NAMES.items():
        mine = [d for d in result.differences if d.check == check]
        lines.append(f"## {name}: {'agree' if not mine else f'{len(mine)} difference(s)'}")
        lines.append("")
        if mine:
            lines += ["| subject | expected (yuan) | found (yuan) | records | detail |",
                      "|---|---:|---:|---|---|"]
            lines += [f"| {d.subject} | {_fen(d.expected)} | {_fen(d.actual)} | "
                      f"{'<br>'.join(d.records)} | {d.detail} |" for d in mine]
            lines.append("")
    lines += ["## The day's report (yuan)", "", "| line | amount |", "|---|---:|"]
    lines += [f"| {name} | {yuan(amount)} |" for name, amount in sorted(result.totals.items())]
    lines += ["", "## Counts", "", "| | count |", "|---|---:|"]
    lines += [f"| {name} | {count:,} |" for name, count in sorted(result.counts.items())]
    return "\n".join(lines) + "\n"


def write_report(result: Reconciliation, folder: Path, chart: bool = True) -> list[Path]:
    """Write the JSON, the Markdown and (with `chart`) the PNG; the paths written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / f"reconcile-{result.day.isoformat()}"
        paths = [stem.with_suffix(".json"), stem.with_suffix(".md")]
        _write(paths[0], json.dumps(to_dict(result), ensure_ascii=False, indent=2) + "\n")
        _write(paths[1], to_markdown(result))
        if chart:
            from centre.reconcile.chart import draw_day

            paths.append(draw_day(result, stem.with_suffix(".png")))
    except OSError as exc:
        raise CentreError(f"{folder}: cannot write the report ({exc.strerror})") from exc
    return paths


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
