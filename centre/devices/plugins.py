"""Devices opened by name: `NAME:ARGUMENT`, where NAME is an entry point of the group
`etc_centre.card_readers` (card readers) or `etc_centre.personalisers`, and ARGUMENT is handed
to it (a file, a reader name). The simulator registers `emulated` for both (its emulated card
in a card-image file); a PC/SC reader would register its own name. The centre never imports
the packages that provide them."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from centre.devices.ports import CardReader, Personaliser
from centre.errors import DeviceError

READERS = "etc_centre.card_readers"
PERSONALISERS = "etc_centre.personalisers"


def _open(group: str, spec: str, what: str) -> Any:
    name, colon, argument = spec.partition(":")
    found = {point.name: point for point in entry_points(group=group)}
    if not colon or name not in found:
        known = ", ".join(sorted(found)) or "none installed"
        raise DeviceError(f"{what} {spec!r} is not NAME:ARGUMENT with a known NAME ({known})")
    try:
        factory = found[name].load()
    except (ImportError, AttributeError) as exc:
        raise DeviceError(f"{what} {name!r} cannot be loaded: {exc}") from exc
    return factory(argument)


def open_reader(spec: str) -> CardReader:
    """The card reader named by `spec`, e.g. `emulated:var/cards/3701....json`."""
    reader: CardReader = _open(READERS, spec, "card reader")
    return reader


def open_personaliser(spec: str) -> Personaliser:
    """The personaliser named by `spec`, e.g. `emulated:var/cards`."""
    personaliser: Personaliser = _open(PERSONALISERS, spec, "personaliser")
    return personaliser
