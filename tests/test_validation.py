"""Tests for smskit.validation: verdicts, duplicates, warnings and the output forms."""

from __future__ import annotations

import csv
import gc
import io
import json
import random
from collections.abc import Iterator
from pathlib import Path

import phonenumbers
import polars as pl
import pytest
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from smskit.errors import InvalidInputError
from smskit.validation import (
    ALREADY_CONTACTED,
    RowVerdict,
    Validation,
    format_table,
    validate_batch,
)

DATA = Path(__file__).parent / "data"

# case column of all_cases.csv -> (verdict without region, verdict with US, message part)
ALL_CASES = {
    "e164-valid": ("valid", "valid", ""),
    "national": ("invalid", "duplicate", ""),
    "invalid-number": ("invalid", "invalid", "'+1234567890' is not a valid phone number"),
    "invalid-number-2": ("invalid", "invalid", "'+1987654321' is not a valid phone number"),
    "letters": ("invalid", "invalid", "contains letters ('FLOWERS')"),
    "scientific": ("invalid", "invalid", "scientific notation"),
    "float-suffix": ("invalid", "invalid", "ends in a decimal part"),
    "empty-phone": ("invalid", "invalid", "the phone cell is empty"),
    "empty-reason": ("invalid", "invalid", "the reason cell is empty"),
    "extra-cells": ("invalid", "invalid", "the row has 4 cells but the header has 3 columns"),
    "extension": ("invalid", "invalid", "has an extension"),
    "double-zero": ("invalid", "invalid", "00"),
    "other-reason": ("duplicate", "duplicate", "with a different reason"),
    "unknown-country-code": ("invalid", "invalid", "unknown country code"),
    "too-long": ("invalid", "invalid", "'12345678901234567890'"),
    "multi-line": ("valid", "valid", ""),
    "trailing-spaces": ("valid", "valid", ""),
    "national-other-country": ("invalid", "invalid", "'07911 123456'"),
}


def _by_case(validation: Validation) -> dict[str, RowVerdict]:
    return {verdict.variables["case"]: verdict for verdict in validation.rows}


@pytest.fixture(scope="module")
def all_cases() -> bytes:
    return (DATA / "all_cases.csv").read_bytes()


def test_all_cases_file_covers_every_case(all_cases: bytes) -> None:
    validation = validate_batch(all_cases)
    assert sorted(_by_case(validation)) == sorted(ALL_CASES)
    assert [verdict.row for verdict in validation.rows] == list(range(1, len(ALL_CASES) + 1))


@pytest.mark.parametrize("case", sorted(ALL_CASES))
def test_validate_batch_all_cases_without_region(all_cases: bytes, case: str) -> None:
    verdict = _by_case(validate_batch(all_cases))[case]
    expected, _, fragment = ALL_CASES[case]
    assert verdict.verdict == expected
    assert fragment in verdict.message


@pytest.mark.parametrize("case", sorted(ALL_CASES))
def test_validate_batch_all_cases_with_region(all_cases: bytes, case: str) -> None:
    verdict = _by_case(validate_batch(all_cases, region="US"))[case]
    _, expected, fragment = ALL_CASES[case]
    assert verdict.verdict == expected
    assert fragment in verdict.message


def test_validate_batch_national_needs_country_code(all_cases: bytes) -> None:
    verdict = _by_case(validate_batch(all_cases))["national"]
    assert verdict.phone is None
    assert "no country code" in verdict.message
    assert "+1 202 555 0143" in verdict.message


def test_validate_batch_clean_file_all_valid() -> None:
    validation = validate_batch((DATA / "clean.csv").read_bytes())
    assert validation.counts == {"valid": 14, "invalid": 0, "duplicate": 0}
    assert all(verdict.message == "" for verdict in validation.rows)
    assert validation.rows[11].phone == "+390669884433"
    assert validation.columns == ["first_name", "city"]


def test_validate_batch_clean_file_matches_bare_phonenumbers() -> None:
    validation = validate_batch((DATA / "clean.csv").read_bytes(), region="GB")
    for verdict in validation.rows:
        number = phonenumbers.parse(verdict.input, "GB")
        assert phonenumbers.is_valid_number(number), verdict.input
        assert verdict.phone == phonenumbers.format_number(number, PhoneNumberFormat.E164)


def test_validate_batch_duplicate_after_normalisation() -> None:
    body = "phone,reason\n+1 202 555 0143,Hello\n(202) 555-0143,Hello\n"
    second = validate_batch(body, region="US").rows[1]
    assert second.verdict == "duplicate"
    assert second.duplicate_of == 1
    assert second.phone == "+12025550143"
    assert "same number as row 1 (+12025550143)" in second.message
    assert "different reason" not in second.message


