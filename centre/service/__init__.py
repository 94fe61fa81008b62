"""The outlets' operations with the seed's rules: registration, issuance (A card, B card, OBU,
bad-card replacement), top-up through a card reader, loss, unlock, cancel, refund, A-card bills
and arrears; each request idempotent by its id and journaled, each refusal a `Refused` value
with a reason and nothing written. May use `ledger`, `store` and `devices`."""
