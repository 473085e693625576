"""A stateful fake of Twilio's Messages API and webhooks, served on 127.0.0.1 for tests.

It records every message and serves the Messages list with Twilio's filters and paging. It can
fail the next sends (`fail_next`, or `fail_number` for one recipient) with HTTP 429 or 500, with
an error code such as 21211, 21610 or 21408, by hanging, or by dropping the connection after
recording the message. It signs
the inbound messages and status callbacks that it posts with the official `twilio` library's
`RequestValidator`, which checks smskit's own signature code against an independent one.

Messages start `queued` without a `date_sent`, as at Twilio; `set_status` moves them on and
posts the status callback, and `auto_statuses` does that after every send. `send_delay` makes
every accepted send answer only after that many seconds, as a remote API would, and
`fail_lists` fails every Messages listing until `clear_list_faults`.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from local_server import ThreadedServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake_auth_token_" + "9" * 16
API_KEY = "SK" + "fedcba9876543210" * 2
API_SECRET = "fake_api_secret_" + "7" * 16
SENDER = "+12025550100"
MESSAGING_SERVICE = "MG" + "abcdef0123456789" * 2

SEND_FAULTS = ("429", "500", "21211", "21610", "21408", "hang", "drop", "drop-unrecorded")
_ERRORS = {
    "20003": (401, "Authenticate"),
    "20404": (404, "The requested resource was not found"),
    "20429": (429, "Too Many Requests"),
    "20500": (500, "Internal Server Error"),
    "21211": (400, "The 'To' number {to} is not a valid phone number."),
    "21408": (400, "Permission to send an SMS has not been enabled for the region of {to}"),
    "21602": (400, "Message body is required."),
    "21603": (400, "The 'From' phone number is required."),
    "21604": (400, "A 'To' phone number is required."),
    "21610": (400, "Attempt to send to unsubscribed recipient"),
}


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]
    fault: str | None = None


@dataclass
class FakeTwilio:
    """The fake's state and controls; `start()` serves it and returns it."""

    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    hang_seconds: float = 5.0
    send_delay: float = 0.0
    retry_after: str = "2"
    inbound_url: str | None = None
    auto_statuses: tuple[str, ...] = ()
    replies: dict[str, list[str]] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    callbacks: list[tuple[str, dict[str, str], int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._send_faults: deque[str] = deque()
        self._number_faults: dict[str, deque[str]] = {}
        self._list_faults: deque[str] = deque()
        self._list_outage: str | None = None
        self._validator = RequestValidator(self.auth_token)
        self._background: set[asyncio.Task[None]] = set()
        self._server: ThreadedServer | None = None
        path = self.messages_path
        self.app = _DropWrapper(
            Starlette(
                routes=[
                    Route(path, self._create, methods=["POST"]),
                    Route(path, self._list, methods=["GET"]),
                    Route(
                        "/2010-04-01/Accounts/{sid}/Messages.json",
                        self._wrong_account,
                        methods=["GET", "POST"],
                    ),
                ]
            )
        )

    # controls

    @property
    def messages_path(self) -> str:
        return f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    @property
    def url(self) -> str:
        assert self._server is not None, "call start() first"
        return self._server.url

    def start(self) -> FakeTwilio:
        self._server = ThreadedServer(self.app).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def environ(self, *, api_key: bool = False) -> dict[str, str]:
        """Return the environment variables that point TwilioProvider at this fake."""
        env = {"TWILIO_ACCOUNT_SID": self.account_sid, "TWILIO_API_BASE": self.url}
        if api_key:
            env.update(TWILIO_API_KEY=API_KEY, TWILIO_API_SECRET=API_SECRET)
        else:
            env["TWILIO_AUTH_TOKEN"] = self.auth_token
        return env

    def fail_next(self, *faults: str) -> None:
        """Apply `faults` to the next sends, one each, in order."""
        _check_faults(faults)
        with self._lock:
            self._send_faults.extend(faults)

    def fail_number(self, phone: str, *faults: str) -> None:
        """Apply `faults` to the next sends to `phone`, one each, before any `fail_next` fault."""
        _check_faults(faults)
        with self._lock:
            self._number_faults.setdefault(phone, deque()).extend(faults)

    def fail_next_list(self, *statuses: str) -> None:
        """Fail the next Messages listings with these HTTP statuses ("429" or "500")."""
        with self._lock:
            self._list_faults.extend(statuses)

    def fail_lists(self, status: str = "500") -> None:
        """Fail every Messages listing with this HTTP status until `clear_list_faults`."""
        with self._lock:
            self._list_outage = status

    def clear_list_faults(self) -> None:
        """Answer Messages listings again: end `fail_lists` and drop `fail_next_list` faults."""
        with self._lock:
            self._list_outage = None
            self._list_faults.clear()

    def sent(self, to: str | None = None) -> list[dict[str, Any]]:
        """Return the outbound messages recorded so far, oldest first."""
        with self._lock:
            return [
                dict(m)
                for m in self.messages
                if m["direction"] == "outbound-api" and (to is None or m["to"] == to)
            ]

    def add_inbound(self, phone: str, body: str, *, to: str = SENDER) -> dict[str, Any]:
        """Record an inbound message from `phone` without posting its webhook."""
        message = self._resource(to=to, sender=phone, body=body, direction="inbound")
        message["status"] = "received"
        message["date_sent"] = message["date_created"]
        with self._lock:
            self.messages.append(message)
        return dict(message)

    def post_inbound(
        self, url: str, phone: str, body: str, *, to: str = SENDER, signature: str | None = None
    ) -> httpx.Response:
        """Record an inbound message and post its signed webhook to `url`."""
        message = self.add_inbound(phone, body, to=to)
        return self._post_signed(url, self._inbound_params(message), signature)

    def set_status(
        self, sid: str, status: str, *, error_code: str | None = None, post: bool = True
    ) -> httpx.Response | None:
        """Move a message to `status` and post its status callback when it has one."""
        message = self._update_status(sid, status, error_code)
        callback = message.get("_status_callback")
        if not post or not callback:
            return None
        return self._post_signed(callback, self._status_params(message))

    def sign(self, url: str, params: dict[str, str]) -> str:
        return str(self._validator.compute_signature(url, params))

    # HTTP handlers

    async def _create(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        with self._lock:
            fault = self._next_fault(form.get("To", ""))
            self.requests.append(RecordedRequest("POST", request.url.path, form, fault))
        denied = self._check_auth(request)
        if denied is not None:
            return denied
        problem = _missing_field(form)
        if problem is not None:
            return _error(problem, to=form.get("To", ""))
        if fault in ("429", "500"):
            code = "20429" if fault == "429" else "20500"
            return _error(code, headers={"Retry-After": self.retry_after})
        if fault in ("21211", "21610", "21408"):
            return _error(fault, to=form["To"])
        if fault == "drop-unrecorded":
            return _drop(request)

        # An accepted message is delivered and replied to even when the send's response is lost.
        message = self._record_outbound(form)
        self._schedule_follow_ups(message)
        if fault == "drop":
            return _drop(request)
        if fault == "hang":
            assert self._server is not None
            await self._server.pause(self.hang_seconds)
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        return JSONResponse(_public(message), status_code=201)

    def _next_fault(self, to: str) -> str | None:
        number_faults = self._number_faults.get(to)
        if number_faults:
            return number_faults.popleft()
        return self._send_faults.popleft() if self._send_faults else None

    async def _list(self, request: Request) -> Response:
        params = dict(request.query_params)
        with self._lock:
            fault = self._list_faults.popleft() if self._list_faults else self._list_outage
            self.requests.append(RecordedRequest("GET", request.url.path, params, fault))
        denied = self._check_auth(request)
        if denied is not None:
            return denied
        if fault is not None:
            return _error("20429" if fault == "429" else "20500")
        with self._lock:
            found = [m for m in self.messages if _matches(m, params)]
        found.sort(key=lambda m: m["_created"], reverse=True)
        return JSONResponse(self._page(found, params))

    async def _wrong_account(self, request: Request) -> Response:
        return _error("20404")

    def _check_auth(self, request: Request) -> Response | None:
        expected = {
            _basic(self.account_sid, self.auth_token),
            _basic(API_KEY, API_SECRET),
        }
        if request.headers.get("authorization") not in expected:
            return _error("20003")
        return None

    # state

    def _resource(self, *, to: str, sender: str, body: str, direction: str) -> dict[str, Any]:
        created = self.now()
        sid = "SM" + secrets.token_hex(16)
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "to": to,
            "from": sender,
            "body": body,
            "direction": direction,
            "status": "queued",
            "num_segments": "1",
            "num_media": "0",
            "messaging_service_sid": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "date_created": format_datetime(created),
            "date_updated": format_datetime(created),
            "date_sent": None,
            "uri": f"{self.messages_path[:-5]}/{sid}.json",
            "subresource_uris": {},
            "_created": created,
        }

    def _record_outbound(self, form: dict[str, str]) -> dict[str, Any]:
        service = form.get("MessagingServiceSid")
        sender = form.get("From") or SENDER
        message = self._resource(
            to=form["To"], sender=sender, body=form["Body"], direction="outbound-api"
        )
        message["messaging_service_sid"] = service
        message["_status_callback"] = form.get("StatusCallback")
        with self._lock:
            self.messages.append(message)
        return message

    def _update_status(self, sid: str, status: str, error_code: str | None) -> dict[str, Any]:
        with self._lock:
            message = next(m for m in self.messages if m["sid"] == sid)
            message["status"] = status
            message["error_code"] = int(error_code) if error_code else None
            stamp = format_datetime(self.now())
            message["date_updated"] = stamp
            if status in ("sent", "delivered", "undelivered") and message["date_sent"] is None:
                message["date_sent"] = stamp
            return dict(message)

    def _page(self, found: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
        size = min(int(params.get("PageSize", "50")), 1000)
        number = int(params.get("Page", "0"))
        chunk = found[number * size : (number + 1) * size]
        filters = {k: v for k, v in params.items() if k not in ("Page", "PageToken")}
        filters["PageSize"] = str(size)

        def page_uri(page: int) -> str:
            token = {"PageToken": "PA" + secrets.token_hex(8)} if page else {}
            return f"{self.messages_path}?{urlencode({**filters, 'Page': page, **token})}"

        has_next = (number + 1) * size < len(found)
        return {
            "messages": [_public(m) for m in chunk],
            "page": number,
            "page_size": size,
            "start": number * size,
            "end": number * size + max(len(chunk) - 1, 0),
            "uri": page_uri(number),
            "first_page_uri": page_uri(0),
            "previous_page_uri": page_uri(number - 1) if number else None,
            "next_page_uri": page_uri(number + 1) if has_next else None,
        }

    # webhooks

    def _inbound_params(self, message: dict[str, Any]) -> dict[str, str]:
        return {
            "MessageSid": message["sid"],
            "SmsSid": message["sid"],
            "SmsMessageSid": message["sid"],
            "AccountSid": self.account_sid,
            "From": message["from"],
            "To": message["to"],
            "Body": message["body"],
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": "2010-04-01",
        }

    def _status_params(self, message: dict[str, Any]) -> dict[str, str]:
        params = {
            "MessageSid": message["sid"],
            "SmsSid": message["sid"],
            "AccountSid": self.account_sid,
            "From": message["from"],
            "To": message["to"],
            "MessageStatus": message["status"],
            "SmsStatus": message["status"],
            "ApiVersion": "2010-04-01",
        }
        if message["error_code"] is not None:
            params["ErrorCode"] = str(message["error_code"])
        return params

    def _post_signed(
        self, url: str, params: dict[str, str], signature: str | None = None
    ) -> httpx.Response:
        headers = {"X-Twilio-Signature": signature or self.sign(url, params)}
        response = httpx.post(url, data=params, headers=headers, timeout=10)
        with self._lock:
            self.callbacks.append((url, params, response.status_code))
        return response

    def _schedule_follow_ups(self, message: dict[str, Any]) -> None:
        reply = None
        with self._lock:
            queue = self.replies.get(message["to"])
            if queue and self.inbound_url:
                reply = queue.pop(0)
        if not self.auto_statuses and reply is None:
            return
        task = asyncio.get_running_loop().create_task(self._follow_up(message["sid"], reply))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _follow_up(self, sid: str, reply: str | None) -> None:
        # Callbacks go out after the send's response, as at Twilio, from a worker thread so
        # that a slow receiver does not block this server.
        await asyncio.sleep(0.05)
        for status in self.auto_statuses:
            await asyncio.to_thread(self.set_status, sid, status)
        if reply is not None and self.inbound_url:
            phone = next(m["to"] for m in self.sent() if m["sid"] == sid)
            await asyncio.to_thread(self.post_inbound, self.inbound_url, phone, reply)


class _DropWrapper:
    """Close the connection without a response when a handler marked the request for it.

    uvicorn closes the transport, sending nothing, when an ASGI app returns a value other than
    None (checked with uvicorn 0.55 and its h11 protocol).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        await self.app(scope, receive, send)
        if scope.get("fake_twilio.drop"):
            return "drop the connection"
        return None


class _NoResponse(Response):
    def __init__(self) -> None:
        super().__init__(b"")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        return None


def _drop(request: Request) -> Response:
    request.scope["fake_twilio.drop"] = True
    return _NoResponse()


def _check_faults(faults: Iterable[str]) -> None:
    for fault in faults:
        if fault not in SEND_FAULTS:
            raise ValueError(f"unknown send fault {fault!r}; use one of {SEND_FAULTS}")


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _error(code: str, *, to: str = "", headers: dict[str, str] | None = None) -> JSONResponse:
    status, message = _ERRORS[code]
    body = {
        "code": int(code),
        "message": message.format(to=to),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _missing_field(form: dict[str, str]) -> str | None:
    if not form.get("To"):
        return "21604"
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return "21603"
    if not form.get("Body"):
        return "21602"
    to = form["To"]
    if not (to.startswith("+") and to[1:].isdigit() and 8 <= len(to) <= 16):
        return "21211"
    return None


def _public(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if not k.startswith("_")}


def _matches(message: dict[str, Any], params: dict[str, str]) -> bool:
    for name, key in (("To", "to"), ("From", "from")):
        if name in params and message[key] != params[name]:
            return False
    sent = message["date_sent"]
    sent_day = None if sent is None else _parse_rfc2822(sent).date()
    checks: Iterable[tuple[str, Callable[[date, date], bool]]] = (
        ("DateSent>", lambda day, limit: day >= limit),
        ("DateSent<", lambda day, limit: day <= limit),
        ("DateSent", lambda day, limit: day == limit),
    )
    for name, check in checks:
        if name in params:
            if sent_day is None or not check(sent_day, _parse_filter_date(params[name])):
                return False
    return True


def _parse_rfc2822(value: str) -> datetime:
    return parsedate_to_datetime(value)


def _parse_filter_date(value: str) -> date:
    # Twilio compares DateSent filters by GMT date; it accepts a date or a date-time.
    if "T" not in value:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value).astimezone(UTC).date()
