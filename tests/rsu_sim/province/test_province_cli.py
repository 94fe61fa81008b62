"""`rsu-sim run --days N` as a user runs it, the run audited with `rsu-sim audit --dir` and a
day reconciled again with `etc-centre reconcile`; over a real mosquitto as in process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from centre.cli.main import main as etc_centre
from rsu_sim.cli.main import main as rsu_sim
from tests.support.broker import Broker

RUN = ["run", "--days", "2", "--vehicles", "90", "--plazas", "3", "--seed", "4", "--quiet"]
WALL = {"wall s", "cpu s", "clearing wall s", "clearing records per s"}


def _figures(out: Path) -> dict[str, object]:
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {k: v for k, v in summary.items() if k not in WALL}


def test_a_province_run_audits_and_reconciles_with_the_tools(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "province"
    assert rsu_sim([*RUN, "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["verdict"] == "ok" and printed["summary"]["days clean"] > 0
    for name in ("summary.md", "summary.png", "cards.jsonl", "journal.sqlite3",
                 "centre.sqlite3", "keys.toml", "fees.etcfee", "policy.toml"):
        assert (out / name).is_file(), name
    assert rsu_sim(["audit", "--dir", str(out)]) == 0
    assert "audit: clean" in capsys.readouterr().out
    assert etc_centre(["reconcile", "--day", "2026-11-02", "--store", str(out / "centre.sqlite3"),
                       "--out", str(tmp_path / "again"), "--no-chart"]) == 0
    report = json.loads((out / "reconcile" / "reconcile-2026-11-02.json").read_text())
    assert report["clean"] is True and report["counts"]["verified TACs"] > 0


def test_bad_province_arguments_are_one_line(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert rsu_sim(["run", "--days", "2", "--out", str(tmp_path)]) == 2
    assert "--days needs --vehicles" in capsys.readouterr().err
    assert rsu_sim([*RUN, "--inject", "teleport=1", "--out", str(tmp_path)]) == 2
    assert "FAULT one of" in capsys.readouterr().err
    assert rsu_sim([*RUN, "--inject", "wrong-fee=9/1", "--out", str(tmp_path)]) == 1
    assert "wrong_fee_lane" in capsys.readouterr().err
    # Faults that could never strike are refused, not run as a clean province.
    assert rsu_sim([*RUN, "--inject", "wrong-fee=2/1", "--out", str(tmp_path)]) == 1
    assert "is an entry lane" in capsys.readouterr().err
    assert rsu_sim([*RUN, "--inject", "forged=2", "--inject", "fault-day=2",
                    "--out", str(tmp_path)]) == 1
    assert "not one of the run's days" in capsys.readouterr().err


@pytest.mark.broker
def test_over_a_broker_the_province_comes_out_the_same(
        tmp_path: Path, mqtt_broker: Broker, capsys: pytest.CaptureFixture[str]) -> None:
    local, over = tmp_path / "local", tmp_path / "broker"
    run = [*RUN[:4], "50", *RUN[5:]]
    assert rsu_sim([*run, "--out", str(local)]) == 0
    assert rsu_sim([*run, "--out", str(over), "--broker",
                    f"{mqtt_broker.host}:{mqtt_broker.port}"]) == 0
    assert _figures(over) == _figures(local)


def test_the_example_province_file_states_the_defaults() -> None:
    import tomllib

    from rsu_sim.province.config import ProvinceConfig, province_from_table

    root = Path(__file__).resolve().parents[3]
    table = tomllib.loads((root / "examples" / "province.toml").read_text(encoding="utf-8"))
    assert province_from_table(table["days"], None, None) == ProvinceConfig(days=30,
                                                                            vehicles=20_000)


def test_a_days_table_with_an_unknown_key_is_refused() -> None:
    from rsu_sim.errors import ScenarioError
    from rsu_sim.province.config import province_from_table

    with pytest.raises(ScenarioError, match="trips_per_week"):
        province_from_table({"habits": {"trips_per_week": 3}}, 2, 10)
