import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fake_twilio import (
    API_SECRET,
    AUTH_TOKEN,
    MESSAGING_SERVICE,
    SENDER,
    FakeTwilio,
)
from local_server import ThreadedServer
from starlette.applications import Starlette

from smskit.clock import Clock
from smskit.datafolder import DataFolder
from smskit.errors import ProviderError
from smskit.providers.base import OutboundSms, ProviderContext, SpoolEvent
from smskit.providers.twilio import TwilioCredentials, TwilioProvider
from smskit.providers.twilio_webhooks import EMPTY_TWIML
from smskit.spool import Spool

PHONE = "+12025550177"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    fake = FakeTwilio(hang_seconds=3.0).start()
    yield fake
    fake.stop()


@pytest.fixture
def context(tmp_path: Path) -> ProviderContext:
    folder = DataFolder(tmp_path)
    return ProviderContext(
        folder=folder,
        clock=Clock(),
        spool=Spool(folder, fsync=False),
        sender=SENDER,
        public_base_url="https://campaigns.example.org",
        request_timeout=0.5,
    )


@pytest.fixture
async def provider(fake: FakeTwilio, context: ProviderContext) -> AsyncIterator[TwilioProvider]:
    provider = TwilioProvider(context, environ=fake.environ())
    yield provider
    await provider.aclose()


@pytest.fixture
def webhooks(provider: TwilioProvider) -> Iterator[ThreadedServer]:
    """Serve the provider's webhook routes; the public base URL is the server's own URL."""
    app = Starlette()
    server = ThreadedServer(app)
    provider.context.public_base_url = server.url
    app.router.routes.extend(provider.routes())
    with server:
        yield server


def sms(body: str = "Hi Sam, this is Alex from Acme.", to: str = PHONE) -> OutboundSms:
    return OutboundSms(attempt_id="a1", to=to, body=body, task_id=1)


def spooled(context: ProviderContext) -> list[SpoolEvent]:
    events, _ = context.spool.read_from(0)
    return events


# credentials


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "TWILIO_ACCOUNT_SID is not set: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"),
        ({"TWILIO_ACCOUNT_SID": "AC" + "0" * 32}, "TWILIO_AUTH_TOKEN is not set"),
        ({"TWILIO_ACCOUNT_SID": "US123", "TWILIO_AUTH_TOKEN": "x"}, "starting with 'US'"),
        (
            {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_API_KEY": "SK1"},
            "TWILIO_API_SECRET is not set",
        ),
        (
            {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_API_SECRET": "s3cr3t-value"},
            "TWILIO_API_KEY is not set",
        ),
    ],
)
def test_credentials_missing(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ProviderError, match=message) as caught:
        TwilioCredentials.from_environ(environ)
    assert "s3cr3t-value" not in str(caught.value)


def test_credentials_repr_hides_secrets() -> None:
    credentials = TwilioCredentials.from_environ(
        {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}
    )
    assert AUTH_TOKEN not in repr(credentials)


def test_provider_invalid_api_base(fake: FakeTwilio, context: ProviderContext) -> None:
    environ = {**fake.environ(), "TWILIO_API_BASE": "api.twilio.com"}
    with pytest.raises(ProviderError, match="TWILIO_API_BASE must be an http"):
        TwilioProvider(context, environ=environ)


@pytest.mark.parametrize("sender", ["12025550100", "+0123", "MG123", "Acme"])
def test_provider_invalid_sender(fake: FakeTwilio, context: ProviderContext, sender: str) -> None:
    context.sender = sender
    with pytest.raises(ProviderError, match="project_attributes_setting_sms_sender"):
        TwilioProvider(context, environ=fake.environ())


# sending


async def test_send_posts_message(fake: FakeTwilio, provider: TwilioProvider) -> None:
    result = await provider.send(sms())

    [message] = fake.sent()
    [request] = [r for r in fake.requests if r.method == "POST"]
    assert result.provider_message_id == message["sid"]
    assert result.status == "queued"
    assert request.params == {
        "To": PHONE,
        "From": SENDER,
        "Body": "Hi Sam, this is Alex from Acme.",
        "StatusCallback": "https://campaigns.example.org/providers/twilio/status",
    }


