"""How the plazas' records reach the centre's clearing: the transaction messages as bytes, the
real byte path either way.

* `InProcess`: each message goes through the very parsing and clearing `etc-centre clear`
  runs (`centre.clearing.consumer.inbound`, `Clearer.clear`), in this process.
* `OverBroker`: each message is published to a real MQTT broker (QoS 1) and cleared by the
  centre's consumer (`centre.clearing.consumer.consume`, the shared subscription acknowledged
  after commit) running in this process on its own store connection; `send` returns once the
  consumer has durably taken every message sent so far. With `clear=False` the run only
  publishes, and `etc-centre clear` processes of their own clear it.

Both clear on the province's virtual clock, so the records' ages are the simulated ones.
An offline plaza's journal goes up as an exported JSON Lines file (`send_file`), as
`etc-centre clear --journal` takes it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from centre.clearing.clearer import BatchReport, Clearer
from centre.clearing.consumer import ConsumerOptions, ConsumerStats, consume, inbound
from centre.clearing.files import clear_journal_file
from centre.link.mqtt import BrokerSettings, Delivery, publish
from rsu_sim.errors import SimError

Message = tuple[str, bytes]
#: How long a broker run waits for its consumer to take what was sent before giving up.
CONSUMER_WAIT_S = 120.0


class Transport(Protocol):
    report: BatchReport

    def send(self, messages: Sequence[Message], now: dt.datetime) -> None:
        """Deliver messages; the centre holds them durably when this returns."""

    def send_file(self, path: Path, now: dt.datetime) -> None:
        """Deliver an exported lane journal."""

    def close(self) -> None: ...


class InProcess:
    """Messages cleared in this process, in the order sent."""

    def __init__(self, clearer: Clearer) -> None:
        self.clearer = clearer
        self.report = BatchReport()
        self.messages = 0

    def send(self, messages: Sequence[Message], now: dt.datetime) -> None:
        if messages:
            items = [inbound(Delivery(topic, payload, 0, 0)) for topic, payload in messages]
            self.report.merge(self.clearer.clear(items, now))
            self.messages += len(messages)

    def send_file(self, path: Path, now: dt.datetime) -> None:
        self.report.merge(clear_journal_file(self.clearer, path, now=now))

    def close(self) -> None:
        pass


class OverBroker:
    """Messages published to a broker; cleared by an in-process consumer or by others."""

    def __init__(self, settings: BrokerSettings, clearer: Clearer | None,
                 file_clearer: Clearer, client_id: str = "province-plazas") -> None:
        self.settings = settings
        self.report = BatchReport()
        self.messages = 0
        self._file_clearer = file_clearer
        self._client_id = client_id
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="province-mqtt",
                                        daemon=True)
        self._thread.start()
        self._stats: ConsumerStats | None = None
        self._consumer: asyncio.Future[ConsumerStats] | None = None
        if clearer is not None:
            self._start_consumer(clearer)

    def _run(self, coroutine: object, timeout: float = CONSUMER_WAIT_S) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)  # type: ignore[arg-type]

    def _start_consumer(self, clearer: Clearer) -> None:
        self._stop = threading.Event()
        ready = threading.Event()

        async def start() -> None:
            stop = asyncio.Event()
            self._async_stop = stop
            options = ConsumerOptions(settle_every_s=1e12)  # the run settles at day ends

            def count(deliveries: Sequence[Delivery], report: BatchReport,
                      stats: ConsumerStats) -> None:
                self._stats = stats

            def session(state: str, detail: str) -> None:
                if state == "subscribed":
                    ready.set()

            self._consumer = asyncio.ensure_future(
                consume(clearer, self.settings, options, stop, count, session))

        self._run(start())
        if not ready.wait(15.0):
            raise SimError(f"clearing could not subscribe at {self.settings.address}")

    def send(self, messages: Sequence[Message], now: dt.datetime) -> None:
        if not messages:
            return
        self._run(publish(self.settings, list(messages), client_id=self._client_id))
        self.messages += len(messages)
        if self._consumer is None:
            return
        deadline = time.monotonic() + CONSUMER_WAIT_S
        while (self._stats.messages if self._stats else 0) < self.messages:
            if self._consumer.done():
                self._consumer.result()
                raise SimError("the clearing consumer stopped")
            if time.monotonic() > deadline:
                raise SimError(f"clearing took {self._stats.messages if self._stats else 0} of "
                               f"{self.messages} messages in {CONSUMER_WAIT_S:.0f} s")
            time.sleep(0.002)

    def send_file(self, path: Path, now: dt.datetime) -> None:
        self.report.merge(clear_journal_file(self._file_clearer, path, now=now))

    def close(self) -> None:
        if self._consumer is not None:
            self._loop.call_soon_threadsafe(self._async_stop.set)
            stats = self._run(self._wait_consumer())
            assert isinstance(stats, ConsumerStats)
            self.report.merge(stats.report)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5.0)

    async def _wait_consumer(self) -> ConsumerStats:
        assert self._consumer is not None
        return await self._consumer


def clock_from(now: Callable[[], float]) -> Callable[[], dt.datetime]:
    """A datetime clock on the province's virtual seconds."""
    return lambda: dt.datetime.fromtimestamp(now(), dt.UTC)
