"""The process's HTTP endpoint on the event loop: `GET /metrics` (Prometheus) and `GET /healthz`.

A deliberately small HTTP/1.1 server: one request per connection, no body, answered and closed;
anything else is 404, 405 or 400. It runs in the plaza's own loop, so what it reports is read
between two lane steps, never half-way through one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

__all__ = [
    "HttpEndpoint",
    "Routes",
    "json_answer",
]

#: The request line and headers of a scrape fit in this (bigger requests are refused).
_MAX_REQUEST = 8192
#: A client that has not sent its request by then is dropped.
_READ_TIMEOUT_S = 5.0
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            503: "Service Unavailable"}

#: The answer of one path: status, content type, body.
Answer = tuple[int, str, bytes]
Routes = dict[str, Callable[[], Answer]]


def json_answer(status: int, document: dict[str, Any]) -> Answer:
    """A JSON answer."""
    return status, "application/json", (json.dumps(document, ensure_ascii=False) + "\n").encode()


class HttpEndpoint:
    """Serves `routes` (path -> answer) on `host:port` until `close()`; `port` is the bound one
    (pass 0 for a free port)."""

    def __init__(self, routes: Routes) -> None:
        self._routes = routes
        self._server: asyncio.Server | None = None
        self.host = ""
        self.port = 0
        self.requests = 0

    async def start(self, host: str, port: int) -> None:
        """Listen (OSError when the address is taken or not ours)."""
        self._server = await asyncio.start_server(self._serve, host, port, limit=_MAX_REQUEST)
        sockname = self._server.sockets[0].getsockname()
        self.host, self.port = str(sockname[0]), int(sockname[1])

    async def close(self) -> None:
        """Stop listening and end the connections."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(OSError):
                await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                async with asyncio.timeout(_READ_TIMEOUT_S):
                    head = await reader.readuntil(b"\r\n\r\n")
            except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                return
            status, kind, body = self._answer(head)
            method = head.split(b" ", 1)[0]
            writer.write(
                f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {kind}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + (b"" if method == b"HEAD" else body))
            await writer.drain()
        except OSError:
            pass  # the client went away
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    def _answer(self, head: bytes) -> Answer:
        self.requests += 1
        parts = head.split(b"\r\n", 1)[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
            return 400, "text/plain", b"bad request\n"
        method, target = parts[0], parts[1].decode("latin-1").split("?", 1)[0]
        route = self._routes.get(target)
        if route is None:
            return 404, "text/plain", b"not found: try /metrics or /healthz\n"
        if method not in (b"GET", b"HEAD"):
            return 405, "text/plain", b"GET only\n"
        return route()
