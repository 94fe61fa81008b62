"""What the CLI tests share: the desk's options, running `etc-centre` in-process, the store's
row counts, a store with a customer and a B card."""

from __future__ import annotations

import json
from typing import Any

import pytest

from centre.cli.main import main
from centre.store.store import Store

DESK = ["--outlet", "370101001", "--operator", "wang"]
ZHANG = ["--name", "张三", "--id-number", "11010519491231002X", "--plate", "鲁A12345",
         "--class", "PASSENGER_1"]
CARD = "37012616000000000001"
AT = ["--at", "2026-11-02T09:30:00"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    try:
        document = json.loads(out) if "--json" in argv else out
    except ValueError:
        document = out
    return status, document, err


def tables(store: str = "var/centre.sqlite3") -> dict[str, int]:
    with Store.open(store, migrate_schema=False) as opened, opened.transaction() as tx:
        return {name: tx.sql.value(f"SELECT COUNT(*) FROM {name}")
                for name in ("customers", "vehicles", "cards", "obus", "requests", "entries",
                             "loads", "refunds", "list_changes", "counters")}


def ready(capsys: pytest.CaptureFixture[str], *, card: bool = True) -> None:
    assert run(capsys, "init", "--config", "examples/centre.toml")[0] == 0
    assert run(capsys, "customer", "add", *DESK, *ZHANG, *AT)[0] == 0
    if card:
        status, done, err = run(capsys, "issue", "b-card", *DESK, *AT, "--keys", "keys.toml",
                                "--plate", "鲁A12345", "--payment", "wechat",
                                "--personaliser", "emulated:tray", "--json")
        assert status == 0, err
        assert done["result"]["card"] == CARD


