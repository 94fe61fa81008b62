"""The layering rules of the project, checked by walking every module's imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cli_conventions", "protocols", "keys", "lane_engine", "rsu_sim", "centre")
IO_MODULES = {
    "asyncio", "socket", "time", "random", "aiomqtt", "sqlite3", "subprocess", "selectors",
}
SANS_IO = ("protocols", "lane_engine/core", "rsu_sim/model", "rsu_sim/conformance",
           "centre/ledger", "centre/clearing/values.py", "centre/clearing/arrivals.py",
           "centre/clearing/evidence.py", "centre/clearing/tariff.py", "centre/clearing/rules.py",
           "centre/reconcile/values.py", "centre/reconcile/checks.py")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(subdir: str) -> list[Path]:
    """The modules under a folder, or the one module a path names."""
    path = ROOT / subdir
    if path.is_file():
        return [path]
    return sorted(path.rglob("*.py")) if path.exists() else []


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("subdir", SANS_IO)
def test_sans_io_layers_import_no_io(subdir: str) -> None:
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _modules(subdir)
        for name in _imports(path)
        if _top(name) in IO_MODULES
    }
    assert not offenders, sorted(offenders)


#: The command-line conventions every tool shares: below every package, using none of them.
CONVENTIONS = "cli_conventions"
ALLOWED = {
    "cli_conventions": {CONVENTIONS},
    "protocols": {"protocols", CONVENTIONS},
    "keys": {"keys", "protocols", CONVENTIONS},
    "lane_engine": {"lane_engine", "protocols", "keys", CONVENTIONS},
    "centre": {"centre", "protocols", "keys", "lane_engine", CONVENTIONS},
}

#: The lane's published formats the centre may use: list files and their values, the centre's
#: MQTT messages, the transaction record codec, and the CLI conventions (usage errors).
CENTRE_USES_OF_THE_LANE = {
    "lane_engine.core.blacklist", "lane_engine.files.blacklist", "lane_engine.station.centre",
    "lane_engine.journal.codec", "lane_engine.cli.args", "lane_engine.errors",
    # clearing: the record's schema, and the fee tables and policy it prices records against
    "lane_engine.core.outcomes", "lane_engine.core.policy", "lane_engine.fees.table",
    "lane_engine.fees.table_file", "lane_engine.files.policy",
    # the one log format of every tool
    "lane_engine.logfmt",
}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_lower_layers(package: str) -> None:
    own = set(PACKAGES)
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in _modules(package)
        for name in _imports(path)
        if _top(name) in own and _top(name) not in ALLOWED[package]
    }
    assert not offenders, sorted(offenders)


def test_the_centre_uses_only_the_lanes_published_formats() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _modules("centre")
        for name in _imports(path)
        if _top(name) == "lane_engine" and name not in CENTRE_USES_OF_THE_LANE
    ]
    assert not offenders


def test_simulator_model_does_not_import_the_lane() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _modules("rsu_sim/model")
        for name in _imports(path)
        if _top(name) == "lane_engine"
    ]
    assert not offenders


@pytest.mark.parametrize("package", PACKAGES)
def test_at_most_one_module_per_package_imports_aiomqtt(package: str) -> None:
    importers = [
        path.relative_to(ROOT)
        for path in _modules(package)
        if "aiomqtt" in {_top(n) for n in _imports(path)}
    ]
    assert len(importers) <= 1, importers


#: Libraries only one place may use: the metrics' and the terminal view's.
CONFINED = {
    "prometheus_client": {"lane_engine/aio/metrics.py", "lane_engine/cli/top.py"},
    "rich": {"lane_engine/cli/top.py"},
}


@pytest.mark.parametrize("library", sorted(CONFINED))
def test_confined_libraries_stay_where_they_are_used(library: str) -> None:
    importers = {
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in _modules(package)
        if library in {_top(n) for n in _imports(path)}
    }
    assert importers <= CONFINED[library], sorted(importers)


#: protocols is the standard library and construct; numba and numpy only in the stream
#: decoder's compiled scanners (our decision, `protocols.stream_scan`).
PROTOCOLS_LIBRARIES = {"construct"}
PROTOCOLS_COMPILED = {f"protocols/{name}.py"
                      for name in ("stream_scan", "stream_v3", "stream_bcc", "stream_window")}


def test_protocols_uses_the_standard_library_and_construct_but_in_its_scanners() -> None:
    offenders = []
    for path in _modules("protocols"):
        module = str(path.relative_to(ROOT))
        allowed = PROTOCOLS_LIBRARIES | ({"numba", "numpy"} if module in PROTOCOLS_COMPILED
                                         else set())
        offenders += [f"{module}: {name}" for name in sorted(_imports(path))
                      if _top(name) not in sys.stdlib_module_names | set(PACKAGES) | allowed]
    assert not offenders


#: The team's reference folder beside the repository, spelt so that this file does not name it.
SHARED_FOLDER = "/".join(("..", "shared"))


def test_nothing_reads_the_shared_reference_folder() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in (*PACKAGES, "tests", "benchmarks")
        for path in _modules(package)
        if SHARED_FOLDER in path.read_text(encoding="utf-8")
    ]
    assert not offenders


#: Inside a package, which rooms (sub-packages) each room may use; modules at a package's top
#: (errors, shared values, readers every room uses) are open to every room. An entry may name a
#: single module of a room when only that one is needed. `__main__` entry points are exempt.
ROOMS: dict[str, dict[str, set[str]]] = {
    "lane_engine": {
        "core": set(),
        "fees": {"core"},
        "journal": {"core"},
        "files": {"core", "fees"},
        "station": {"core", "journal", "files", "aio.clock"},
        "aio": {"core", "fees", "journal", "files", "station"},
        "cli": {"core", "fees", "journal", "files", "station", "aio"},
    },
    "rsu_sim": {
        "model": set(),
        "site": {"model"},
        "server": {"model", "site", "world"},
        "world": {"model", "site"},
        "conformance": {"model"},
        "replay": {"server.frame_log"},
        "results": {"model", "world"},
        "harness": {"model", "site", "results"},
        "plaza": {"model", "site", "results", "harness", "server", "cli"},
        "province": {"model", "site", "results", "harness"},
        "cli": {"model", "site", "results", "harness", "server", "plaza", "world",
                "conformance", "replay", "province"},
    },
    "centre": {
        "ledger": set(),
        "store": {"ledger", "clearing.values", "reconcile.values"},
        "link": set(),
        "clearing": {"ledger", "store", "link"},
        "reconcile": {"ledger", "store", "clearing"},
        "devices": set(),
        "lists": {"ledger", "store", "link"},
        "service": {"ledger", "store", "devices", "lists.categories"},
        "cli": {"ledger", "store", "link", "clearing", "reconcile", "devices", "service",
                "lists"},
    },
}


def _room_offences(package: str) -> list[str]:
    rooms = ROOMS[package]
    offences = []
    for room, allowed in rooms.items():
        for path in _modules(f"{package}/{room}"):
            if path.name == "__main__.py":
                continue
            for name in _imports(path):
                parts = name.split(".")
                if parts[0] != package or len(parts) < 2 or parts[1] not in rooms:
                    continue
                used = parts[1]
                module = ".".join(parts[1:3])
                if used != room and used not in allowed and module not in allowed:
                    offences.append(f"{path.relative_to(ROOT)}: {name}")
    return sorted(offences)


@pytest.mark.parametrize("package", sorted(ROOMS))
def test_rooms_use_only_the_rooms_they_may(package: str) -> None:
    assert not _room_offences(package)


def test_every_room_says_what_it_holds() -> None:
    missing = [
        f"{package}/{room}"
        for package, rooms in ROOMS.items()
        for room in rooms
        if not ast.get_docstring(ast.parse((ROOT / package / room / "__init__.py").read_text()))
    ]
    assert not missing


@pytest.mark.parametrize("room", ["rsu_sim/model", "rsu_sim/site", "rsu_sim/server",
                                  "rsu_sim/world", "rsu_sim/conformance", "rsu_sim/replay"])
def test_simulator_devices_site_and_server_never_import_the_lane(room: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _modules(room)
        for name in _imports(path)
        if _top(name) == "lane_engine"
    ]
    assert not offenders
