"""One pass's DSRC transaction: what the RSU does on the air between two PC-RSU frames.

Each step (find, read, purchase, prove, close) runs its air exchanges through the radio model at
once and returns when it ends and the frame to send the lane then (`StepResult`); the RSU holds
the frame until that time. The devices (OBU, card, PSAM) act when a request reaches them, so a
lost response leaves the card's state changed, exactly as on the road.

Air frames are sized by formula (`*_LENGTH`, `_transfer_length`): the tests check every formula
against `protocols.air.encode_air_frame` and `protocols.apdu.encode_command`, so the timing is
that of the real encodings without building them. The RSU only learns what the air tells it:
when a DEBIT gets no answer it cannot know whether the card committed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from keys.ciphers import Algorithm
from keys.derivation import issuer_factor
from keys.errors import KeysError
from keys.psam import Psam
from keys.vehicle_file import SealedVehicleFile
from protocols.air import GetSecureRequest, GetSecureResponse
from protocols.apdu import (
    Command,
    DebitForCappPurchase,
    GetBalance,
    GetTransactionProve,
    InitializeForCappPurchase,
    InitSamForPurchase,
    ReadBinary,
    ReadRecord,
    Response,
    Select,
    StatusWord,
    UpdateCappDataCache,
    decode_purchase_initialized,
)
from protocols.errors import ProtocolError
from protocols.frames import (
    AlgFlag,
    B2Error,
    B4Error,
    B5Error,
    DeviceType,
    ObuFound,
    Purchase,
    TacRefetched,
    TransactionResult,
    TransType,
    VehicleAndCard,
)
from protocols.frozen import fast_init
from protocols.record_codec import (
    ENTRY_EXIT_LENGTH,
    ISSUER_INFO_LENGTH,
    decode_entry_exit,
    decode_issuer_info,
    decode_vehicle_info,
    encode_entry_exit,
)
from protocols.records import EntryExitRecord, IssuerInfo, VehicleInfo
from rsu_sim.model.card import ETC_FCI, PURCHASE_KEY_INDEX, purse_after
from rsu_sim.model.obu import (
    CARD_READS,
    DEFAULT_KEY_VERSION,
    DOWNLINK_OVERHEAD,
    UPLINK_OVERHEAD,
    Obu,
    obu_network,
)
from rsu_sim.model.radio import ExchangeResult, LossReason, RadioLink
from rsu_sim.model.rsu_faults import NO_FAULTS, PassFaults, TearPoint

#: BST air frame: tag, BeaconID 4, UNIX time 4, profile, application list 2, 3 pre-read file ids.
BST_LENGTH = DOWNLINK_OVERHEAD + 1 + 4 + 4 + 1 + 2 + 1 + 2 * 3
#: GetSecure.request: tag, action, file, offset 2, length, rndRSU 8, two key ids.
GET_SECURE_REQUEST_LENGTH = DOWNLINK_OVERHEAD + 16
#: SetMMI.request / .response and EventReport (Release).
SET_MMI_REQUEST_LENGTH = DOWNLINK_OVERHEAD + 3
SET_MMI_RESPONSE_LENGTH = UPLINK_OVERHEAD + 2
RELEASE_LENGTH = DOWNLINK_OVERHEAD + 2
#: Antenna the simulated RSU reports in B2 (our decision: one antenna, id 1).
ANTENNA_ID = 1
#: Command APDU lengths of `card.md` §3.1 (header, Lc, body, Le).
_APDU_LENGTH: dict[type, int] = {
    Select: 7, ReadBinary: 5, ReadRecord: 5, GetBalance: 5, InitializeForCappPurchase: 16,
    UpdateCappDataCache: 48, DebitForCappPurchase: 20, GetTransactionProve: 7,
}
#: Response APDU lengths on success (data ‖ SW).
_ANSWER_LENGTH: dict[type, int] = {
    Select: len(ETC_FCI) + 2, ReadBinary: ISSUER_INFO_LENGTH + 2, ReadRecord: ENTRY_EXIT_LENGTH + 2,
    GetBalance: 6, InitializeForCappPurchase: 17, UpdateCappDataCache: 2,
    DebitForCappPurchase: 10, GetTransactionProve: 10,
}
_SLOW_COMMANDS = frozenset({InitializeForCappPurchase, DebitForCappPurchase})


_T = TypeVar("_T")
__all__ = ["NO_FAULTS", "DsrcPass", "PassFaults", "StepResult", "TearPoint"]


@fast_init
@dataclass(frozen=True, slots=True)
class StepResult:
    """A DSRC step: it ends at `done_at` with `frame` for the lane (None: nothing to send)."""

    done_at: float
    frame: ObuFound | VehicleAndCard | TransactionResult | TacRefetched | None
    #: the OBU did not answer at all (find: not found; others: no DSRC reply)
    no_reply: bool = False


@lru_cache(maxsize=4096)
def _issuer_info(raw: bytes) -> IssuerInfo:
    return decode_issuer_info(raw)


@lru_cache(maxsize=4096)
def _vehicle_info(raw: bytes) -> VehicleInfo:
    return decode_vehicle_info(raw)


def _known_or_decoded(raw: bytes, known: tuple[bytes, _T] | None,
                      decode: Callable[[bytes], _T]) -> _T:
    """`decode(raw)`, taking the device's own typed value when `raw` is exactly its encoding
    (the bytes were made from that value, so the result is the same without the parse)."""
    if known is not None and raw == known[0]:
        return known[1]
    return decode(raw)


def _transfer_length(overhead: int, sizes: Sequence[int]) -> int:
    """A TransferChannel frame: tag, action, channel, count, then length ‖ APDU for each."""
    return overhead + 4 + sum(sizes) + len(sizes)


def purchase_failure_before_debit() -> int:
    """B5 ErrorCode when the purchase failed before DEBIT was ever sent (our decision): the RSU
    knows the card cannot have committed, so it says CARD_NOT_DEBITED rather than an in-doubt
    10h that would send the lane asking for a CTC the RSU never learnt."""
    return B5Error.CARD_NOT_DEBITED


def card_refusal_code(sw: int) -> int:
    """B5 ErrorCode of a card's refusal (our extended codes 21h-24h, `protocols.frames`)."""
    if sw == StatusWord.INSUFFICIENT_BALANCE:
        return B5Error.CARD_INSUFFICIENT_BALANCE
    if sw == StatusWord.MAC_INVALID:
        return B5Error.CARD_MAC1_INVALID
    if sw == StatusWord.APPLICATION_LOCKED:
        return B5Error.CARD_LOCKED
    return B5Error.CARD_OTHER_ERROR


