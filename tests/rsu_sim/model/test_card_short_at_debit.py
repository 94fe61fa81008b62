"""The rule gap of a B card that B4 showed with enough balance and that then refuses the debit
itself (B5 21h), lane core and RSU emulator together: the lane asks for the undiscounted fee in
cash and closes the trip on the card with a 0-fen purchase, which the RSU takes and the card
commits (its 0019 says exited, its balance is untouched)."""

from __future__ import annotations

import numpy as np

from keys import MemorySerialStore, SoftwarePsam
from lane_engine.core.blacklist import Blacklist
from lane_engine.core.config import LaneConfig
from lane_engine.core.effects import CashRequired, CloseTransaction, SendFrame
from lane_engine.core.lane import Lane
from lane_engine.core.outcomes import Outcome
from lane_engine.core.policy import Policy
from protocols.frames import LaneMode, VehicleAndCard
from protocols.record_codec import decode_entry_exit
from protocols.records import CardType, EntryExitStatus
from rsu_sim.model.obu import Fleet
from rsu_sim.model.population import VehicleRecord
from rsu_sim.model.rsu import Rsu
from rsu_sim.model.rsu import SendFrame as RsuSend
from tests.rsu_sim.model.conftest import TERMINAL, lossless_radio

FEE = 2_345


class AnyEntry:
    version = "test"

    def fee(self, entry_network: str, entry_station: int, vehicle_class: int) -> int | None:
        return FEE


def test_the_card_refusing_for_its_balance_ends_in_cash_and_a_closed_trip(
        fleet: Fleet, vehicles: list[VehicleRecord], key_set: object) -> None:
    record = next(v for v in vehicles if v.card is not None
                  and v.card.card_type == CardType.STORED_VALUE and v.card.balance >= 5_000
                  and v.card.entry_exit is not None)
    obu = fleet.obu(record)
    card = obu.card
    assert card is not None and record.card is not None and record.card.entry_exit is not None
    entered = record.card.entry_exit.time
    psam = SoftwarePsam(key_set, TERMINAL, MemorySerialStore(1))  # type: ignore[arg-type]
    rsu = Rsu(psam, lossless_radio(), np.random.default_rng(3).bytes)
    lane = Lane(LaneConfig("3701", 102, 2, LaneMode.EXIT), Policy("p"), AnyEntry(),
                Blacklist.empty(1))
    t = 0.0
    effects = lane.start(entered + 600.0)
    rsu.start(t)
    closed: list[CloseTransaction] = []
    cash: list[CashRequired] = []
    rsu_effects = rsu.vehicle_arrived(t, obu, t + 3.0)
    for _ in range(40):
        for effect in effects:
            if isinstance(effect, SendFrame):
                rsu_effects += rsu.receive_frame(effect.frame, t)
            elif isinstance(effect, CloseTransaction):
                closed.append(effect)
            elif isinstance(effect, CashRequired):
                cash.append(effect)
        effects = []
        due = rsu.get_timer()
        if not rsu_effects and due is not None and due < 3.0:
            t = max(t, due)
            rsu_effects = rsu.handle_timer(t)
        for sent in [e for e in rsu_effects if isinstance(e, RsuSend)]:
            if isinstance(sent.frame, VehicleAndCard):
                card.balance = 10  # spent elsewhere between the read and the debit
            effects += lane.receive_frame(sent.frame, entered + 600.0 + sent.at, sent.seq)
        rsu_effects = []
        if closed and not effects:
            break
    [final] = [c.record for c in closed]
    assert final.outcome is Outcome.CASH_REQUIRED and final.cash_fee == 2_300
    assert final.amount_debited == 0 and final.tac and cash and cash[0].amount_fen == 2_300
    assert card.balance == 10 and card.log[final.ctc].amount == 0
    assert decode_entry_exit(card.record_raw).status == EntryExitStatus.EXITED
