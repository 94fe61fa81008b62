"""The README's outlet's day runs as shown: every command, in order, in a fresh folder with the
examples; each exits as the README says and its first line reads as shown (the centre's and the
simulator's commands; the rest print timings)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _walk() -> list[tuple[str, list[str]]]:
    """(command, output lines) of each `$ ` command of the section, continuations joined."""
    start = README.index("\n### An outlet's day\n")
    end = README.index("\n### ", start + 1)
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", README[start:end], flags=re.S):
        command: str | None = None
        for line in block.splitlines():
            if line.startswith("$ "):
                command = line[2:]
                steps.append((command, []))
            elif command is not None and command.endswith("\\"):
                command = command[:-1] + " " + line.strip()
                steps[-1] = (command, [])
            else:
                command = None
                steps[-1][1].append(line)
    return steps


STEPS = _walk()


def test_the_walk_through_is_there() -> None:
    commands = [command.split()[0] for command, _ in STEPS]
    assert commands.count("etc-centre") >= 15 and "rsu-sim" in commands
    joined = " ".join(command for command, _ in STEPS)
    for operation in ("customer add", "issue b-card", "issue obu", "top-up", "report-loss",
                      "lists publish", "cancel", "refund pay", "report day"):
        assert operation in joined


@pytest.mark.slow
def test_an_outlets_day_runs_as_the_readme_shows(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    for command, shown in STEPS:
        done = subprocess.run(command.replace("python ", f"{sys.executable} ", 1), shell=True,
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        refused = bool(shown) and ("refused" in shown[0])
        assert done.returncode == (1 if refused else 0), (command, done.stderr)
        if command.startswith(("etc-centre", "rsu-sim")):
            first = (done.stdout + done.stderr).splitlines()[0]
            assert first == shown[0], command
