"""The durable world of a served session: the key set, every OBU and card, each card's transaction
log and each PSAM's serial counter, kept in one SQLite file so that `rsu-sim serve` killed at any
moment and started again on the same directory continues the same world. May use `model` and
`site`; never `lane_engine`."""
