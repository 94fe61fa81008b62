"""Key sets: the master keys (MPK, MTK, MLK, MVK) of each issuer network and key version.

This module parses and writes the TOML text (sans-IO); `keys.keyset_file` reads and writes files.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from keys.ciphers import Algorithm
from keys.errors import KeyNotFoundError, KeySetError
from keys.secret import SecretKey

__all__ = [
    "ALGORITHM_NAMES",
    "FORMAT_VERSION",
    "MASTER_KEY_LENGTH",
    "MASTER_KEY_NAMES",
    "KeySet",
    "MasterKeys",
    "dump_key_set",
    "generate_key_set",
    "parse_key_set",
    "seeded_random_bytes",
]

FORMAT_VERSION = 1
MASTER_KEY_NAMES = ("mpk", "mtk", "mlk", "mvk")
MASTER_KEY_LENGTH = 16
ALGORITHM_NAMES: Mapping[str, Algorithm] = {"3des": Algorithm.TDES, "sm4": Algorithm.SM4}
_NAME_OF = {algorithm: name for name, algorithm in ALGORITHM_NAMES.items()}


@dataclass(frozen=True, slots=True)
class MasterKeys:
    """The issuer's master keys of one network and key version, and their algorithm."""

    network: str  # 4 digits, e.g. "3701"
    key_version: int
    algorithm: Algorithm
    mpk: SecretKey  # purchase
    mtk: SecretKey  # TAC
    mlk: SecretKey  # load
    mvk: SecretKey  # OBU vehicle file


@dataclass(frozen=True, slots=True)
class KeySet:
    """Master keys by (network, key version)."""

    entries: tuple[MasterKeys, ...]
    _by_id: dict[tuple[str, int], MasterKeys] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[tuple[str, int], MasterKeys] = {}
        for entry in self.entries:
            ident = (entry.network, entry.key_version)
            if ident in by_id:
                raise KeySetError(f"network {ident[0]} key version {ident[1]} given twice")
            by_id[ident] = entry
        object.__setattr__(self, "_by_id", by_id)

    def lookup(
        self, network: str, key_version: int, algorithm: Algorithm | None = None
    ) -> MasterKeys:
        """The master keys of `network` and `key_version` (of `algorithm` if given)."""
        entry = self._by_id.get((network, key_version))
        if entry is None or (algorithm is not None and entry.algorithm != algorithm):
            raise KeyNotFoundError(
                f"no keys for network {network} key version {key_version}"
                + ("" if algorithm is None else f" algorithm {algorithm.name}")
            )
        return entry


def _field(table: Mapping[str, Any], name: str, kind: type, where: str) -> Any:
    if name not in table:
        raise KeySetError(f"{where}.{name}: missing")
    value = table[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise KeySetError(f"{where}.{name}: wants a {kind.__name__}")
    return value


def _master_key(table: Mapping[str, Any], name: str, where: str) -> SecretKey:
    text = _field(table, name, str, where)
    try:
        material = bytes.fromhex(text)
    except ValueError:
        raise KeySetError(f"{where}.{name}: not hexadecimal") from None
    if len(material) != MASTER_KEY_LENGTH:
        raise KeySetError(f"{where}.{name}: wants {MASTER_KEY_LENGTH} bytes, got {len(material)}")
    return SecretKey(material)


def _entry(table: Any, where: str) -> MasterKeys:
    if not isinstance(table, dict):
        raise KeySetError(f"{where}: wants a table")
    network = _field(table, "network", str, where)
    if len(network) != 4 or not network.isdigit():
        raise KeySetError(f"{where}.network: wants 4 digits")
    key_version = _field(table, "key_version", int, where)
    if not 0 <= key_version <= 0xFF:
        raise KeySetError(f"{where}.key_version: wants 0..255")
    algorithm = ALGORITHM_NAMES.get(_field(table, "algorithm", str, where).lower())
    if algorithm is None:
        raise KeySetError(f"{where}.algorithm: wants one of {', '.join(ALGORITHM_NAMES)}")
    keys = {name: _master_key(table, name, where) for name in MASTER_KEY_NAMES}
    return MasterKeys(network, key_version, algorithm, **keys)


def parse_key_set(text: str, source: str) -> KeySet:
    """The key set in TOML `text`; KeySetError naming `source` and the field, never a key."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KeySetError(f"{source}: malformed TOML ({exc})") from None
    try:
        if _field(document, "format", int, "") != FORMAT_VERSION:
            raise KeySetError(f"format: wants {FORMAT_VERSION}")
        tables = _field(document, "keys", list, "")
        if not tables:
            raise KeySetError("keys: empty")
        return KeySet(tuple(_entry(table, f"keys[{i}]") for i, table in enumerate(tables)))
    except KeySetError as exc:
        raise KeySetError(f"{source}: {str(exc).lstrip('.')}") from None


def dump_key_set(key_set: KeySet) -> str:
    """The TOML text of `key_set`, keys included: for the key-set writer only."""
    lines = [
        "# ETC simulation key set: master keys by issuer network and key version.",
        "# Keep this file readable by its owner only (mode 0600).",
        f"format = {FORMAT_VERSION}",
    ]
    for entry in key_set.entries:
        lines += [
            "",
            "[[keys]]",
            f'network = "{entry.network}"',
            f"key_version = {entry.key_version}",
            f'algorithm = "{_NAME_OF[entry.algorithm]}"',
        ]
        lines += [
            f'{name} = "{getattr(entry, name).reveal().hex().upper()}"' for name in MASTER_KEY_NAMES
        ]
    return "\n".join(lines) + "\n"


def seeded_random_bytes(seed: str) -> Callable[[int], bytes]:
    """A deterministic byte source for test fixtures (SHA-256 in counter mode). Not for keys
    that protect anything."""
    counter = 0

    def take(size: int) -> bytes:
        nonlocal counter
        out = b""
        while len(out) < size:
            out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
            counter += 1
        return out[:size]

    return take


def generate_key_set(
    networks: Iterable[str],
    algorithm: Algorithm,
    key_version: int,
    random_bytes: Callable[[int], bytes],
) -> KeySet:
    """A simulation key set: fresh master keys from `random_bytes` for each network."""
    entries = []
    for network in networks:
        keys = {name: SecretKey(random_bytes(MASTER_KEY_LENGTH)) for name in MASTER_KEY_NAMES}
        entries.append(MasterKeys(network, key_version, algorithm, **keys))
    key_set = KeySet(tuple(entries))
    # Round-trip through the parser so a generated set obeys exactly the loader's rules.
    return parse_key_set(dump_key_set(key_set), "generated key set")
