"""The plaza's HTTP endpoint (`[metrics]` in the configuration): Prometheus metrics on
`/metrics`, the plaza's health on `/healthz` (200 while it serves, 503 once it fails or stops,
with every lane's state and links as JSON)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from lane_engine import __version__
from lane_engine.aio.bus import EventBus
from lane_engine.aio.http_endpoint import HttpEndpoint, json_answer
from lane_engine.aio.metrics import CONTENT_TYPE, PlazaMetrics, PlazaView
from lane_engine.config import MetricsSettings

__all__ = [
    "HealthyPlaza",
    "PlazaEndpoint",
    "open_endpoint",
]


class HealthyPlaza(PlazaView, Protocol):
    """What the endpoint asks of the plaza."""

    def health(self) -> dict[str, Any]:
        """The plaza's health: `status` "ok", "stopping" or "failing", lanes, links."""
        ...


class PlazaEndpoint:
    """The metrics of a running plaza and the HTTP server that shows them."""

    def __init__(self, metrics: PlazaMetrics, http: HttpEndpoint,
                 unsubscribe: Callable[[], None]) -> None:
        self.metrics, self.http, self._unsubscribe = metrics, http, unsubscribe

    @property
    def address(self) -> str:
        """`host:port` it listens on."""
        return f"{self.http.host}:{self.http.port}"

    async def close(self) -> None:
        self._unsubscribe()
        await self.http.close()


async def open_endpoint(plaza: HealthyPlaza, bus: EventBus, settings: MetricsSettings,
                        info: dict[str, str]) -> PlazaEndpoint:
    """Count the bus's events and serve them (OSError when the address cannot be bound)."""
    metrics = PlazaMetrics(plaza, {**info, "version": __version__})

    def health() -> tuple[int, str, bytes]:
        document = plaza.health()
        return json_answer(200 if document["status"] == "ok" else 503, document)

    http = HttpEndpoint({
        "/metrics": lambda: (200, CONTENT_TYPE, metrics.exposition()),
        "/healthz": health,
    })
    unsubscribe = bus.subscribe(metrics)
    try:
        await http.start(settings.host, settings.port)
    except OSError:
        unsubscribe()
        raise
    return PlazaEndpoint(metrics, http, unsubscribe)
