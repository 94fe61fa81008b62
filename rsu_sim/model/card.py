"""The ETC user card (ICC) emulator: a sans-IO state machine answering the APDUs of `card.md` §3.1.

`Card.execute(command)` takes a typed command (`protocols.apdu`) and returns a `Response`;
`Card.handle_apdu(raw)` does the same for raw bytes. The purchase commits balance − amount,
CTC + 1 and the cached 0019 record in one step, and logs the committed transaction (the audit
reconciles against `Card.log`). A B card with a load key is topped up by INITIALIZE FOR LOAD and
CREDIT FOR LOAD (`card.md` §3.1a): the credit commits balance + amount, online serial + 1 and its
`Card.load_log` entry in one step, and GET TRANSACTION PROVE of type 02 answers for a load from
that log. DPK, DTK and DLK are derived once, when the card is made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from keys.card_keys import CardKeys
from keys.ciphers import Algorithm
from keys.derivation import issuer_factor, load_session_key, purchase_session_key, tac_key
from keys.load import LoadTerms, LoadType, load_mac1, load_tac_data, verify_load_mac2
from keys.purchase import PurchaseTerms, mac2, purchase_mac, verify_mac1
from keys.secret import SecretKey
from protocols.apdu import (
    ENTRY_EXIT_FILE_SFI,
    ENTRY_EXIT_RECORD_ID,
    ETC_APPLICATION,
    ISSUER_FILE_SFI,
    Command,
    CommandRejected,
    CreditForLoad,
    DebitForCappPurchase,
    GetBalance,
    GetTransactionProve,
    InitializeForCappPurchase,
    InitializeForLoad,
    LoadInitialized,
    PurchaseInitialized,
    ReadBinary,
    ReadRecord,
    Response,
    Select,
    StatusWord,
    UpdateCappDataCache,
    decode_command,
    encode_balance,
    encode_load_initialized,
    encode_purchase_initialized,
)
from protocols.frames import TransType
from protocols.frozen import fast_init
from protocols.record_codec import ENTRY_EXIT_LENGTH, encode_entry_exit, encode_issuer_info
from protocols.records import CardType, EntryExitRecord, IssuerInfo

#: The FCI the card answers SELECT 1001 with (our decision: DF name only, `84 02 10 01`).
ETC_FCI = bytes.fromhex("6F048402") + ETC_APPLICATION.to_bytes(2, "big")
#: Key index the card accepts in INITIALIZE FOR CAPP PURCHASE (our decision: DPK index 01).
PURCHASE_KEY_INDEX = 0x01
#: Key index the card accepts in INITIALIZE FOR LOAD (our decision: DLK index 01).
LOAD_KEY_INDEX = 0x01
#: Overdraft limit reported by INITIALIZE (our decision: no overdraft on either card type).
OVERDRAFT_LIMIT = 0
_EMPTY_RECORD = bytes(ENTRY_EXIT_LENGTH)
_MAX_BALANCE = 0xFFFF_FFFF
_MAX_ONLINE_SERIAL = 0xFFFF


@fast_init
@dataclass(frozen=True, slots=True)
class CardTransaction:
    """One committed purchase in the card's log: what GET TRANSACTION PROVE and the audit see."""

    ctc: int  # the CTC of INITIALIZE, before the increment
    amount: int  # fen
    trans_type: int
    terminal_number: bytes  # 6
    terminal_trans_serial: int
    transaction_time: dt.datetime
    tac: bytes
    mac2: bytes
    balance_after: int
    record: bytes  # the 0019 as committed (43 bytes)


@fast_init
@dataclass(frozen=True, slots=True)
class CardLoad:
    """One committed load in the card's load log, keyed by its online serial (before the
    increment): what GET TRANSACTION PROVE of type 02 answers and the centre settles from."""

    online_serial: int
    amount: int  # fen
    trans_type: int
    terminal_number: bytes  # 6
    transaction_time: dt.datetime
    balance_after: int
    mac2: bytes
    tac: bytes


@fast_init
@dataclass(frozen=True, slots=True)
class _Loading:
    """The load INITIALIZE FOR LOAD opened, waiting for CREDIT FOR LOAD."""

    terms: LoadTerms
    online_serial: int
    balance: int
    session_key: SecretKey


@fast_init
@dataclass(frozen=True, slots=True)
class _Initialized:
    """The purchase INITIALIZE opened, waiting for DEBIT."""

    amount: int
    terminal_number: bytes
    icc_random: bytes
    ctc: int
    balance: int


