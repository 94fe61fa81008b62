"""The OBU emulator with its ESAM, and the fleet that keeps every vehicle's OBU and card.

Sans-IO. An `Obu` answers the air PDUs of `dsrc.md` §1: its VST (system information and the
card's pre-read files), GetSecure (the vehicle file sealed with its MVK-derived key, `keys`'
vehicle_file encrypt side) and TransferChannel to its card. The `Fleet` makes each vehicle's
devices once and keeps them, so a card's balance, CTC and log persist from lane to lane.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial

from keys.card_keys import CardKeys
from keys.ciphers import Algorithm
from keys.keyset import KeySet
from keys.secret import SecretKey
from keys.vehicle_file import seal_vehicle_file
from protocols.air import (
    Channel,
    GetSecureRequest,
    GetSecureResponse,
    TransferChannelRequest,
    TransferChannelResponse,
    Vst,
)
from protocols.apdu import (
    Command,
    GetBalance,
    ReadBinary,
    ReadRecord,
    Response,
    Select,
    StatusWord,
    decode_balance,
)
from protocols.record_codec import (
    ENTRY_EXIT_LENGTH,
    ISSUER_INFO_LENGTH,
    decode_entry_exit,
    encode_vehicle_info,
)
from protocols.records import ObuStatus, ObuSystemInfo, VehicleInfo
from rsu_sim.model.card import Card, card_keys_for, key_algorithm, load_key_for
from rsu_sim.model.population import VehicleRecord

#: Key version of the simulated cards and OBUs (our decision: every issuer uses version 1).
DEFAULT_KEY_VERSION = 1
_NO_CARD = Response(b"", StatusWord.CONDITIONS_NOT_SATISFIED)
_ICC_ABSENT = int(ObuStatus.ICC_ABSENT)
# Air frame sizes by formula (dsrc.md §1, protocols.air's encoding): MAC address 4, MAC control
# 1, LLC control 1, FCS 2, plus the status byte on the uplink. Tests check them against
# `encode_air_frame`, so sizing by formula is equivalent to encoding.
DOWNLINK_OVERHEAD = 8
UPLINK_OVERHEAD = 9
#: VST T-APDU without pre-read files: tag, profile, application list (1 + 1), system info 29,
#: pre-read count.
_VST_BASE = 1 + 1 + 2 + 29 + 1
#: pre-read of 0015 (50), 0019 (43) and the balance (4), each behind file id 2 and length 1
_VST_PRE_READ = (3 + ISSUER_INFO_LENGTH) + (3 + ENTRY_EXIT_LENGTH) + (3 + 4)


def obu_network(system_info: ObuSystemInfo) -> str:
    """The network whose MVK keys an OBU: the first four digits of its contract serial (our
    decision, matching how the population numbers OBUs: network ‖ year ‖ vehicle id)."""
    return system_info.contract_serial[:4]


class Obu:
    """One double-chip OBU: ESAM files, vehicle-file key, and the inserted card (or none)."""

    __slots__ = ("_algorithm", "_vehicle_key", "card", "obu_id", "system_info", "vehicle_file",
                 "vehicle_id", "vehicle_info")

    def __init__(
        self,
        vehicle_id: int,
        obu_id: int,
        system_info: ObuSystemInfo,
        vehicle_info: VehicleInfo,
        card: Card | None,
        vehicle_key: tuple[Algorithm, SecretKey] | None,
    ) -> None:
        self.vehicle_id = vehicle_id
        self.obu_id = obu_id
        self.system_info = system_info
        self.vehicle_info = vehicle_info
        self.vehicle_file = encode_vehicle_info(vehicle_info)
        self.card = card
        self._algorithm = None if vehicle_key is None else vehicle_key[0]
        self._vehicle_key = None if vehicle_key is None else vehicle_key[1]

    def __repr__(self) -> str:
        return f"Obu({self.obu_id:#010x}, vehicle {self.vehicle_id}, card={self.card!r})"

    @property
    def has_card(self) -> bool:
        """True when a card is inserted and the OBU does not report it absent."""
        # int arithmetic: IntFlag's own `&` builds a flag object, and this runs on every exchange
        return self.card is not None and not int(self.system_info.obu_status) & _ICC_ABSENT

    # ------------------------------------------------------------ VST

    def wake(self) -> None:
        """The OBU heard a BST: it resets its card for the new session."""
        if self.card is not None:
            self.card.reset()

    def vst_length(self) -> int:
        """Bytes of this OBU's VST air frame (formula; equals the encoded `vst()` frame)."""
        return UPLINK_OVERHEAD + _VST_BASE + (_VST_PRE_READ if self.has_card else 0)

    def vst(self) -> Vst:
        """The VST value: system information and the card's pre-read files (decodes 0019)."""
        card = self.card
        if card is None or not self.has_card:
            return Vst(self.system_info)
        self.wake()
        card.execute(Select())
        return Vst(self.system_info, issuer_info=card.issuer_info,
                   entry_exit=decode_entry_exit(card.record_raw),
                   balance=decode_balance(card.execute(GetBalance()).data))

    # ------------------------------------------------------------ GetSecure

    def get_secure(self, request: GetSecureRequest) -> GetSecureResponse | None:
        """The sealed vehicle file for `request`, None when the ESAM has no key for it."""
        if self._vehicle_key is None or self._algorithm is None:
            return None
        sealed = seal_vehicle_file(self._algorithm, self._vehicle_key, request.rnd_rsu,
                                   self.vehicle_file)
        return GetSecureResponse(sealed.ciphertext, sealed.authenticator, request.file_id)

    # ------------------------------------------------------------ TransferChannel

    def transfer(self, commands: Sequence[Command]) -> list[Response]:
        """Run typed ICC commands in order (the RSU's fast path: no APDU bytes are built)."""
        card = self.card
        if card is None or not self.has_card:
            return [_NO_CARD] * len(commands)
        execute = card.execute
        return [execute(command) for command in commands]

    def transfer_channel(self, request: TransferChannelRequest) -> TransferChannelResponse:
        """Answer a TransferChannel request of raw APDUs (ICC channel only; the ESAM channel
        answers 6D00 to everything: the simulator reads the ESAM by GetSecure alone)."""
        card = self.card
        if request.channel is Channel.ICC and card is not None and self.has_card:
            answers = tuple(card.handle_apdu(apdu) for apdu in request.apdus)
        else:
            sw = StatusWord.INS_NOT_SUPPORTED if request.channel is Channel.ESAM else _NO_CARD.sw
            answers = tuple(Response(b"", sw).encode() for _ in request.apdus)
        return TransferChannelResponse(request.channel, answers)


