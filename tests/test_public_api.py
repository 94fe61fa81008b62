"""The library's public API is declared: every module of the library packages says what it
exports (`__all__`), each exported name exists, and each class or function it defines is either
exported or private (`_name`). The packages are typed (`py.typed`) and carry their version."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import cli_conventions

ROOT = Path(__file__).resolve().parent.parent
#: The packages a lane vendor builds on.
LIBRARY = ("cli_conventions", "protocols", "keys", "lane_engine")
#: Every installed package.
PACKAGES = (*LIBRARY, "rsu_sim", "centre")


def _modules() -> list[Path]:
    return [path for package in LIBRARY for path in sorted((ROOT / package).rglob("*.py"))
            if path.name != "__main__.py"]


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _defined(tree: ast.Module) -> set[str]:
    return {node.name for node in tree.body
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and not node.name.startswith("_")}


@pytest.mark.parametrize("path", _modules(), ids=_name)
def test_each_module_declares_what_it_exports(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined = _defined(tree)
    module = importlib.import_module(_name(path))
    exported = getattr(module, "__all__", None)
    if exported is None:
        assert not defined, f"{_name(path)} defines {sorted(defined)} but has no __all__"
        return
    assert [n for n in exported if not hasattr(module, n)] == []
    assert sorted(defined - set(exported)) == [], "public but not in __all__"


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_is_typed_and_versioned(package: str) -> None:
    assert (ROOT / package / "py.typed").is_file()
    assert importlib.import_module(package).__version__ == cli_conventions.distribution_version()
