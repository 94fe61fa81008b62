"""The card blacklist: a versioned, immutable map from card number to the reason it is listed.

Sized for ten million cards: a card number is held as two integers (network, serial) in an
open-addressing hash table of numpy arrays, built in bulk by numba and probed from Python.
Files are read and written by `lane_engine.files.blacklist`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import numpy.typing as npt
from numba import njit

from lane_engine.errors import BlacklistError
from protocols.records import card_number as join_network_and_serial

__all__ = [
    "CARD_NUMBER_DIGITS",
    "MAX_LOAD_FACTOR",
    "NETWORK_DIGITS",
    "NETWORK_LIMIT",
    "SERIAL_DIGITS",
    "SERIAL_LIMIT",
    "Blacklist",
    "BlacklistDelta",
    "Codes",
    "Networks",
    "Reason",
    "Serials",
    "delta_applies",
    "format_card_number",
    "reason_from_code",
    "replacement_accepted",
    "split_card_number",
    "synthetic_columns",
]

NETWORK_DIGITS = 4
SERIAL_DIGITS = 16
CARD_NUMBER_DIGITS = NETWORK_DIGITS + SERIAL_DIGITS
SERIAL_LIMIT = 10**SERIAL_DIGITS
NETWORK_LIMIT = 10**NETWORK_DIGITS


class Reason(IntEnum):
    """Why a card is on the blacklist; the values are the codes of both blacklist file formats."""

    #: reported lost by the holder (挂失)
    LOST = 0x01
    #: cancelled by the issuer (注销)
    CANCELLED = 0x02
    #: A card whose account is in arrears (欠费)
    ARREARS = 0x03
    #: card overdrawn (透支)
    OVERDRAWN = 0x04
    #: card or OBU known to be forged or tampered with
    FORGED = 0x05
    #: suspended by the issuer without the card (无卡挂起)
    SUSPENDED = 0x06
    #: on the list of a partner institution (a co-branded card's bank)
    PARTNER_LISTED = 0x07
    #: the card's or OBU's vehicle class no longer matches the vehicle as registered
    CLASS_MISMATCH = 0x08
    #: listed by the issuer for a reason it does not give
    OTHER = 0x0F


Networks = npt.NDArray[np.uint16]
Serials = npt.NDArray[np.uint64]
Codes = npt.NDArray[np.uint8]

# Slot states share the reason array; neither value may ever be a Reason.
_EMPTY = 0x00
_TOMBSTONE = 0xFF
_REASONS: dict[int, Reason] = {int(reason): reason for reason in Reason}
_VALID_CODES = np.zeros(256, dtype=np.bool_)
_VALID_CODES[list(_REASONS)] = True

# Fibonacci hashing: multiply by 2**64 / golden ratio, keep the top bits.
_HASH_MULTIPLIER = 0x9E3779B97F4A7C15
_NETWORK_SHIFT = 50
_MASK64 = (1 << 64) - 1
_MIN_CAPACITY_BITS = 4

MAX_LOAD_FACTOR = 0.6
"""Our decision: used slots (live + tombstones) never exceed 60 % of the table (linear probing)."""


def split_card_number(card: str) -> tuple[int, int]:
    """The (network, serial) integers of a 20-digit card number; anything else is a BlacklistError.

    Inverse of `protocols.records.card_number`: 4 network digits, then 16 serial digits.
    """
    if len(card) != CARD_NUMBER_DIGITS or not card.isdigit() or not card.isascii():
        raise BlacklistError(f"card number {card!r} is not {CARD_NUMBER_DIGITS} decimal digits")
    return divmod(int(card), SERIAL_LIMIT)


def format_card_number(network: int, serial: int) -> str:
    """The 20-digit card number of a (network, serial) pair, zero-padded."""
    return join_network_and_serial(f"{network:0{NETWORK_DIGITS}d}", f"{serial:0{SERIAL_DIGITS}d}")


def reason_from_code(code: int) -> Reason:
    """The Reason of a file code; an unknown code is a BlacklistError."""
    try:
        return _REASONS[code]
    except KeyError:
        raise BlacklistError(f"unknown blacklist reason code {code:#04x}") from None


@njit(cache=True)
def _home_slot(network, serial, shift):  # type: ignore[no-untyped-def]
    key = np.uint64(serial) ^ (np.uint64(network) << np.uint64(_NETWORK_SHIFT))
    return np.int64((key * np.uint64(_HASH_MULTIPLIER)) >> shift)


@njit(cache=True)
def _insert_all(t_nets, t_sers, t_codes, bits, nets, sers, codes, overwrite):  # type: ignore[no-untyped-def]
    """Insert each entry, reusing the first tombstone met on its probe path.

    Return the index of the first duplicate (when not `overwrite`) or -1, the number of entries
    put in empty slots and the number put in tombstones.
    """
    mask = t_codes.shape[0] - 1
    shift = np.uint64(64 - bits)
    into_empty = 0
    into_tombstone = 0
    for k in range(nets.shape[0]):
        net, ser = nets[k], sers[k]
        i = _home_slot(net, ser, shift)
        free = -1
        while True:
            state = t_codes[i]
            if state == _EMPTY:
                break
            if state == _TOMBSTONE:
                if free < 0:
                    free = i
            elif t_sers[i] == ser and t_nets[i] == net:
                if not overwrite:
                    return k, into_empty, into_tombstone
                t_codes[i] = codes[k]
                free = -2
                break
            i = (i + 1) & mask
        if free == -2:
            continue
        if free < 0:
            free = i
            into_empty += 1
        else:
            into_tombstone += 1
        t_nets[free], t_sers[free], t_codes[free] = net, ser, codes[k]
    return -1, into_empty, into_tombstone


@njit(cache=True)
def _remove_all(t_nets, t_sers, t_codes, bits, nets, sers):  # type: ignore[no-untyped-def]
    """Tombstone each entry; return the index of the first one not in the table, or -1."""
    mask = t_codes.shape[0] - 1
    shift = np.uint64(64 - bits)
    for k in range(nets.shape[0]):
        net, ser = nets[k], sers[k]
        i = _home_slot(net, ser, shift)
        while True:
            state = t_codes[i]
            if state == _EMPTY:
                return k
            if state != _TOMBSTONE and t_sers[i] == ser and t_nets[i] == net:
                t_codes[i] = _TOMBSTONE
                break
            i = (i + 1) & mask
    return -1


def _prober(nets: Networks, sers: Serials, codes: Codes, bits: int) -> Callable[[int, int], int]:
    """The scalar lookup: pure-Python probing over memoryviews of the table, in a closure.

    Measured on 10M entries: ~1 µs a lookup, most of it cache misses; a numba call costs ~0.7 µs
    in dispatch alone, and indexing a memoryview yields a Python int ~2x faster than numpy does.
    """
    nets_view, sers_view, codes_view = nets.data, sers.data, codes.data
    mask, shift = (1 << bits) - 1, 64 - bits
    multiplier, network_shift, mask64 = _HASH_MULTIPLIER, _NETWORK_SHIFT, _MASK64
    empty, tombstone = _EMPTY, _TOMBSTONE

    def code_for(network: int, serial: int) -> int:
        i = (((serial ^ (network << network_shift)) * multiplier) & mask64) >> shift
        while True:
            code: int = codes_view[i]
            if code == empty:
                return empty
            if sers_view[i] == serial and nets_view[i] == network and code != tombstone:
                return code
            i = (i + 1) & mask

    return code_for


def _capacity_bits(used: int) -> int:
    bits = _MIN_CAPACITY_BITS
    while used > MAX_LOAD_FACTOR * (1 << bits):
        bits += 1
    return bits


@dataclass(frozen=True, slots=True, eq=False)
class _Table:
    """Linear-probing hash table; read-only once built (a change copies it first)."""

    nets: Networks
    sers: Serials
    codes: Codes
    live: int
    tombstones: int
    bits: int
    code_for: Callable[[int, int], int] = field(init=False)
    """The reason code of (network, serial), or 0 when absent (see `_prober`)."""

    def __post_init__(self) -> None:
        for array in (self.nets, self.sers, self.codes):
            array.flags.writeable = False
        object.__setattr__(self, "code_for", _prober(self.nets, self.sers, self.codes, self.bits))

    @classmethod
    def build(cls, nets: Networks, sers: Serials, codes: Codes, room: int = 0) -> _Table:
        """A table of the entries with space for `room` more within the load limit."""
        bits = _capacity_bits(len(nets) + room)
        t_nets = np.zeros(1 << bits, dtype=np.uint16)
        t_sers = np.zeros(1 << bits, dtype=np.uint64)
        t_codes = np.zeros(1 << bits, dtype=np.uint8)
        duplicate, added, _ = _insert_all(t_nets, t_sers, t_codes, bits, nets, sers, codes, False)
        if duplicate >= 0:
            card = format_card_number(int(nets[duplicate]), int(sers[duplicate]))
            raise BlacklistError(f"entry {duplicate}: card {card} is listed twice")
        return cls(t_nets, t_sers, t_codes, added, 0, bits)

    def live_entries(self) -> tuple[Networks, Serials, Codes]:
        """Copies of the live (network, serial, code) columns, in slot order."""
        live = (self.codes != _EMPTY) & (self.codes != _TOMBSTONE)
        return self.nets[live], self.sers[live], self.codes[live]

    def changed(
        self, add: tuple[Networks, Serials, Codes], remove: tuple[Networks, Serials]
    ) -> _Table:
        """A new table with `remove` tombstoned and `add` inserted or overwritten.

        Copy-and-insert; when the copy would pass the load limit it is compacted (rebuilt from
        its live entries, tombstones dropped, capacity regrown) first.
        """
        if self.live + self.tombstones + len(add[0]) > MAX_LOAD_FACTOR * (1 << self.bits):
            base = _Table.build(*self.live_entries(), room=len(add[0]))
        else:
            base = self
        nets, sers, codes = base.nets.copy(), base.sers.copy(), base.codes.copy()
        missing = _remove_all(nets, sers, codes, base.bits, *remove)
        if missing >= 0:
            card = format_card_number(int(remove[0][missing]), int(remove[1][missing]))
            raise BlacklistError(f"cannot remove card {card}: it is not on the list")
        _, into_empty, into_tombstone = _insert_all(nets, sers, codes, base.bits, *add, True)
        removed = len(remove[0])
        live = base.live - removed + into_empty + into_tombstone
        tombstones = base.tombstones + removed - into_tombstone
        return _Table(nets, sers, codes, live, tombstones, base.bits)


def _out_of_range(name: str, column: npt.NDArray[np.generic], limit: int) -> None:
    if column.size and not np.issubdtype(column.dtype, np.integer):
        raise BlacklistError(f"{name} column holds {column.dtype}, not integers")
    bad = np.greater_equal(column, limit)
    if np.issubdtype(column.dtype, np.signedinteger):
        bad |= np.less(column, 0)
    where = np.flatnonzero(bad)
    if where.size:
        raise BlacklistError(f"entry {where[0]}: {name} {column[where[0]]} is out of range")


def _checked_columns(
    networks: npt.ArrayLike, serials: npt.ArrayLike, codes: npt.ArrayLike
) -> tuple[Networks, Serials, Codes]:
    """The columns as table dtypes, each value in range; a bad one is a BlacklistError naming it."""
    nets, sers, cods = np.asarray(networks), np.asarray(serials), np.asarray(codes)
    if not (nets.ndim == sers.ndim == cods.ndim == 1 and len(nets) == len(sers) == len(cods)):
        raise BlacklistError(f"columns differ in shape: {nets.shape}, {sers.shape}, {cods.shape}")
    _out_of_range("network", nets, NETWORK_LIMIT)
    _out_of_range("serial", sers, SERIAL_LIMIT)
    _out_of_range("reason code", cods, 256)
    unknown = np.flatnonzero(~_VALID_CODES[cods.astype(np.uint8, copy=False)])
    if unknown.size:
        raise BlacklistError(
            f"entry {unknown[0]}: unknown reason code {int(cods[unknown[0]]):#04x}"
        )
    return (
        nets.astype(np.uint16, copy=False),
        sers.astype(np.uint64, copy=False),
        cods.astype(np.uint8, copy=False),
    )


def _columns_of(entries: Iterable[tuple[str, int]]) -> tuple[Networks, Serials, Codes]:
    nets: list[int] = []
    sers: list[int] = []
    codes: list[int] = []
    for card, reason in entries:
        network, serial = split_card_number(card)
        nets.append(network)
        sers.append(serial)
        codes.append(int(reason_from_code(int(reason))))
    return (
        np.array(nets, dtype=np.uint16),
        np.array(sers, dtype=np.uint64),
        np.array(codes, dtype=np.uint8),
    )


def delta_applies(list_version: int, delta_base_version: int) -> bool:
    """Our decision: a delta applies only to the exact version it was made from (no skipping)."""
    return delta_base_version == list_version


def replacement_accepted(list_version: int, new_version: int) -> bool:
    """Our decision: a full list replaces the current one only if its version is strictly newer."""
    return new_version > list_version


@dataclass(frozen=True, slots=True)
class BlacklistDelta:
    """The change from list version `base_version` to `base_version + 1`.

    A card added that is already listed takes the new reason; a card removed (e.g. unlocked)
    must be on the list; no card may be both added and removed.
    """

    base_version: int
    additions: tuple[tuple[str, Reason], ...] = ()
    removals: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.base_version < 0:
            raise BlacklistError(f"delta base version {self.base_version} is negative")
        added = [card for card, _ in self.additions]
        for card in (*added, *self.removals):
            split_card_number(card)
        for reason in (reason for _, reason in self.additions):
            reason_from_code(int(reason))
        for what, cards in (("added", added), ("removed", self.removals)):
            if len(set(cards)) != len(cards):
                raise BlacklistError(f"delta {self.base_version}: a card is {what} twice")
        both = set(added) & set(self.removals)
        if both:
            card = min(both)
            raise BlacklistError(f"delta {self.base_version}: card {card} is added and removed")

    @property
    def target_version(self) -> int:
        """The version of the list once this delta is applied."""
        return self.base_version + 1


@dataclass(frozen=True, slots=True, eq=False)
class Blacklist:
    """One version of the blacklist; a new version is a new value (`replaced_by`, `applied`)."""

    version: int
    _table: _Table = field(repr=False)

    def __post_init__(self) -> None:
        if self.version < 0:
            raise BlacklistError(f"blacklist version {self.version} is negative")

    @classmethod
    def empty(cls, version: int = 0) -> Blacklist:
        """A list with no card on it."""
        return cls.from_entries(version, ())

    @classmethod
    def from_entries(cls, version: int, entries: Iterable[tuple[str, Reason]]) -> Blacklist:
        """A list from (card number, reason) pairs; for small lists (see `from_columns`)."""
        return cls(version, _Table.build(*_columns_of(entries)))

    @classmethod
    def from_columns(
        cls, version: int, networks: npt.ArrayLike, serials: npt.ArrayLike, codes: npt.ArrayLike
    ) -> Blacklist:
        """A list from parallel columns of network numbers, serials and reason codes (bulk path)."""
        return cls(version, _Table.build(*_checked_columns(networks, serials, codes)))

    def reason_for(self, card: str) -> Reason | None:
        """The reason the card is listed, or None; a malformed card number is a BlacklistError."""
        network, serial = split_card_number(card)
        return _REASON_OR_NONE[self._table.code_for(network, serial)]

    def __contains__(self, card: object) -> bool:
        return isinstance(card, str) and self.reason_for(card) is not None

    def __len__(self) -> int:
        return self._table.live

    def columns(self) -> tuple[Networks, Serials, Codes]:
        """Copies of the (network, serial, reason code) columns of every listed card."""
        return self._table.live_entries()

    def entries(self) -> Iterator[tuple[str, Reason]]:
        """Every (card number, reason) pair, in no particular order."""
        for network, serial, code in zip(*(c.tolist() for c in self.columns()), strict=True):
            yield format_card_number(network, serial), _REASONS[code]

    def replaced_by(self, full: Blacklist) -> Blacklist:
        """`full`, once checked to be newer than this list (see `replacement_accepted`)."""
        if not replacement_accepted(self.version, full.version):
            raise BlacklistError(
                f"full list version {full.version} is not newer than version {self.version}"
            )
        return full

    def applied(self, delta: BlacklistDelta) -> Blacklist:
        """This list with `delta` applied; a delta for another version is a BlacklistError.

        Copy-and-insert with tombstones: costs a copy of the table (~0.4 s at 10M entries),
        not a rebuild; the table is compacted when tombstones push it past the load limit.
        """
        if not delta_applies(self.version, delta.base_version):
            raise BlacklistError(
                f"delta from version {delta.base_version} to {delta.target_version} does not"
                f" apply to list version {self.version}"
            )
        add = _columns_of(delta.additions)
        remove = _columns_of((card, Reason.OTHER) for card in delta.removals)[:2]
        return Blacklist(delta.target_version, self._table.changed(add, remove))


_REASON_OR_NONE: dict[int, Reason | None] = {_EMPTY: None, **_REASONS}


def synthetic_columns(rng: np.random.Generator, count: int) -> tuple[Networks, Serials, Codes]:
    """`count` distinct random cards (network, serial, reason code), for tests and benchmarks.

    Serial i is drawn from its own stride of the serial space, so no two collide.
    """
    stride = SERIAL_LIMIT // max(count, 1)
    offsets = rng.integers(0, stride, size=count, dtype=np.uint64)
    serials = np.arange(count, dtype=np.uint64) * np.uint64(stride) + offsets
    networks = rng.integers(0, NETWORK_LIMIT, size=count, dtype=np.uint16)
    codes = rng.choice(np.array(list(_REASONS), dtype=np.uint8), size=count)
    return networks, serials, codes