#: The reads of the C1 step, in order (SELECT 1001, 0015, 0019, balance).
CARD_READS: tuple[Command, ...] = (
    Select(), ReadBinary(sfi=0x15, length=ISSUER_INFO_LENGTH), ReadRecord(), GetBalance()
)


class Fleet:
    """Every vehicle's OBU and card, made on first sight from the population record and kept.

    `random_bytes` feeds the cards' ICC randoms (pass e.g. a numpy Generator's `bytes`).
    """

    def __init__(
        self,
        key_set: KeySet,
        random_bytes: Callable[[int], bytes],
        key_version: int = DEFAULT_KEY_VERSION,
        card_keys: CardKeys | None = None,
    ) -> None:
        self._card_keys = CardKeys(key_set) if card_keys is None else card_keys
        self._random = random_bytes
        self._key_version = key_version
        self._obus: dict[int, Obu] = {}

    def __len__(self) -> int:
        return len(self._obus)

    def __iter__(self) -> Iterator[Obu]:
        return iter(self._obus.values())

    def obu(self, vehicle: VehicleRecord) -> Obu:
        """The OBU of `vehicle`, made (with its card and keys) the first time it is asked for."""
        found = self._obus.get(vehicle.vehicle_id)
        if found is None:
            found = self._obus[vehicle.vehicle_id] = self._make(vehicle)
        return found

    def get(self, vehicle_id: int) -> Obu | None:
        """The OBU of a vehicle already seen, if any."""
        return self._obus.get(vehicle_id)

    def _make(self, vehicle: VehicleRecord) -> Obu:
        card = None
        data = vehicle.card
        if data is not None:
            keys = card_keys_for(self._card_keys, data.issuer_info, self._key_version)
            card = Card(data.issuer_info, data.balance, data.ctc, data.entry_exit, self._random,
                        keys=keys, key_version=self._key_version,
                        load_key=partial(load_key_for, self._card_keys, data.issuer_info,
                                         self._key_version))
        network = obu_network(vehicle.system_info)
        algorithm = key_algorithm(self._card_keys, network, self._key_version)
        vehicle_key = None
        if algorithm is not None:
            serial = bytes.fromhex(vehicle.system_info.contract_serial)
            vehicle_key = (algorithm, self._card_keys.obu_vehicle_key(
                network, self._key_version, algorithm, serial))
        return Obu(vehicle.vehicle_id, vehicle.obu_id, vehicle.system_info,
                   vehicle.vehicle_info, card, vehicle_key)
