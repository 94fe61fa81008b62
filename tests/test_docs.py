"""`make docs` builds the API reference from the docstrings: a page for every package and for
the modules a lane vendor embeds, each naming what the module exports."""

from __future__ import annotations

import importlib
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("api")
    done = subprocess.run(["make", "-s", "docs", f"DOCS_OUT={out}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.mark.parametrize("page", [
    "index.html", "cli_conventions.html", "protocols.html", "keys.html", "lane_engine.html",
    "rsu_sim.html", "centre.html", "lane_engine/core/lane.html", "lane_engine/aio/plaza.html",
    "lane_engine/journal/store.html", "lane_engine/station/mqtt.html", "protocols/frames.html",
    "keys/purchase.html",
])
def test_the_reference_has_a_page_for(api: Path, page: str) -> None:
    assert (api / page).is_file(), sorted(p.name for p in api.iterdir())


def test_a_page_documents_the_module_s_exports(api: Path) -> None:
    lane = (api / "lane_engine/core/lane.html").read_text(encoding="utf-8")
    assert "receive_frame" in lane and "handle_timer" in lane
    plaza = (api / "lane_engine/aio/plaza.html").read_text(encoding="utf-8")
    assert 'id="run_plaza"' in plaza and 'id="Plaza.health"' in plaza
    assert 'id="Plaza._recover"' not in plaza  # private names stay out


DOCS = ROOT / "docs"
NOTES = ("pc-rsu.md", "card.md", "crypto.md", "dsrc.md", "rules.md")
#: A citation of a note, with its section where one is given: `card.md` §3.1
CITATION = re.compile(r"`(" + "|".join(re.escape(n) for n in NOTES) + r")`"
                      r"(?: §([0-9]+[a-z]?(?:\.[0-9]+[a-z]?)?))?")


def _citations() -> set[tuple[str, str]]:
    sources = [ROOT / "README.md", *(p for package in ("protocols", "keys", "lane_engine",
                                                        "rsu_sim", "centre")
                                     for p in (ROOT / package).rglob("*.py"))]
    return {(m.group(1), m.group(2) or "") for path in sources
            for m in CITATION.finditer(path.read_text(encoding="utf-8"))}


@pytest.mark.parametrize(("note", "section"), sorted(_citations()))
def test_every_note_the_code_cites_is_in_docs(note: str, section: str) -> None:
    text = (DOCS / note).read_text(encoding="utf-8")
    if section:
        assert re.search(rf"^#+ {re.escape(section)}\.? ", text, flags=re.M), (note, section)


@pytest.mark.parametrize("note", NOTES)
def test_the_code_each_note_names_exists(note: str) -> None:
    text = (DOCS / note).read_text(encoding="utf-8")
    for dotted in re.findall(r"`((?:protocols|keys|lane_engine|rsu_sim|centre)(?:\.\w+)+)`",
                             text):
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attribute in parts[cut:]:
                obj = getattr(obj, attribute)
            break
        else:
            raise AssertionError(f"{note}: {dotted} is nothing")
    for linked in re.findall(r"\]\(([\w./-]+\.md)\)", text):
        assert (DOCS / linked).resolve().is_file(), (note, linked)
