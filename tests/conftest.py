"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support.broker import BROKER_USER, Broker, find_mosquitto, free_port
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.tls import make_pki

# CI runs the same examples every time, so a red run can be reproduced; developers keep exploring.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session", autouse=True)
def stream_decoders() -> None:
    """The stream decoder's compiled scanners loaded once, before the first test starts its
    clock: a lane or simulated RSU started in a test loads them on its event loop, and on a
    fresh checkout (or after the scanners changed) numba compiles them first, 10 s of CPU on an
    idle machine, past 15 s under load: inside a test's wait for its first connection."""
    from protocols.stream import warm_up

    warm_up()


def _mosquitto() -> str:
    binary = find_mosquitto()
    if binary is None:
        pytest.skip("Debian's mosquitto is not installed (apt-get install mosquitto)")
    return binary


@pytest.fixture
def mqtt_broker(tmp_path: Path) -> Iterator[Broker]:
    """A real mosquitto on a free loopback port, stopped after the test."""
    broker = Broker(binary=_mosquitto(), workdir=tmp_path, port=free_port())
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def mqtt_tls_broker(tmp_path: Path) -> Iterator[Broker]:
    """A mosquitto that speaks TLS only, with a certificate of the test's own CA, wants a client
    certificate of that CA and the username and password `BROKER_USER`."""
    workdir = tmp_path / "tls-broker"
    broker = Broker(binary=_mosquitto(), workdir=workdir, port=free_port(),
                    tls=make_pki(workdir / "pki"), users=dict([BROKER_USER]))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL cluster on a free loopback port for the whole session (each test takes
    a fresh database from it: `postgres_server.new_database()`)."""
    try:
        server = start_postgres()
    except RuntimeError as exc:
        pytest.skip(f"PostgreSQL cannot be started: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty centre database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "centre.sqlite3")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()
