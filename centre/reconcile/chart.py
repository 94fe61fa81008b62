"""The day's flows as a PNG: money in at the outlets (top-ups, moves), out (refunds), tolls by
plaza (ETC and cash), and the differences by check."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from centre.reconcile.checks import ACCOUNTS, BACKING, FINDING, REPORT
from centre.reconcile.day import Reconciliation

#: The checks as the chart names them (the default fonts have no CJK glyphs).
_LABELS = {ACCOUNTS: "ledger / ledger", REPORT: "ledger / report",
           BACKING: "ledger / real money", FINDING: "findings"}


def _group(totals: dict[str, int], prefix: str) -> dict[str, dict[str, int]]:
    """{subject: {line: fen}} for totals named `<prefix> <subject> <line>`."""
    out: dict[str, dict[str, int]] = {}
    for name, amount in totals.items():
        if not name.startswith(prefix + " "):
            continue
        subject, _, line = name[len(prefix) + 1:].partition(" ")
        out.setdefault(subject, {})[line] = amount
    return out


def draw_day(result: Reconciliation, path: Path) -> Path:
    """Draw the day's flows into `path`."""
    outlets = _group(result.totals, "outlet")
    plazas = _group(result.totals, "plaza")
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 5),
                                                 gridspec_kw={"width_ratios": [2, 3, 1.3]})
    verdict = "clean" if result.clean else f"{len(result.differences)} difference(s)"
    figure.suptitle(f"Centre flows {result.day.isoformat()} — {verdict}")
    _bars(left, outlets, ("top-ups", "balance moved in", "refunds paid"), "outlets (yuan)")
    _bars(middle, plazas, ("ETC", "cash"), "tolls by plaza (yuan)")
    checks = [sum(1 for d in result.differences if d.check == check) for check in _LABELS]
    right.barh(list(_LABELS.values()), checks,
               color=["#c0392b" if n else "#27ae60" for n in checks])
    right.set_title("differences")
    right.set_xlabel("count")
    right.invert_yaxis()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _bars(axes: plt.Axes, groups: dict[str, dict[str, int]], lines: tuple[str, ...],
          title: str) -> None:
    subjects = sorted(groups)
    bottom = [0.0] * len(subjects)
    for line in lines:
        values = [groups[s].get(line, 0) / 100 for s in subjects]
        if any(values):
            axes.bar(subjects, values, bottom=bottom, label=line)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_title(title)
    axes.tick_params(axis="x", labelrotation=45)
    if subjects:
        axes.legend(fontsize="small")
