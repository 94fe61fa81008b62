"""`python -m rsu_sim.plaza.demo` on a small plaza: a clean audit, exit 0, its files (keys 0600),
the progress line, and the scenario moved to the wall clock."""

from __future__ import annotations

import io
import json
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lane_engine.core.policy import Policy, is_entry_stale
from protocols.records import EntryExitStatus
from rsu_sim.harness.setup import build_fees
from rsu_sim.model.scenario import Fault, rebase_start
from rsu_sim.plaza.demo import ProgressLine, build_parser, main
from rsu_sim.plaza.run import EdgeTally
from rsu_sim.plaza.setup import exit_plaza_scenario
from rsu_sim.site.served import build_site


def test_small_demo_runs_clean_and_leaves_its_files(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["--vehicles", "60", "--lanes", "2", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "audit: clean" in printed and "decision latency" in printed
    for name in ("journal.sqlite3", "fees.etcfee", "blacklist.bin", "policy.toml", "frames.log",
                 "cards.jsonl", "scenario.json"):
        assert (out / name).is_file(), name
    assert stat.S_IMODE((out / "keys.toml").stat().st_mode) == 0o600
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["arrivals"] == 60 and summary["audit_clean"] is True
    assert summary["transactions"] == sum(summary["completed"].values()) + sum(
        summary["refused"].values()) + sum(summary["not_debited"].values()) + summary["unresolved"]


def test_help_works_as_a_module() -> None:
    done = subprocess.run([sys.executable, "-m", "rsu_sim.plaza.demo", "--help"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and "--vehicles" in done.stdout


@pytest.mark.parametrize("argv", [["--mqtt", "nohost"], ["--speed", "0"], ["--lanes", "0"]])
def test_bad_options_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2


def test_rebased_scenario_keeps_fresh_entries_fresh_and_stale_ones_stale() -> None:
    now = time.time()
    scenario = rebase_start(exit_plaza_scenario(2, vehicles=200, seed=3), now)
    _, stations = build_fees(scenario)
    site = build_site(scenario, fee_network=stations)
    policy = Policy("p")
    seen = {False: 0, True: 0}
    for arrival in site.traffic.arrivals:
        card = arrival.vehicle.card
        record = None if card is None else card.entry_exit
        if record is None or record.status != EntryExitStatus.ENTERED:
            continue
        entry = record.time
        assert entry <= now
        stale = Fault.STALE_ENTRY in arrival.vehicle.faults
        assert is_entry_stale(entry, int(now), policy) is stale
        seen[stale] += 1
    assert seen[False] > 0 and seen[True] > 0


def test_progress_line_redraws_on_a_terminal_and_prints_lines_elsewhere() -> None:
    edge = EdgeTally()
    tty, plain = io.StringIO(), io.StringIO()
    ProgressLine(tty, 10, tty=True).show(edge)
    line = ProgressLine(plain, 10, tty=False)
    line.show(edge)
    line.show(edge)
    assert tty.getvalue().startswith("\r") and "0/10" in tty.getvalue()
    assert plain.getvalue().count("\n") == 2 and "\r" not in plain.getvalue()
