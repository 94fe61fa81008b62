"""The `lane-engine` command, run as a subprocess: help, errors, status, journal, run and stop."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import aiomqtt
import pytest

from lane_engine.core.ledger import amend
from lane_engine.core.outcomes import Outcome, ReasonCode
from lane_engine.core.policy import Policy
from lane_engine.files.policy import policy_toml
from lane_engine.journal import SqliteJournal
from lane_engine.times import parse_time
from tests.lane_engine.station.test_mqtt import refusal
from tests.support.broker import Broker, free_port

ROOT = Path(__file__).resolve().parents[3]


def lane_engine(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lane_engine", *args], capture_output=True, text=True,
        cwd=ROOT, timeout=60, **kwargs,  # type: ignore[call-overload]
    )


def config_file(tmp_path: Path, mqtt: Broker | None = None) -> Path:
    """An entry plaza whose RSU is not there (the lane keeps retrying)."""
    (tmp_path / "policy.toml").write_text(policy_toml(Policy("p-cli")), encoding="utf-8")
    text = f"""
[plaza]
network = "3701"
station = 120
[paths]
policy = "{tmp_path / 'policy.toml'}"
journal = "{tmp_path / 'journal.sqlite3'}"
[reconnect]
initial_s = 0.1
max_s = 0.5
[[lanes]]
number = 4
mode = "entry"
rsu = "127.0.0.1:{free_port()}"
"""
    if mqtt is not None:
        text += f'[mqtt]\nhost = "{mqtt.host}"\nport = {mqtt.port}\nkeepalive_s = 5\n'
    path = tmp_path / "lane.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [[], ["run"], ["status"], ["journal"]])
def test_every_command_has_help(command: list[str]) -> None:
    done = lane_engine(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_errors_are_one_line_with_a_non_zero_status(tmp_path: Path) -> None:
    missing = lane_engine("run", "--config", str(tmp_path / "absent.toml"))
    assert missing.returncode == 1
    assert missing.stderr.count("\n") == 1 and "absent.toml" in missing.stderr
    bad = lane_engine("fly")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    no_journal = lane_engine("status", "--journal", str(tmp_path / "none.sqlite3"))
    assert no_journal.returncode == 1 and "none.sqlite3" in no_journal.stderr


def test_status_and_journal_read_the_configured_journal(tmp_path: Path) -> None:
    config = config_file(tmp_path)
    with SqliteJournal(tmp_path / "journal.sqlite3") as journal:
        for n in range(3):
            journal.record_refusal(refusal(n))
        journal.open_intent(amend(refusal(9), outcome=Outcome.UNRESOLVED, reason=ReasonCode.OK))
        journal.mark_published(1)
    done = lane_engine("status", "--config", str(config), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["by_outcome"] == {"refused": 3, "unresolved": 1}
    assert report["open_intents"] == [refusal(9).transaction_id]
    assert report["outbox_backlog"] == 2
    assert len(report["last_records"]) == 4
    text = lane_engine("status", "--journal", str(tmp_path / "journal.sqlite3"))
    assert "outbox backlog: 2" in text.stdout
    stats = lane_engine("journal", "stats", "--journal", str(tmp_path / "journal.sqlite3"))
    assert stats.returncode == 0 and "open intents: 1" in stats.stdout


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_run_stops_cleanly_on_sigterm(tmp_path: Path, log_format: str) -> None:
    config = config_file(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "lane_engine", "run", "--config", str(config),
         "--log-format", log_format], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not (tmp_path / "journal.sqlite3").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 0, err
    # No RSU listens: the connection failure is a warning; the stop is the last line.
    lines = err.splitlines()
    if log_format == "json":
        documents = [json.loads(line) for line in lines]
        assert any(d["level"] == "warning" and d["event"] == "rsu_disconnected"
                   and d["lane"] == 4 for d in documents), err
        assert documents[-1]["event"] == "plaza_stopped", err
        return
    assert any("level=warning event=rsu_disconnected lane=" in line for line in lines), err
    assert lines[-1].endswith("level=info event=plaza_stopped"), err


@pytest.mark.broker
async def test_the_last_will_sets_the_lane_offline_when_the_process_dies(
    tmp_path: Path, mqtt_broker: Broker
) -> None:
    config = config_file(tmp_path, mqtt_broker)
    topic = "etc/3701/120/4/status"
    started = time.time()
    process = subprocess.Popen(
        [sys.executable, "-m", "lane_engine", "run", "--config", str(config)], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ),
    )
    seen: list[dict[str, object]] = []
    try:
        async with aiomqtt.Client(mqtt_broker.host, mqtt_broker.port) as client:
            await client.subscribe(topic, qos=1)

            async def until(status: str) -> None:
                async for message in client.messages:
                    seen.append(json.loads(bytes(message.payload)))  # type: ignore[arg-type]
                    if seen[-1]["status"] == status:
                        return

            await asyncio.wait_for(until("online"), 20)
            process.kill()  # no goodbye: only the broker's last will can say it
            await asyncio.wait_for(until("offline"), 20)
    finally:
        process.kill()
        process.wait()
    online = next(s for s in seen if s["status"] == "online")
    assert online["lane"] == 4 and online["rsu"] == "disconnected"
    will = seen[-1]
    assert (will["lane"], will["status"], will["reason"]) == (4, "offline", "connection lost")
    # The will's time is when its session opened, after the process started.
    assert started <= parse_time(str(will["at"])) <= time.time()


def test_run_serves_metrics_and_health_that_top_reads(tmp_path: Path) -> None:
    port = free_port()
    config = config_file(tmp_path)
    config.write_text(config.read_text() + f'[metrics]\nport = {port}\n', encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "lane_engine", "run", "--config", str(config)], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        health = None
        deadline = time.monotonic() + 30
        while health is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    health = json.loads(r.read())
            except OSError:
                time.sleep(0.1)
        top = lane_engine("top", "--config", str(config), "--json")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert health is not None, "no /healthz"
    assert health["status"] == "ok" and health["lanes"]["4"]["rsu"] == "disconnected"
    assert top.returncode == 0, top.stderr
    view = json.loads(top.stdout)
    assert view["plaza"]["station"] == "120" and view["lanes"]["4"]["rsu"] == "disconnected"
    assert view["lanes"]["4"]["rsu_reconnects"] >= 1
    assert f"event=endpoint_listening address=127.0.0.1:{port}" in err
