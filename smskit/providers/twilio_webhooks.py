"""Twilio's webhooks: inbound messages and status callbacks, signed with the Auth Token.

Each request is checked against `X-Twilio-Signature`, computed over the public URL that Twilio
called (`project_attributes_setting_public_base_url` plus the path), written to the spool, and
only then acknowledged with empty TwiML, so an event is never lost once Twilio has the response.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from smskit.providers.base import ProviderContext, SpoolEvent
from smskit.providers.twilio_signature import is_valid_signature

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

logger = logging.getLogger(__name__)

INBOUND_PATH = "/providers/twilio/inbound"
STATUS_PATH = "/providers/twilio/status"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_CALLBACK_BYTES = 64 * 1024
PUBLIC_URL_ATTRIBUTE = "project_attributes_setting_public_base_url"

# Twilio message statuses mapped to the statuses that the store uses (smskit.providers.base).
STATUS_MAP = {
    "accepted": "accepted",
    "scheduled": "accepted",
    "queued": "queued",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
    "receiving": "received",
    "received": "received",
}

# Delivery error codes whose meaning the results should show; Twilio's status callback
# carries only the code. Source: https://www.twilio.com/docs/api/errors/30003 and the pages
# of the other codes.
DELIVERY_ERRORS = {
    "30003": "Unreachable destination handset",
    "30004": "Message blocked",
    "30005": "Unknown destination handset",
    "30006": "Landline or unreachable carrier",
    "30007": "Message filtered",
    "30008": "Unknown error",
}


class TwilioWebhooks:
    """The webhook routes of one Twilio account; `auth_token` None rejects every request."""

    def __init__(self, context: ProviderContext, auth_token: str | None) -> None:
        self.context = context
        self._auth_token = auth_token
        self._rejections = _RejectionLog()

    def routes(self) -> list[BaseRoute]:
        """Return the signed webhook routes for inbound messages and status callbacks."""
        from starlette.routing import Route

        if self._auth_token is None:
            logger.warning(
                "TWILIO_AUTH_TOKEN is not set, so Twilio webhooks cannot be verified and every "
                "callback will be rejected with 403; set it to the account's Auth Token"
            )
        if not self.context.public_base_url:
            logger.warning(
                "%s is not set, so Twilio webhooks cannot be verified and every callback will be "
                "rejected with 403; set it to the https URL that Twilio calls",
                PUBLIC_URL_ATTRIBUTE,
            )

        async def inbound(request: Request) -> Response:
            return await self._handle_callback(request, "inbound")

        async def status(request: Request) -> Response:
            return await self._handle_callback(request, "status")

        return [
            Route(INBOUND_PATH, inbound, methods=["POST"]),
            Route(STATUS_PATH, status, methods=["POST"]),
        ]

    async def _handle_callback(self, request: Request, kind: str) -> Response:
        from starlette.responses import PlainTextResponse, Response

        body = await _read_capped(request, MAX_CALLBACK_BYTES)
        if body is None:
            return PlainTextResponse(f"request body over {MAX_CALLBACK_BYTES} bytes", 413)
        try:
            params = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return PlainTextResponse("request body is not UTF-8 form data", 400)

        problem = self._signature_problem(request, params)
        if problem is not None:
            self._rejections.note(request.url.path, problem, request.client)
            return PlainTextResponse("invalid X-Twilio-Signature", 403)

        fields = dict(params)
        now = self.context.clock.now()
        event = _inbound_event(fields, now) if kind == "inbound" else _status_event(fields, now)
        if isinstance(event, str):
            logger.warning("rejected a Twilio %s callback with 400: %s", kind, event)
            return PlainTextResponse(event, 400)
        if event is None:
            # A status smskit does not track: the message keeps its last known status, and the
            # 200 response keeps Twilio from reporting a failing webhook.
            return Response(EMPTY_TWIML, media_type="text/xml")

        await asyncio.to_thread(self.context.spool.append, event)
        logger.debug("spooled Twilio %s callback for %s", kind, event.provider_message_id)
        return Response(EMPTY_TWIML, media_type="text/xml")

    def _signature_problem(self, request: Request, params: list[tuple[str, str]]) -> str | None:
        """Return why the request's signature is not valid, or None when it is."""
        auth_token = self._auth_token
        if auth_token is None:
            return "TWILIO_AUTH_TOKEN is not set"
        url = self.public_url(request.url.path)
        if url is None:
            return f"{PUBLIC_URL_ATTRIBUTE} is not set"
        if request.url.query:
            url = f"{url}?{request.url.query}"
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            return "no X-Twilio-Signature header"
        if not is_valid_signature(auth_token, url, params, signature):
            return f"X-Twilio-Signature does not match {url}"
        return None

    def public_url(self, path: str) -> str | None:
        """Return the URL at which Twilio reaches `path`, or None without a public base URL."""
        base = self.context.public_base_url
        if not base:
            return None
        return base.rstrip("/") + path


class _RejectionLog:
    """Log rejected webhooks: each one for the first few, then one summary line a minute."""

    first_lines = 10
    interval_seconds = 60.0

    def __init__(self) -> None:
        self.count = 0
        self._suppressed = 0
        self._last_line = 0.0

    def note(self, path: str, reason: str, client: Any) -> None:
        self.count += 1
        now = time.monotonic()
        if self.count > self.first_lines and now - self._last_line < self.interval_seconds:
            self._suppressed += 1
            return
        host = getattr(client, "host", None)
        logger.warning(
            "rejected Twilio callback on %s from %s with 403: %s (%d rejected so far, %d not "
            "logged since the last line)",
            path,
            host,
            reason,
            self.count,
            self._suppressed,
        )
        self._suppressed = 0
        self._last_line = now


def _inbound_event(fields: dict[str, str], now: datetime) -> SpoolEvent | str:
    """Build the spool event of an inbound message webhook, or return what is missing."""
    sid = fields.get("MessageSid") or fields.get("SmsSid")
    phone = fields.get("From")
    if not sid or not phone:
        return "inbound message without MessageSid or From"
    extra = {"num_media": fields["NumMedia"]} if fields.get("NumMedia", "0") != "0" else {}
    return SpoolEvent(
        kind="inbound",
        provider="twilio",
        provider_message_id=sid,
        phone_number=phone,
        at=now,
        body=fields.get("Body", ""),
        sender=fields.get("To"),
        extra=extra,
    )


def _status_event(fields: dict[str, str], now: datetime) -> SpoolEvent | str | None:
    """Build the spool event of a status callback; return what is missing, or None to ignore it."""
    sid = fields.get("MessageSid") or fields.get("SmsSid")
    twilio_status = fields.get("MessageStatus") or fields.get("SmsStatus")
    if not sid or not twilio_status:
        return "status callback without MessageSid or MessageStatus"
    status = STATUS_MAP.get(twilio_status)
    if status is None:
        logger.warning("ignored MessageStatus %r of Twilio message %s", twilio_status, sid)
        return None
    error_code = fields.get("ErrorCode") or None
    error_message = fields.get("ErrorMessage") or DELIVERY_ERRORS.get(error_code or "")
    return SpoolEvent(
        kind="status",
        provider="twilio",
        provider_message_id=sid,
        phone_number=fields.get("To", ""),
        at=now,
        sender=fields.get("From") or fields.get("MessagingServiceSid"),
        status=status,
        error_code=error_code,
        error_message=error_message,
        extra={"twilio_status": twilio_status} if twilio_status != status else {},
    )


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """Read the request body, or return None as soon as it exceeds `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
