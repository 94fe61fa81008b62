"""The centre's link to the MQTT brokers the plazas publish to: the one module of the centre
that imports aiomqtt (`centre.link.mqtt`). Uses no other room."""
