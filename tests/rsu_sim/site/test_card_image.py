"""Card images: the emulated card's whole state in a file, kept like a card's EEPROM."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from keys import Algorithm, CardKeys, generate_key_set, seeded_random_bytes
from protocols.apdu import GetBalance, Select, decode_response, encode_command
from protocols.records import CardType, IssuerInfo, Plate
from rsu_sim.model.card import Card, card_keys_for, load_key_for
from rsu_sim.site.card_image import (
    CardImageError,
    CardImageReader,
    CardSecrets,
    load_card,
    open_personaliser,
    open_reader,
    save_card,
)

INFO = IssuerInfo(bytes.fromhex("C9BDB6AB37010001"), CardType.STORED_VALUE, 0x10, "3701",
                  "2616000000000001", dt.date(2026, 11, 2), dt.date(2036, 11, 2),
                  Plate.from_text("鲁A12345"), 0, 0, 1)


def _card() -> tuple[Card, CardSecrets]:
    card_keys = CardKeys(generate_key_set(["3701"], Algorithm.SM4, 1, seeded_random_bytes("i")))
    algorithm, dpk, dtk = card_keys_for(card_keys, INFO, 1) or (None, None, None)
    assert algorithm is not None and dpk is not None and dtk is not None
    dlk = load_key_for(card_keys, INFO, 1)
    card = Card(INFO, 4_200, 3, None, seeded_random_bytes("c"), keys=(algorithm, dpk, dtk),
                load_key=dlk, online_serial=2)
    return card, CardSecrets(1, algorithm, dpk, dtk, dlk)


def test_an_image_round_trips_the_cards_state_and_keys(tmp_path: Path) -> None:
    card, secrets = _card()
    path = tmp_path / "card.json"
    save_card(path, card, secrets, new=True)
    assert os.stat(path).st_mode & 0o777 == 0o600
    again, kept = load_card(path)
    assert (again.balance, again.ctc, again.online_serial, again.record_raw) == (
        4_200, 3, 2, card.record_raw)
    assert again.issuer_info == INFO and kept == secrets
    with pytest.raises(CardImageError, match="personalised once"):
        save_card(path, card, secrets, new=True)


def test_an_image_others_may_read_is_refused(tmp_path: Path) -> None:
    card, secrets = _card()
    path = tmp_path / "card.json"
    save_card(path, card, secrets)
    path.chmod(0o644)
    with pytest.raises(CardImageError, match="want 0600"):
        load_card(path)


@pytest.mark.parametrize("text", ["{", '{"format": 2}', '{"format": 1, "kind": "obu"}',
                                  '{"format": 1, "kind": "card"}'])
def test_broken_images_are_one_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "card.json"
    path.write_text(text)
    path.chmod(0o600)
    with pytest.raises(CardImageError, match=str(path)):
        load_card(path)


def test_the_reader_saves_what_the_card_commits_and_reports_a_missing_card(
        tmp_path: Path) -> None:
    card, secrets = _card()
    path = tmp_path / "card.json"
    save_card(path, card, secrets)
    reader = open_reader(str(path))
    assert isinstance(reader, CardImageReader)
    reader.power_on()
    for command in (Select(), GetBalance()):
        answer = decode_response(reader.transmit(encode_command(command)))
        assert answer.ok
    assert int.from_bytes(answer.data) == 4_200
    with pytest.raises(OSError, match="no card in the reader"):
        open_reader(str(tmp_path / "absent.json"))
    assert open_personaliser(str(tmp_path)).folder == tmp_path
