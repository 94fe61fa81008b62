"""`etc-centre` at the outlet's desk: every command answers with --json, a refusal is one line
on stderr with exit status 1 and writes nothing, bad usage is status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.centre.cli.helpers import CARD, DESK, ZHANG, ready, run, tables


def test_init_makes_the_store_and_reads_the_configuration(
        desk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, done, _ = run(capsys, "init", "--config", "examples/centre.toml", "--json")
    assert status == 0
    assert done["outlets"] == ["370101001", "370101002", "370201001"]
    assert done["plazas"] == ["3701/101", "3701/120"]
    assert Path(done["lists_folder"]) == (desk / "var" / "centre" / "lists").resolve()
    assert run(capsys, "init", "--config", "examples/centre.toml")[0] == 0  # again: same


def test_a_store_never_initialised_is_not_created_by_a_command(
        desk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "customer", "add", *DESK, *ZHANG)
    assert status == 1 and "etc-centre init" in err and len(err.splitlines()) == 1
    assert not (desk / "var").exists()


def test_a_bad_configuration_names_the_field(desk: Path, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    config = desk / "bad.toml"
    config.write_text('format = 1\n[issuer]\nnetwork = "37"\n', encoding="utf-8")
    status, _, err = run(capsys, "init", "--config", str(config))
    assert status == 1 and "issuer.network" in err and len(err.splitlines()) == 1
    assert not (desk / "var").exists()


@pytest.mark.parametrize(("argv", "reason"), [
    (["customer", "add", *DESK, "--name", "李四", "--id-number", "110105194912310021",
      "--plate", "鲁A1", "--class", "1"], "bad_input"),
    (["customer", "add", *DESK, *ZHANG], "customer_exists"),
    (["issue", "b-card", *DESK, "--keys", "keys.toml", "--plate", "鲁A12345", "--payment",
      "cash", "--personaliser", "emulated:tray"], "card_already_active"),
    (["issue", "obu", *DESK, "--keys", "keys.toml", "--plate", "鲁Z0", "--personaliser",
      "emulated:tray"], "unknown_vehicle"),
    (["top-up", *DESK, "--keys", "keys.toml", "--card", CARD, "--amount", "0", "--reader",
      f"emulated:tray/card-{CARD}.json"], "amount_not_positive"),
    (["top-up", *DESK, "--keys", "keys.toml", "--card", CARD, "--amount", "10000.01",
      "--reader", f"emulated:tray/card-{CARD}.json"], "over_purse_limit"),
    (["top-up", *DESK, "--keys", "keys.toml", "--card", "37012616000000000009", "--amount",
      "5", "--reader", f"emulated:tray/card-{CARD}.json"], "unknown_card"),
    (["report-loss", "--outlet", "370201001", "--operator", "qi", "--card", CARD],
     "other_service_centre"),
    (["unlock", *DESK, "--card", CARD], "wrong_card_status"),
    (["cancel", "--outlet", "370101002", "--operator", "li", "--card", CARD,
      "--without-card"], "wrong_outlet"),
    (["refund", "pay", *DESK, "--card", CARD], "no_refund"),
])
def test_refusals_are_one_line_exit_1_and_write_nothing(
        desk: Path, capsys: pytest.CaptureFixture[str], argv: list[str], reason: str) -> None:
    ready(capsys)
    before = tables()
    status, document, err = run(capsys, *argv, "--json")
    assert status == 1, err
    assert document["ok"] is False and document["reason"] == reason
    assert len(err.splitlines()) == 1 and reason in err
    assert tables() == before


def test_a_top_up_of_an_a_card_is_refused(desk: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    ready(capsys, card=False)
    status, done, _ = run(capsys, "issue", "a-card", *DESK, "--keys", "keys.toml", "--plate",
                          "鲁A12345", "--bank-account", "6222020200001234567", "--guarantee",
                          "agreement 2026-118", "--personaliser", "emulated:tray", "--json")
    assert status == 0
    a_card = done["result"]["card"]
    before = tables()
    status, refused, _ = run(capsys, "top-up", *DESK, "--keys", "keys.toml", "--card", a_card,
                             "--amount", "50", "--reader", f"emulated:tray/card-{a_card}.json",
                             "--json")
    assert (status, refused["reason"]) == (1, "not_a_b_card")
    assert tables() == before


@pytest.mark.parametrize("argv", [
    ["top-up", *DESK, "--keys", "keys.toml", "--card", CARD, "--amount", "ten", "--reader",
     "emulated:x"],
    ["top-up", *DESK, "--keys", "keys.toml", "--card", CARD, "--amount", "1.234", "--reader",
     "emulated:x"],
    ["customer", "add", *DESK, "--name", "x", "--id-number", "1", "--plate", "p", "--class",
     "PASSENGER_9"],
    ["issue", "b-card", *DESK, "--keys", "keys.toml", "--plate", "p", "--payment", "gold",
     "--personaliser", "emulated:tray"],
    ["report-loss", *DESK, "--card", CARD, "--obu", "3701202600000001"],
    ["cancel", *DESK, "--card", CARD],
    ["refund", "due", "--at", "yesterday"],
    ["lists", "show", "--list", "plates"],
])
def test_bad_usage_is_exit_2(desk: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
                             ) -> None:
    ready(capsys)
    before = tables()
    status, _, err = run(capsys, *argv)
    assert status == 2 and len(err.splitlines()) == 1
    assert tables() == before


def test_an_unknown_device_is_one_line(desk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ready(capsys)
    status, _, err = run(capsys, "top-up", *DESK, "--keys", "keys.toml", "--card", CARD,
                         "--amount", "5", "--reader", "pcsc:reader0")
    assert status == 1 and "known NAME (emulated)" in err and len(err.splitlines()) == 1


def test_a_day_at_the_desk_in_json(desk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ready(capsys)
    reader = f"emulated:tray/card-{CARD}.json"
    steps = [
        ["top-up", *DESK, "--keys", "keys.toml", "--card", CARD, "--amount", "200",
         "--payment", "wechat", "--reader", reader, "--request-id", "t-1"],
        ["top-up", *DESK, "--keys", "keys.toml", "--card", CARD, "--amount", "200",
         "--payment", "wechat", "--reader", reader, "--request-id", "t-1"],
        ["card", "read", "--outlet", "370101001", "--keys", "keys.toml", "--reader", reader],
        ["report-loss", "--outlet", "370101002", "--operator", "li", "--card", CARD],
        ["lists", "publish"],
        ["lists", "show", "--number", CARD],
        ["unlock", "--outlet", "370101002", "--operator", "li", "--card", CARD],
        ["cancel", *DESK, "--keys", "keys.toml", "--card", CARD, "--reader", reader],
        ["refund", "due", "--pending"],
        ["report", "day"],
        ["customer", "show", "--plate", "鲁A12345"],
        ["bills", "run"],
    ]
    answers = []
    for argv in steps:
        status, document, err = run(capsys, *argv, "--json")
        assert status == 0, (argv, err)
        answers.append(document)
    first, again, card = answers[0], answers[1], answers[2]
    assert first["result"]["balance_after"] == 20_000 and not first["replayed"]
    assert again["replayed"] and again["result"] == first["result"]
    assert (card["balance"], card["ledger_balance"], card["status"]) == (20_000, 20_000,
                                                                          "active")
    assert answers[4]["versions"][0]["changes"][0]["category"] == "lost"
    assert [h["category"] for h in answers[5]["history"]] == ["lost"]
    assert answers[7]["result"]["recorded_balance"] == 20_000
    assert [r["payable"] for r in answers[8]["refunds"]] == [20_000]
    assert answers[9]["requests"]["by_operation"]["top_up"] == 1
    assert answers[10]["cards"][0]["status"] == "cancelled"
