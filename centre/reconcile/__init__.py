"""Reconciliation of a day (seed art. 29: 账账, 账表, 账实): every difference between the
ledger, the day's report and what backs each entry, with the card, the amounts and the records
that disagree; a report in JSON, Markdown and a chart of the day's flows. May use `ledger`,
`store` and `clearing`.

Sans-IO: `values`, `checks`. At the edge: `day` (reads the store), `report` (writes files),
`chart` (the PNG).
"""
