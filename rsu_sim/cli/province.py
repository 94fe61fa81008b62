"""`rsu-sim run --days N`: a simulated province of many days (`rsu_sim.province`), cleared and
reconciled by the centre's own code."""

from __future__ import annotations

import argparse
import tomllib
from typing import Any

from centre.errors import CentreError
from centre.link.mqtt import BrokerSettings
from cli_conventions import UsageError, print_json
from rsu_sim.errors import ScenarioError, SimError
from rsu_sim.harness import ProgressBar
from rsu_sim.province.config import Injected, ProvinceConfig, province_from_table
from rsu_sim.province.outcome import Outcome
from rsu_sim.province.run import ProvinceOptions, run_province
from rsu_sim.province.summary import lines
from rsu_sim.scenario_file import scenario_source

INJECTIONS = {"double-upload": "double_upload_lane", "wrong-fee": "wrong_fee_lane",
              "forged": "forged_tacs", "late": "late_upload_days", "fault-day": "fault_day"}


def add_province_arguments(run: argparse.ArgumentParser, positive_int: object) -> None:
    """The options of a run of many days."""
    group = run.add_argument_group(
        "many days", "With --days N, --vehicles is the population issued through the centre "
        "the day before the first (A and B cards, OBUs), driving trips entry → exit across "
        "--plazas toll plazas for N days; the centre (the code of etc-centre) clears every "
        "upload, settles, reconciles every day; the cards are audited against every plaza's "
        "journal. A scenario file's [days] table sets the rest (README: Simulating a "
        "province). Exit status 1 unless every day reconciles clean (but for the findings "
        "injected), the audit is clean and the findings are exactly those injected.")
    group.add_argument("--days", type=positive_int, metavar="N",  # type: ignore[arg-type]
                       help="simulate a province for N days")
    group.add_argument("--plazas", type=positive_int, metavar="P",  # type: ignore[arg-type]
                       help="toll plazas (default 10)")
    group.add_argument("--start", metavar="YYYY-MM-DD",
                       help="the first day (default 2026-11-02; the cards are issued the day "
                            "before)")
    group.add_argument("--broker", metavar="HOST[:PORT]",
                       help="publish the plazas' records to this MQTT broker and clear them "
                            "from it (default: in this process, the same bytes)")
    group.add_argument("--external-clearing", action="store_true",
                       help="with --broker: only publish; `etc-centre clear` processes on "
                            "DIR/centre.sqlite3 clear")
    group.add_argument("--inject", action="append", metavar="FAULT=VALUE",
                       help="inject a fault: double-upload=PLAZA/LANE, wrong-fee=PLAZA/LANE, "
                            "forged=N, late=DAYS, fault-day=DAY (repeatable)")


def _table(name: str | None) -> dict[str, Any]:
    if name is None:
        return {}
    label, text = scenario_source(name)
    try:
        table = tomllib.loads(text).get("days", {})
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", file=label) from exc
    if not isinstance(table, dict):
        raise ScenarioError("must be a table", file=label, table="days")
    return table


def _injected(items: list[str] | None, base: Injected) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        field = INJECTIONS.get(name.strip())
        if not sep or field is None:
            raise UsageError(f"--inject {item!r}: want FAULT=VALUE, FAULT one of "
                             f"{', '.join(INJECTIONS)}")
        if isinstance(getattr(base, field), int):
            if not value.isdigit():
                raise UsageError(f"--inject {item!r}: {value!r} is not a whole number")
            changes[field] = int(value)
        else:
            changes[field] = value
    return changes


def province_config(args: argparse.Namespace) -> ProvinceConfig:
    table = _table(args.scenario)
    if args.plazas is not None:
        table["plazas"] = args.plazas
    if args.seed is not None:
        table["seed"] = args.seed
    if args.start is not None:
        table["start"] = args.start
    config = province_from_table(table, args.days, args.vehicles)
    changes = _injected(args.inject, config.faults)
    return config.with_faults(**changes) if changes else config


def verdict(outcome: Outcome) -> bool:
    """Clean days (every difference an injected finding), a clean audit, findings as injected."""
    injected = set(outcome.expected)
    for result in outcome.reconciliations:
        for difference in result.differences:
            key = difference.subject.removeprefix("record ")
            if difference.check != "finding" or key not in injected:
                return False
    return outcome.audit.clean and outcome.findings_as_expected


def _broker(text: str) -> BrokerSettings:
    host, colon, port = text.rpartition(":")
    if not colon:
        host, port = text, "1883"
    if not host or not port.isdigit():
        raise SimError(f"--broker {text!r} is not HOST[:PORT]")
    return BrokerSettings(host, int(port), client_id="province-clearing")


def run_province_command(args: argparse.Namespace) -> int:
    if args.vehicles is None:
        raise UsageError("--days needs --vehicles (the population)")
    config = province_config(args)
    progress = ProgressBar(enabled=False if args.quiet else None)
    broker = None if args.broker is None else _broker(args.broker)
    try:
        outcome = run_province(config, ProvinceOptions(
            args.out, broker, clear=not args.external_clearing,
            progress=lambda day, days: progress(day, days)))
    except CentreError as exc:
        raise SimError(f"the centre failed: {exc}") from exc
    finally:
        progress.finish()
    ok = verdict(outcome)
    if args.json:
        print_json({"verdict": "ok" if ok else "not ok", "summary": outcome.figures,
                    "outputs": str(args.out)})
    else:
        print("\n".join(lines(outcome)))
        print(f"outputs in {args.out} (reconcile/, summary.md, summary.png)")
    return 0 if ok else 1
