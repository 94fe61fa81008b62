"""A top-up killed with SIGKILL between the card's CREDIT FOR LOAD and the outlet's commit: run
as a child process by `test_sigkill.py`.

    python -m tests.centre.service.killed_top_up STORE_URL CARD_IMAGE CARD REQUEST_ID AMOUNT
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from pathlib import Path

from centre.devices.issuer import IssuerHost
from centre.service.centre import Centre
from centre.service.loading import top_up
from centre.settings import ServiceSettings
from centre.store.store import Store
from centre.values import CENTRE_ZONE, PaymentMethod, Request
from rsu_sim.site.card_image import CardImageReader
from tests.centre.service.desk import LIXIA, key_set
from tests.centre.service.readers import Reader


class KilledAfterTheCardCommits(Reader):
    """Forwards CREDIT FOR LOAD (the card commits and its image is saved), then the process
    is killed before the answer is used."""

    def credit(self, apdu: bytes) -> bytes:
        answer = self.inner.transmit(apdu)
        assert answer.endswith(b"\x90\x00"), answer.hex()
        os.kill(os.getpid(), signal.SIGKILL)
        return answer  # never reached


def main(url: str, image: str, card: str, request_id: str, amount: str) -> None:
    store = Store.open(url)
    centre = Centre(store, IssuerHost(key_set(), 1), ServiceSettings())
    at = dt.datetime(2026, 11, 2, 10, 0, tzinfo=CENTRE_ZONE)
    request = Request(request_id, LIXIA.outlet_id, "op-7", at)
    top_up(centre, request, card, int(amount), PaymentMethod.CASH,
           KilledAfterTheCardCommits(CardImageReader(Path(image))))
    raise SystemExit("the top-up was not killed")


if __name__ == "__main__":
    main(*sys.argv[1:])
