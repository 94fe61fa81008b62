"""The status lists the lanes apply: the national categories, building a version's delta and
full list from the store, writing them in the lane's file formats, publishing them over MQTT on
the lanes' topics and measuring when they reach the plazas. May use `store` (and `ledger`)."""
