"""A province run for people: `summary.md` (the figures, the days, the findings), `summary.png`
(each day's ETC revenue, cash and top-ups, and the findings), and the lines `rsu-sim run`
prints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from centre.values import yuan
from rsu_sim.province.config import ProvinceConfig
from rsu_sim.province.outcome import Outcome

#: The figures shown first, in this order (the others follow by name).
HEADLINE = ("vehicles", "plazas", "lanes", "days", "trips", "passes", "revenue ETC fen",
            "cash at lanes fen", "top-ups fen", "refunds paid fen", "exposed debits",
            "exposed fen", "days reconciled", "days clean", "audit clean",
            "findings as injected", "wall s", "cpu s")


def _value(name: str, value: Any) -> str:
    if name.endswith(" fen") and isinstance(value, int):
        return f"{yuan(value)} yuan"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def lines(outcome: Outcome) -> list[str]:
    """The summary as text lines."""
    figures = outcome.figures
    names = [n for n in HEADLINE if n in figures]
    names += sorted(n for n in figures if n not in HEADLINE and not isinstance(figures[n], dict))
    width = max(len(n) for n in names)
    out = [f"{name:<{width}}  {_value(name, figures[name])}" for name in names]
    for name in ("transactions", "findings"):
        for key, count in figures.get(name, {}).items():
            out.append(f"{name + ' ' + key:<{width}}  {count:,}")
    for label, misses in (("finding not injected", outcome.findings_not_injected),
                          ("injected, not found", outcome.injected_not_found)):
        out += [f"{label}: {kind.value} {key}" for key, kind in misses[:20]]
    unclean = [r for r in outcome.reconciliations if not r.clean]
    for result in unclean:
        out.append(f"day {result.day.isoformat()}: {len(result.differences)} difference(s)")
    return out


def _markdown(outcome: Outcome, config: ProvinceConfig) -> str:
    rows = ["# Province run", "",
            f"{config.vehicles:,} vehicles, {config.plazas} plazas, {config.days} days from "
            f"{config.start.isoformat()} (seed {config.seed}).", "",
            "| figure | value |", "|---|---:|"]
    rows += [f"| {line.split('  ', 1)[0].strip()} | {line.split('  ', 1)[-1].strip()} |"
             for line in lines(outcome) if "  " in line]
    rows += ["", "## Days", "", "| day | clean | differences | ETC (yuan) | cash (yuan) |",
             "|---|---|---:|---:|---:|"]
    for result in outcome.reconciliations:
        etc = sum(v for k, v in result.totals.items() if k.startswith("plaza ")
                  and k.endswith(" ETC"))
        cash = sum(v for k, v in result.totals.items() if k.startswith("plaza ")
                   and k.endswith(" cash"))
        rows.append(f"| {result.day.isoformat()} | {'yes' if result.clean else 'no'} | "
                    f"{len(result.differences)} | {yuan(etc)} | {yuan(cash)} |")
    if outcome.findings:
        rows += ["", "## Findings", "", "| kind | record | detail |", "|---|---|---|"]
        rows += [f"| {f.kind.value} | {f.idempotency_key} | {f.detail} |"
                 for f in outcome.findings[:200]]
    if not outcome.findings_as_expected:
        rows += ["", "## Findings not as injected", "", "| | kind | record |", "|---|---|---|"]
        rows += [f"| found, not injected | {kind.value} | {key} |"
                 for key, kind in outcome.findings_not_injected[:200]]
        rows += [f"| injected, not found | {kind.value} | {key} |"
                 for key, kind in outcome.injected_not_found[:200]]
    if not outcome.audit.clean:
        rows += ["", "## Audit problems", ""] + [f"* {p}" for p in outcome.audit.problems[:100]]
    return "\n".join(rows) + "\n"


def _chart(outcome: Outcome, path: Path) -> None:
    days = [r.day.isoformat()[5:] for r in outcome.reconciliations]

    def total(result: Any, suffix: str, prefix: str = "plaza ") -> float:
        return sum(v for k, v in result.totals.items() if k.startswith(prefix)
                   and k.endswith(suffix)) / 100

    etc = [total(r, " ETC") for r in outcome.reconciliations]
    cash = [total(r, " cash") for r in outcome.reconciliations]
    loads = [total(r, " top-ups", "outlet ") for r in outcome.reconciliations]
    findings = [sum(1 for d in r.differences if d.check == "finding")
                for r in outcome.reconciliations]
    figure, (money, found) = plt.subplots(2, 1, figsize=(13, 7), sharex=True,
                                          gridspec_kw={"height_ratios": [3, 1]})
    clean = outcome.days_clean
    figure.suptitle(f"Province: {outcome.figures['vehicles']:,} vehicles, "
                    f"{outcome.figures['plazas']} plazas — {clean} of "
                    f"{len(outcome.reconciliations)} days reconciled clean")
    money.bar(days, etc, label="ETC debits")
    money.bar(days, cash, bottom=etc, label="cash at lanes")
    money.plot(days, loads, color="black", marker=".", label="top-ups at outlets")
    money.set_ylabel("yuan")
    money.legend()
    found.bar(days, findings, color=["#c0392b" if n else "#27ae60" for n in findings])
    found.set_ylabel("findings")
    found.tick_params(axis="x", labelrotation=90)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_summary(outcome: Outcome, config: ProvinceConfig, out: Path) -> None:
    (out / "summary.md").write_text(_markdown(outcome, config), encoding="utf-8")
    _chart(outcome, out / "summary.png")
