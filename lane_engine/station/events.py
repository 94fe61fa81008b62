"""What the station link tells the plaza (its link to the broker) and what the plaza tells the
station when an operator must act (alarms): plain values, put on the event bus by the plaza."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["Alarm", "AlarmKind", "BrokerLink", "LinkState"]


class LinkState(Enum):
    """Where one MQTT session stands."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    LOST = "lost"  # the session dropped or could not be opened; retried after `retry_in_s`


@dataclass(frozen=True, slots=True)
class BrokerLink:
    """An MQTT session changed state. The plaza session (`lane` None on the bus) carries the
    outbox, the alarms and the centre's messages; each lane has a status session of its own."""

    state: LinkState
    broker: str  # host:port
    client_id: str
    detail: str = ""  # LOST: why
    retry_in_s: float | None = None  # LOST: the next attempt's delay; None when closing
    failures: int = 0  # LOST: attempts failed in a row, this one included
    backlog: int = 0  # records waiting in the outbox (plaza session)
    tls: bool = False


class AlarmKind(Enum):
    """Faults an operator must act on (the `alarm` field of an `alarms` message)."""

    #: the lane cannot reach its RSU (raised when the link drops, cleared when it is back)
    RSU_DOWN = "rsu_down"
    #: the RSU reported a fault in B0 (status, no PSAM); cleared when it reports ready
    RSU_FAULT = "rsu_fault"
    #: a purchase failed on the PSAM (B5 06h); cleared by the lane's next completed purchase
    PSAM_ERROR = "psam_error"
    #: a journal commit failed: the plaza stops
    JOURNAL_ERROR = "journal_error"
    #: data from the centre (blacklist, policy, fee table) was refused, with the reason
    CENTRE_UPDATE_REFUSED = "centre_update_refused"


@dataclass(frozen=True, slots=True)
class Alarm:
    """An alarm raised (or cleared) for one lane or (`lane` None) for the plaza."""

    kind: AlarmKind
    lane: int | None
    detail: str
    cleared: bool = False
