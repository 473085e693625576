"""The Twilio provider: Programmable Messaging over Twilio's REST API (2010-04-01).

Sending is one `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`. Delivery statuses and
inbound messages reach the runner as signed webhooks on `/providers/twilio/status` and
`/providers/twilio/inbound`; both are checked against `X-Twilio-Signature` and written to the
spool before the HTTP response. Credentials come from the environment only:

- `TWILIO_ACCOUNT_SID` and `TWILIO_AUTH_TOKEN`, or
- `TWILIO_ACCOUNT_SID`, `TWILIO_API_KEY` and `TWILIO_API_SECRET` (webhook signatures still
  need `TWILIO_AUTH_TOKEN`, because Twilio signs them with the account's Auth Token);
- `TWILIO_API_BASE` replaces `https://api.twilio.com`, for example with a local test server.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import httpx

from smskit.clock import utc
from smskit.errors import ProviderError
from smskit.providers.base import OutboundSms, Provider, ProviderContext, SendResult, SpoolEvent
from smskit.providers.twilio_webhooks import STATUS_MAP, STATUS_PATH, TwilioWebhooks

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.twilio.com"
# Sends in flight to Twilio. At a 200 ms answer time, 32 sends about 160 messages a second
# (measured against a local fake); Twilio's per-sender rate limit usually binds first.
MAX_CONNECTIONS = 32

E164_PATTERN = re.compile(r"^\+[1-9][0-9]{1,14}$")
MESSAGING_SERVICE_PATTERN = re.compile(r"^MG[0-9a-fA-F]{32}$")
SENDER_ATTRIBUTE = "project_attributes_setting_sms_sender"

_CREDENTIALS_HELP = (
    "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or TWILIO_ACCOUNT_SID, TWILIO_API_KEY and "
    "TWILIO_API_SECRET"
)


@dataclass(frozen=True)
class TwilioCredentials:
    """The account and the key pair used for REST calls; secrets are left out of `repr`."""

    account_sid: str
    username: str
    password: str = field(repr=False)
    auth_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> TwilioCredentials:
        """Read the credentials from environment variables, naming any that are missing."""
        account_sid = environ.get("TWILIO_ACCOUNT_SID", "").strip()
        auth_token = environ.get("TWILIO_AUTH_TOKEN", "").strip() or None
        api_key = environ.get("TWILIO_API_KEY", "").strip()
        api_secret = environ.get("TWILIO_API_SECRET", "").strip()
        if not account_sid:
            raise ProviderError(f"TWILIO_ACCOUNT_SID is not set: {_CREDENTIALS_HELP}")
        if not account_sid.startswith("AC") or len(account_sid) != 34:
            raise ProviderError(
                f"TWILIO_ACCOUNT_SID must be the 34-character SID starting with AC "
                f"(got {len(account_sid)} characters starting with {account_sid[:2]!r}); "
                "copy it from the Twilio Console"
            )
        if api_key or api_secret:
            if not (api_key and api_secret):
                missing = "TWILIO_API_SECRET" if api_key else "TWILIO_API_KEY"
                raise ProviderError(
                    f"{missing} is not set: an API key needs both its SID and secret"
                )
            return cls(account_sid, api_key, api_secret, auth_token)
        if auth_token is None:
            raise ProviderError(f"TWILIO_AUTH_TOKEN is not set: {_CREDENTIALS_HELP}")
        return cls(account_sid, account_sid, auth_token, auth_token)


class TwilioProvider(Provider):
    """Send SMS through Twilio and receive its signed webhooks."""

    code: ClassVar[str] = "twilio"
    default_rate_per_second: ClassVar[float] = 1.0

    def __init__(
        self, context: ProviderContext, *, environ: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(context)
        env = os.environ if environ is None else environ
        self.credentials = TwilioCredentials.from_environ(env)
        self.api_base = _api_base(env.get("TWILIO_API_BASE", "").strip() or DEFAULT_API_BASE)
        if context.sender is not None:
            _check_sender(context.sender)
        self.messages_path = f"/2010-04-01/Accounts/{self.credentials.account_sid}/Messages.json"
        # Pages read by one listing, and messages per page (Twilio allows up to 1000).
        self.max_list_pages = 10
        self.page_size = 200
        # Allowed difference between this machine's clock and Twilio's when matching times.
        self.clock_skew = timedelta(minutes=2)
        self._client = httpx.AsyncClient(
            base_url=self.api_base,
            auth=httpx.BasicAuth(self.credentials.username, self.credentials.password),
            timeout=httpx.Timeout(context.request_timeout),
            limits=httpx.Limits(
                max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
            ),
            headers={"User-Agent": "smskit", "Accept": "application/json"},
        )
        self.webhooks = TwilioWebhooks(context, self.credentials.auth_token)

    # sending

    async def send(self, sms: OutboundSms) -> SendResult:
        """Create a Message; map Twilio's errors to ProviderError codes and retry hints."""
        form = {"To": sms.to, "Body": sms.body, **self._sender_field(sms)}
        callback = self.webhooks.public_url(STATUS_PATH)
        if callback is not None:
            form["StatusCallback"] = callback
        try:
            response = await self._client.post(self.messages_path, data=form)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ProviderError(
                f"could not connect to Twilio at {self.api_base} ({_describe(exc)}); the message "
                f"to {sms.to!r} was not sent and may be sent again later",
                retryable=True,
                phone=sms.to,
            ) from exc
        except httpx.TransportError as exc:
            raise ProviderError(
                f"the request to send to {sms.to!r} failed after it was sent ({_describe(exc)}); "
                "Twilio may have accepted it, so look it up before sending again",
                ambiguous=True,
                phone=sms.to,
            ) from exc
        if response.is_success:
            return _send_result(response, sms)
        raise _response_error(response, phone=sms.to, action=f"send to {sms.to!r}")

    def _sender_field(self, sms: OutboundSms) -> dict[str, str]:
        sender = _check_sender(self._sender(sms))
        if sender.startswith("MG"):
            return {"MessagingServiceSid": sender}
        return {"From": sender}

    def _sender(self, sms: OutboundSms) -> str:
        sender = sms.sender or self.context.sender
        if not sender:
            raise ProviderError(
                f"no sender for Twilio: set {SENDER_ATTRIBUTE} to your Twilio number in E.164 "
                "form or to a Messaging Service SID (MG...)",
                phone=sms.to,
            )
        return sender

    # lookups

    async def find_sent(self, sms: OutboundSms, since: datetime) -> SendResult | None:
        """Look up a message sent to `sms.to` with exactly `sms.body` since `since`.

        The first listing filters on DateSent (a day's precision at Twilio). A message that is
        still queued has no date_sent yet, so when that finds nothing, a second listing without
        the date filter looks at the newest messages between the two numbers. Raises a retryable
        ProviderError when a listing is cut off at `max_list_pages`, because the message could
        be on a page that was not read.
        """
        sender = self._sender(sms)
        earliest = utc(since) - self.clock_skew
        params = {"To": sms.to, "PageSize": str(self.page_size)}
        if not sender.startswith("MG"):
            params["From"] = sender
        dated = {**params, "DateSent>": _date_filter(earliest)}
        for query in (dated, params):
            messages, complete = await self._list_messages(query)
            for message in messages:
                if _is_outbound_match(message, sms, sender, earliest):
                    status = STATUS_MAP.get(str(message.get("status")), "queued")
                    return SendResult(str(message["sid"]), status)
            if not complete:
                raise ProviderError(
                    f"could not confirm whether the message to {sms.to!r} was sent: the listing "
                    f"has more than {self.max_list_pages} pages; look it up in the Twilio Console",
                    retryable=True,
                    phone=sms.to,
                )
        return None

    async def fetch_inbound(self, since: datetime | None) -> list[SpoolEvent]:
        """Return the inbound messages to the sender since `since`, oldest first.

        Without `since` the newest `max_list_pages` pages are read; unknown senders are for the
        runner to ignore.
        """
        sender = self.context.sender
        if not sender:
            return []
        query = {"PageSize": str(self.page_size)}
        if not sender.startswith("MG"):
            query["To"] = sender
        earliest = None if since is None else utc(since) - self.clock_skew
        if earliest is not None:
            query["DateSent>"] = _date_filter(earliest)
        messages, _ = await self._list_messages(query)
        events: dict[str, SpoolEvent] = {}
        # Twilio lists newest first; reversing keeps arrival order among equal timestamps.
        for message in reversed(messages):
            event = _inbound_from_listing(message, sender, earliest)
            if event is not None:
                events.setdefault(event.provider_message_id, event)
        return sorted(events.values(), key=lambda event: event.at)

    async def _list_messages(self, query: dict[str, str]) -> tuple[list[dict[str, Any]], bool]:
        """Read a listing page by page; return its messages and whether the last page was read."""
        messages: list[dict[str, Any]] = []
        url: str = self.messages_path
        params: dict[str, str] | None = query
        for _ in range(self.max_list_pages):
            page = await self._get_page(url, params)
            messages.extend(m for m in page.get("messages") or [] if isinstance(m, dict))
            next_uri = page.get("next_page_uri")
            if not next_uri:
                return messages, True
            url, params = self._next_page_url(str(next_uri)), None
        logger.warning("stopped reading Twilio messages after %d pages", self.max_list_pages)
        return messages, False

    def _next_page_url(self, next_uri: str) -> str:
        # Only the path and query are followed, so credentials never go to another host.
        parts = urlsplit(next_uri)
        if parts.path != self.messages_path:
            raise ProviderError(
                f"Twilio returned a next page outside the Messages list: {parts.path!r}",
                retryable=True,
            )
        return f"{parts.path}?{parts.query}" if parts.query else parts.path

    async def _get_page(self, url: str, params: dict[str, str] | None) -> dict[str, Any]:
        try:
            response = await self._client.get(url, params=params)
        except httpx.TransportError as exc:
            raise ProviderError(
                f"listing messages at {self.api_base} failed ({_describe(exc)}); retry later",
                retryable=True,
            ) from exc
        if not response.is_success:
            raise _response_error(response, phone=None, action="list messages")
        page = _json_object(response)
        if page is None:
            raise ProviderError(
                f"Twilio returned HTTP {response.status_code} for the Messages listing without a "
                "JSON object; check TWILIO_API_BASE",
                http_status=response.status_code,
                retryable=True,
            )
        return page

    # webhooks

    def routes(self) -> list[BaseRoute]:
        """Return the signed webhook routes for inbound messages and status callbacks."""
        return self.webhooks.routes()

    async def aclose(self) -> None:
        """Close the HTTP connections to Twilio."""
        await self._client.aclose()


