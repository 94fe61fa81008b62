"""The broker fixture really brokers: a retained message published by one client reaches another."""

from __future__ import annotations

import aiomqtt

from tests.support.broker import Broker


async def test_broker_delivers_a_retained_message(mqtt_broker: Broker) -> None:
    async with aiomqtt.Client(mqtt_broker.host, mqtt_broker.port) as publisher:
        await publisher.publish("etc/test/retained", b"hello", qos=1, retain=True)
    async with aiomqtt.Client(mqtt_broker.host, mqtt_broker.port) as subscriber:
        await subscriber.subscribe("etc/test/#", qos=1)
        async for message in subscriber.messages:
            assert message.topic.value == "etc/test/retained"
            assert message.payload == b"hello"
            assert message.retain
            break
