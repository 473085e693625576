"""Tests for smskit.phones: E.164 normalisation and the messages for rejected cells."""

from __future__ import annotations

import dataclasses

import phonenumbers
import pytest
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from smskit import phones
from smskit.errors import InvalidInputError
from smskit.phones import PhoneCheck, check_phone, check_region, clear_cache, normalize_phone


@pytest.mark.parametrize(
    ("text", "region", "e164"),
    [
        ("+1 202 555 0143", None, "+12025550143"),
        ("+12025550143", None, "+12025550143"),
        ("+1 (202) 555-0143", None, "+12025550143"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("202.555.0143", "US", "+12025550143"),
        ("  +44 7911 123456  ", None, "+447911123456"),
        ("07911 123456", "GB", "+447911123456"),
        ("+39 06 6988 4433", None, "+390669884433"),
        ("06 6988 4433", "IT", "+390669884433"),
        ("+44 (0)20 7946 0958", None, "+442079460958"),
        ("0044 20 7946 0958", "DE", "+442079460958"),
        ("202 555.0000", "US", "+12025550000"),
    ],
)
def test_normalize_phone_valid(text: str, region: str | None, e164: str) -> None:
    check = normalize_phone(text, region)
    assert check.e164 == e164
    assert check.error is None
    assert check.valid


def test_normalize_phone_national_without_region() -> None:
    check = normalize_phone("(202) 555-0143", None)
    assert check.e164 is None
    assert check.error is not None
    assert "'(202) 555-0143'" in check.error
    assert "country code" in check.error
    assert "+1 202 555 0143" in check.error


def test_normalize_phone_region_lower_case() -> None:
    assert normalize_phone("(202) 555-0143", "us").e164 == "+12025550143"


@pytest.mark.parametrize(
    ("text", "region", "fragment"),
    [
        ("+1234567890", None, "is not a valid phone number for US (+1)"),
        ("+1987654321", None, "is not a valid phone number for US (+1)"),
        ("+1-202-FLOWERS", None, "contains letters ('FLOWERS')"),
        ("1-800-FLOWERS", "US", "contains letters ('FLOWERS')"),
        ("1.20256E+10", "US", "scientific notation"),
        ("1,20256E+10", "US", "scientific notation"),
        ("12025550123.0", "US", "ends in a decimal part"),
        ("+4930901820.00", None, "ends in a decimal part"),
        ("+1 202 555 0146 ext. 12", None, "has an extension"),
        ("+1 202 555 0146 x12", None, "has an extension"),
        ("+1 202 555 0146 #12", None, "has an extension ('12')"),
        ("0044 20 7946 0958", None, "replace the leading 00 with '+'"),
        ("0044 20 7946 0958", "US", "replace a leading 00"),
        ("07911 123456", "US", "with its country code"),
        ("+999 123 4567", None, "unknown country code"),
        ("12345678901234567890", "US", "too long"),
        ("+1", None, "is not a phone number"),
        ("+49 1", None, "too short"),
        ("011 1", "US", "too short"),
        ("+44 7700 900123", None, "is not a valid phone number for GB (+44)"),
        ("tel:+12025550143", None, "contains letters"),
    ],
)
def test_normalize_phone_rejected(text: str, region: str | None, fragment: str) -> None:
    check = normalize_phone(text, region)
    assert check.e164 is None
    assert check.error is not None
    assert fragment in check.error
    assert repr(text.strip()) in check.error


@pytest.mark.parametrize("text", ["", "   "])
def test_normalize_phone_empty(text: str) -> None:
    check = normalize_phone(text, "US")
    assert check.e164 is None
    assert check.error is not None
    assert "empty" in check.error


def test_normalize_phone_letters_hint_keypad_digits() -> None:
    error = normalize_phone("+1-202-FLOWERS", None).error
    assert error is not None
    assert "'+1-202-3569377'" in error


def test_normalize_phone_letters_only_no_keypad_hint() -> None:
    error = normalize_phone("John Smith", None).error
    assert error is not None
    assert "keypad" not in error


def test_normalize_phone_unknown_region() -> None:
    with pytest.raises(InvalidInputError, match="unknown region 'XX'"):
        normalize_phone("+12025550143", "XX")


@pytest.mark.parametrize(("region", "code"), [(None, None), ("", None), (" gb ", "GB")])
def test_check_region_normalises(region: str | None, code: str | None) -> None:
    assert check_region(region) == code


def test_phone_check_frozen() -> None:
    check = normalize_phone("+12025550143", None)
    assert isinstance(check, PhoneCheck)
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.e164 = "+1"  # type: ignore[misc]


def test_check_phone_cached_by_text_and_region() -> None:
    clear_cache()
    first = check_phone("(202) 555-0143", "US")
    assert first == "+12025550143"
    assert check_phone("(202) 555-0143", "US") is first
    assert check_phone("(202) 555-0143", "CA") == first
    assert check_phone("(202) 555-0143", "CA") is not first
    clear_cache()
    assert check_phone("(202) 555-0143", "US") is not first


def test_check_phone_cache_emptied_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_cache()
    monkeypatch.setattr(phones, "_CACHE_SIZE", 2)
    first = check_phone("+12025550143", "US")
    check_phone("+12025550144", "US")
    assert check_phone("+12025550143", "US") is first
    check_phone("+12025550145", "US")
    assert check_phone("+12025550143", "US") is not first
    clear_cache()


def test_check_phone_error_never_starts_with_plus() -> None:
    for text in ("+1234567890", "+1-202-FLOWERS", "+999 1", "+", "+1 202 555 0146 #12"):
        result = check_phone(text, None)
        assert not result.startswith("+"), result
        assert normalize_phone(text, None).error == result


def _example_numbers() -> list[tuple[str, str | None]]:
    """Return example numbers of every region and type, in several formats, with regions."""
    cases: list[tuple[str, str | None]] = []
    types = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in types:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            cases.append((e164, None))
            cases.append((e164[:-2], None))
            cases.append((e164 + "99", None))
            national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
            cases.append((national, region))
            cases.append((national, None))
            cases.append((national, "US" if region != "US" else "GB"))
    return cases


def _bare_verdict(text: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def test_normalize_phone_matches_bare_phonenumbers() -> None:
    cases = _example_numbers()
    assert len(cases) > 1500
    mismatches = [
        (text, region, normalize_phone(text, region).e164, _bare_verdict(text, region))
        for text, region in cases
        if normalize_phone(text, region).e164 != _bare_verdict(text, region)
    ]
    assert mismatches == []


def test_normalize_phone_leading_zero_numbers() -> None:
    # Italian fixed-line numbers keep their leading 0 after the country code
    number = phonenumbers.example_number_for_type("IT", PhoneNumberType.FIXED_LINE)
    assert number is not None
    assert number.italian_leading_zero
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    assert e164.startswith("+390")
    assert normalize_phone(e164, None).e164 == e164
