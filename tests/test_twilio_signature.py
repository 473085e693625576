import pytest
from twilio.request_validator import RequestValidator

from smskit.providers.twilio_signature import compute_signature, is_valid_signature

TOKEN = "test_auth_token_0123456789abcdef"
URL = "https://campaigns.example.org/providers/twilio/inbound"
PARAMS = {
    "MessageSid": "SM11111111111111111111111111111111",
    "AccountSid": "AC22222222222222222222222222222222",
    "From": "+12025550177",
    "To": "+12025550100",
    "Body": "Sure, call me after 5pm",
    "NumMedia": "0",
}
SIGNATURE = "Wwvuv8kyVsb929aCgPcZbqoreQE="


def test_compute_signature_known_vector() -> None:
    assert compute_signature(TOKEN, URL, PARAMS) == SIGNATURE


def test_compute_signature_accepts_pairs() -> None:
    assert compute_signature(TOKEN, URL, list(PARAMS.items())) == SIGNATURE


def test_is_valid_signature_known_vector() -> None:
    assert is_valid_signature(TOKEN, URL, PARAMS, SIGNATURE)


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_is_valid_signature_changed_field(name: str) -> None:
    changed = {**PARAMS, name: PARAMS[name] + "1"}
    assert not is_valid_signature(TOKEN, URL, changed, SIGNATURE)


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_is_valid_signature_missing_field(name: str) -> None:
    fewer = {key: value for key, value in PARAMS.items() if key != name}
    assert not is_valid_signature(TOKEN, URL, fewer, SIGNATURE)


def test_is_valid_signature_added_field() -> None:
    assert not is_valid_signature(TOKEN, URL, {**PARAMS, "SmsStatus": "received"}, SIGNATURE)


@pytest.mark.parametrize(
    "url",
    [
        "https://campaigns.example.org/providers/twilio/status",
        "http://campaigns.example.org/providers/twilio/inbound",
        "https://campaigns.example.org:8443/providers/twilio/inbound",
        "https://campaigns.example.org/providers/twilio/inbound?x=1",
        "https://evil.example.org/providers/twilio/inbound",
    ],
)
def test_is_valid_signature_changed_url(url: str) -> None:
    assert not is_valid_signature(TOKEN, url, PARAMS, SIGNATURE)


@pytest.mark.parametrize("signature", [None, "", "Wwvuv8kyVsb929aCgPcZbqoreQE", "x" * 28, "é"])
def test_is_valid_signature_bad_header(signature: str | None) -> None:
    assert not is_valid_signature(TOKEN, URL, PARAMS, signature)


def test_is_valid_signature_other_token() -> None:
    assert not is_valid_signature(TOKEN + "0", URL, PARAMS, SIGNATURE)
    assert not is_valid_signature("", URL, PARAMS, SIGNATURE)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"Body": "Ça marche 👍, à demain", "From": "+33612345678"},
        {"Body": "", "b": "2", "a": "1", "B": "3"},
        {"Body": "a=b&c=d", "MessageStatus": "delivered", "ErrorCode": "30003"},
    ],
)
def test_compute_signature_matches_twilio_library(params: dict[str, str]) -> None:
    expected = RequestValidator(TOKEN).compute_signature(URL, params)
    assert compute_signature(TOKEN, URL, params) == expected