async def test_send_messaging_service(fake: FakeTwilio, context: ProviderContext) -> None:
    context.sender = MESSAGING_SERVICE
    context.public_base_url = None
    provider = TwilioProvider(context, environ=fake.environ())
    try:
        await provider.send(sms())
    finally:
        await provider.aclose()

    [request] = fake.requests
    assert request.params["MessagingServiceSid"] == MESSAGING_SERVICE
    assert "From" not in request.params
    assert "StatusCallback" not in request.params


async def test_send_with_api_key(fake: FakeTwilio, context: ProviderContext) -> None:
    provider = TwilioProvider(context, environ=fake.environ(api_key=True))
    try:
        result = await provider.send(sms())
    finally:
        await provider.aclose()
    assert result.provider_message_id == fake.sent()[0]["sid"]


async def test_send_without_sender(fake: FakeTwilio, provider: TwilioProvider) -> None:
    provider.context.sender = None
    with pytest.raises(ProviderError, match="set project_attributes_setting_sms_sender"):
        await provider.send(sms())
    assert fake.requests == []


@pytest.mark.parametrize(
    ("fault", "code", "http_status", "retryable", "message"),
    [
        ("21211", "21211", 400, False, r"rejected '\+12025550177' as an invalid phone number"),
        ("21610", "21610", 400, False, "has opted out of messages from this sender"),
        ("21408", "21408", 400, False, "Permission to send an SMS has not been enabled"),
        ("429", "20429", 429, True, "Twilio rate limit reached"),
        ("500", "20500", 500, True, "Twilio failed to send"),
    ],
)
async def test_send_error_answers(
    fake: FakeTwilio,
    provider: TwilioProvider,
    fault: str,
    code: str,
    http_status: int,
    retryable: bool,
    message: str,
) -> None:
    fake.fail_next(fault)
    with pytest.raises(ProviderError, match=message) as caught:
        await provider.send(sms())

    error = caught.value
    assert error.code == code
    assert error.http_status == http_status
    assert error.retryable is retryable
    assert error.ambiguous is False
    assert error.phone == PHONE
    assert fake.sent() == []


@pytest.mark.parametrize("fault", ["429", "500"])
async def test_send_retry_after(fake: FakeTwilio, provider: TwilioProvider, fault: str) -> None:
    fake.fail_next(fault)
    with pytest.raises(ProviderError) as caught:
        await provider.send(sms())
    assert caught.value.retry_after == 2.0


async def test_send_invalid_number(fake: FakeTwilio, provider: TwilioProvider) -> None:
    with pytest.raises(ProviderError) as caught:
        await provider.send(sms(to="+1202"))
    assert caught.value.code == "21211"
    assert "more_info" not in str(caught.value)
    assert "https://www.twilio.com/docs/errors/21211" in str(caught.value)


async def test_send_wrong_token(fake: FakeTwilio, context: ProviderContext) -> None:
    environ = {**fake.environ(), "TWILIO_AUTH_TOKEN": "wrong-token-value"}
    provider = TwilioProvider(context, environ=environ)
    try:
        with pytest.raises(ProviderError, match="check TWILIO_ACCOUNT_SID") as caught:
            await provider.send(sms())
    finally:
        await provider.aclose()
    assert caught.value.http_status == 401
    assert caught.value.retryable is False
    assert "wrong-token-value" not in str(caught.value)


async def test_send_connection_refused(fake: FakeTwilio, context: ProviderContext) -> None:
    closed = ThreadedServer(Starlette())
    closed_url = closed.url
    closed.stop()
    provider = TwilioProvider(context, environ={**fake.environ(), "TWILIO_API_BASE": closed_url})
    try:
        with pytest.raises(ProviderError, match="could not connect to Twilio") as caught:
            await provider.send(sms())
    finally:
        await provider.aclose()
    assert caught.value.retryable is True
    assert caught.value.ambiguous is False


# ambiguous sends


async def resolve(provider: TwilioProvider, message: OutboundSms, since: datetime) -> str:
    """Send the way the runner does: an ambiguous send is looked up, never blindly repeated."""
    try:
        return (await provider.send(message)).provider_message_id
    except ProviderError as error:
        if not error.ambiguous:
            raise
    found = await provider.find_sent(message, since)
    if found is not None:
        return found.provider_message_id
    return (await provider.send(message)).provider_message_id


