"""The lane's link to its station and the centre: MQTT (the one module that imports aiomqtt)
and the centre's messages decoded into the lane's values. May use `core`, `journal`, `files`
and the runtime's clock."""
