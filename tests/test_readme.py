"""The README stays true: its quick start, state diagram, reason codes and embedding example."""

from __future__ import annotations

import re
from pathlib import Path

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
