"""Every command-line tool follows the same conventions (`cli_conventions`): `--version`, help
listing each command once, the exit statuses documented, `--json` where a command reports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli_conventions import EXIT_STATUS, distribution_version, json_ready
from lane_engine.journal import SqliteJournal
from tests.lane_engine.journal.journal_records import debited, intent, refusal

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

#: The installed entry points (`[project.scripts]`), beside this interpreter.
SCRIPTS = Path(sys.executable).parent
#: Each tool as run, and the commands its help lists.
TOOLS = {
    "lane-engine": ([str(SCRIPTS / "lane-engine")],
                    ["run", "journal", "status", "top", "fees", "blacklist", "policy"]),
    "lane-engine journal": ([str(SCRIPTS / "lane-engine"), "journal"],
                            ["list", "show", "export", "open-intents", "stats"]),
    "rsu-sim": ([str(SCRIPTS / "rsu-sim")], ["run", "audit", "replay", "conformance", "serve"]),
    "etc-centre": ([str(SCRIPTS / "etc-centre")], ["clear", "reconcile"]),
    "python -m protocols": ([sys.executable, "-m", "protocols"], ["decode"]),
    "python -m keys": ([sys.executable, "-m", "keys"],
                       ["diversify", "session-key", "mac", "tac", "generate"]),
}


def run(command: list[str], *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env={**os.environ, "COLUMNS": "100"}, check=False)


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_version_names_the_tool_and_the_release(tool: str) -> None:
    command, _ = TOOLS[tool]
    done = run(command, "--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"{tool} {distribution_version()}")


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_help_lists_each_command_once_and_the_exit_statuses(tool: str) -> None:
    command, commands = TOOLS[tool]
    done = run(command, "--help")
    assert done.returncode == 0, done.stderr
    listing = done.stdout.split("\ncommands:\n", 1)[1]
    for name in commands:
        assert len(re.findall(rf"^  {re.escape(name)}\b", listing, flags=re.M)) == 1, name
        assert len(re.findall(rf"^ +{re.escape(name)} ", done.stdout, flags=re.M)) == 1, name
    assert "COMMAND\n" not in done.stdout  # no placeholder line among the commands
    assert "exit status:" in done.stdout


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("journal") / "journal.sqlite3"
    with SqliteJournal(path) as store:
        store.open_intent(intent(1))
        store.close(debited(1))
        store.open_intent(intent(2))
        store.record_refusal(refusal(3))
    return path


@pytest.mark.parametrize("args", [
    ["status", "--journal", "JOURNAL"],
    ["journal", "stats", "--journal", "JOURNAL"],
    ["journal", "list", "--journal", "JOURNAL"],
    ["journal", "open-intents", "--journal", "JOURNAL"],
    ["policy", "check", str(EXAMPLES / "policy.toml")],
])
def test_reporting_commands_print_json_when_asked(journal: Path, args: list[str]) -> None:
    args = [str(journal) if a == "JOURNAL" else a for a in args]
    done = run([sys.executable, "-m", "lane_engine"], *args, "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document  # something was reported


def test_the_json_of_a_command_says_what_its_text_says(journal: Path) -> None:
    stats = json.loads(run([sys.executable, "-m", "lane_engine"], "journal", "stats",
                           "--journal", str(journal), "--json").stdout)
    assert stats["transactions"] == 3 and stats["open_intents"] == 1
    assert stats["by_outcome"] == {"debited": 1, "refused": 1, "unresolved": 1}
    listed = json.loads(run([sys.executable, "-m", "lane_engine"], "journal", "list",
                            "--journal", str(journal), "--json").stdout)
    assert [e["transaction_id"] for e in listed] == ["L01-000001", "L01-000002", "L01-R00003"]
    policy = json.loads(run([sys.executable, "-m", "lane_engine"], "policy", "check",
                            str(EXAMPLES / "policy.toml"), "--json").stdout)
    assert policy["ok"] and "version" in policy["policy"]


def test_journal_list_columns_line_up(journal: Path) -> None:
    lines = run([sys.executable, "-m", "lane_engine"], "journal", "list", "--journal",
                str(journal)).stdout.splitlines()
    starts = {line.index(word) for line, word in zip(lines, ["transaction", "L01-000001",
                                                             "L01-000002", "L01-R00003"],
                                                      strict=True)}
    assert len(starts) == 1, lines
    outcome = {line.index(word) for line, word in zip(
        lines, ["outcome", "debited", "unresolved", "refused"], strict=True)}
    assert len(outcome) == 1, lines


def test_keys_report_in_json_and_generate_names_its_flag(tmp_path: Path) -> None:
    keys = [sys.executable, "-m", "keys"]
    done = run(keys, "diversify", "--algorithm", "3des", "00" * 16, "37010000" + "00" * 4,
               "--json")
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) == {"algorithm", "key"}
    target = tmp_path / "keys.toml"
    first = run(keys, "generate", "--network", "3701", "--algorithm", "sm4", "--seed", "1",
                "-o", str(target), "--json")
    assert json.loads(first.stdout) == {"wrote": str(target), "key_sets": 1, "mode": "0600"}
    again = run(keys, "generate", "--network", "3701", "--algorithm", "sm4", "-o", str(target))
    assert again.returncode == 1 and "--force replaces it" in again.stderr
    assert again.stderr.startswith("python -m keys: error:")


def test_json_ready_values() -> None:
    import datetime as dt
    import enum

    class Colour(enum.Enum):
        BLUE = "blue"

    assert json_ready({"c": Colour.BLUE, "b": b"\x01", "t": (1, 2), "p": Path("/x"),
                       "d": dt.date(2024, 6, 1)}) == {
        "c": "blue", "b": "01", "t": [1, 2], "p": "/x", "d": "2024-06-01"}
    assert "2 bad usage" in EXIT_STATUS
