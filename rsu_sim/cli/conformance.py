"""The conformance report on the command line: the business terms read from the engineer's
files (through `lane_engine`'s loaders), the frame log read back into the judge, the lane's
records, and `DIR/conformance.json` + `DIR/conformance.md` written; used by `rsu-sim serve` at
the end of its run and by `rsu-sim conformance --dir DIR` afterwards.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from cli_conventions.files import NotText, text_lines, write_file
from lane_engine.aio.data import load_blacklist
from lane_engine.core.policy import NoEntryHandling, Policy, cash_fee, discounted_fee
from lane_engine.fees.builder import build_fee_table
from lane_engine.fees.table import FeeTable
from lane_engine.fees.table_file import load_fee_table
from lane_engine.files.network import load_network
from lane_engine.files.policy import load_policy
from lane_engine.times import lane_datetime
from rsu_sim.conformance.judge import Judge, LaneRecord, LaneUnderTest
from rsu_sim.conformance.report import Report, fails, parse_fail_on
from rsu_sim.conformance.tariff import Tariff
from rsu_sim.errors import OutputError, SimError
from rsu_sim.model.scenario import Scenario, StationRef
from rsu_sim.results.lane_records import load_journal, load_records
from rsu_sim.server.frame_log import CONNECTED, DISCONNECTED, LISTENING, STOPPED, parse_line

REPORT_JSON = "conformance.json"
REPORT_MD = "conformance.md"
#: The policy a lane is judged against when a fee table is given without one.
DEFAULT_POLICY_VERSION = "default"


def add_judging_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that say what the lane is judged against and when a run fails."""
    group = parser.add_argument_group(
        "conformance", "what the lane is judged against (DIR/conformance.json and .md)")
    fees = group.add_mutually_exclusive_group()
    fees.add_argument("--network", type=Path, metavar="FILE",
                      help="road network TOML the lane's fee table is built from")
    fees.add_argument("--fees", type=Path, metavar="TABLE",
                      help="the lane's fee table file (lane-engine fees build)")
    group.add_argument("--policy", type=Path, metavar="FILE",
                       help="the lane's pricing policy TOML (default: the default policy)")
    group.add_argument("--blacklist", type=Path, metavar="FILE",
                       help="the lane's blacklist (.txt/.csv text, else binary; default: the "
                            "simulated population's, DIR/blacklist.bin)")
    records = group.add_mutually_exclusive_group()
    records.add_argument("--journal", type=Path, metavar="PATH",
                         help="this project's lane journal, for the cash due")
    records.add_argument("--records", type=Path, metavar="FILE",
                         help="any lane's records as JSON Lines, for the cash due")
    group.add_argument("--fail-on", default="none", metavar="RULES",
                       help="exit status 1 when one of these rules fails: any, protocol, "
                            "business, none, or rule ids, comma-separated (default: none)")


@dataclass(frozen=True, slots=True)
class Terms:
    """What the options say the lane is judged against."""

    tariff: Tariff | None
    table: FeeTable | None
    blacklisted: Callable[[str], bool] | None
    inputs: dict[str, str]
    fail_on: frozenset[str]

    def with_population(self, cards: Iterable[str]) -> Terms:
        """These terms, judging the blacklist against the simulated population's list when no
        `--blacklist` was given."""
        if self.blacklisted is not None:
            return self
        listed = frozenset(cards)
        return replace(self, blacklisted=listed.__contains__, inputs={
            **self.inputs, "blacklist": f"the simulated population's ({len(listed)} cards)"})

    def fee_network(self) -> tuple[StationRef, ...]:
        """The fee table's stations (where "any" upstream entries come from), none without."""
        if self.table is None:
            return ()
        return tuple(StationRef(network, station) for network, station in self.table.stations)


def read_terms(args: argparse.Namespace) -> Terms:
    """The terms of `args` (files read with lane_engine's loaders; their errors are
    LaneErrors)."""
    try:
        fail_on = parse_fail_on(args.fail_on)
    except ValueError as exc:
        raise SimError(f"--fail-on: {exc}") from exc
    inputs: dict[str, str] = {}
    table = None
    if args.fees is not None:
        table = load_fee_table(args.fees)
        inputs["fee table"] = f"{args.fees} (version {table.version})"
    elif args.network is not None:
        table = build_fee_table(load_network(args.network), "judged", "1970-01-01T00:00:00Z")
        inputs["fee table"] = f"built from {args.network}"
    tariff = None
    if table is not None:
        policy = load_policy(args.policy) if args.policy is not None else Policy(
            DEFAULT_POLICY_VERSION)
        inputs["policy"] = f"{args.policy or 'the default policy'} (version {policy.version})"
        tariff = tariff_of(table, policy)
    elif args.policy is not None:
        inputs["policy"] = f"{args.policy} (not used: no fee table)"
    blacklisted: Callable[[str], bool] | None = None
    if args.blacklist is not None:
        listed = load_blacklist(args.blacklist)
        blacklisted = listed.__contains__
        inputs["blacklist"] = f"{args.blacklist} (version {listed.version})"
    return Terms(tariff, table, blacklisted, inputs, fail_on)


