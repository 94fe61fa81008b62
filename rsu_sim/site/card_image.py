"""Emulated cards and OBUs kept in files ("card images"), as a personalisation machine writes
them and an outlet's reader or a lane's RSU meets them.

A card image is the whole state of one emulated ICC (`rsu_sim.model.card.Card`): file 0015,
the 0019 record, balance, CTC, online serial, lock, its purchase and load logs, and the keys
personalisation put into it (DPK, DTK, DLK). Because it holds keys it is written with mode
0600, and a file that group or others may read is refused, as key sets are. An OBU image holds
the ESAM's system information, vehicle file and vehicle-file key.

* `EmulatedCardReader(card, save)`: a card reader (the centre's `CardReader` port, met
  structurally) holding a `Card`; `save` is called after every command that changed the card,
  before the answer is returned, as a card commits to its EEPROM before it answers.
* `open_reader("PATH")` / `open_personaliser("DIR")`: the `emulated` devices the centre opens
  by name (entry points `etc_centre.card_readers` and `etc_centre.personalisers`).
* `load_card(path)`, `save_card(path, card, keys)`, `load_obu(obu_path, card_path)`.

Faults are `CardImageError`, an `OSError` as well, which is what the reader port reports.

    {"format": 1, "kind": "card", "issuer_info": "<0015 hex>", "entry_exit": "<0019 hex>",
     "balance": 0, "ctc": 0, "online_serial": 0, "locked": false, "key_version": 1,
     "algorithm": "sm4", "keys": {"dpk": "…", "dtk": "…", "dlk": "…" | null},
     "purchases": [...], "loads": [...]}
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import stat
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cli_conventions.files import NotText, decode_text
from keys.ciphers import Algorithm
from keys.keyset import ALGORITHM_NAMES
from keys.secret import SecretKey
from protocols.errors import ProtocolError
from protocols.record_codec import (
    decode_issuer_info,
    decode_system_info,
    decode_vehicle_info,
    encode_system_info,
    encode_vehicle_info,
)
from rsu_sim.errors import SimError
from rsu_sim.model.card import Card, CardLoad, CardTransaction
from rsu_sim.model.obu import Obu

FORMAT_VERSION = 1
_ALGORITHM_NAME = {algorithm: name for name, algorithm in ALGORITHM_NAMES.items()}


class CardImageError(SimError, OSError):
    """A card or OBU image cannot be read, written or understood; names the file."""


@dataclass(frozen=True, slots=True)
class CardSecrets:
    """The keys personalisation wrote into a card."""

    key_version: int
    algorithm: Algorithm
    dpk: SecretKey
    dtk: SecretKey
    dlk: SecretKey | None


class _CardImageLike(Protocol):
    """What the centre's `CardImage` carries (met structurally: no centre import here)."""

    @property
    def issuer_info(self) -> Any: ...
    @property
    def balance(self) -> int: ...
    @property
    def key_version(self) -> int: ...
    @property
    def algorithm(self) -> Algorithm: ...
    @property
    def dpk(self) -> SecretKey: ...
    @property
    def dtk(self) -> SecretKey: ...
    @property
    def dlk(self) -> SecretKey | None: ...


class _ObuImageLike(Protocol):
    @property
    def system_info(self) -> Any: ...
    @property
    def vehicle_info(self) -> Any: ...
    @property
    def key_version(self) -> int: ...
    @property
    def algorithm(self) -> Algorithm: ...
    @property
    def vehicle_key(self) -> SecretKey: ...


# ------------------------------------------------------------------ files


