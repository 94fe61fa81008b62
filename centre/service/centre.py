"""`Centre`: what every operation works with, the store, the rules' parameters and the issuer
host's keys."""

from __future__ import annotations

from dataclasses import dataclass

from centre.devices.issuer import IssuerHost
from centre.settings import ServiceSettings
from centre.store.store import Store


@dataclass
class Centre:
    """The centre's service: operations are the functions of `centre.service.*` taking it."""

    store: Store
    host: IssuerHost
    settings: ServiceSettings
