"""`SecretKey`: key bytes that never show themselves in repr, str, logs, exceptions or JSON."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TypeVar

__all__ = [
    "SecretKey",
]

_T = TypeVar("_T")


class SecretKey:
    """Key material. `reveal()` is the only way to the bytes; the repr is redacted.

    A key also keeps the one cipher object built for it (see `keys.ciphers`), so that a long-lived
    key (a master key, a card's DPK) pays for its key schedule once. Not for concurrent use from
    several threads.
    """

    __slots__ = ("_cache", "_cache_tag", "_material")

    def __init__(self, material: bytes) -> None:
        if type(material) is not bytes:  # the common case first: bytes are kept as they are
            if not isinstance(material, bytes | bytearray | memoryview):
                raise TypeError("SecretKey wants bytes")
            material = bytes(material)
        self._material = material
        self._cache_tag: object = None
        self._cache: object = None

    def reveal(self) -> bytes:
        """The key bytes: for the cipher, the key-set writer and the hex CLI only."""
        return self._material

    def __len__(self) -> int:
        return len(self._material)

    def __repr__(self) -> str:
        return f"SecretKey(<{len(self._material)} bytes redacted>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretKey):
            return NotImplemented
        return hmac.compare_digest(self._material, other._material)

    # Unhashable: a hash would be a function of the key, and keys are not dict keys anyway.
    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("SecretKey cannot be pickled")

    def cached(self, tag: object, build: Callable[[bytes], _T]) -> _T:
        """The object `build(key bytes)` made for `tag`, built on first use and kept."""
        if self._cache_tag != tag:
            self._cache = build(self._material)
            self._cache_tag = tag
        return self._cache  # type: ignore[return-value]

    def kept(self, tag: object) -> object | None:
        """The object kept for `tag` (`keep`, `cached`), or None."""
        return self._cache if self._cache_tag is tag else None

    def keep(self, tag: object, value: object) -> None:
        """Keep `value` for `tag` (one object per key: it replaces what was kept)."""
        self._cache, self._cache_tag = value, tag
