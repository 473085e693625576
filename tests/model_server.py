"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for agent tests.

`POST /v1/chat/completions` responds with the next scripted reply, in order: a message content
(`reply`, `fenced`), an HTTP error with OpenAI's error body (`error`), a delay before the
content (`hang`), or a 200 response whose body is not a completion at all (`garbage`). When
the script is empty, a `responder` function, if given, writes the content from the request;
otherwise the server returns 500 "script exhausted". Every request body is kept in
`requests`, so tests can check what the agent sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from local_server import ThreadedServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Responder = Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Scripted:
    """One scripted reply: message content, an HTTP error status, or a delay first."""

    content: str = ""
    status: int = 200
    retry_after: str | None = None
    delay: float = 0.0
    # A raw response body sent instead of a completion (with status 200).
    raw: str | None = None
    # The error message of an error reply.
    message: str = "scripted error"


def reply(content: str | dict[str, Any]) -> Scripted:
    """Return a reply whose message content is `content` (a dict is sent as JSON text)."""
    return Scripted(content if isinstance(content, str) else json.dumps(content))


def fenced(data: dict[str, Any], before: str = "Here you go:", after: str = "") -> Scripted:
    """Return a reply with JSON in a ```json fence, surrounded by other text."""
    return Scripted(f"{before}\n```json\n{json.dumps(data, indent=2)}\n```\n{after}")


def error(status: int, retry_after: str | None = None, message: str = "scripted error") -> Scripted:
    """Return an HTTP error reply in OpenAI's format, with `message` as its error message."""
    return Scripted(status=status, retry_after=retry_after, message=message)


def garbage(body: str = "<html><body>502 Bad Gateway</body></html>") -> Scripted:
    """Return a 200 reply whose body is `body` instead of a completion."""
    return Scripted(raw=body)


def hang(seconds: float, content: str | dict[str, Any] = "") -> Scripted:
    """Return a reply that arrives only after `seconds`."""
    return Scripted(reply(content).content, delay=seconds)


class ModelServer:
    """The server's script and the requests that it received; `start()` serves it."""

    def __init__(
        self, script: Iterable[Scripted] = (), *, responder: Responder | None = None
    ) -> None:
        self._script: deque[Scripted] = deque(script)
        self._lock = threading.Lock()
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        app = Starlette(routes=[Route("/v1/chat/completions", self._complete, methods=["POST"])])
        self._server = ThreadedServer(app)

    @property
    def url(self) -> str:
        """Return the OpenAI API base URL, ending in /v1."""
        return f"{self._server.url}/v1"

    def start(self) -> ModelServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def add(self, *replies: Scripted) -> None:
        with self._lock:
            self._script.extend(replies)

    def remaining(self) -> int:
        with self._lock:
            return len(self._script)

    async def _complete(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.requests.append(body)
            scripted = self._script.popleft() if self._script else None
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(body, scripted)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _answer(self, body: dict[str, Any], scripted: Scripted | None) -> Response:
        if scripted is None:
            if self.responder is None:
                return _error_response(500, "script exhausted")
            scripted = Scripted(self.responder(body))
        if scripted.delay:
            await self._server.pause(scripted.delay)
        if scripted.status != 200:
            return _error_response(scripted.status, scripted.message, scripted.retry_after)
        if scripted.raw is not None:
            return Response(scripted.raw, media_type="text/html")
        return JSONResponse(_completion(body, scripted.content))


def _completion(body: dict[str, Any], content: str) -> dict[str, Any]:
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
    completion_tokens = len(content.split())
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _error_response(status: int, message: str, retry_after: str | None = None) -> JSONResponse:
    kind = "rate_limit_exceeded" if status == 429 else "server_error"
    body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
    headers = {"Retry-After": retry_after} if retry_after else None
    return JSONResponse(body, status_code=status, headers=headers)
