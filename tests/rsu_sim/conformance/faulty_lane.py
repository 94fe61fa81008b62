"""A deliberately faulty lane client, as a vendor's lane written for a vendor RSU might be: it
interoperates on every frame but has each bug a lane engineer once had to find by hand.

* It prices in yuan with floats and takes `int(yuan * 100)`: it truncates where the policy
  rounds the discounted fee half up, so it asks one fen too little on about half of its trips.
* It answers a retransmitted B4 (same SEQ) with a second C6.
* It never answers a B5 carrying an error (no C1, no C2).
* It refuses nobody: every B2 gets C1 and every B4 a C6 (blacklisted, expired, tampered,
  card-less OBUs, plate mismatches and short B cards included).
* When the next OBU comes it re-sends the C1 that closed the previous one first.

Otherwise it does what the RSU needs: C0 first, CF for every B1, SEQ X0 counting 1..9.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable

from protocols.envelope import EnvelopeKind, SeqCounter, Side, V3Packet, encode_v3
from protocols.frame_codec import decode_frame, encode_frame
from protocols.frames import (
    B5Error,
    Continue,
    Frame,
    Heartbeat,
    HeartbeatAnswer,
    Initialise,
    LaneMode,
    ObuFound,
    Purchase,
    TransactionResult,
    VehicleAndCard,
)
from protocols.records import EntryExitRecord, EntryExitStatus, Plate
from protocols.stream import StreamDecoder

#: (entry network, entry station, vehicle class) -> undiscounted fee in fen, None: unknown
Fees = Callable[[str, int, int], "int | None"]
#: What the faulty lane asks when it cannot price a vehicle (it debits everybody).
FLAT_FEE = 500
LANE_ZONE = dt.timezone(dt.timedelta(hours=8))


def faulty_amount(fee: int) -> int:
    """The vendor's pricing: the fee in yuan, 95 % of it, `int(yuan * 100)`."""
    yuan = fee / 100 * 0.95
    return int(yuan * 100)


class FaultyLane:
    """An exit lane at `network`/`station` lane `lane`, with the bugs of the module docstring."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, fees: Fees,
                 network: str, station: int, lane: int) -> None:
        self.reader, self.writer = reader, writer
        self.fees = fees
        self.network, self.station, self.lane = network, station, lane
        self.decoder = StreamDecoder(EnvelopeKind.V3)
        self.seq = SeqCounter(Side.LANE)
        self.last_close: Continue | None = None
        self.sent: list[Frame] = []

    @classmethod
    async def connect(cls, port: int, fees: Fees, network: str, station: int, lane: int
                      ) -> FaultyLane:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer, fees, network, station, lane)

    async def send(self, frame: Frame) -> None:
        self.writer.write(encode_v3(self.seq.value, encode_frame(frame)))
        self.seq = self.seq.next()
        self.sent.append(frame)
        await self.writer.drain()

    async def run(self) -> None:
        """C0, then serve the RSU until it closes the connection."""
        now = time.time()
        await self.send(Initialise(int(now), _local(now), LaneMode.EXIT, 10, 10, 0))
        while chunk := await self.reader.read(65536):
            for item in self.decoder.feed(chunk):
                if isinstance(item, V3Packet):
                    await self.answer(decode_frame(item.data))

    async def answer(self, frame: Frame) -> None:
        match frame:
            case Heartbeat():
                await self.send(HeartbeatAnswer(0))
            case ObuFound(obu_id=obu_id, issuer_identifier=factor) if obu_id:
                if self.last_close is not None:
                    await self.send(self.last_close)  # bug: the old C1 again
                await self.send(Continue(obu_id, factor))
            case VehicleAndCard():
                await self.purchase(frame)  # bug: for every copy, for every car
            case TransactionResult(error_code=B5Error.OK):
                self.last_close = Continue(frame.obu_id, bytes(8))
                await self.send(self.last_close)
            case TransactionResult():
                pass  # bug: an error B5 is left unanswered

    async def purchase(self, b4: VehicleAndCard) -> None:
        now = time.time()
        entry, vehicle, card = b4.last_station, b4.vehicle_info, b4.issuer_info
        fee = None
        if entry is not None and vehicle is not None:
            fee = self.fees(entry.network, entry.station, vehicle.vehicle_class)
        amount = faulty_amount(fee) if fee is not None else FLAT_FEE
        plate = vehicle.plate if vehicle is not None else card.plate if card is not None else None
        record = EntryExitRecord(
            self.network, self.station, self.lane, int(now),
            vehicle.vehicle_class if vehicle is not None else 1, EntryExitStatus.EXITED,
            plate if plate is not None else _NO_PLATE, 0)
        await self.send(Purchase(b4.obu_id, bytes(8), amount, _local(now), record))

    def close(self) -> None:
        self.writer.close()


def _local(now: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(now), LANE_ZONE).replace(tzinfo=None)


_NO_PLATE = Plate(bytes(12))