def tariff_of(table: FeeTable, policy: Policy) -> Tariff:
    """The tariff of a fee table and a policy, as the judge takes it."""
    def fee(entry_network: str, entry_station: int, exit_network: str, exit_station: int,
            vehicle_class: int) -> int | None:
        return table.fee(entry_network, entry_station, (exit_network, exit_station),
                         vehicle_class)

    charging = policy.no_entry_handling is NoEntryHandling.CHARGE_DEFAULT_FEE
    return Tariff(
        fee=fee, discounted=lambda f: discounted_fee(f, policy), cash=lambda f: cash_fee(f, policy),
        stale_limit_s=policy.stale_entry_limit_s, uturn_grace_s=policy.uturn_grace_s,
        no_entry_fee=policy.no_entry_fee if charging else None,
        entry_min_balance=policy.entry_min_balance,
        describe=f"{table.version}, policy {policy.version}")


def lane_records(args: argparse.Namespace) -> list[LaneRecord] | None:
    """The lane's records `--journal` or `--records` names, as the judge reads them."""
    path = args.journal or args.records
    if path is None:
        return None
    if not path.exists():
        raise OutputError(f"{path}: no lane records there")
    entries = load_journal(path) if args.journal is not None else load_records(path)
    records = []
    for entry in entries:
        record = entry.record
        try:
            at = lane_datetime(record.transaction_time).timestamp()
        except ValueError:
            continue  # a record that never reached the card has no purchase time
        records.append(LaneRecord(record.lane_number, record.card_number, at,
                                  record.outcome.value, record.cash_fee))
    return records


def lanes_of(scenario: Scenario) -> list[LaneUnderTest]:
    """The scenario's lanes as the judge sees them."""
    return [LaneUnderTest(lane.lane_id, lane.mode, lane.network, lane.station, lane.lane_number)
            for lane in scenario.lanes]


def judge_frame_log(path: Path, judge: Judge) -> float:
    """Feed every line of the frame log at `path` to `judge`; returns the time of the last."""
    last = time.time()
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise OutputError(f"{path}: cannot read the frame log ({exc.strerror})") from exc
    with stream:
        try:
            lines = list(text_lines(stream, str(path)))
        except NotText as exc:
            raise OutputError(str(exc)) from None
        for _, text in lines:
            line = parse_line(text)
            if line is None:
                continue
            last = line.at
            if line.direction is not None:
                judge.frame(line.at, line.lane, line.connection, line.direction.value, line.raw)
            elif line.text.startswith(CONNECTED):
                judge.connected(line.at, line.lane, line.connection)
            elif line.text.startswith(DISCONNECTED):
                judge.disconnected(line.at, line.lane, line.connection)
            elif line.text.startswith((LISTENING, STOPPED)):
                judge.session_started(line.at)
    return last


def conformance_report(scenario: Scenario, frame_log: Path, terms: Terms,
                       records: list[LaneRecord] | None) -> Report:
    """The report of the lanes of `scenario` from their frame log."""
    judge = Judge(lanes_of(scenario), tariff=terms.tariff, blacklisted=terms.blacklisted,
                  inputs={"frame log": str(frame_log), **terms.inputs})
    if records is not None:
        judge.lane_records(records)
    last = judge_frame_log(frame_log, judge)
    return judge.finish(last)


def write_report(directory: Path, report: Report) -> None:
    """DIR/conformance.json and DIR/conformance.md."""
    try:
        write_file(directory / REPORT_JSON,
                   json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
        write_file(directory / REPORT_MD, report.markdown())
    except OSError as exc:
        raise OutputError(f"{directory}: cannot write the conformance report "
                          f"({exc.strerror})") from exc


def summary_line(report: Report, directory: Path) -> str:
    """One line for the console."""
    counts = report.summary()
    failed = sorted(report.failed_rules())
    return (f"conformance: {counts['pass']} pass, {counts['fail']} fail, {counts['not_judged']} "
            f"not judged" + (f" (failing: {', '.join(failed)})" if failed else "")
            + f"; {directory / REPORT_MD}")


def gate(report: Report, terms: Terms) -> int:
    """Exit status of the run: 1 when a rule `--fail-on` names failed."""
    return 1 if fails(report, terms.fail_on) else 0


def gate_json(report: Report, terms: Terms) -> dict[str, list[str]]:
    """The gate as `--json` gives it: the rules `--fail-on` names, and those of them that
    failed (any: exit status 1)."""
    return {"fail_on": sorted(terms.fail_on), "failed": fails(report, terms.fail_on)}


def report_files(directory: Path) -> dict[str, str]:
    """Where `write_report` put the report."""
    return {"json": str(directory / REPORT_JSON), "markdown": str(directory / REPORT_MD)}


__all__ = ["REPORT_JSON", "REPORT_MD", "Terms", "add_judging_arguments", "conformance_report",
           "gate", "gate_json", "judge_frame_log", "lane_records", "lanes_of", "read_terms",
           "report_files", "summary_line", "tariff_of", "write_report"]
