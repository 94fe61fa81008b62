"""The lane process against a scripted RSU over TCP: start-up, a full exit transaction, an RSU
dropping mid-transaction and coming back, graceful shutdown, start-up recovery, legacy envelope."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tcp_rsu import LANE, ScriptedClock, ScriptedTcpRsu, plaza_config  # isort: skip (puts scripted_rsu on the path)
from scripted_rsu import FEE, OBU, TERMINAL, b0, b1, b2, b4, b5, card  # isort: skip

from lane_engine.aio.bus import EventBus, LaneEvent, RsuConnected, RsuDisconnected
from lane_engine.aio.plaza import Plaza
from lane_engine.config import PlazaConfig
from lane_engine.core.effects import (
    FeeDisplayed,
    OpenBarrier,
    RsuReady,
    TransactionUnresolved,
    UnresolvedTransactionSettled,
)
from lane_engine.core.ledger import amend
from lane_engine.core.outcomes import Outcome, ReasonCode
from lane_engine.journal import EntryState, JournalEntry, SqliteJournal
from protocols.envelope import EnvelopeKind
from protocols.frames import (
    AntennaControl,
    Continue,
    HeartbeatAnswer,
    Initialise,
    Purchase,
    SetAntenna,
    Stop,
)

DISCOUNTED = FEE * 95 // 100


class Running:
    def __init__(self, plaza: Plaza, stop: asyncio.Event, events: list[LaneEvent]) -> None:
        self.plaza, self.stop, self.events = plaza, stop, events

    def of(self, kind: type) -> list[object]:
        return [e.event for e in self.events if isinstance(e.event, kind)]

    async def wait_for(self, kind: type, count: int = 1, timeout: float = 5.0) -> list[object]:
        async def enough() -> None:
            while len(self.of(kind)) < count:
                await asyncio.sleep(0.01)
        await asyncio.wait_for(enough(), timeout)
        return self.of(kind)


@asynccontextmanager
async def running(config: PlazaConfig) -> AsyncIterator[Running]:
    stop, bus, events = asyncio.Event(), EventBus(), []
    bus.subscribe(events.append)
    plaza = Plaza(config, bus=bus, rng=random.Random(7), clock=ScriptedClock())
    task = asyncio.create_task(plaza.run(stop))
    try:
        yield Running(plaza, stop, events)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


@asynccontextmanager
async def scripted_rsus(
    count: int, envelope: EnvelopeKind = EnvelopeKind.V3
) -> AsyncIterator[list[ScriptedTcpRsu]]:
    """`count` scripted RSUs listening, stopped when the block ends."""
    servers = [ScriptedTcpRsu(envelope) for _ in range(count)]
    for server in servers:
        await server.start()
    try:
        yield servers
    finally:
        for server in servers:
            await server.stop()


@pytest.fixture
async def rsu() -> AsyncIterator[ScriptedTcpRsu]:
    async with scripted_rsus(1) as (server,):
        yield server


@pytest.fixture
def config(tmp_path: Path, rsu: ScriptedTcpRsu) -> PlazaConfig:
    """A plaza of one lane, whose RSU is `rsu`."""
    return plaza_config(tmp_path, {LANE: rsu.port})


@asynccontextmanager
async def started(config: PlazaConfig, rsu: ScriptedTcpRsu) -> AsyncIterator[Running]:
    """The plaza running, its lane's RSU initialised (C0 answered with B0)."""
    async with running(config) as run:
        await start_lane(rsu)
        yield run


async def start_lane(rsu: ScriptedTcpRsu) -> Initialise:
    await rsu.connected()
    c0 = await rsu.expect(Initialise)
    rsu.send(b0())
    return c0  # type: ignore[return-value]


async def sell_up_to_purchase(rsu: ScriptedTcpRsu, obu: int = OBU, **b4_args: object) -> Purchase:
    rsu.send(b2(obu))
    await rsu.expect(Continue)
    rsu.send(b4(obu=obu, **b4_args))  # type: ignore[arg-type]
    return await rsu.expect(Purchase)  # type: ignore[return-value]


#: Another vehicle: its own OBU and card.
OTHER_OBU, OTHER_CARD = OBU + 1, card(card_serial="1901230211225129")


