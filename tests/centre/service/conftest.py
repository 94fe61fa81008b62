"""A desk on each database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.centre.service.desk import Desk, open_desk


@pytest.fixture
def desk(store_url: str, tmp_path: Path) -> Iterator[Desk]:
    opened = open_desk(store_url, tmp_path / "tray")
    try:
        yield opened
    finally:
        opened.centre.store.close()
