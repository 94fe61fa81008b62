"""`etc-centre lists run` publishes a version each interval until SIGTERM, and `lists show`
reads them back; `lists mark` puts a hand category on a card."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from centre.cli.main import main
from tests.centre.cli.helpers import CARD, DESK, ready, run


def test_lists_run_publishes_each_interval_until_sigterm(
        desk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ready(capsys)
    assert run(capsys, "report-loss", *DESK, "--card", CARD)[0] == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "centre", "lists", "run", "--interval", "0.5", "--json"],
        cwd=desk, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        lists = desk / "var" / "centre" / "lists"
        while time.monotonic() < deadline and not (lists / "card-delta-1.txt").exists():
            time.sleep(0.1)
        time.sleep(0.3)
        assert main(["unlock", *DESK, "--card", CARD]) == 0
        while time.monotonic() < deadline and not (lists / "card-delta-2.txt").exists():
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert (lists / "card-delta-2.txt").read_text().splitlines()[2] == f"{CARD},REMOVE"
    capsys.readouterr()
    status, shown, _ = run(capsys, "lists", "show", "--json")
    assert status == 0 and [v["version"] for v in shown["versions"]][:2] == [1, 2]
    assert json.loads(out.split("\n}\n")[0] + "\n}")["versions"][0]["version"] == 1


def test_a_hand_mark_lists_the_card_until_it_is_cleared(
        desk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ready(capsys)
    status, done, _ = run(capsys, "lists", "mark", *DESK, "--card", CARD, "--category",
                          "suspended", "--json")
    assert status == 0 and done["result"]["listed"] == "suspended"
    assert run(capsys, "lists", "mark", *DESK, "--card", CARD, "--category", "lost")[0] == 2
    status, done, _ = run(capsys, "lists", "mark", *DESK, "--card", CARD, "--category", "none",
                          "--json")
    assert status == 0 and done["result"]["listed"] is None
    status, published, _ = run(capsys, "lists", "publish", "--json")
    card = published["versions"][0]
    assert status == 0 and (card["additions"], card["removals"]) == (0, 0)  # on, then off
    assert [c["category"] for c in card["changes"]] == ["suspended", "none"]