@pytest.mark.parametrize("fault", ["hang", "drop"])
async def test_send_ambiguous(fake: FakeTwilio, provider: TwilioProvider, fault: str) -> None:
    fake.fail_next(fault)
    with pytest.raises(ProviderError, match="Twilio may have accepted it") as caught:
        await provider.send(sms())
    assert caught.value.ambiguous is True
    assert caught.value.retryable is False


@pytest.mark.parametrize("fault", ["hang", "drop"])
async def test_send_ambiguous_found(fake: FakeTwilio, provider: TwilioProvider, fault: str) -> None:
    since = datetime.now(UTC)
    fake.fail_next(fault)

    sid = await resolve(provider, sms(), since)

    [message] = fake.sent()
    assert sid == message["sid"]
    assert len([r for r in fake.requests if r.method == "POST"]) == 1


async def test_send_ambiguous_unrecorded(fake: FakeTwilio, provider: TwilioProvider) -> None:
    since = datetime.now(UTC)
    fake.fail_next("drop-unrecorded")

    sid = await resolve(provider, sms(), since)

    [message] = fake.sent()
    assert sid == message["sid"]
    assert len([r for r in fake.requests if r.method == "POST"]) == 2


# find_sent


async def test_find_sent_sent_message(fake: FakeTwilio, provider: TwilioProvider) -> None:
    since = datetime.now(UTC)
    result = await provider.send(sms())
    fake.set_status(result.provider_message_id, "sent", post=False)

    found = await provider.find_sent(sms(), since)

    assert found is not None
    assert found.provider_message_id == result.provider_message_id
    assert found.status == "sent"
    [listing] = [r for r in fake.requests if r.method == "GET"]
    assert listing.params["To"] == PHONE
    assert listing.params["From"] == SENDER
    assert listing.params["DateSent>"] == (since - timedelta(minutes=2)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


async def test_find_sent_queued_message(fake: FakeTwilio, provider: TwilioProvider) -> None:
    since = datetime.now(UTC)
    result = await provider.send(sms())

    found = await provider.find_sent(sms(), since)

    assert found is not None
    assert found.provider_message_id == result.provider_message_id
    listings = [r.params for r in fake.requests if r.method == "GET"]
    assert len(listings) == 2
    assert "DateSent>" in listings[0]
    assert "DateSent>" not in listings[1]


@pytest.mark.parametrize(
    "other",
    [
        sms(body="Hi Sam, this is Alex from Acme"),
        sms(body="hi sam, this is alex from acme."),
        sms(to="+12025550178"),
    ],
)
async def test_find_sent_no_match(
    fake: FakeTwilio, provider: TwilioProvider, other: OutboundSms
) -> None:
    since = datetime.now(UTC)
    await provider.send(sms())
    assert await provider.find_sent(other, since) is None


async def test_find_sent_other_sender(fake: FakeTwilio, provider: TwilioProvider) -> None:
    since = datetime.now(UTC)
    await provider.send(OutboundSms("a0", PHONE, "Hello", sender="+12025550199"))
    assert await provider.find_sent(sms(body="Hello"), since) is None


async def test_find_sent_before_since(fake: FakeTwilio, provider: TwilioProvider) -> None:
    await provider.send(sms())
    later = datetime.now(UTC) + timedelta(minutes=10)
    assert await provider.find_sent(sms(), later) is None


async def test_find_sent_follows_pages(fake: FakeTwilio, provider: TwilioProvider) -> None:
    since = datetime.now(UTC)
    target = await provider.send(sms())
    for number in range(5):
        await provider.send(sms(body=f"Other message {number}"))
    provider.page_size = 2

    found = await provider.find_sent(sms(), since)

    assert found is not None
    assert found.provider_message_id == target.provider_message_id
    pages = [r.params for r in fake.requests if r.method == "GET"]
    assert [p.get("Page") for p in pages] == [None, None, "1", "2"]


async def test_find_sent_page_limit(fake: FakeTwilio, provider: TwilioProvider) -> None:
    since = datetime.now(UTC)
    for number in range(5):
        await provider.send(sms(body=f"Other message {number}"))
    provider.page_size = 1
    provider.max_list_pages = 2

    with pytest.raises(ProviderError, match="listing has more than 2 pages") as caught:
        await provider.find_sent(sms(), since)
    assert caught.value.retryable is True


@pytest.mark.parametrize("status", ["429", "500"])
async def test_find_sent_list_error(
    fake: FakeTwilio, provider: TwilioProvider, status: str
) -> None:
    fake.fail_next_list(status)
    with pytest.raises(ProviderError, match="list messages") as caught:
        await provider.find_sent(sms(), datetime.now(UTC))
    assert caught.value.retryable is True


async def test_find_sent_messaging_service(fake: FakeTwilio, context: ProviderContext) -> None:
    context.sender = MESSAGING_SERVICE
    provider = TwilioProvider(context, environ=fake.environ())
    since = datetime.now(UTC)
    try:
        result = await provider.send(sms())
        found = await provider.find_sent(sms(), since)
    finally:
        await provider.aclose()
    assert found is not None
    assert found.provider_message_id == result.provider_message_id
    assert all("From" not in r.params for r in fake.requests if r.method == "GET")


# fetch_inbound


async def test_fetch_inbound_since(fake: FakeTwilio, provider: TwilioProvider) -> None:
    first = fake.add_inbound(PHONE, "Yes please")
    second = fake.add_inbound("+12025550188", "Who is this?")
    fake.add_inbound(PHONE, "To another number", to="+12025550199")
    await provider.send(sms())

    events = await provider.fetch_inbound(datetime.now(UTC) - timedelta(minutes=1))

    assert [e.provider_message_id for e in events] == [first["sid"], second["sid"]]
    assert events[0].kind == "inbound"
    assert events[0].provider == "twilio"
    assert events[0].phone_number == PHONE
    assert events[0].body == "Yes please"
    assert events[0].sender == SENDER
    assert events[0].at.tzinfo is not None
    [listing] = [r.params for r in fake.requests if r.method == "GET"]
    assert listing["To"] == SENDER
    assert "DateSent>" in listing


async def test_fetch_inbound_future_since(fake: FakeTwilio, provider: TwilioProvider) -> None:
    fake.add_inbound(PHONE, "Yes please")
    assert await provider.fetch_inbound(datetime.now(UTC) + timedelta(hours=1)) == []


async def test_fetch_inbound_without_since(fake: FakeTwilio, provider: TwilioProvider) -> None:
    fake.add_inbound(PHONE, "Yes please")
    events = await provider.fetch_inbound(None)
    assert [e.body for e in events] == ["Yes please"]
    assert "DateSent>" not in fake.requests[0].params


# webhooks


def test_inbound_webhook_spooled(
    fake: FakeTwilio, context: ProviderContext, webhooks: ThreadedServer
) -> None:
    started = time.monotonic()
    response = fake.post_inbound(f"{webhooks.url}/providers/twilio/inbound", PHONE, "Yes, 5pm")
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert response.text == EMPTY_TWIML
    assert response.headers["content-type"].startswith("text/xml")
    assert elapsed < 1.0
    [event] = spooled(context)
    assert event.kind == "inbound"
    assert event.provider == "twilio"
    assert event.phone_number == PHONE
    assert event.body == "Yes, 5pm"
    assert event.sender == SENDER
    assert event.provider_message_id == fake.messages[-1]["sid"]


async def test_status_callback_spooled(
    fake: FakeTwilio, provider: TwilioProvider, webhooks: ThreadedServer
) -> None:
    result = await provider.send(sms())
    [request] = fake.requests
    assert request.params["StatusCallback"] == f"{webhooks.url}/providers/twilio/status"

    for status in ("sent", "undelivered"):
        error_code = "30003" if status == "undelivered" else None
        response = fake.set_status(result.provider_message_id, status, error_code=error_code)
        assert response is not None
        assert response.status_code == 200
        assert response.text == EMPTY_TWIML

    sent, undelivered = spooled(provider.context)
    assert (sent.kind, sent.status, sent.error_code) == ("status", "sent", None)
    assert sent.provider_message_id == result.provider_message_id
    assert sent.phone_number == PHONE
    assert undelivered.status == "undelivered"
    assert undelivered.error_code == "30003"
    assert undelivered.error_message == "Unreachable destination handset"


async def test_status_callback_unknown_status(
    fake: FakeTwilio, provider: TwilioProvider, webhooks: ThreadedServer
) -> None:
    result = await provider.send(sms())
    response = fake.set_status(result.provider_message_id, "partially_delivered")
    assert response is not None
    assert response.status_code == 200
    assert spooled(provider.context) == []


@pytest.mark.parametrize("path", ["inbound", "status"])
def test_webhook_unsigned(
    context: ProviderContext,
    webhooks: ThreadedServer,
    caplog: pytest.LogCaptureFixture,
    path: str,
) -> None:
    caplog.set_level(logging.WARNING, logger="smskit.providers.twilio")
    data = {"MessageSid": "SM" + "1" * 32, "From": PHONE, "To": SENDER, "Body": "hi"}

    response = httpx.post(f"{webhooks.url}/providers/twilio/{path}", data=data)

    assert response.status_code == 403
    assert spooled(context) == []
    assert "no X-Twilio-Signature header" in caplog.text
    assert AUTH_TOKEN not in caplog.text


def test_webhook_wrong_signature(
    fake: FakeTwilio,
    context: ProviderContext,
    webhooks: ThreadedServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="smskit.providers.twilio")
    url = f"{webhooks.url}/providers/twilio/inbound"
    signature = fake.sign(url, {"Body": "something else"})

    response = fake.post_inbound(url, PHONE, "Yes", signature=signature)

    assert response.status_code == 403
    assert spooled(context) == []
    assert "X-Twilio-Signature does not match" in caplog.text
    assert AUTH_TOKEN not in caplog.text
    assert signature not in caplog.text


def test_webhook_signed_for_other_url(
    fake: FakeTwilio, context: ProviderContext, webhooks: ThreadedServer
) -> None:
    context.public_base_url = "https://campaigns.example.org"
    response = fake.post_inbound(f"{webhooks.url}/providers/twilio/inbound", PHONE, "Yes")
    assert response.status_code == 403
    assert spooled(context) == []


def test_webhook_without_public_url(
    fake: FakeTwilio,
    context: ProviderContext,
    webhooks: ThreadedServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="smskit.providers.twilio")
    context.public_base_url = None
    response = fake.post_inbound(f"{webhooks.url}/providers/twilio/inbound", PHONE, "Yes")
    assert response.status_code == 403
    assert "project_attributes_setting_public_base_url is not set" in caplog.text


async def test_webhook_api_key_without_auth_token(
    fake: FakeTwilio, context: ProviderContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="smskit.providers.twilio")
    provider = TwilioProvider(context, environ=fake.environ(api_key=True))
    app = Starlette(routes=provider.routes())
    try:
        with ThreadedServer(app) as server:
            context.public_base_url = server.url
            response = fake.post_inbound(f"{server.url}/providers/twilio/inbound", PHONE, "Yes")
    finally:
        await provider.aclose()
    assert response.status_code == 403
    assert "TWILIO_AUTH_TOKEN is not set" in caplog.text
    assert API_SECRET not in caplog.text


def test_webhook_body_too_large(
    fake: FakeTwilio, context: ProviderContext, webhooks: ThreadedServer
) -> None:
    response = fake.post_inbound(f"{webhooks.url}/providers/twilio/inbound", PHONE, "x" * 70_000)
    assert response.status_code == 413
    assert spooled(context) == []


def test_webhook_body_too_large_streamed(
    fake: FakeTwilio, context: ProviderContext, webhooks: ThreadedServer
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"Body=" + b"x" * 4096 + b"&"

    response = httpx.post(
        f"{webhooks.url}/providers/twilio/inbound",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


def test_webhook_signed_without_sid(
    fake: FakeTwilio, context: ProviderContext, webhooks: ThreadedServer
) -> None:
    url = f"{webhooks.url}/providers/twilio/inbound"
    params = {"From": PHONE, "Body": "hi"}
    response = httpx.post(url, data=params, headers={"X-Twilio-Signature": fake.sign(url, params)})
    assert response.status_code == 400
    assert spooled(context) == []


def test_webhook_get_not_allowed(webhooks: ThreadedServer) -> None:
    response = httpx.get(f"{webhooks.url}/providers/twilio/inbound")
    assert response.status_code == 405
