"""Key-set files: the loader's refusals (naming file and field, never the key) and redaction."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

from keys import (
    Algorithm,
    KeyNotFoundError,
    KeySetError,
    SecretKey,
    generate_key_set,
    parse_key_set,
    seeded_random_bytes,
)
from keys.keyset import dump_key_set
from keys.keyset_file import load_key_set, write_key_set

SECRET_HEX = "0123456789ABCDEFFEDCBA9876543210"
GOOD = f"""
format = 1

[[keys]]
network = "3701"
key_version = 2
algorithm = "sm4"
mpk = "{SECRET_HEX}"
mtk = "{SECRET_HEX}"
mlk = "{SECRET_HEX}"
mvk = "{SECRET_HEX}"
"""


def _write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_good_file_loads(tmp_path: Path) -> None:
    key_set = load_key_set(_write(tmp_path / "keys.toml", GOOD))
    entry = key_set.lookup("3701", 2, Algorithm.SM4)
    assert entry.algorithm is Algorithm.SM4
    assert entry.mpk.reveal() == bytes.fromhex(SECRET_HEX)
    with pytest.raises(KeyNotFoundError):
        key_set.lookup("3701", 1)
    with pytest.raises(KeyNotFoundError):
        key_set.lookup("3701", 2, Algorithm.TDES)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_group_or_world_readable_file_is_refused(tmp_path: Path, mode: int) -> None:
    path = _write(tmp_path / "keys.toml", GOOD, mode)
    with pytest.raises(KeySetError, match="mode") as info:
        load_key_set(path)
    assert str(path) in str(info.value)


def _replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


BAD = {
    "malformed TOML": ("format = 1\n[[keys]\n", "malformed TOML"),
    "missing field": (_replace(f'mlk = "{SECRET_HEX}"\n', ""), "keys[0].mlk: missing"),
    "short key": (_replace(f'mtk = "{SECRET_HEX}"', f'mtk = "{SECRET_HEX[:30]}"'), "keys[0].mtk"),
    "bad hex": (_replace(f'mvk = "{SECRET_HEX}"', f'mvk = "{SECRET_HEX[:31]}G"'), "keys[0].mvk"),
    "unknown algorithm": (_replace('"sm4"', '"aes"'), "keys[0].algorithm"),
    "key not a string": (_replace(f'mpk = "{SECRET_HEX}"', "mpk = 5"), "keys[0].mpk"),
    "bad network": (_replace('"3701"', '"37A1"'), "keys[0].network"),
    "bad version": (_replace("key_version = 2", "key_version = 300"), "keys[0].key_version"),
    "no format": (_replace("format = 1", ""), "format: missing"),
    "duplicate": (GOOD + GOOD.replace("format = 1", ""), "given twice"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_files_are_refused_naming_file_and_field(tmp_path: Path, case: str) -> None:
    text, expected = BAD[case]
    path = _write(tmp_path / "keys.toml", text)
    with pytest.raises(KeySetError) as info:
        load_key_set(path)
    message = str(info.value)
    assert expected in message and str(path) in message
    assert SECRET_HEX[:12].lower() not in message.lower()
    assert info.value.__cause__ is None or SECRET_HEX not in str(info.value.__cause__)


def test_missing_file_and_non_utf8(tmp_path: Path) -> None:
    with pytest.raises(KeySetError, match="cannot open"):
        load_key_set(tmp_path / "absent.toml")
    path = tmp_path / "latin.toml"
    path.write_bytes(b"\xff\xfe")
    path.chmod(0o600)
    with pytest.raises(KeySetError, match="UTF-8"):
        load_key_set(path)


def test_writer_creates_0600_and_round_trips(tmp_path: Path) -> None:
    key_set = generate_key_set(["3701", "3201"], Algorithm.TDES, 3, seeded_random_bytes("t"))
    path = tmp_path / "out.toml"
    old_umask = os.umask(0)  # the mode must come from os.open, not from a lucky umask
    try:
        write_key_set(path, key_set)
    finally:
        os.umask(old_umask)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_key_set(path) == key_set
    with pytest.raises(KeySetError, match="exists"):
        write_key_set(path, key_set)
    write_key_set(path, key_set, replace=True)
    assert path.stat().st_mode & 0o777 == 0o600


def test_seeded_generation_is_deterministic_and_seeds_differ() -> None:
    def make(seed: str) -> str:
        return dump_key_set(generate_key_set(["3701"], Algorithm.SM4, 1, seeded_random_bytes(seed)))

    assert make("a") == make("a")
    assert make("a") != make("b")
    entry = parse_key_set(make("a"), "x").lookup("3701", 1)
    materials = {key.reveal() for key in (entry.mpk, entry.mtk, entry.mlk, entry.mvk)}
    assert len(materials) == 4


def test_keys_never_show_in_repr_str_json_or_pickle() -> None:
    key_set = parse_key_set(GOOD, "inline")
    entry = key_set.lookup("3701", 2)
    shown = (repr(key_set), str(key_set), repr(entry), f"{entry}", repr(entry.mpk), str(entry.mvk))
    for text in shown:
        assert SECRET_HEX.lower() not in text.lower()
        assert "redacted" in text
    assert repr(SecretKey(bytes(16))) == "SecretKey(<16 bytes redacted>)"
    with pytest.raises(TypeError) as info:
        json.dumps({"key": entry.mpk})
    assert SECRET_HEX.lower() not in str(info.value).lower()
    with pytest.raises(TypeError):
        pickle.dumps(entry.mpk)


def test_secret_key_equality_and_no_hash() -> None:
    assert SecretKey(b"\x01" * 16) == SecretKey(b"\x01" * 16)
    assert SecretKey(b"\x01" * 16) != SecretKey(b"\x02" * 16)
    with pytest.raises(TypeError):
        hash(SecretKey(b"\x01" * 16))
