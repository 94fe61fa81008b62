"""`SecretKey` takes bytes-like material only, keeps it as bytes and never shows it."""

from __future__ import annotations

import pytest

from keys.secret import SecretKey


@pytest.mark.parametrize("material", [b"\x01\x02", bytearray(b"\x01\x02"), memoryview(b"\x01\x02")])
def test_bytes_like_material_is_kept_as_bytes(material: bytes) -> None:
    key = SecretKey(material)
    assert type(key.reveal()) is bytes and key.reveal() == b"\x01\x02"
    assert key == SecretKey(b"\x01\x02")


def test_a_bytearray_changed_later_does_not_change_the_key() -> None:
    material = bytearray(b"\x01\x02")
    key = SecretKey(material)
    material[0] = 0xFF
    assert key.reveal() == b"\x01\x02"


@pytest.mark.parametrize("material", ["0102", 258, None, [1, 2]])
def test_anything_else_is_refused(material: object) -> None:
    with pytest.raises(TypeError, match="SecretKey wants bytes"):
        SecretKey(material)  # type: ignore[arg-type]


def test_repr_is_redacted() -> None:
    assert "\\x01" not in repr(SecretKey(b"\x01\x02")) and "2 bytes redacted" in repr(
        SecretKey(b"\x01\x02"))