def _api_base(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProviderError(
            f"TWILIO_API_BASE must be an http(s) URL such as {DEFAULT_API_BASE}, got {value!r}"
        )
    return value.rstrip("/")


def _check_sender(sender: str) -> str:
    if E164_PATTERN.match(sender) or MESSAGING_SERVICE_PATTERN.match(sender):
        return sender
    raise ProviderError(
        f"invalid Twilio sender {sender!r}: set {SENDER_ATTRIBUTE} to a Twilio number in E.164 "
        "form (+14155550100) or a Messaging Service SID (MG followed by 32 hex digits)"
    )


def _describe(exc: httpx.TransportError) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _date_filter(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return utc(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return None


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _send_result(response: httpx.Response, sms: OutboundSms) -> SendResult:
    data = _json_object(response)
    sid = data.get("sid") if data else None
    if not isinstance(sid, str) or not sid:
        raise ProviderError(
            f"Twilio accepted the message to {sms.to!r} (HTTP {response.status_code}) but "
            "returned no message SID; look it up before sending again",
            http_status=response.status_code,
            ambiguous=True,
            phone=sms.to,
        )
    status = STATUS_MAP.get(str(data.get("status") if data else None), "queued")
    return SendResult(sid, status)


def _response_error(response: httpx.Response, *, phone: str | None, action: str) -> ProviderError:
    """Build the ProviderError for a Twilio error response (JSON `code`, `message`, `more_info`)."""
    status = response.status_code
    data = _json_object(response) or {}
    code = str(data["code"]) if data.get("code") is not None else None
    message = str(data.get("message") or data.get("detail") or data.get("title") or "").strip()
    if not message:
        message = response.text[:200].strip() or response.reason_phrase
    more_info = f"; see {data['more_info']}" if data.get("more_info") else ""
    detail = f"{message} (HTTP {status}{', error ' + code if code else ''}{more_info})"
    context: dict[str, Any] = {"code": code, "http_status": status, "phone": phone}

    if status == 429 or code == "20429":
        text = f"Twilio rate limit reached for {action}: {detail}; retry later"
        retry_after = _retry_after(response.headers.get("Retry-After"))
        return ProviderError(text, retryable=True, retry_after=retry_after, **context)
    if status >= 500:
        text = f"Twilio failed to {action}: {detail}; retry later"
        retry_after = _retry_after(response.headers.get("Retry-After"))
        return ProviderError(text, retryable=True, retry_after=retry_after, **context)
    if code == "21211":
        text = f"Twilio rejected {phone!r} as an invalid phone number: {detail}"
    elif code == "21610":
        text = f"{phone!r} has opted out of messages from this sender (replied STOP): {detail}"
    elif status in (401, 403):
        text = (
            f"Twilio rejected the credentials to {action}: {detail}; check TWILIO_ACCOUNT_SID "
            "and TWILIO_AUTH_TOKEN, or TWILIO_API_KEY and TWILIO_API_SECRET"
        )
    else:
        text = f"Twilio rejected the request to {action}: {detail}"
    return ProviderError(text, **context)


def _retry_after(value: str | None) -> float | None:
    """Parse a Retry-After header: delay seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    moment = _parse_time(value)
    if moment is None:
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _is_outbound_match(
    message: dict[str, Any], sms: OutboundSms, sender: str, earliest: datetime
) -> bool:
    if message.get("body") != sms.body or message.get("to") != sms.to:
        return False
    if not str(message.get("direction", "")).startswith("outbound"):
        return False
    if sender.startswith("MG"):
        if message.get("messaging_service_sid") != sender:
            return False
    elif message.get("from") != sender:
        return False
    created = _parse_time(message.get("date_created")) or _parse_time(message.get("date_sent"))
    return created is None or created >= earliest


def _inbound_from_listing(
    message: dict[str, Any], sender: str, earliest: datetime | None
) -> SpoolEvent | None:
    if message.get("direction") != "inbound" or not message.get("sid"):
        return None
    if sender.startswith("MG"):
        if message.get("messaging_service_sid") != sender:
            return None
    elif message.get("to") != sender:
        return None
    at = _parse_time(message.get("date_sent")) or _parse_time(message.get("date_created"))
    if at is None or (earliest is not None and at < earliest):
        return None
    return SpoolEvent(
        kind="inbound",
        provider="twilio",
        provider_message_id=str(message["sid"]),
        phone_number=str(message.get("from") or ""),
        at=at,
        body=str(message.get("body") or ""),
        sender=str(message.get("to") or ""),
    )
