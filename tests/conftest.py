"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support.broker import Broker, find_mosquitto, free_port

# CI runs the same examples every time, so a red run can be reproduced; developers keep exploring.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

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