class Card:
    """One ICC: files 0015 and 0019, the purse (balance, CTC) and the purchase state machine."""

    __slots__ = (
        "_algorithm",
        "_cached_record",
        "_dlk",
        "_dpk",
        "_initialized",
        "_loading",
        "_random",
        "_tac_key",
        "balance",
        "ctc",
        "issuer_info",
        "issuer_raw",
        "key_version",
        "load_log",
        "locked",
        "log",
        "online_serial",
        "record_raw",
        "selected",
    )

    def __init__(
        self,
        issuer_info: IssuerInfo,
        balance: int,
        ctc: int,
        entry_exit: EntryExitRecord | None,
        random_bytes: Callable[[int], bytes],
        *,
        keys: tuple[Algorithm, SecretKey, SecretKey] | None,
        key_version: int = 1,
        locked: bool = False,
        load_key: SecretKey | Callable[[], SecretKey | None] | None = None,
        online_serial: int = 0,
    ) -> None:
        self.issuer_info = issuer_info
        self.issuer_raw = encode_issuer_info(issuer_info)
        self.record_raw = _EMPTY_RECORD if entry_exit is None else encode_entry_exit(entry_exit)
        self.balance = balance
        self.ctc = ctc
        self.key_version = key_version
        self.locked = locked
        self.selected = False
        self.log: dict[int, CardTransaction] = {}
        self.online_serial = online_serial
        self.load_log: dict[int, CardLoad] = {}
        # The DLK, or what derives it on the first load (most simulated cards are never loaded).
        self._dlk = load_key
        self._loading: _Loading | None = None
        self._random = random_bytes
        self._initialized: _Initialized | None = None
        self._cached_record: bytes | None = None
        if keys is None:
            self._algorithm: Algorithm | None = None
            self._dpk: SecretKey | None = None
            self._tac_key: SecretKey | None = None
        else:
            self._algorithm, self._dpk, dtk = keys
            self._tac_key = tac_key(self._algorithm, dtk)

    def _load_key(self) -> SecretKey | None:
        dlk = self._dlk
        if dlk is None or isinstance(dlk, SecretKey):
            return dlk
        self._dlk = dlk = dlk()
        return dlk

    def __repr__(self) -> str:
        return f"Card({self.issuer_info.card_number}, balance={self.balance}, ctc={self.ctc})"

    @property
    def algorithm(self) -> Algorithm | None:
        """The card's algorithm family, None for a card without keys."""
        return self._algorithm

    @property
    def card_type(self) -> int:
        """CardType of 0015."""
        return self.issuer_info.card_type

    def reset(self) -> None:
        """Power-on reset (the OBU wakes the card): nothing selected, no purchase open."""
        self.selected = False
        self._initialized = None
        self._cached_record = None
        self._loading = None

    # ------------------------------------------------------------ commands

    def handle_apdu(self, apdu: bytes) -> bytes:
        """Answer a raw command APDU with response bytes (data ‖ SW); never raises."""
        try:
            command = decode_command(apdu)
        except CommandRejected as exc:
            return Response(b"", exc.status_word).encode()
        return self.execute(command).encode()

    def execute(self, command: Command) -> Response:
        """Answer a typed command; every refusal is a status word."""
        match command:
            case Select():
                return self._select(command)
            case ReadBinary():
                return self._read_binary(command)
            case ReadRecord():
                return self._read_record(command)
            case GetBalance():
                return self._answer_if_selected(encode_balance(self.balance))
            case InitializeForCappPurchase():
                return self._initialize(command)
            case UpdateCappDataCache():
                return self._update_cache(command)
            case DebitForCappPurchase():
                return self._debit(command)
            case GetTransactionProve():
                return self._prove(command)
            case InitializeForLoad():
                return self._initialize_load(command)
            case CreditForLoad():
                return self._credit_load(command)
        return Response(b"", StatusWord.INS_NOT_SUPPORTED)

    def _answer_if_selected(self, data: bytes) -> Response:
        if not self.selected:
            return Response(b"", StatusWord.CONDITIONS_NOT_SATISFIED)
        return Response(data, StatusWord.OK)

    def _select(self, command: Select) -> Response:
        if command.file_id != ETC_APPLICATION:
            return Response(b"", StatusWord.FILE_NOT_FOUND)
        self.selected = True
        self._initialized = None
        self._cached_record = None
        self._loading = None
        return Response(ETC_FCI, StatusWord.OK)

    def _read_binary(self, command: ReadBinary) -> Response:
        if command.sfi != ISSUER_FILE_SFI:
            return Response(b"", StatusWord.FILE_NOT_FOUND)
        end = command.offset + command.length
        if end > len(self.issuer_raw):
            return Response(b"", StatusWord.WRONG_LENGTH)
        return self._answer_if_selected(self.issuer_raw[command.offset:end])

    def _read_record(self, command: ReadRecord) -> Response:
        if command.sfi != ENTRY_EXIT_FILE_SFI or command.record_id != ENTRY_EXIT_RECORD_ID:
            return Response(b"", StatusWord.RECORD_NOT_FOUND)
        if command.length != ENTRY_EXIT_LENGTH:
            return Response(b"", StatusWord.WRONG_LENGTH)
        return self._answer_if_selected(self.record_raw)

    def _begin(self) -> Response | None:
        """An INITIALIZE drops whatever transaction was open; the refusal when none may start."""
        self._initialized = None
        self._cached_record = None
        self._loading = None
        if not self.selected:
            return Response(b"", StatusWord.CONDITIONS_NOT_SATISFIED)
        if self.locked:
            return Response(b"", StatusWord.APPLICATION_LOCKED)
        return None

    def _initialize(self, command: InitializeForCappPurchase) -> Response:
        refused = self._begin()
        if refused is not None:
            return refused
        if command.key_index != PURCHASE_KEY_INDEX or self._algorithm is None:
            return Response(b"", StatusWord.KEY_NOT_FOUND)
        if not balance_allows(self.card_type, self.balance, command.amount):
            return Response(b"", StatusWord.INSUFFICIENT_BALANCE)
        icc_random = self._random(4)
        self._initialized = _Initialized(
            command.amount, command.terminal_number, icc_random, self.ctc, self.balance
        )
        body = PurchaseInitialized(self.balance, self.ctc, OVERDRAFT_LIMIT, self.key_version,
                                   self._algorithm, icc_random)
        return Response(encode_purchase_initialized(body), StatusWord.OK)

    def _update_cache(self, command: UpdateCappDataCache) -> Response:
        if self.locked:
            return Response(b"", StatusWord.APPLICATION_LOCKED)
        if self._initialized is None:
            return Response(b"", StatusWord.CONDITIONS_NOT_SATISFIED)
        if command.sfi != ENTRY_EXIT_FILE_SFI or command.record_id != ENTRY_EXIT_RECORD_ID:
            return Response(b"", StatusWord.RECORD_NOT_FOUND)
        if len(command.record) != ENTRY_EXIT_LENGTH:
            return Response(b"", StatusWord.WRONG_LENGTH)
        self._cached_record = bytes(command.record)
        return Response(b"", StatusWord.OK)

    def _debit(self, command: DebitForCappPurchase) -> Response:
        pending, self._initialized = self._initialized, None
        cached, self._cached_record = self._cached_record, None
        if self.locked:
            return Response(b"", StatusWord.APPLICATION_LOCKED)
        if pending is None or self._algorithm is None or self._dpk is None:
            return Response(b"", StatusWord.CONDITIONS_NOT_SATISFIED)
        assert self._tac_key is not None
        algorithm = self._algorithm
        serial = command.terminal_trans_serial
        terms = PurchaseTerms(pending.amount, TransType.COMPOSITE_PURCHASE,
                              pending.terminal_number, command.transaction_time)
        session_key = purchase_session_key(algorithm, self._dpk, pending.icc_random,
                                           pending.ctc, serial)
        if not verify_mac1(algorithm, session_key, terms, command.mac1):
            return Response(b"", StatusWord.MAC_INVALID)
        # Everything that can fail is computed before the commit, so the commit is all or nothing.
        tac = purchase_mac(algorithm, self._tac_key, terms.encode_with_serial(serial))
        mac_2 = mac2(algorithm, session_key, pending.amount)
        balance_after = purse_after(self.card_type, pending.balance, pending.amount)
        record = self.record_raw if cached is None else cached
        entry = CardTransaction(pending.ctc, pending.amount, TransType.COMPOSITE_PURCHASE,
                                pending.terminal_number, serial, command.transaction_time, tac,
                                mac_2, balance_after, record)
        self.balance = balance_after
        self.ctc = (pending.ctc + 1) & 0xFFFF
        self.record_raw = record
        self.log[pending.ctc] = entry
        return Response(tac + mac_2, StatusWord.OK)

    def _initialize_load(self, command: InitializeForLoad) -> Response:
        refused = self._begin()
        if refused is not None:
            return refused
        if command.load_type != LoadType.PURSE:
            return Response(b"", StatusWord.WRONG_P1_P2)  # no electronic deposit on ETC cards
        if self.card_type != CardType.STORED_VALUE:
            return Response(b"", StatusWord.CONDITIONS_NOT_SATISFIED)  # an A card is never loaded
        dlk = self._load_key()
        if command.key_index != LOAD_KEY_INDEX or dlk is None or self._algorithm is None:
            return Response(b"", StatusWord.KEY_NOT_FOUND)
        # A load may overflow neither the purse nor the online serial.
        if (self.balance + command.amount > _MAX_BALANCE
                or self.online_serial >= _MAX_ONLINE_SERIAL):
            return Response(b"", StatusWord.CONDITIONS_NOT_SATISFIED)
        terms = LoadTerms(command.amount, command.load_type, command.terminal_number)
        pseudo_random = self._random(4)
        session_key = load_session_key(self._algorithm, dlk, pseudo_random,
                                       self.online_serial)
        mac_1 = load_mac1(self._algorithm, session_key, self.balance, terms)
        self._loading = _Loading(terms, self.online_serial, self.balance, session_key)
        body = LoadInitialized(self.balance, self.online_serial, self.key_version,
                               self._algorithm, pseudo_random, mac_1)
        return Response(encode_load_initialized(body), StatusWord.OK)

    def _credit_load(self, command: CreditForLoad) -> Response:
        pending, self._loading = self._loading, None
        if self.locked:
            return Response(b"", StatusWord.APPLICATION_LOCKED)
        if pending is None or self._algorithm is None:
            return Response(b"", StatusWord.CONDITIONS_NOT_SATISFIED)
        assert self._tac_key is not None
        algorithm, terms, when = self._algorithm, pending.terms, command.transaction_time
        if not verify_load_mac2(algorithm, pending.session_key, terms, when, command.mac2):
            return Response(b"", StatusWord.MAC_INVALID)
        # As for the purchase: everything is computed first, then committed in one step.
        balance_after = pending.balance + terms.amount
        tac = purchase_mac(algorithm, self._tac_key,
                           load_tac_data(balance_after, pending.online_serial, terms, when))
        entry = CardLoad(pending.online_serial, terms.amount, terms.trans_type,
                         terms.terminal_number, when, balance_after, command.mac2, tac)
        self.balance = balance_after
        self.online_serial = pending.online_serial + 1
        self.load_log[pending.online_serial] = entry
        return Response(tac, StatusWord.OK)

    def _prove(self, command: GetTransactionProve) -> Response:
        if not self.selected:
            return Response(b"", StatusWord.CONDITIONS_NOT_SATISFIED)
        if command.trans_type == LoadType.PURSE:
            load = self.load_log.get(command.ctc)
            if load is None:
                return Response(b"", StatusWord.RECORD_NOT_FOUND)
            return Response(load.mac2 + load.tac, StatusWord.OK)
        entry = self.log.get(command.ctc)
        if entry is None or entry.trans_type != command.trans_type:
            return Response(b"", StatusWord.RECORD_NOT_FOUND)
        return Response(entry.mac2 + entry.tac, StatusWord.OK)