def test_validate_batch_duplicate_with_other_reason() -> None:
    body = "phone,reason\n+12025550143,Confirm Tuesday\n+1 202 555 0143,Ask about the bill\n"
    second = validate_batch(body).rows[1]
    assert second.verdict == "duplicate"
    assert "different reason" in second.message
    assert "'Confirm Tuesday'" in second.message


def test_validate_batch_first_valid_row_kept() -> None:
    # an invalid row with the number does not count as its first occurrence
    body = "phone,reason\n+12025550143,\n+12025550143,Hello\n+12025550143,Again\n"
    rows = validate_batch(body).rows
    assert [verdict.verdict for verdict in rows] == ["invalid", "valid", "duplicate"]
    assert rows[2].duplicate_of == 2


def test_validate_batch_empty_reason_invalid() -> None:
    verdict = validate_batch("phone,reason\n+12025550143,  \n").rows[0]
    assert verdict.verdict == "invalid"
    assert verdict.phone == "+12025550143"
    assert "the reason cell is empty" in verdict.message


def test_validate_batch_several_problems_in_one_message() -> None:
    verdict = validate_batch("phone,reason\n+1-202-FLOWERS,\n").rows[0]
    assert "contains letters" in verdict.message
    assert "; also the reason cell is empty" in verdict.message


def test_validate_batch_already_contacted_warning() -> None:
    contacted = {"+12025550143": "batch 'March promo' row 4"}
    body = "phone,reason\n+1 202 555 0143,Hello\n+12025550144,Hi\n"
    validation = validate_batch(body, contacted=contacted)
    first, second = validation.rows
    assert first.verdict == "valid"
    assert first.warnings == [ALREADY_CONTACTED]
    assert "batch 'March promo' row 4" in first.message
    assert second.warnings == []
    assert validation.counts == {"valid": 2, "invalid": 0, "duplicate": 0}


def test_validate_batch_contacted_duplicate_notes() -> None:
    contacted = {"+12025550143": "batch 'March promo' row 4"}
    body = "phone,reason\n+12025550143,Hello\n+12025550143,Hello\n"
    second = validate_batch(body, contacted=contacted).rows[1]
    assert second.verdict == "duplicate"
    assert second.warnings == [ALREADY_CONTACTED]
    assert "same number as row 1" in second.message
    assert "'March promo'" in second.message


def test_validate_batch_row_numbers() -> None:
    body = 'phone,reason\n\n+12025550143,"two\nlines"\n\n+12025550144,Hi\n'
    rows = validate_batch(body).rows
    assert [verdict.row for verdict in rows] == [1, 2]
    assert rows[0].reason == "two\nlines"


def test_validate_batch_keeps_variables_and_columns() -> None:
    validation = validate_batch("Mobile,Purpose,first_name,city\n+12025550143,Hi,Ana,Rome\n")
    assert validation.phone_column == "Mobile"
    assert validation.reason_column == "Purpose"
    assert validation.columns == ["first_name", "city"]
    assert validation.rows[0].variables == {"first_name": "Ana", "city": "Rome"}


def test_validate_batch_unknown_region() -> None:
    with pytest.raises(InvalidInputError, match="unknown region 'Narnia'"):
        validate_batch("phone,reason\n+12025550143,Hi\n", region="Narnia")


def test_validate_batch_bad_body_raises() -> None:
    with pytest.raises(InvalidInputError, match="no reason column"):
        validate_batch("phone\n+12025550143\n")


@pytest.mark.parametrize("enabled", [True, False])
def test_validate_batch_restores_garbage_collector(enabled: bool) -> None:
    was_enabled = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        validate_batch("phone,reason\n+12025550143,Hi\n")
        assert gc.isenabled() is enabled
        with pytest.raises(InvalidInputError):
            # the unnamed third column has a value in row 2, which raises inside the loop
            validate_batch("phone,reason,\n+12025550143,Hi,\n+12025550144,Bye,x\n")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was_enabled else gc.disable)()


@pytest.fixture(scope="module")
def mixed() -> Validation:
    body = (
        "phone,reason,city\n"
        "+12025550143,Hello,Paris\n"
        "+1-202-FLOWERS,Hello,Rome\n"
        "+1 202 555 0143,Hello,Oslo\n"
    )
    return validate_batch(body, contacted={"+12025550143": "batch 'March promo' row 4"})


def test_validation_counts(mixed: Validation) -> None:
    assert mixed.counts == {"valid": 1, "invalid": 1, "duplicate": 1}