def _read_json(path: Path) -> dict[str, Any]:
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise CardImageError(f"{path}: readable by group or others (mode "
                                 f"{stat.S_IMODE(mode):04o}); it holds card keys, want 0600")
        document = json.loads(decode_text(path.read_bytes(), str(path)))
    except NotText as exc:
        raise CardImageError(str(exc)) from None
    except CardImageError:
        raise
    except FileNotFoundError:
        raise CardImageError(f"{path}: no card in the reader (no such image)") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CardImageError(f"{path}: cannot read the image: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_VERSION:
        raise CardImageError(f"{path}: not a format-{FORMAT_VERSION} image")
    return document


def _write_json(path: Path, document: dict[str, Any], *, new: bool) -> None:
    """Temp file (0600), fsync, rename, folder fsync; `new` refuses to replace a file."""
    if new and path.exists():
        raise CardImageError(f"{path}: exists; a card is personalised once")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(document, file, ensure_ascii=False, indent=1)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise CardImageError(f"{path}: cannot write the image: {exc.strerror}") from None


def _key(text: object, where: str) -> SecretKey:
    if not isinstance(text, str):
        raise CardImageError(f"{where}: missing key")
    try:
        return SecretKey(bytes.fromhex(text))
    except ValueError:
        raise CardImageError(f"{where}: not hexadecimal") from None


def _time(value: dt.datetime) -> str:
    return value.isoformat()


def _purchase(entry: CardTransaction) -> dict[str, Any]:
    return {"ctc": entry.ctc, "amount": entry.amount, "trans_type": entry.trans_type,
            "terminal_number": entry.terminal_number.hex(),
            "terminal_trans_serial": entry.terminal_trans_serial,
            "transaction_time": _time(entry.transaction_time), "tac": entry.tac.hex(),
            "mac2": entry.mac2.hex(), "balance_after": entry.balance_after,
            "record": entry.record.hex()}


def _load(entry: CardLoad) -> dict[str, Any]:
    return {"online_serial": entry.online_serial, "amount": entry.amount,
            "trans_type": entry.trans_type, "terminal_number": entry.terminal_number.hex(),
            "transaction_time": _time(entry.transaction_time),
            "balance_after": entry.balance_after, "mac2": entry.mac2.hex(),
            "tac": entry.tac.hex()}


def card_document(card: Card, secrets_: CardSecrets) -> dict[str, Any]:
    """The image of `card` (its keys from `secrets_`: the card never gives them out)."""
    return {
        "format": FORMAT_VERSION, "kind": "card",
        "card_number": card.issuer_info.card_number,
        "issuer_info": card.issuer_raw.hex(), "entry_exit": card.record_raw.hex(),
        "balance": card.balance, "ctc": card.ctc, "online_serial": card.online_serial,
        "locked": card.locked, "key_version": secrets_.key_version,
        "algorithm": _ALGORITHM_NAME[secrets_.algorithm],
        "keys": {"dpk": secrets_.dpk.reveal().hex(), "dtk": secrets_.dtk.reveal().hex(),
                 "dlk": None if secrets_.dlk is None else secrets_.dlk.reveal().hex()},
        "purchases": [_purchase(e) for e in card.log.values()],
        "loads": [_load(e) for e in card.load_log.values()],
    }


def save_card(path: Path, card: Card, secrets_: CardSecrets, *, new: bool = False) -> None:
    _write_json(path, card_document(card, secrets_), new=new)


def load_card(path: Path, random_bytes: Callable[[int], bytes] = secrets.token_bytes
              ) -> tuple[Card, CardSecrets]:
    """The card of an image and the keys it holds."""
    doc = _read_json(Path(path))
    if doc.get("kind") != "card":
        raise CardImageError(f"{path}: not a card image")
    try:
        info = decode_issuer_info(bytes.fromhex(doc["issuer_info"]))
        algorithm = ALGORITHM_NAMES[doc["algorithm"]]
        keys = doc["keys"]
        secrets_ = CardSecrets(int(doc["key_version"]), algorithm,
                               _key(keys["dpk"], f"{path}: keys.dpk"),
                               _key(keys["dtk"], f"{path}: keys.dtk"),
                               None if keys.get("dlk") is None
                               else _key(keys["dlk"], f"{path}: keys.dlk"))
        card = Card(info, int(doc["balance"]), int(doc["ctc"]), None, random_bytes,
                    keys=(algorithm, secrets_.dpk, secrets_.dtk),
                    key_version=secrets_.key_version, locked=bool(doc["locked"]),
                    load_key=secrets_.dlk, online_serial=int(doc["online_serial"]))
        card.record_raw = bytes.fromhex(doc["entry_exit"])
        for p in doc["purchases"]:
            card.log[int(p["ctc"])] = CardTransaction(
                int(p["ctc"]), int(p["amount"]), int(p["trans_type"]),
                bytes.fromhex(p["terminal_number"]), int(p["terminal_trans_serial"]),
                dt.datetime.fromisoformat(p["transaction_time"]), bytes.fromhex(p["tac"]),
                bytes.fromhex(p["mac2"]), int(p["balance_after"]), bytes.fromhex(p["record"]))
        for item in doc["loads"]:
            card.load_log[int(item["online_serial"])] = CardLoad(
                int(item["online_serial"]), int(item["amount"]), int(item["trans_type"]),
                bytes.fromhex(item["terminal_number"]),
                dt.datetime.fromisoformat(item["transaction_time"]),
                int(item["balance_after"]), bytes.fromhex(item["mac2"]),
                bytes.fromhex(item["tac"]))
    except CardImageError:
        raise
    except (KeyError, TypeError, ValueError, ProtocolError) as exc:
        raise CardImageError(f"{path}: a field is missing or wrong: {exc!r}") from None
    return card, secrets_


def obu_id_of(contract_serial: str) -> int:
    """The OBU's air-link MAC address, drawn from its contract serial (our decision: CRC-32,
    never 0 nor the broadcast address)."""
    return zlib.crc32(contract_serial.encode()) % 0xFFFF_FFFE + 1


def load_obu(obu_path: Path, card_path: Path | None, vehicle_id: int = 1) -> Obu:
    """The OBU of an image with the card of another inserted (or none)."""
    doc = _read_json(Path(obu_path))
    if doc.get("kind") != "obu":
        raise CardImageError(f"{obu_path}: not an OBU image")
    try:
        system_info = decode_system_info(bytes.fromhex(doc["system_info"]))
        vehicle_info = decode_vehicle_info(bytes.fromhex(doc["vehicle_info"]))
        algorithm = ALGORITHM_NAMES[doc["algorithm"]]
        vehicle_key = _key(doc["vehicle_key"], f"{obu_path}: vehicle_key")
    except CardImageError:
        raise
    except (KeyError, TypeError, ValueError, ProtocolError) as exc:
        raise CardImageError(f"{obu_path}: a field is missing or wrong: {exc!r}") from None
    card = None if card_path is None else load_card(card_path)[0]
    return Obu(vehicle_id, obu_id_of(system_info.contract_serial), system_info, vehicle_info,
               card, (algorithm, vehicle_key))


# ------------------------------------------------------------------ devices


def _state(card: Card) -> tuple[object, ...]:
    return (card.balance, card.ctc, card.online_serial, card.record_raw, card.locked,
            len(card.log), len(card.load_log))


class EmulatedCardReader:
    """A reader with an emulated card in it; `save(card)` runs after each committing command."""

    def __init__(self, card: Card, save: Callable[[Card], None] = lambda card: None) -> None:
        self.card = card
        self._save = save

    def power_on(self) -> None:
        self.card.reset()

    def transmit(self, apdu: bytes) -> bytes:
        before = _state(self.card)
        answer = self.card.handle_apdu(apdu)
        if _state(self.card) != before:
            self._save(self.card)
        return answer

    def close(self) -> None:
        pass


class CardImageReader(EmulatedCardReader):
    """The reader whose card is the image at `path` (read at power-on, saved on each commit)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        card, self._secrets = load_card(self.path)
        super().__init__(card, lambda card: save_card(self.path, card, self._secrets))

    def power_on(self) -> None:
        self.card, self._secrets = load_card(self.path)
        self.card.reset()


class CardImagePersonaliser:
    """Writes each new card and OBU as an image in `folder` (`card-<number>.json`,
    `obu-<number>.json`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def personalise_card(self, image: _CardImageLike) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        info = image.issuer_info
        card = Card(info, image.balance, 0, None, secrets.token_bytes,
                    keys=(image.algorithm, image.dpk, image.dtk), key_version=image.key_version,
                    load_key=image.dlk)
        path = self.folder / f"card-{info.card_number}.json"
        save_card(path, card, CardSecrets(image.key_version, image.algorithm, image.dpk,
                                          image.dtk, image.dlk), new=True)
        return str(path)

    def personalise_obu(self, image: _ObuImageLike) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        number = image.system_info.contract_serial
        path = self.folder / f"obu-{number}.json"
        _write_json(path, {
            "format": FORMAT_VERSION, "kind": "obu", "obu_number": number,
            "system_info": encode_system_info(image.system_info).hex(),
            "vehicle_info": encode_vehicle_info(image.vehicle_info).hex(),
            "key_version": image.key_version, "algorithm": _ALGORITHM_NAME[image.algorithm],
            "vehicle_key": image.vehicle_key.reveal().hex(),
        }, new=True)
        return str(path)


def open_reader(argument: str) -> CardImageReader:
    """The `emulated` card reader: ARGUMENT is the card image's path."""
    return CardImageReader(Path(argument))


def open_personaliser(argument: str) -> CardImagePersonaliser:
    """The `emulated` personaliser: ARGUMENT is the folder the images go to."""
    return CardImagePersonaliser(Path(argument or "."))
