"""`--json` on `rsu-sim serve`, `rsu-sim conformance` and `rsu-sim replay`, against the
deliberately faulty lane: stdout is one JSON document that says what the files and the exit
status say (the end-of-run summary and the verdict counts, the verdicts with their evidence,
the differences), and `--json` with a frame log on stdout is bad usage."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lane_engine.fees.table_file import load_fee_table
from protocols.envelope import EnvelopeKind, encode_v3
from protocols.frame_codec import decode_frame, encode_frame
from protocols.frames import Purchase
from protocols.stream import decode_packet
from rsu_sim.conformance.rules import RULES, Family
from tests.e2e.served import (
    EXAMPLE_POLICY,
    ROOT,
    TIMEOUT_S,
    example_fee_table,
    rsu_sim,
    scenario_toml,
)
from tests.rsu_sim.conformance.faulty_lane import FaultyLane
from tests.support.broker import free_port

VEHICLES = 12
#: Faults the faulty lane gets wrong (it refuses nobody), and none that make a replay differ
#: from its capture by themselves (no corrupted bytes, no restarts, no lost frames).
FAULTS = "\n[faults]\nexpired_card = 0.25\nblacklisted = 0.2\ninsufficient_balance = 0.2\n"
BUSINESS = {rule.id for rule in RULES if rule.family is Family.BUSINESS}
#: `serve --json` as it ended, its world, the fee table, and its conformance.json.
Served = tuple[subprocess.CompletedProcess[str], Path, Path, dict[str, Any]]


async def _run_with_faulty_lane(args: list[str], fees: Path
                                ) -> subprocess.CompletedProcess[str]:
    """`python -m rsu_sim ARGS`, the faulty exit lane 3701/102 lane 2 connected to the port it
    says it listens on; its stdout and stderr captured."""
    table = load_fee_table(fees)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rsu_sim", *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    try:
        seen = b""
        while b"listening on" not in seen:
            line = await asyncio.wait_for(process.stderr.readline(), TIMEOUT_S)
            assert line, seen
            seen += line
        port = int(seen.split(b"listening on ")[1].split()[0].rsplit(b":", 1)[1].rstrip(b","))
        lane = await FaultyLane.connect(
            port, lambda net, st, cls: table.fee(net, st, ("3701", 102), cls), "3701", 102, 2)
        task = asyncio.create_task(lane.run())
        out, err = await asyncio.wait_for(process.communicate(), TIMEOUT_S)
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return subprocess.CompletedProcess(args, process.returncode, out.decode(),
                                       (seen + err).decode())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    tmp = tmp_path_factory.mktemp("json")
    scenario = tmp / "scenario.toml"
    scenario.write_text(scenario_toml([("exit-1", "exit", 2, free_port())], station=102,
                                      vehicles=VEHICLES, faults="none") + FAULTS,
                        encoding="utf-8")
    fees = example_fee_table(tmp)
    world = tmp / "world"
    done = asyncio.run(_run_with_faulty_lane(
        ["serve", "--scenario", str(scenario), "--out", str(world), "--speed", "20",
         "--vehicles", str(VEHICLES), "--fees", str(fees), "--policy", str(EXAMPLE_POLICY),
         "--fail-on", "business", "--json"], fees))
    report = json.loads((world / "conformance.json").read_text(encoding="utf-8"))
    return done, world, fees, report


def _verdicts(document: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(lane["lane"], rule["rule"]): rule["verdict"]
            for lane in document["lanes"] for rule in lane["rules"]}


def test_serve_prints_its_summary_and_verdict_counts(served: Served) -> None:
    done, world, _, report = served
    document = json.loads(done.stdout)  # one document, no summary lines beside it
    assert document["summary"] == json.loads((world / "summary.json").read_text())
    assert document["summary"]["vehicles"] == VEHICLES
    assert document["summary"]["connections"] == 1
    conformance = document["conformance"]
    assert conformance["judged"] is True
    assert conformance["summary"] == report["summary"]
    counts = conformance["summary"]
    assert counts["pass"] + counts["fail"] + counts["not_judged"] == len(RULES)
    # The faulty lane debits the cards it should refuse: business rules fail, and the gate
    # (--fail-on business) names them and ends the run with status 1.
    failed = set(counts["failed_rules"])
    assert failed & BUSINESS
    assert conformance["gate"] == {"fail_on": sorted(BUSINESS),
                                   "failed": sorted(failed & BUSINESS)}
    assert done.returncode == 1, done.stderr
    assert conformance["report"] == {"json": str(world / "conformance.json"),
                                     "markdown": str(world / "conformance.md")}


def test_conformance_prints_the_verdicts_with_their_evidence(served: Served) -> None:
    _, world, fees, report = served
    judging = ["conformance", "--dir", str(world), "--fees", str(fees),
               "--policy", str(EXAMPLE_POLICY), "--json"]
    gated = rsu_sim(*judging, "--fail-on", "any")
    document = json.loads(gated.stdout)
    # The same frames and terms as serve's judging: the same verdicts.
    assert _verdicts(document) == _verdicts(report)
    assert document["summary"] == report["summary"]
    failed = document["summary"]["failed_rules"]
    assert failed and document["gate"]["failed"] == failed
    assert gated.returncode == 1
    for lane in document["lanes"]:
        for rule in lane["rules"]:
            if rule["verdict"] == "fail":
                assert rule["evidence"] and rule["evidence"][0]["seen"], rule
    ungated = rsu_sim(*judging)
    assert ungated.returncode == 0, ungated.stderr
    assert json.loads(ungated.stdout)["gate"] == {"fail_on": [], "failed": []}


def _with_c6_one_fen_more(log: Path, capture: Path) -> int:
    """Write `log` to `capture` with every C6 of the lane asking one fen more; how many."""
    lines, changed = [], 0
    for line in log.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if not line.startswith("#") and len(words) == 5 and words[3] == "RX":
            packet = decode_packet(bytes.fromhex(words[4]), EnvelopeKind.V3)
            frame = decode_frame(packet.data)
            if isinstance(frame, Purchase):
                more = replace(frame, consume_money=frame.consume_money + 1)
                line = " ".join([*words[:4], encode_v3(packet.seq, encode_frame(more)).hex()])
                changed += 1
        lines.append(line)
    capture.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return changed


def test_replay_prints_the_differences(served: Served, tmp_path: Path) -> None:
    _, world, fees, _ = served
    capture = tmp_path / "capture.log"
    changed = _with_c6_one_fen_more(world / "frames.log", capture)
    report = tmp_path / "differences.json"
    done = asyncio.run(_run_with_faulty_lane(
        ["replay", str(capture), "--lane", f"127.0.0.1:{free_port()}", "--speed", "10",
         "--report", str(report), "--json"], fees))
    assert done.returncode == 1, done.stdout + done.stderr
    document = json.loads(done.stdout)
    assert document == json.loads(report.read_text(encoding="utf-8"))
    assert document["capture"] == str(capture) and document["connection"].startswith("exit-1")
    assert document["undecodable"] == []
    assert 0 < len(document["differences"]) <= document["exchanges"]
    # The lane answered as it did when captured: only the C6s edited into the capture differ,
    # every one of them, each by the one fen added.
    captured = [int(n) for d in document["differences"]
                for n in re.findall(r"consume_money=(\d+)", d["capture"])]
    replayed = [int(n) for d in document["differences"]
                for n in re.findall(r"consume_money=(\d+)", d["replay"])]
    assert len(captured) == changed > 0
    assert captured == [n + 1 for n in replayed]


def test_serve_refuses_json_with_the_frame_log_on_stdout(tmp_path: Path) -> None:
    done = rsu_sim("serve", "--out", str(tmp_path / "world"), "--json", "--frame-log", "-")
    assert done.returncode == 2
    assert done.stderr.strip() == "rsu-sim: error: --json and --frame-log -: both print on stdout"
    assert done.stdout == "" and not (tmp_path / "world").exists()