def balance_allows(card_type: int, balance: int, amount: int) -> bool:
    """Whether INITIALIZE accepts `amount`: a B card (stored value) needs balance ≥ amount, no
    overdraft; an A card is credit and accepts any amount (`rules.md` art. 28: its arrears are
    the issuing centre's), whatever its purse figure."""
    if not 0 <= amount <= _MAX_BALANCE:
        return False
    return card_type == CardType.CREDIT or amount <= balance


def purse_after(card_type: int, balance: int, amount: int) -> int:
    """The purse figure after a debit of `amount`. Our decision for the issuer's convention on
    A cards (`pc-rsu.md`: the figure is set by the issuer, not money held; `card.md`: debited
    the same way): the figure goes down by the amount, as a B card's balance does, and stops at
    0; what goes beyond it is credit the issuing centre collects, never a negative purse."""
    if card_type == CardType.CREDIT:
        return max(balance - amount, 0)
    return balance - amount


def card_keys_for(
    card_keys: CardKeys, issuer_info: IssuerInfo, key_version: int
) -> tuple[Algorithm, SecretKey, SecretKey] | None:
    """The card's (algorithm, DPK, DTK) by two-level diversification, or None when the key set
    holds no keys for its network and version (the card then answers INITIALIZE with 9403)."""
    algorithm = key_algorithm(card_keys, issuer_info.network, key_version)
    if algorithm is None:
        return None
    factor = issuer_factor(issuer_info.issuer_code)
    serial = bytes.fromhex(issuer_info.card_serial)
    dpk = card_keys.dpk(issuer_info.network, key_version, algorithm, factor, serial)
    dtk = card_keys.dtk(issuer_info.network, key_version, algorithm, factor, serial)
    return algorithm, dpk, dtk


def load_key_for(card_keys: CardKeys, issuer_info: IssuerInfo, key_version: int
                 ) -> SecretKey | None:
    """A B card's DLK by two-level diversification of MLK; None for an A card or without keys
    (the card then answers INITIALIZE FOR LOAD with 6985 or 9403)."""
    algorithm = key_algorithm(card_keys, issuer_info.network, key_version)
    if algorithm is None or issuer_info.card_type != CardType.STORED_VALUE:
        return None
    return card_keys.dlk(issuer_info.network, key_version, algorithm,
                         issuer_factor(issuer_info.issuer_code),
                         bytes.fromhex(issuer_info.card_serial))


def key_algorithm(card_keys: CardKeys, network: str, key_version: int) -> Algorithm | None:
    """The algorithm family of the key set's keys for `network`, None when it has none."""
    return card_keys.algorithm_of(network, key_version)