async def see_the_card_again(rsu: ScriptedTcpRsu, c6: Purchase) -> Stop:
    """The vehicle of `c6` comes back; its card holds the record that C6 wrote."""
    rsu.send(b2())
    await rsu.expect(Continue)
    rsu.send(b4(10_000 - c6.consume_money, last=c6.station))
    return await rsu.expect(Stop)  # type: ignore[return-value]


def journal_at(config: PlazaConfig) -> SqliteJournal:
    return SqliteJournal(config.journal, create=False)


async def crash_after_c6(
    tmp_path: Path, rsu: ScriptedTcpRsu
) -> tuple[PlazaConfig, JournalEntry, Purchase]:
    """Sell up to C6; then a new plaza whose journal holds that purchase's intent open, as a
    process killed after C6 leaves it. The RSU forgets the first run's last frames."""
    first = plaza_config(tmp_path, {LANE: rsu.port})
    async with started(first, rsu):
        c6 = await sell_up_to_purchase(rsu)
    with journal_at(first) as journal:
        (entry,) = journal.entries()
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    config = plaza_config(crashed, {LANE: rsu.port})
    with SqliteJournal(config.journal) as journal:
        journal.open_intent(amend(entry.record, outcome=Outcome.UNRESOLVED, reason=ReasonCode.OK))
    rsu.received = asyncio.Queue()
    return config, entry, c6


async def test_start_up_initialises_the_rsu_and_answers_heartbeats(
    config: PlazaConfig, rsu: ScriptedTcpRsu
) -> None:
    async with running(config) as run:
        c0 = await start_lane(rsu)
        ready = await run.wait_for(RsuReady)
        rsu.send(b1())
        assert await rsu.expect(HeartbeatAnswer) == HeartbeatAnswer(0)
    assert c0.lane_mode == config.lanes[0].mode
    assert ready[0].terminal_number == TERMINAL  # type: ignore[attr-defined]
    assert run.of(RsuConnected) and run.of(RsuDisconnected)[-1].retry_in_s is None  # type: ignore[attr-defined]


async def test_a_full_exit_transaction_is_journaled_before_its_c6_leaves(
    config: PlazaConfig, rsu: ScriptedTcpRsu
) -> None:
    open_when_c6_arrived: list[list[str]] = []

    def check_intent(frame: object) -> None:
        if isinstance(frame, Purchase):
            with journal_at(config) as journal:
                open_when_c6_arrived.append([r.transaction_id for r in journal.open_intents()])

    rsu.on_frame.append(check_intent)
    async with started(config, rsu) as run:
        c6 = await sell_up_to_purchase(rsu)
        rsu.send(b5(c6.consume_money))
        await rsu.expect(Continue)
        opened = await run.wait_for(OpenBarrier)
    shown = run.of(FeeDisplayed)
    assert c6.consume_money == DISCOUNTED
    assert [d.amount_fen for d in shown] == [DISCOUNTED]  # type: ignore[attr-defined]
    transaction_id = opened[0].transaction_id  # type: ignore[attr-defined]
    assert open_when_c6_arrived == [[transaction_id]]
    with journal_at(config) as journal:
        entry = journal.get(transaction_id)
        assert entry is not None and entry.state is EntryState.CLOSED
        assert entry.record.outcome is Outcome.DEBITED
        assert entry.record.amount_debited == DISCOUNTED
        assert journal.open_intents() == []
        assert [e.record.transaction_id for e in journal.outbox_batch(10)] == [transaction_id]


