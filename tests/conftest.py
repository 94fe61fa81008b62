"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.broker import Broker, find_mosquitto, free_port

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def mqtt_broker(tmp_path: Path) -> Iterator[Broker]:
    """A real mosquitto on a free loopback port, stopped after the test."""
    binary = find_mosquitto()
    if binary is None:
        pytest.skip("Debian's mosquitto is not installed (apt-get install mosquitto)")
    broker = Broker(binary=binary, workdir=tmp_path, port=free_port())
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
