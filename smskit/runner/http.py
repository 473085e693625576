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
    """Reject request bodies larger than `limit` bytes with 413.

    The body is read, up to the limit, before the app runs, and then handed to the app. The
    413 therefore never depends on how the app handles a body cut short: an exception raised
    while the app reads would be answered with 500 by Starlette's error middleware.
    """

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
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # the client disconnected before it sent the whole body
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await PlainTextResponse("request body too large", 413)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body: Message | None = {"type": "http.request", "body": b"".join(chunks)}

        async def replay() -> Message:
            nonlocal body
            if body is not None:
                message, body = body, None
                return message
            return await receive()

        await self.app(scope, replay, send)


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
