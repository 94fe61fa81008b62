"""The centre's store on SQLite (embedded default) or PostgreSQL (many outlets writing at once):
the same schema, migrations and queries on both. May use `ledger` (and the values of
`clearing`).

    store = Store.open("var/centre.sqlite3", now)        # or "postgresql://user@host/db"
    with store.transaction() as tx:                      # one transaction: all or nothing
        tx.registry   outlets, customers, vehicles        (centre.store.registry)
        tx.devices    cards, OBUs, number counters        (centre.store.devices)
        tx.journal    service requests by request id      (centre.store.journal)
        tx.book       ledger entries, postings, balances  (centre.store.book)
        tx.loads      top-ups around the card's commit    (centre.store.loads)
        tx.money      refunds, cleared debits, bills      (centre.store.money)
        tx.lists      status lists, versions, arrivals    (centre.store.lists)
        tx.clearing   lane records, findings, rejects     (centre.store.clearing)
        tx.daybook    a day's sums and last balances      (centre.store.daybook)

Each module's docstring lists its calls. Errors are `centre.errors.StoreError`; a broken
uniqueness rule (second active card of a vehicle, request id or cleared debit repeated) is its
subclass `ConflictError`, after which the transaction is rolled back.
"""
