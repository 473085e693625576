"""Normalise phone cells to E.164 with phonenumbers (the Python port of libphonenumber).

A cell is accepted exactly when `phonenumbers.parse(text, region)` succeeds and
`phonenumbers.is_valid_number` accepts the result, with these extra rejections:

- an empty cell;
- spreadsheet damage: scientific notation (`1.20256E+10`) or a float suffix (`12025550123.0`);
- any ASCII letter, because phonenumbers silently turns keypad letters into digits
  (`+1-202-FLOWERS` becomes `+12023569377`) and reads `ext`, `x` or `#` as an extension;
- an extension in any form, because an SMS cannot reach an extension.

Verdicts are cached by region and text, so a body validated again, or a number repeated in
the same format, costs two dictionary lookups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException

from smskit.errors import InvalidInputError

__all__ = ["PhoneCheck", "check_phone", "check_region", "clear_cache", "normalize_phone"]

# Upper-case ISO 3166 alpha-2 codes that phonenumbers has metadata for (245 in 9.0.43).
_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)

_EXAMPLE = "+1 202 555 0143"

# Verdicts by region, then by cell text. A region's cache is emptied when it reaches the
# maximum size: 262,144 cells, an estimated 40 MB (96,000 cells of a benchmark batch held
# 10 MB of verdicts, plus the cell texts).
_CACHE_SIZE = 1 << 18
_cache: dict[str | None, dict[str, str]] = {}

# One search on the fast path: letters (which scientific notation has), or a `.0` ending.
_SUSPECT = re.compile(r"[A-Za-z]|[.,]0+$")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?\s*[eE]\s*[+-]?\d+$")
_FLOAT_SUFFIX = re.compile(r"^\+?\d+[.,]0+$")
_LETTERS = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True, slots=True)
class PhoneCheck:
    """Verdict on one phone cell: the E.164 number, or the reason it was rejected."""

    e164: str | None
    error: str | None

    @property
    def valid(self) -> bool:
        return self.e164 is not None


def check_region(region: str | None) -> str | None:
    """Return the region as an upper-case ISO 3166 alpha-2 code, or None when not given.

    Raises InvalidInputError when phonenumbers has no metadata for the region.
    """
    if region is None or region.strip() == "":
        return None
    code = region.strip().upper()
    if code not in _REGIONS:
        raise InvalidInputError(
            f"unknown region {region!r}; use an ISO 3166 alpha-2 country code such as "
            "'US', 'GB' or 'DE', or no region when every number has a country code",
            name="region",
            value=region,
        )
    return code


def normalize_phone(text: str, region: str | None = None) -> PhoneCheck:
    """Check one phone cell and return its E.164 form or a message naming the fix.

    `region` is the default region for numbers written without a country code. Without
    one, such numbers are rejected. Raises InvalidInputError for an unknown region.
    """
    result = check_phone(text, check_region(region))
    if result.startswith("+"):
        return PhoneCheck(result, None)
    return PhoneCheck(None, result)


def clear_cache() -> None:
    """Forget every cached verdict, so the next checks run phonenumbers again."""
    _cache.clear()


def check_phone(text: str, region: str | None) -> str:
    """Check one phone cell and return its E.164 number or an error message.

    An E.164 number starts with `+` and an error message never does. This is
    `normalize_phone` for loops over many cells, so `region` must already have passed
    `check_region`. Verdicts are cached as plain strings, which the garbage collector does
    not track, so a cache of 100,000 verdicts does not slow down later collections.
    """
    cache = _cache.get(region)
    if cache is None:
        cache = _cache[region] = {}
    result = cache.get(text)
    if result is None:
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        result = cache[text] = _check_uncached(text, region)
    return result


def _check_uncached(text: str, region: str | None) -> str:
    text = text.strip()
    if text == "" or _SUSPECT.search(text) is not None:
        error = _pre_parse_error(text)
        if error is not None:
            return error
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        return _parse_error(text, region, exc)
    if not phonenumbers.is_valid_number(number):
        return _invalid_error(text, number)
    if number.extension:
        return _extension_error(text, number)

    # The same text as format_number(number, E164) for a valid number, built from the
    # fields because format_number costs more (see `python -m benchmarks`). Only numbers
    # with Italian-style leading zeros need national_significant_number.
    if number.italian_leading_zero:
        return f"+{number.country_code}{phonenumbers.national_significant_number(number)}"
    return f"+{number.country_code}{number.national_number}"


def _pre_parse_error(text: str) -> str | None:
    if text == "":
        return "the phone cell is empty; write the number with its country code, e.g. " + _EXAMPLE
    if _SCIENTIFIC.match(text):
        return (
            f"{text!r} is in scientific notation, so a spreadsheet has rounded away digits; "
            "format the phone column as text, type the numbers again and export again"
        )
    if _FLOAT_SUFFIX.match(text):
        return (
            f"{text!r} ends in a decimal part, so a spreadsheet stored it as a number; "
            "format the phone column as text and export again, or delete the decimal part"
        )
    if _LETTERS.search(text):
        return _letters_error(text)
    return None


def _letters_error(text: str) -> str:
    words = ", ".join(repr(word) for word in _LETTERS.findall(text))
    try:
        # the region only matters for numbers without '+'; extensions are found either way
        extension = phonenumbers.parse(text, "US").extension
    except NumberParseException:
        extension = None
    if extension:
        return (
            f"{text!r} has an extension ({words}), which cannot receive SMS; "
            "write a mobile number with its country code, e.g. " + _EXAMPLE
        )
    hint = ""
    if sum(char.isdigit() for char in text) >= 3:
        digits = phonenumbers.convert_alpha_characters_in_number(text)
        hint = f" (keypad letters would give {digits!r})"
    return (
        f"{text!r} contains letters ({words}); write the number with digits only{hint}, "
        "e.g. " + _EXAMPLE
    )


def _parse_error(text: str, region: str | None, exc: NumberParseException) -> str:
    kind = exc.error_type
    if kind == NumberParseException.INVALID_COUNTRY_CODE:
        return _country_code_error(text, region)
    if kind == NumberParseException.TOO_LONG:
        return (
            f"{text!r} is too long to be a phone number; check for extra digits or for "
            "two numbers in one cell"
        )
    if kind in (NumberParseException.TOO_SHORT_NSN, NumberParseException.TOO_SHORT_AFTER_IDD):
        return f"{text!r} is too short to be a phone number; check for missing digits"
    return f"{text!r} is not a phone number; write digits with the country code, e.g. " + _EXAMPLE


def _country_code_error(text: str, region: str | None) -> str:
    if text.startswith("+"):
        return (
            f"{text!r} starts with an unknown country code; check the digits after '+', "
            "e.g. " + _EXAMPLE
        )
    if text.startswith("00"):
        return (
            f"{text!r} has no '+' before the country code; replace the leading 00 with '+', "
            "e.g. " + _EXAMPLE
        )
    # phonenumbers also raises INVALID_COUNTRY_CODE when the region is missing
    return (
        f"{text!r} has no country code; write it with one, e.g. {_EXAMPLE}, "
        "or set a default region for numbers written without one"
    )


def _invalid_error(text: str, number: phonenumbers.PhoneNumber) -> str:
    code = number.country_code or 0
    region = phonenumbers.region_code_for_country_code(code)
    where = f"+{code}" if region in ("ZZ", "001") else f"{region} (+{code})"
    message = (
        f"{text!r} is not a valid phone number for {where}; check that no digit is missing or extra"
    )
    if text.startswith("00"):
        return message + ", and replace a leading 00 before the country code with '+'"
    if not text.startswith("+"):
        return message + ", and write a number from another country with its country code"
    return message + ", and that the country code is right"


def _extension_error(text: str, number: phonenumbers.PhoneNumber) -> str:
    return (
        f"{text!r} has an extension ({number.extension!r}), which cannot receive SMS; "
        "write a mobile number with its country code, e.g. " + _EXAMPLE
    )