async def test_rsu_dropping_mid_purchase_closes_it_unresolved_and_the_lane_restarts(
    config: PlazaConfig, rsu: ScriptedTcpRsu
) -> None:
    async with started(config, rsu) as run:
        await run.wait_for(RsuReady)
        await sell_up_to_purchase(rsu)
        await rsu.drop()
        await start_lane(rsu)  # the lane reconnects and starts again: C0 -> B0
        await run.wait_for(RsuReady, count=2)
        unresolved = await run.wait_for(TransactionUnresolved)
        first_id = unresolved[0].record.transaction_id  # type: ignore[attr-defined]
        # The next vehicle on the new connection.
        c6 = await sell_up_to_purchase(rsu, OTHER_OBU, issuer=OTHER_CARD)
        rsu.send(b5(c6.consume_money, ctc=64, obu=OTHER_OBU))
        await rsu.expect(Continue)
        second = (await run.wait_for(OpenBarrier))[0].transaction_id  # type: ignore[attr-defined]
    assert rsu.connections == 2
    assert run.of(RsuDisconnected)[0].retry_in_s is not None  # type: ignore[attr-defined]
    with journal_at(config) as journal:
        assert journal.open_intents() == []
        first = journal.get(first_id)
        assert first is not None and first.record.outcome is Outcome.UNRESOLVED
        assert first.record.reason is ReasonCode.RESULT_UNKNOWN
        done = journal.get(second)
        assert done is not None and done.record.outcome is Outcome.DEBITED
    # The transaction counter goes on across the reconnection.
    assert int(second.split("-")[3]) == int(first_id.split("-")[3]) + 1


async def test_a_purchase_lost_with_the_rsu_is_settled_when_its_card_is_seen_after_reconnecting(
    config: PlazaConfig, rsu: ScriptedTcpRsu
) -> None:
    async with started(config, rsu) as run:
        c6 = await sell_up_to_purchase(rsu)
        await rsu.drop()
        await start_lane(rsu)
        await run.wait_for(RsuReady, count=2)
        lost = (await run.wait_for(TransactionUnresolved))[0].record  # type: ignore[attr-defined]
        await see_the_card_again(rsu, c6)
        opened = (await run.wait_for(OpenBarrier))[0].transaction_id  # type: ignore[attr-defined]
        settled = await run.wait_for(UnresolvedTransactionSettled)
    assert opened == lost.transaction_id == settled[0].record.transaction_id  # type: ignore[attr-defined]
    with journal_at(config) as journal:
        (entry,) = journal.entries()  # nothing new was sold: the vehicle had paid
        assert entry.record.outcome is Outcome.DEBITED and entry.record.recovered
        assert entry.record.amount_debited == c6.consume_money


async def test_graceful_shutdown_turns_the_antenna_off_and_lets_the_purchase_finish(
    config: PlazaConfig, rsu: ScriptedTcpRsu
) -> None:
    async with started(config, rsu) as run:
        c6 = await sell_up_to_purchase(rsu)
        run.stop.set()
        assert await rsu.expect(SetAntenna) == SetAntenna(AntennaControl.OFF)
        rsu.send(b5(c6.consume_money))
        await rsu.expect(Continue)
    with journal_at(config) as journal:
        assert journal.open_intents() == []
        (entry,) = journal.entries()
        assert entry.record.outcome is Outcome.DEBITED


async def test_shutdown_with_no_answer_closes_the_purchase_unresolved(
    config: PlazaConfig, rsu: ScriptedTcpRsu
) -> None:
    async with started(config, rsu) as run:
        await sell_up_to_purchase(rsu)
        run.stop.set()
        await rsu.expect(SetAntenna)
        await rsu.expect(Stop)  # the purchase times out (no B5): the OBU is released
    with journal_at(config) as journal:
        assert journal.open_intents() == []
        (entry,) = journal.entries()
        assert entry.record.outcome is Outcome.UNRESOLVED


async def test_intents_left_open_by_a_crash_are_closed_at_start_up(
    tmp_path: Path, rsu: ScriptedTcpRsu
) -> None:
    config, entry, c6 = await crash_after_c6(tmp_path, rsu)
    async with started(config, rsu) as run:
        recovered = await run.wait_for(TransactionUnresolved)
    assert recovered[0].record.transaction_id == entry.record.transaction_id  # type: ignore[attr-defined]
    assert c6.consume_money == DISCOUNTED
    with journal_at(config) as journal:
        assert journal.open_intents() == []
        closed = journal.get(entry.record.transaction_id)
        assert closed is not None and closed.record.outcome is Outcome.UNRESOLVED
        assert closed.record.recovered


