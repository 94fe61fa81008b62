"""The provincial centre as the lanes and the simulator see it: customers, vehicles, cards and
OBUs issued by service outlets, the double-entry ledger every fen moves through, B-card top-up
with the PBOC load transaction, loss, unlock, cancel, refund and A-card arrears, and the status
lists the lanes apply.

Rooms: `ledger` (sans-IO money rules), `store` (SQLite and PostgreSQL), `devices` (the card
reader port, the load exchange, personalisation), `service` (outlet operations), `lists`
(status lists: files and MQTT), `cli` (`etc-centre`). The centre never imports `rsu_sim`, and
no lane module imports the centre.
"""

from importlib import metadata as _metadata

try:
    #: The version of the etc-lane-engine distribution this package belongs to.
    __version__ = _metadata.version("etc-lane-engine")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
