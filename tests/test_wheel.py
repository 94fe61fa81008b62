"""The library as a lane vendor gets it: the wheel carries the licence, the SPDX metadata and the
`py.typed` markers, and mypy (strict) passes on the README's embedding example against the
installed wheel, not against this source tree."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cli_conventions", "protocols", "keys", "lane_engine", "rsu_sim", "centre")


def _readme_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n## Embedding the engine\n")
    end = readme.find("\n## ", start + 1)
    [example] = re.findall(r"```python\n(.*?)```", readme[start:end], flags=re.S)
    return example


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(out), str(ROOT)], check=True, timeout=300)
    [built] = out.glob("*.whl")
    return built


def test_the_wheel_carries_licence_metadata_and_type_markers(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        fields = archive.read(metadata).decode("utf-8").split("\n\n", 1)[0]
    assert {f"{package}/py.typed" for package in PACKAGES} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: LicenseRef-Proprietary" in fields.splitlines()
    assert "License-File: LICENSE" in fields.splitlines()


def test_mypy_passes_on_the_readme_example_against_the_installed_wheel(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True,
                   timeout=120)
    python = target / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", str(wheel)], check=True, timeout=300)
    # Away from the source tree: what mypy sees is the installed wheel.
    work = tmp_path / "vendor"
    work.mkdir()
    (work / "example.py").write_text(_readme_example(), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--python-executable", str(python), "example.py"], cwd=work,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    where = "import lane_engine; print(lane_engine.__file__)"
    installed = subprocess.run([str(python), "-c", where], cwd=work, capture_output=True,
                               text=True, timeout=60, check=False)
    assert str(target) in installed.stdout  # not this tree
