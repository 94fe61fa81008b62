"""Card readers that fail the way real ones do, around the emulated reader."""

from __future__ import annotations

from rsu_sim.site.card_image import CardImageReader

CREDIT_FOR_LOAD = 0x52


class Reader:
    """Forwards to an emulated reader; subclasses tamper with CREDIT FOR LOAD."""

    def __init__(self, inner: CardImageReader) -> None:
        self.inner = inner
        self.sent: list[bytes] = []

    def power_on(self) -> None:
        self.inner.power_on()

    def close(self) -> None:
        self.inner.close()

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        if apdu[1] == CREDIT_FOR_LOAD:
            return self.credit(apdu)
        return self.inner.transmit(apdu)

    def credit(self, apdu: bytes) -> bytes:
        return self.inner.transmit(apdu)


class LostAfterTheCardCommits(Reader):
    """The card commits the load (its image is saved), then the reader loses it."""

    def credit(self, apdu: bytes) -> bytes:
        self.inner.transmit(apdu)
        raise OSError("card removed from the reader")


class LostBeforeTheCard(Reader):
    """The reader fails before CREDIT FOR LOAD reaches the card."""

    def credit(self, apdu: bytes) -> bytes:
        raise OSError("reader unplugged")


class WrongMac2(Reader):
    """CREDIT FOR LOAD reaches the card with a damaged MAC2."""

    def credit(self, apdu: bytes) -> bytes:
        return self.inner.transmit(apdu[:-5] + bytes([apdu[-5] ^ 0xFF]) + apdu[-4:])
