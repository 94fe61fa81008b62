"""The simulator's RSU model on a TCP port with one vehicle (an OBU from the centre's images) that
drives through each time it is sent: what a lane-engine plaza connects to in the centre tests."""

from __future__ import annotations

import asyncio

import numpy as np

from keys import KeySet, MemorySerialStore, SoftwarePsam
from protocols.envelope import V3Packet, encode_v3
from protocols.frame_codec import decode_frame, encode_frame
from protocols.stream import StreamDecoder
from rsu_sim.model.obu import Obu
from rsu_sim.model.radio import RadioConfig, RadioLink
from rsu_sim.model.random_bytes import BufferedRandomBytes
from rsu_sim.model.rsu import Rsu
from rsu_sim.model.rsu_effects import PassEnded, RsuEffect, SendFrame


class OneVehicleRsu:
    def __init__(self, key_set: KeySet, terminal_number: bytes) -> None:
        rng = np.random.default_rng(7)
        self.rsu = Rsu(SoftwarePsam(key_set, terminal_number, MemorySerialStore()),
                       RadioLink(RadioConfig(frame_loss_probability=0.0), rng),
                       BufferedRandomBytes(rng))
        self.initialised = asyncio.Event()
        self.passes: list[PassEnded] = []
        self._writer: asyncio.StreamWriter | None = None
        self._server: asyncio.Server | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()

    def now(self) -> float:
        return self._loop.time()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._writer is not None:
            self._writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def drive(self, obu: Obu, dwell_s: float = 5.0) -> PassEnded:
        """The vehicle passes; returns when the RSU is done with it."""
        ended = len(self.passes)
        now = self.now()
        self._apply(self.rsu.vehicle_arrived(now, obu, now + dwell_s))
        while len(self.passes) == ended:
            await asyncio.sleep(0.01)
        return self.passes[-1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        decoder = StreamDecoder()
        self._apply(self.rsu.start(self.now()))
        while chunk := await reader.read(65536):
            for item in decoder.feed(chunk):
                if isinstance(item, V3Packet):
                    self._apply(self.rsu.receive_frame(decode_frame(item.data), self.now()))
                    if self.rsu.initialised:
                        self.initialised.set()

    def _apply(self, effects: list[RsuEffect]) -> None:
        for effect in effects:
            if isinstance(effect, SendFrame) and self._writer is not None:
                self._writer.write(encode_v3(effect.seq, encode_frame(effect.frame)))
            elif isinstance(effect, PassEnded):
                self.passes.append(effect)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        due = self.rsu.get_timer()
        if due is not None:
            self._timer = self._loop.call_at(due, lambda: self._apply(
                self.rsu.handle_timer(max(self.now(), due))))