async def test_an_intent_left_open_by_a_crash_is_settled_when_its_card_is_seen_again(
    tmp_path: Path, rsu: ScriptedTcpRsu
) -> None:
    config, entry, c6 = await crash_after_c6(tmp_path, rsu)
    async with started(config, rsu) as run:
        await run.wait_for(TransactionUnresolved)
        assert len(run.plaza.unresolved) == 1
        await see_the_card_again(rsu, c6)
        await run.wait_for(OpenBarrier)
    with journal_at(config) as journal:
        settled = journal.get(entry.record.transaction_id)
        assert settled is not None and settled.record.outcome is Outcome.DEBITED
        assert settled.record.amount_debited == c6.consume_money


async def test_the_lane_keeps_trying_until_the_rsu_is_up(tmp_path: Path) -> None:
    rsu = ScriptedTcpRsu()
    await rsu.start()
    port = rsu.port
    await rsu.stop()  # nothing listens there yet
    config = plaza_config(tmp_path, {LANE: port})
    async with running(config) as run:
        await run.wait_for(RsuDisconnected, count=3)
        await rsu.start(port)
        await start_lane(rsu)
        await run.wait_for(RsuReady)
    await rsu.stop()
    delays = [d.retry_in_s for d in run.of(RsuDisconnected)[:3]]  # type: ignore[attr-defined]
    assert delays[0] < delays[2] <= config.reconnect.max_s * (1 + config.reconnect.jitter)


async def test_legacy_envelope_answers_every_frame_with_swapped_rsctl(tmp_path: Path) -> None:
    async with scripted_rsus(1, EnvelopeKind.BCC) as (rsu,):
        config = plaza_config(tmp_path, {LANE: rsu.port}, envelope=EnvelopeKind.BCC)
        async with running(config) as run:
            await rsu.connected()
            rsctl, c0 = await asyncio.wait_for(rsu.received.get(), 5)
            assert isinstance(c0, Initialise) and rsctl == 0x89
            rsu.send(b0(), seq=0x28)
            rsctl, answer = await asyncio.wait_for(rsu.received.get(), 5)
            assert (rsctl, answer) == (0x82, None)  # B0 needs no data: the empty answer
            await run.wait_for(RsuReady)
            rsu.send(b1(), seq=0x38)
            rsctl, answer = await asyncio.wait_for(rsu.received.get(), 5)
            assert (rsctl, answer) == (0x83, HeartbeatAnswer(0))


async def test_a_purchase_lost_at_one_lane_is_settled_at_another(tmp_path: Path) -> None:
    async with scripted_rsus(2) as servers:
        config = plaza_config(tmp_path, {1: servers[0].port, 2: servers[1].port})
        async with running(config) as run:
            for server in servers:
                await start_lane(server)
            await run.wait_for(RsuReady, count=2)
            c6 = await sell_up_to_purchase(servers[0])
            await servers[0].expect(Stop)  # no B5: the purchase times out, left in doubt
            lost = (await run.wait_for(TransactionUnresolved))[0].record  # type: ignore[attr-defined]
            await see_the_card_again(servers[1], c6)
            await run.wait_for(OpenBarrier)
    assert [(e.lane, e.event.transaction_id) for e in run.events  # type: ignore[attr-defined]
            if isinstance(e.event, OpenBarrier)] == [(2, lost.transaction_id)]
    with journal_at(config) as journal:
        settled = journal.get(lost.transaction_id)
        assert settled is not None and settled.record.outcome is Outcome.DEBITED
        assert settled.record.lane_number == 1


async def test_one_plaza_serves_several_lanes_with_one_journal(tmp_path: Path) -> None:
    async with scripted_rsus(2) as servers:
        config = plaza_config(tmp_path, {1: servers[0].port, 2: servers[1].port})
        async with running(config) as run:
            purchases = []
            for server in servers:
                await start_lane(server)
                purchases.append(await sell_up_to_purchase(server))
            for server, c6 in zip(servers, purchases, strict=True):
                server.send(b5(c6.consume_money, obu=OBU))
                await server.expect(Continue)
            await run.wait_for(OpenBarrier, count=2)
    with journal_at(config) as journal:
        lanes = sorted(e.record.lane_number for e in journal.entries())
    assert lanes == [1, 2]
