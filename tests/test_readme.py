"""The README stays true: its quick start, state diagram, reason codes and embedding example."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from lane_engine.core.machine import render_state_diagram
from lane_engine.core.outcomes import Outcome, ReasonCode

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end >= 0 else len(README)]


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_quick_start_is_exactly_the_two_commands() -> None:
    assert _blocks(_section("Quick start"), "") == ["make demo\nmake test\n"]


def test_state_diagram_is_the_one_drawn_from_the_transition_table() -> None:
    assert _blocks(README, "mermaid") == [render_state_diagram()]


def test_every_reason_code_and_outcome_is_documented() -> None:
    section = _section("Outcomes and reason codes")
    for code in ReasonCode:
        assert f"| {code.value} | `{code.name}` |" in section, code
    for outcome in Outcome:
        assert f"| `{outcome.value}` |" in section, outcome


def test_embedding_example_runs() -> None:
    [example] = _blocks(_section("Embedding the engine"), "python")
    exec(compile(example, "README.md", "exec"), {"__name__": "readme_example"})


# Every command line the README shows is parsed by the tool's own argument parser, so a renamed
# flag cannot leave a walkthrough that fails at its first step.
_TOOLS = ("lane-engine", "rsu-sim", "etc-centre", "python -m keys", "python -m protocols")


def _shell_blocks() -> list[list[str]]:
    blocks: list[list[str]] = []
    body: list[str] | None = None
    language = ""
    for line in README.splitlines():
        if line.startswith("```"):
            if body is None:
                body, language = [], line[3:]
            else:
                if language in ("", "console"):
                    blocks.append(body)
                body = None
        elif body is not None:
            body.append(line)
    return blocks


def _readme_command_lines() -> list[str]:
    found: list[str] = []
    for body in _shell_blocks():
        joined = re.sub(r"\s*\\\n\s*", " ", "\n".join(body))
        for line in joined.splitlines():
            text = line.strip().removeprefix("$ ")
            text = re.split(r"\s#|\s{2,}", text)[0]  # a comment, or a table's description column
            for part in re.split(r"\s*(?:&&|;|\||&)\s*", text):
                is_output = part.startswith(tuple(f"{tool}:" for tool in _TOOLS))
                is_placeholder = re.search(r"\.\.\.|…|\[", part) is not None
                if part.startswith(_TOOLS) and not is_output and not is_placeholder:
                    found.append(part)
    return found


def _parse(command: str) -> None:
    from centre.cli.main import build_parser as centre_parser
    from keys.cli import _parser as keys_parser
    from lane_engine.cli.journal import build_parser as journal_parser
    from lane_engine.cli.main import build_parser as lane_parser
    from protocols.cli_decode import _parser as protocols_parser
    from rsu_sim.cli.main import build_parser as sim_parser

    words = shlex.split(command)
    if words[0] == "python":
        tool, arguments = f"python -m {words[2]}", words[3:]
    else:
        tool, arguments = words[0], words[1:]
    parsers = {
        "rsu-sim": sim_parser, "python -m keys": keys_parser,
        "python -m protocols": protocols_parser,
        "etc-centre": lambda: centre_parser("etc-centre"),
        "lane-engine": lambda: lane_parser("lane-engine"),
    }
    if tool == "lane-engine" and arguments[:1] == ["journal"]:
        journal_parser("lane-engine journal").parse_args(arguments[1:])
    else:
        parsers[tool]().parse_args(arguments)


def test_the_readme_shows_many_command_lines() -> None:
    lines = _readme_command_lines()
    assert len(lines) > 40
    for tool in _TOOLS:
        assert any(line.startswith(tool) for line in lines), tool


@pytest.mark.parametrize("command", _readme_command_lines())
def test_every_readme_command_line_parses(command: str) -> None:
    try:
        _parse(command)
    except SystemExit as stop:  # argparse.ArgumentParser (python -m protocols) exits on errors
        assert stop.code == 0, command
