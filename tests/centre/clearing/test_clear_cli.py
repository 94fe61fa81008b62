"""`etc-centre clear` from exported lane journals and from a broker."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from centre.clearing.values import ClearingState
from centre.cli.main import main
from centre.values import CardKind
from keys.keyset_file import write_key_set
from lane_engine.fees.table_file import write_fee_table
from lane_engine.files.policy import policy_toml
from lane_engine.journal.codec import record_to_dict
from tests.centre.clearing.records import (
    FEES,
    KEYS,
    POLICY,
    ZONE,
    card_number,
    entry,
    exit_,
    message,
    register,
)
from tests.centre.store.helpers import opened
from tests.support.broker import Broker

B1 = card_number(1)
#: The CLI clears on the wall clock: records of a few hours ago, not late.
T0 = dt.datetime.now(ZONE).replace(microsecond=0) - dt.timedelta(hours=8)


@pytest.fixture
def inputs(tmp_path: Path) -> list[str]:
    """The store (with card B1), key set, fee table and policy, as `clear` arguments."""
    store = tmp_path / "centre.sqlite3"
    with opened(str(store)) as opened_store:
        register(opened_store, {B1: CardKind.B})
    write_key_set(tmp_path / "keys.toml", KEYS)
    write_fee_table(FEES, tmp_path / "fees.etcfee")
    (tmp_path / "policy.toml").write_text(policy_toml(POLICY))
    return ["--store", str(store), "--keys", str(tmp_path / "keys.toml"),
            "--fees", str(tmp_path / "fees.etcfee"), "--policy", str(tmp_path / "policy.toml")]


def _states(store: str) -> dict[ClearingState, int]:
    with opened(store) as s, s.transaction() as tx:
        return tx.clearing.counts()


def test_an_exported_journal_is_cleared_and_its_bad_lines_kept(
        inputs: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    going, back = entry(B1, 0, T0), exit_(B1, 1, T0 + dt.timedelta(hours=1), serial=2)
    lines = [json.dumps({**record_to_dict(r), "journal_state": "closed"}) for r in (going, back)]
    lines += [json.dumps({**record_to_dict(back), "journal_state": "duplicate"}), "", "{nope"]
    journal = tmp_path / "lane.jsonl"
    journal.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["clear", *inputs, "--journal", str(journal), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["taken"] == {"new booked": 2, "rejected": 1}
    assert result["findings"] == []
    assert _states(inputs[1]) == {ClearingState.BOOKED: 2}


def test_clear_wants_a_source_and_real_files(inputs: list[str], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clear", *inputs]) == 2
    assert "give --broker, --journal FILE or --settle" in capsys.readouterr().err
    missing = [*inputs[:-1], str(tmp_path / "nowhere.toml")]
    assert main(["clear", *missing, "--settle"]) == 1
    assert "nowhere.toml" in capsys.readouterr().err


@pytest.mark.broker
def test_clear_from_the_broker_until_idle(inputs: list[str], mqtt_broker: Broker,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    from centre.link.mqtt import BrokerSettings, publish

    settings = BrokerSettings(mqtt_broker.host, mqtt_broker.port)
    address = f"{mqtt_broker.host}:{mqtt_broker.port}"
    assert main(["clear", *inputs, "--broker", address, "--client-id", "c1", "--idle-exit",
                 "0.3", "--log-format", "json"]) == 0  # makes the session
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert {"level": "info", "event": "broker", "state": "subscribed", "client_id": "c1",
            "detail": address}.items() <= logged[0].items()
    assert logged[0]["at"].endswith("+08:00")
    records = [entry(B1, n, T0 + dt.timedelta(hours=n), serial=n) for n in range(6)]
    asyncio.run(publish(settings, [(f"etc/3701/{r.lane_station}/1/transactions", message(r, n))
                                   for n, r in enumerate(records)], client_id="plaza"))
    assert main(["clear", *inputs, "--broker", address, "--client-id", "c1", "--idle-exit",
                 "1", "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["broker"]["messages"] == 6
    assert _states(inputs[1]) == {ClearingState.BOOKED: 6}