#: B4 ErrorCode when one of the C1 reads (SELECT, 0015, 0019, balance) fails (our decision).
_READ_ERRORS = (B4Error.CARD_READ_FAILED_11, B4Error.CARD_READ_FAILED_12,
                B4Error.ENTRY_FILE_READ_FAILED, B4Error.CARD_READ_FAILED_13)


class DsrcPass:
    """The air side of one vehicle's pass through the zone; one step at a time."""

    def __init__(
        self,
        obu: Obu,
        deadline: float,
        faults: PassFaults,
        radio: RadioLink,
        psam: Psam,
        random_bytes: Callable[[int], bytes],
    ) -> None:
        self.obu = obu
        self.deadline = deadline
        self.faults = faults
        self._tear = faults.tear
        self._radio = radio
        self._psam = psam
        self._random = random_bytes
        self.issuer_info: IssuerInfo | None = None
        self.balance = 0
        self.ctc: int | None = None  # the CTC of the last INITIALIZE answered

    # ------------------------------------------------------------ air exchanges

    def _torn(self, point: TearPoint) -> bool:
        if self._tear is point:
            self._tear = None
            return True
        return False

    def _exchange(self, now: float, down: int, up: int, processing_s: float,
                  request_tear: TearPoint | None = None,
                  response_tear: TearPoint | None = None) -> ExchangeResult:
        cfg = self._radio.config
        retries = cfg.max_retries + 1
        down_s, up_s = cfg.downlink_frame_s(down), cfg.uplink_frame_s(up)
        if request_tear is not None and self._torn(request_tear):
            if self.faults.leave_zone:
                self.deadline = min(self.deadline, now)
                return ExchangeResult(False, now, LossReason.REQUEST_OUT_OF_ZONE)
            return ExchangeResult(False, now + retries * down_s, LossReason.REQUEST_LOST,
                                  None, retries)
        if response_tear is not None and self._torn(response_tear):
            delivered = now + down_s
            if self.faults.leave_zone:
                self.deadline = min(self.deadline, delivered + processing_s)
                return ExchangeResult(False, max(now, self.deadline),
                                      LossReason.RESPONSE_OUT_OF_ZONE, delivered, 1)
            done = delivered + processing_s + up_s + (retries - 1) * (down_s + up_s)
            return ExchangeResult(False, done, LossReason.RESPONSE_LOST, delivered, 2 * retries)
        result = self._radio.exchange(now, down, up, processing_s, self.deadline,
                                      self.faults.loss_probability)
        if result.done_at < now:  # the vehicle had already left: the RSU gives up at once
            return ExchangeResult(False, now, result.lost_reason, None, 0)
        return result

    def _icc_time(self, commands: Sequence[Command]) -> float:
        cfg = self._radio.config
        return sum(cfg.icc_purchase_apdu_s if type(c) in _SLOW_COMMANDS else cfg.icc_apdu_s
                   for c in commands)

    def _transfer(self, now: float, commands: Sequence[Command],
                  request_tear: TearPoint | None = None,
                  response_tear: TearPoint | None = None,
                  ) -> tuple[ExchangeResult, list[Response] | None]:
        """A TransferChannel to the ICC; the card runs the commands iff the request arrived.

        The uplink is sized from the answers' lengths on success (`_ANSWER_LENGTH`); a refusal
        is shorter on the air, which the model ignores (it shortens a failing pass by < 1 ms).
        """
        down = _transfer_length(DOWNLINK_OVERHEAD, [_APDU_LENGTH[type(c)] for c in commands])
        up = _transfer_length(UPLINK_OVERHEAD, [_ANSWER_LENGTH[type(c)] for c in commands])
        result = self._exchange(now, down, up, self._icc_time(commands), request_tear,
                                response_tear)
        answers = self.obu.transfer(commands) if result.request_delivered else None
        return result, answers

    # ------------------------------------------------------------ steps

    def find(self, now: float) -> StepResult:
        """BST/VST: B2 when the OBU answers, else `no_reply`."""
        obu = self.obu
        result = self._exchange(now, BST_LENGTH, obu.vst_length(), self._radio.config.esam_apdu_s,
                                TearPoint.VST)
        if not result.ok:
            return StepResult(result.done_at, None, no_reply=True)
        obu.wake()
        info = obu.system_info
        return StepResult(result.done_at, ObuFound(
            obu.obu_id, B2Error.OK, ANTENNA_ID, DeviceType.DOUBLE_CHIP_OBU,
            info.contract_provider, info.contract_type, info.contract_version,
            info.contract_serial, info.signed_date, info.expiry_date, info.equipment_cv,
            info.obu_status, info.tamper_status,
        ))

    def read(self, now: float) -> StepResult:
        """C1: GetSecure (the PSAM opens the vehicle file), then SELECT and the card reads: B4."""
        obu = self.obu
        cfg = self._radio.config
        rnd_rsu = self._random(8)
        sealed = obu.get_secure(GetSecureRequest(rnd_rsu))
        up = UPLINK_OVERHEAD + 4 + 8 + (len(sealed.encrypted_file) if sealed else 80)
        result = self._exchange(now, GET_SECURE_REQUEST_LENGTH, up, cfg.esam_apdu_s,
                                TearPoint.GET_SECURE)
        if not result.ok:
            return self._b4(result.done_at, B4Error.NO_DSRC_REPLY, no_reply=True)
        t = result.done_at + cfg.psam_apdu_s
        vehicle = None if sealed is None else self._open_vehicle_file(rnd_rsu, sealed)
        if vehicle is None:
            return self._b4(t, B4Error.VEHICLE_DECRYPT_FAILED)
        result, answers = self._transfer(t, CARD_READS)
        if not result.ok or answers is None:
            return self._b4(result.done_at, B4Error.NO_DSRC_REPLY, vehicle, no_reply=True)
        for answer, error in zip(answers, _READ_ERRORS, strict=True):
            if not answer.ok:
                return self._b4(result.done_at, error, vehicle)
        try:
            issuer = _known_or_decoded(answers[1].data, self._known_issuer(), _issuer_info)
            raw_record = answers[2].data
            record = None if raw_record == _EMPTY_RECORD else decode_entry_exit(raw_record)
        except ProtocolError:
            return self._b4(result.done_at, B4Error.CARD_READ_FAILED_14, vehicle)
        self.issuer_info = issuer
        self.balance = int.from_bytes(answers[3].data)
        return self._b4(result.done_at, B4Error.OK, vehicle, self.balance, issuer, record)

    def _known_issuer(self) -> tuple[bytes, IssuerInfo] | None:
        card = self.obu.card
        return None if card is None else (card.issuer_raw, card.issuer_info)

    def _open_vehicle_file(self, rnd_rsu: bytes, response: GetSecureResponse
                           ) -> VehicleInfo | None:
        obu = self.obu
        sealed = SealedVehicleFile(response.encrypted_file, response.authenticator)
        serial = bytes.fromhex(obu.system_info.contract_serial)
        network = obu_network(obu.system_info)
        for algorithm in _algorithms_to_try(network):
            try:
                plain = self._psam.decrypt_vehicle_file(
                    network, DEFAULT_KEY_VERSION, algorithm, serial, rnd_rsu, sealed)
            except KeysError:
                continue
            _ALGORITHM_OF_NETWORK[network] = algorithm
            try:
                return _known_or_decoded(plain, (obu.vehicle_file, obu.vehicle_info),
                                         _vehicle_info)
            except ProtocolError:
                return None
        return None

    def _b4(self, at: float, error: int, vehicle: VehicleInfo | None = None, balance: int = 0,
            issuer: IssuerInfo | None = None, last: EntryExitRecord | None = None,
            no_reply: bool = False) -> StepResult:
        frame = VehicleAndCard(self.obu.obu_id, error, TransType.COMPOSITE, vehicle, balance,
                               issuer, last)
        return StepResult(at, frame, no_reply)

    def purchase(self, now: float, c6: Purchase) -> StepResult:
        """C6: INITIALIZE + UPDATE CACHE, PSAM MAC1, DEBIT, PSAM MAC2 check: B5."""
        self.ctc = None
        psam = self._psam
        cfg = self._radio.config
        record = _encode_record(c6.station)
        init = InitializeForCappPurchase(PURCHASE_KEY_INDEX, c6.consume_money,
                                         psam.terminal_number)
        result, answers = self._transfer(now, (init, UpdateCappDataCache(record)),
                                         TearPoint.INIT_REQUEST, TearPoint.INIT_RESPONSE)
        if not result.ok or answers is None:
            return self._b5(result.done_at, c6, purchase_failure_before_debit())
        if not answers[0].ok:
            return self._b5(result.done_at, c6, card_refusal_code(answers[0].sw))
        if not answers[1].ok:
            return self._b5(result.done_at, c6, card_refusal_code(answers[1].sw))
        started = decode_purchase_initialized(answers[0].data)
        self.ctc = started.ctc
        issuer = self.issuer_info
        if issuer is None:  # a lane's C6 after a B4 that could not read 0015: no PSAM input
            return self._b5(result.done_at, c6, purchase_failure_before_debit(), started)
        t = result.done_at + cfg.psam_apdu_s
        try:
            sam = psam.init_sam_for_purchase(InitSamForPurchase(
                started.icc_random, started.ctc, c6.consume_money, TransType.COMPOSITE_PURCHASE,
                c6.purchase_time, started.key_version, started.algorithm,
                bytes.fromhex(issuer.card_serial), issuer_factor(issuer.issuer_code),
            ))
        except KeysError:
            return self._b5(t, c6, B5Error.PSAM_MAC1_FAILED, started)
        debit = DebitForCappPurchase(sam.terminal_trans_serial, c6.purchase_time, sam.mac1)
        result, answers = self._transfer(t, (debit,), TearPoint.DEBIT_REQUEST,
                                         TearPoint.DEBIT_RESPONSE)
        if not result.ok or answers is None:
            # No answer: the card may or may not have committed; the lane asks with C8.
            return self._b5(result.done_at, c6, B5Error.PURCHASE_NO_REPLY, started,
                            sam.terminal_trans_serial)
        if not answers[0].ok:
            return self._b5(result.done_at, c6, card_refusal_code(answers[0].sw), started,
                            sam.terminal_trans_serial)
        tac, mac2 = answers[0].data[:4], answers[0].data[4:8]
        t = result.done_at + cfg.psam_apdu_s
        error = B5Error.OK if psam.credit_sam_for_purchase(mac2) else B5Error.MAC2_CHECK_FAILED
        return self._b5(t, c6, error, started, sam.terminal_trans_serial, tac,
                        purse_after(issuer.card_type, started.balance, c6.consume_money))

    def _b5(self, at: float, c6: Purchase, error: int, started: object = None,
            psam_serial: int = 0, tac: bytes = bytes(4), balance: int | None = None
            ) -> StepResult:
        ctc = getattr(started, "ctc", 0)
        frame = TransactionResult(
            self.obu.obu_id, error, self._psam.terminal_number, c6.purchase_time,
            TransType.COMPOSITE_PURCHASE, getattr(started, "algorithm", AlgFlag.TDES),
            getattr(started, "key_version", 0), tac, ctc, psam_serial,
            self.balance if balance is None else balance,
        )
        return StepResult(at, frame)

    def prove(self, now: float, ctc: int) -> StepResult:
        """C8: GET TRANSACTION PROVE for `ctc` and the balance: B8."""
        commands = (Select(), GetTransactionProve(ctc), GetBalance())
        result, answers = self._transfer(now, commands, TearPoint.PROVE)
        obu_id = self.obu.obu_id
        if not result.ok or answers is None:
            return StepResult(result.done_at, TacRefetched(
                obu_id, B5Error.PURCHASE_NO_REPLY, bytes(4), bytes(4), 0), no_reply=True)
        proof, balance = answers[1], answers[2]
        rest = int.from_bytes(balance.data) if balance.ok else 0
        if proof.ok:
            return StepResult(result.done_at, TacRefetched(
                obu_id, B5Error.OK, proof.data[4:8], proof.data[:4], rest))
        error = (B5Error.CARD_NOT_DEBITED if proof.sw == StatusWord.RECORD_NOT_FOUND
                 else card_refusal_code(proof.sw))
        return StepResult(result.done_at, TacRefetched(obu_id, error, bytes(4), bytes(4), rest))

    def close(self, now: float, success: bool) -> float:
        """SetMMI (OK or not) and Release; returns when the RSU is done with the OBU."""
        del success  # the OBU's beep does not change the timing
        result = self._exchange(now, SET_MMI_REQUEST_LENGTH, SET_MMI_RESPONSE_LENGTH, 0.0)
        return result.done_at + self._radio.config.downlink_frame_s(RELEASE_LENGTH)

    def release(self, now: float) -> float:
        """Release without SetMMI (after a C2); returns when the EventReport is on the air."""
        return now + self._radio.config.downlink_frame_s(RELEASE_LENGTH)


_EMPTY_RECORD = bytes(ENTRY_EXIT_LENGTH)
#: The algorithm that last opened a vehicle file of each network: tried first next time. Only
#: an order of trying (every family is still tried), so a stale entry costs time, never a result.
_ALGORITHM_OF_NETWORK: dict[str, Algorithm] = {}


def _algorithms_to_try(network: str) -> tuple[Algorithm, ...]:
    first = _ALGORITHM_OF_NETWORK.get(network)
    if first is None:
        return tuple(Algorithm)
    return (first, *(a for a in Algorithm if a is not first))


_RECORD_CACHE: dict[EntryExitRecord, bytes] = {}
_RECORD_CACHE_LIMIT = 4096


def _encode_record(record: EntryExitRecord) -> bytes:
    """The 43 bytes of a C6 record; an exit lane writes the same few records many times."""
    raw = _RECORD_CACHE.get(record)
    if raw is None:
        if len(_RECORD_CACHE) >= _RECORD_CACHE_LIMIT:
            _RECORD_CACHE.clear()
        raw = _RECORD_CACHE[record] = encode_entry_exit(record)
    return raw

