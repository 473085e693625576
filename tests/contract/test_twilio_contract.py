"""TwilioProvider's requests checked against Twilio's OpenAPI description, served by Prism."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import extract_twilio_spec
import httpx
import pytest
from prism import SPEC, Prism

from smskit.clock import Clock
from smskit.datafolder import DataFolder
from smskit.errors import ProviderError
from smskit.providers.base import OutboundSms, ProviderContext
from smskit.providers.twilio import TwilioProvider
from smskit.spool import Spool

# The account SID of the examples in Twilio's description, so that Prism's next_page_uri
# points at the same Messages list.
ACCOUNT_SID = "AC" + "a" * 32
MESSAGING_SERVICE = "MG" + "b" * 32
# A message in the first example page of the Messages listing.
EXAMPLE_SID = "SMded05904ccb347238880ca9264e8fe1c"
EXAMPLE_FROM = "+12019235161"
EXAMPLE_TO = "+18182008801"
SHARED_SPEC_DIR = extract_twilio_spec.DEFAULT_SOURCE


@pytest.fixture
async def provider(prism: Prism, tmp_path: Path) -> AsyncIterator[TwilioProvider]:
    folder = DataFolder(tmp_path)
    context = ProviderContext(
        folder=folder,
        clock=Clock(),
        spool=Spool(folder, fsync=False),
        sender="+12025550100",
        public_base_url="https://campaigns.example.org",
        request_timeout=10.0,
    )
    environ = {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": "contract-test-token",
        "TWILIO_API_BASE": prism.url,
    }
    provider = TwilioProvider(context, environ=environ)
    yield provider
    await provider.aclose()


@pytest.fixture
def log_mark(prism: Prism) -> int:
    """Return the Prism log offset before the test, to read only the test's own lines."""
    return prism.log_size()


def sms(body: str = "Hi Sam, this is Alex from Acme.", to: str = "+12025550177") -> OutboundSms:
    return OutboundSms(attempt_id="a1", to=to, body=body, task_id=1)


async def test_contract_send_from_number(
    prism: Prism, provider: TwilioProvider, log_mark: int
) -> None:
    result = await provider.send(sms())
    assert result.provider_message_id.startswith("SM")
    assert result.status == "queued"
    assert prism.request_violations(log_mark) == []


async def test_contract_send_messaging_service(
    prism: Prism, provider: TwilioProvider, log_mark: int
) -> None:
    provider.context.sender = MESSAGING_SERVICE
    result = await provider.send(sms(body="Ça marche, à demain 👍"))
    assert result.provider_message_id.startswith("SM")
    assert prism.request_violations(log_mark) == []


async def test_contract_send_without_status_callback(
    prism: Prism, provider: TwilioProvider, log_mark: int
) -> None:
    provider.context.public_base_url = None
    await provider.send(sms())
    assert prism.request_violations(log_mark) == []


async def test_contract_find_sent(prism: Prism, provider: TwilioProvider, log_mark: int) -> None:
    example = OutboundSms(attempt_id="a1", to=EXAMPLE_TO, body="testing", sender=EXAMPLE_FROM)

    found = await provider.find_sent(example, datetime(2019, 5, 24, 17, 44, tzinfo=UTC))

    assert found is not None
    assert found.provider_message_id == EXAMPLE_SID
    assert found.status == "sent"
    assert prism.request_violations(log_mark) == []


async def test_contract_find_sent_follows_pages(
    prism: Prism, provider: TwilioProvider, log_mark: int
) -> None:
    # Prism answers every page with the same example, whose next_page_uri is never empty.
    provider.max_list_pages = 3
    with pytest.raises(ProviderError, match="listing has more than 3 pages"):
        await provider.find_sent(sms(), datetime.now(UTC))
    assert prism.log_since(log_mark).count("Request received") == 3
    assert prism.request_violations(log_mark) == []


async def test_contract_fetch_inbound(
    prism: Prism, provider: TwilioProvider, log_mark: int
) -> None:
    provider.context.sender = EXAMPLE_TO
    provider.max_list_pages = 2

    events = await provider.fetch_inbound(datetime(2019, 5, 24, tzinfo=UTC))

    [event] = events
    assert event.provider_message_id == "MMc26223853f8c46b4ab7dfaa6abba0a26"
    assert event.phone_number == EXAMPLE_FROM
    assert event.body == "look mom I have media!"
    assert event.at == datetime(2019, 5, 24, 17, 44, 49, tzinfo=UTC)
    assert prism.request_violations(log_mark) == []


def test_contract_rejects_missing_to(prism: Prism, log_mark: int) -> None:
    response = httpx.post(
        f"{prism.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"From": "+12025550100", "Body": "no recipient"},
        auth=(ACCOUNT_SID, "contract-test-token"),
    )
    assert response.status_code == 422
    assert "must have required property 'To'" in response.text
    assert prism.request_violations(log_mark) != []


def test_contract_rejects_missing_credentials(prism: Prism) -> None:
    response = httpx.post(
        f"{prism.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"To": "+12025550177", "From": "+12025550100", "Body": "hi"},
    )
    assert response.status_code == 401


async def test_contract_violation_is_provider_error(
    prism: Prism, provider: TwilioProvider, log_mark: int
) -> None:
    # Twilio needs an absolute StatusCallback URL; a relative base URL breaks `format: uri`.
    provider.context.public_base_url = "campaigns.example.org"

    with pytest.raises(ProviderError, match="HTTP 422") as caught:
        await provider.send(sms())

    assert caught.value.http_status == 422
    assert caught.value.retryable is False
    assert caught.value.ambiguous is False
    assert prism.request_violations(log_mark) != []


@pytest.mark.skipif(
    not (SHARED_SPEC_DIR / extract_twilio_spec.SOURCE_NAME).is_file(),
    reason="Twilio's full description is not next to the repository",
)
def test_extracted_spec_is_current() -> None:
    source = SHARED_SPEC_DIR / extract_twilio_spec.SOURCE_NAME
    spec = json.loads(source.read_text(encoding="utf-8"))
    assert extract_twilio_spec.render(spec) == SPEC.read_text(encoding="utf-8")


def test_extracted_spec_is_self_contained() -> None:
    text = SPEC.read_text(encoding="utf-8")
    spec = json.loads(text)
    schemas = spec["components"]["schemas"]
    for ref in extract_twilio_spec._refs(spec):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    assert list(spec["paths"]) == [extract_twilio_spec.MESSAGES_PATH]
    assert (SPEC.parent / "TWILIO_SPEC_LICENSE").read_text().startswith("MIT License")
