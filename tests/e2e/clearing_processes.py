"""`etc-centre clear` processes and a province run publishing to a broker, as the clearing
end-to-end tests start them, and what they check in the centre's store afterwards."""

from __future__ import annotations

import datetime as dt
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from centre.store.store import Store
from keys.keyset_file import write_key_set
from lane_engine.fees.table_file import write_fee_table
from lane_engine.files.policy import policy_toml
from rsu_sim.province.config import ProvinceConfig
from rsu_sim.province.site import build_site
from rsu_sim.results.lane_records import load_journal
from tests.support.broker import Broker

ROOT = Path(__file__).resolve().parents[2]


class Clearing:
    """One `etc-centre clear` process on `broker`, clearing into `store`."""

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


def yesterday() -> dt.date:
    """The day a one-day province runs (the clearers' clock is the wall clock)."""
    return dt.date.today() - dt.timedelta(days=1)


def register_sessions(config: ProvinceConfig, broker: Broker, clients: tuple[str, ...],
                      work: Path) -> None:
    """Each clearing client's persistent session exists on `broker` before the plazas publish,
    so the broker queues their share from the first record."""
    site = build_site(config)
    work.mkdir()
    write_key_set(work / "keys.toml", site.key_set)
    write_fee_table(site.fees, work / "fees.etcfee")
    (work / "policy.toml").write_text(policy_toml(site.policy))
    Store.open(str(work / "centre.sqlite3")).close()
    for client in clients:
        Clearing(client, work, work / "centre.sqlite3", broker, work / f"{client}.log",
                 "--idle-exit", "0.5").result()


def province(config: ProvinceConfig, broker: Broker, out: Path) -> subprocess.Popen[str]:
    """`rsu-sim run --days` of `config` publishing to `broker`, clearing left to others."""
    return subprocess.Popen(
        [sys.executable, "-m", "rsu_sim", "run", "--days", str(config.days), "--vehicles",
         str(config.vehicles), "--plazas", str(config.plazas), "--seed", str(config.seed),
         "--start", config.start.isoformat(), "--broker", f"{broker.host}:{broker.port}",
         "--external-clearing", "--out", str(out), "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kept_count(store: Path) -> int:
    try:
        with sqlite3.connect(store, timeout=30) as db:
            return int(db.execute("SELECT COUNT(*) FROM clearing_records").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def wait_for(check: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def assert_everything_booked_once(out: Path) -> int:
    """The run's summary clean, every key its plazas journaled kept, one ledger entry per
    booked record and no entry claimed twice; the number of keys."""
    summary = json.loads((out / "summary.json").read_text())
    assert summary["days clean"] == summary["days reconciled"]
    assert summary["findings"] == {} and summary["audit clean"] is True
    sent = {entry.record.idempotency_key for entry in load_journal(out / "journal.sqlite3")}
    with sqlite3.connect(out / "centre.sqlite3") as db:
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
    return len(sent)
