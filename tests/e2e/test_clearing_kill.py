"""A province of a day whose plazas publish to a real mosquitto, cleared by two `etc-centre
clear` processes sharing the subscription; one is stopped holding messages it has not
acknowledged, killed (SIGKILL) and started again under its client id. Nothing is lost (every
key the plazas sent is kept), nothing is booked twice (one ledger entry per booked record,
every day reconciles clean), and the restarted process took back what the dead one held."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from centre.store.store import Store
from keys.keyset_file import write_key_set
from lane_engine.fees.table_file import write_fee_table
from lane_engine.files.policy import policy_toml
from rsu_sim.province.config import ProvinceConfig
from rsu_sim.province.site import build_site
from rsu_sim.results.lane_records import load_journal
from tests.support.broker import Broker

pytestmark = [pytest.mark.broker, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
SEED, VEHICLES, PLAZAS = 8, 300, 3
#: How long c2 stays stopped before it is killed.
STOPPED_S = 1.5


class Clearing:
    """One `etc-centre clear` process."""

    def __init__(self, client_id: str, files: Path, store: Path, broker: Broker,
                 log: Path, *extra: str) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "centre", "clear", "--store", str(store),
             "--keys", str(files / "keys.toml"), "--fees", str(files / "fees.etcfee"),
             "--policy", str(files / "policy.toml"), "--broker",
             f"{broker.host}:{broker.port}", "--client-id", client_id, "--batch", "5",
             "--json", *extra],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=log.open("ab"))

    def result(self, timeout: float = 60) -> dict[str, object]:
        out, _ = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0, self.log.read_text()
        return dict(json.loads(out))

    def stop(self) -> dict[str, object]:
        self.process.send_signal(signal.SIGTERM)
        return self.result()


def _kept(store: Path) -> int:
    try:
        with sqlite3.connect(store, timeout=30) as db:
            return int(db.execute("SELECT COUNT(*) FROM clearing_records").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def _wait(check: object, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_two_clearing_processes_one_killed_book_everything_once(
        tmp_path: Path, mqtt_broker: Broker) -> None:
    start = dt.date.today() - dt.timedelta(days=1)  # the clearers' clock is the wall clock
    config = ProvinceConfig(days=1, vehicles=VEHICLES, plazas=PLAZAS, seed=SEED, start=start)
    site = build_site(config)
    first = tmp_path / "first"  # their sessions exist before the plazas publish
    first.mkdir()
    write_key_set(first / "keys.toml", site.key_set)
    write_fee_table(site.fees, first / "fees.etcfee")
    (first / "policy.toml").write_text(policy_toml(site.policy))
    Store.open(str(first / "centre.sqlite3")).close()
    for client in ("c1", "c2"):
        Clearing(client, first, first / "centre.sqlite3", mqtt_broker, tmp_path / f"{client}.log",
                 "--idle-exit", "0.5").result()

    out = tmp_path / "province"
    world = subprocess.Popen(
        [sys.executable, "-m", "rsu_sim", "run", "--days", "1", "--vehicles", str(VEHICLES),
         "--plazas", str(PLAZAS), "--seed", str(SEED), "--start", start.isoformat(),
         "--broker", f"{mqtt_broker.host}:{mqtt_broker.port}", "--external-clearing",
         "--out", str(out), "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    store = out / "centre.sqlite3"
    _wait(lambda: (out / "policy.toml").is_file(), "the province's centre files")
    one = Clearing("c1", out, store, mqtt_broker, tmp_path / "c1.log")
    two = Clearing("c2", out, store, mqtt_broker, tmp_path / "c2.log")
    processes = [world, one.process, two.process]
    try:
        _wait(lambda: _kept(store) >= 10, "the first records cleared")
        # Stopped, c2 goes on being sent its share and acknowledges none of it (it may even
        # hang holding SQLite's write lock, mid-transaction); then it is killed.
        os.kill(two.process.pid, signal.SIGSTOP)
        time.sleep(STOPPED_S)
        two.process.kill()
        assert two.process.wait(10) == -signal.SIGKILL
        time.sleep(STOPPED_S)  # c1 clears on alone; c2's share waits in its session
        again = Clearing("c2", out, store, mqtt_broker, tmp_path / "c2-again.log")
        processes.append(again.process)
        stdout, stderr = world.communicate(timeout=400)
        assert world.returncode == 0, stdout + stderr
        taken_again = again.stop()
        one.stop()
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    broker_again = taken_again["broker"]
    assert isinstance(broker_again, dict) and int(broker_again["messages"]) > 0

    summary = json.loads((out / "summary.json").read_text())
    assert summary["days clean"] == summary["days reconciled"]
    assert summary["findings"] == {} and summary["audit clean"] is True
    sent = {entry.record.idempotency_key for entry in load_journal(out / "journal.sqlite3")}
    with sqlite3.connect(store) as db:
        kept = {row[0] for row in db.execute("SELECT idempotency_key FROM clearing_records")}
        twice = db.execute("SELECT COUNT(*) FROM (SELECT entry_id FROM clearing_records"
                           " WHERE entry_id IS NOT NULL GROUP BY entry_id"
                           " HAVING COUNT(*) > 1)").fetchone()[0]
        lane_entries = db.execute("SELECT COUNT(*) FROM entries WHERE kind IN"
                                  " ('lane_debit', 'lane_cash')").fetchone()[0]
        posted = db.execute("SELECT COUNT(*) FROM clearing_records WHERE entry_id IS NOT NULL"
                            ).fetchone()[0]
    assert kept == sent and len(sent) > 100
    assert twice == 0 and lane_entries == posted > 0
