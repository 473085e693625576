"""The runner's HTTP server: health, metrics and the provider callback routes."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Generator
from typing import TYPE_CHECKING

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from smskit.runner.core import Runner

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


class BodyLimit:
    """Reject request bodies larger than `limit` bytes with 413."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await PlainTextResponse("request body too large", 413)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await PlainTextResponse("request body too large", 413)(scope, receive, send)


class _TooLarge(Exception):
    pass


def build_app(runner: Runner) -> ASGIApp:
    """Return the ASGI app: /healthz, /metrics and the provider's routes."""

    async def healthz(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "provider": runner.provider.code,
                "open_sessions": runner.sessions.open_count(),
                "pending_tasks": runner.dispatcher.pending(),
            }
        )

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(runner.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    routes = [Route("/healthz", healthz), Route("/metrics", metrics), *runner.provider.routes()]
    return BodyLimit(Starlette(routes=routes))


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the runner."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def create_server(runner: Runner, host: str, port: int) -> EmbeddedServer:
    """Return the server, not yet started."""
    config = uvicorn.Config(
        build_app(runner),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    return EmbeddedServer(config)