def test_validation_to_frame(mixed: Validation) -> None:
    frame = mixed.to_frame()
    assert frame.columns == [
        "row",
        "input",
        "phone",
        "reason",
        "verdict",
        "message",
        "warnings",
        "duplicate_of",
    ]
    assert frame.schema["warnings"] == pl.List(pl.String)
    assert frame.schema["duplicate_of"] == pl.Int64
    assert frame["row"].to_list() == [1, 2, 3]
    assert frame["phone"].to_list() == ["+12025550143", None, "+12025550143"]
    assert frame["verdict"].to_list() == ["valid", "invalid", "duplicate"]
    assert frame["duplicate_of"].to_list() == [None, None, 1]
    assert frame["warnings"].to_list() == [[ALREADY_CONTACTED], [], [ALREADY_CONTACTED]]


def test_validation_to_frame_empty_warnings_typed() -> None:
    frame = validate_batch("phone,reason\n+12025550143,Hi\n").to_frame()
    assert frame.schema["warnings"] == pl.List(pl.String)
    assert frame["warnings"].to_list() == [[]]


def test_validation_to_json(mixed: Validation) -> None:
    data = mixed.to_json()
    assert json.loads(json.dumps(data)) == data
    assert (data["valid"], data["invalid"], data["duplicate"]) == (1, 1, 1)
    assert data["columns"] == ["city"]
    assert set(data["rows"][0]) == {
        "row",
        "input",
        "phone",
        "verdict",
        "message",
        "warnings",
        "reason",
        "duplicate_of",
    }
    assert data["rows"][2]["duplicate_of"] == 1
    assert data["rows"][1]["phone"] is None
    assert data["rows"][0]["warnings"] == [ALREADY_CONTACTED]


def test_validation_counts_follow_changed_verdicts(mixed: Validation) -> None:
    validation = validate_batch("phone,reason\n+12025550143,Hi\n")
    validation.rows[0].verdict = "duplicate"
    assert validation.counts == {"valid": 0, "invalid": 0, "duplicate": 1}


def test_format_table_lists_rows_and_summary(mixed: Validation) -> None:
    lines = format_table(mixed).splitlines()
    assert lines[0].split() == ["row", "verdict", "phone", "message"]
    assert lines[1].split()[:3] == ["1", "valid", "+12025550143"]
    assert lines[2].split()[:3] == ["2", "invalid", "+1-202-FLOWERS"]
    assert "contains letters" in lines[2]
    assert lines[3].split()[:3] == ["3", "duplicate", "+12025550143"]
    assert lines[-1].startswith("3 rows: 1 valid, 1 invalid, 1 duplicate")
    assert "'city'" in lines[-1]


def test_format_table_problems_only() -> None:
    body = "phone,reason\n+12025550143,Hi\n+1-202-FLOWERS,Hi\n"
    lines = format_table(validate_batch(body), problems_only=True).splitlines()
    assert len(lines) == 3
    assert lines[1].split()[1] == "invalid"


def test_format_table_long_input_shortened() -> None:
    text = format_table(validate_batch("phone,reason\n" + "1" * 60 + ",Hi\n"))
    row_line = text.splitlines()[1]
    assert "1" * 23 + "…" in row_line
    assert "1" * 24 + " " not in row_line


def _many_country_csv(seed: int) -> tuple[str, list[str]]:
    """Return a CSV of example numbers from every region, formatted and mutated, and cells."""
    rng = random.Random(seed)
    cells: list[str] = []
    kinds = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in kinds:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            for style in (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL):
                text = phonenumbers.format_number(number, style)
                cells.append(text)
                cells.append(_mutate(rng, text))
            cells.append(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Phone Number", "Reason"])
    writer.writerows([cell, "Check the number"] for cell in cells)
    return out.getvalue(), cells


def _mutate(rng: random.Random, text: str) -> str:
    """Drop, add or change one digit after the country code."""
    digits = [i for i, char in enumerate(text) if char.isdigit()][3:]
    position = rng.choice(digits)
    change = rng.choice(("drop", "add", "swap"))
    if change == "drop":
        return text[:position] + text[position + 1 :]
    if change == "add":
        return text[:position] + rng.choice("0123456789") + text[position:]
    return text[:position] + str((int(text[position]) + 1) % 10) + text[position + 1 :]


def _bare(text: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _pairs(validation: Validation, cells: list[str], region: str | None) -> Iterator[tuple]:
    for verdict, cell in zip(validation.rows, cells, strict=True):
        ours = verdict.phone if verdict.verdict in ("valid", "duplicate") else None
        yield cell, ours, _bare(cell, region)


@pytest.mark.parametrize("region", [None, "US", "DE", "IN"])
def test_validate_batch_many_countries_match_bare(region: str | None) -> None:
    body, cells = _many_country_csv(seed=7)
    validation = validate_batch(body, region=region)
    assert len(validation.rows) == len(cells) > 2000
    mismatches = [pair for pair in _pairs(validation, cells, region) if pair[1] != pair[2]]
    assert mismatches == []
    counts = validation.counts
    assert counts["valid"] > 500
    assert counts["invalid"] > 500
