"""Clearing of every lane transaction: records from MQTT and from exported lane journals,
exactly once by idempotency key, each TAC verified, each rule's finding kept with its reason,
UNRESOLVED records settled, booked records posted to the ledger. May use `ledger`, `store`
and `link`.

Sans-IO: `values` (what clearing keeps), `arrivals` (messages and lines into values),
`evidence` (the TAC), `tariff` (fee table × policy), `rules` (every rule, from values).
At the edge: `clearer` (a batch in one store transaction), `consumer` (the MQTT shared
subscription, acknowledged after commit), `files` (journal exports).
"""
