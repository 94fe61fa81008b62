"""`make docs` builds the API reference from the docstrings: a page for every package and for
the modules a lane vendor embeds, each naming what the module exports."""

from __future__ import annotations

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
