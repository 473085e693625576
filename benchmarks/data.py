"""Generate realistic CSV batches for the benchmarks.

`generate_batch_csv(rows, seed)` writes a header `Phone Number,Reason,first_name,city` and
`rows` data rows with CRLF line endings, as a spreadsheet exports them. About half the numbers
are US numbers, mostly in national format such as `(202) 555-0143`, which needs the default
region US. The rest are mobile numbers from ten other countries in E.164 or international
format. Exactly
`expected_counts(rows)["invalid"]` rows are invalid and `expected_counts(rows)["duplicate"]`
repeat an earlier valid number, half of them in another format. The same seed always gives
the same text.
"""

from __future__ import annotations

import csv
import io
import random

import phonenumbers
from phonenumbers import PhoneNumberFormat

INVALID_SHARE = 0.05
DUPLICATE_SHARE = 0.05

# Countries other than the US, with the share of numbers each gets.
_COUNTRIES = {
    "GB": 8,
    "DE": 6,
    "FR": 6,
    "IN": 6,
    "BR": 5,
    "MX": 4,
    "AU": 4,
    "ES": 4,
    "IT": 4,
    "CA": 3,
}
_US_SHARE = 50
_US_AREA_CODES = ("202", "212", "305", "310", "404", "415", "512", "617", "718", "206")

_FIRST_NAMES = ("Ana", "Ben", "Chloé", "Dmitri", "Emeka", "Fatima", "Grace", "Hiro", "Inès", "Jon")
_CITIES = ("Washington", "London", "Berlin", "Lyon", "Mumbai", "São Paulo", "Sydney", "Madrid")
_REASONS = (
    "Confirm the appointment on Tuesday at 10:00",
    "Remind about the unpaid invoice, ask when they can pay",
    "Ask how the new router works, offer a technician visit",
    "Renewal reminder: the plan ends on the 31st",
    'Follow up on the "Spring sale" order',
    "Collect feedback on the last delivery;\nask for a 1-5 rating",
)


def expected_counts(rows: int) -> dict[str, int]:
    """Return the valid, invalid and duplicate counts that `generate_batch_csv` produces."""
    invalid = round(rows * INVALID_SHARE)
    duplicate = round(rows * DUPLICATE_SHARE)
    return {"valid": rows - invalid - duplicate, "invalid": invalid, "duplicate": duplicate}


def generate_batch_csv(rows: int, seed: int) -> str:
    """Return a CSV batch body of `rows` data rows with 5% invalid and 5% duplicate rows."""
    rng = random.Random(seed)
    counts = expected_counts(rows)
    kinds = ["valid"] * counts["valid"] + ["invalid"] * counts["invalid"]
    kinds += ["duplicate"] * counts["duplicate"]
    # the first row is always valid so that every duplicate has an earlier row to repeat
    rest = kinds[1:]
    rng.shuffle(rest)
    kinds = kinds[:1] + rest

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Phone Number", "Reason", "first_name", "city"])
    used: set[tuple[int, int]] = set()
    written: list[phonenumbers.PhoneNumber] = []
    for kind in kinds:
        if kind == "valid":
            number = _new_valid_number(rng, used)
            written.append(number)
            cell = _format_valid(rng, number)
        elif kind == "duplicate":
            number = rng.choice(written)
            cell = _format_valid(rng, number)
        else:
            cell = _invalid_cell(rng)
        # a valid phone cell in an invalid row: the row is invalid for its empty reason
        reason = "" if kind == "invalid" and cell.startswith("+1 ") else rng.choice(_REASONS)
        writer.writerow([cell, reason, rng.choice(_FIRST_NAMES), rng.choice(_CITIES)])
    return out.getvalue()


def _new_valid_number(rng: random.Random, used: set[tuple[int, int]]) -> phonenumbers.PhoneNumber:
    regions = ["US", *_COUNTRIES]
    weights = [_US_SHARE, *_COUNTRIES.values()]
    for _ in range(1000):
        region = rng.choices(regions, weights)[0]
        number = _random_number(rng, region)
        key = (number.country_code or 0, number.national_number or 0)
        if key not in used and phonenumbers.is_valid_number(number):
            used.add(key)
            return number
    raise RuntimeError("no new valid number in 1000 tries; widen the number ranges")


def _random_number(rng: random.Random, region: str) -> phonenumbers.PhoneNumber:
    if region == "US":
        exchange = rng.randrange(200, 1000)
        nsn = f"{rng.choice(_US_AREA_CODES)}{exchange}{rng.randrange(10_000):04d}"
        return phonenumbers.PhoneNumber(country_code=1, national_number=int(nsn))
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None and example.national_number is not None
    nsn = str(example.national_number)
    # keep the operator prefix of the example mobile number and vary the subscriber digits
    tail = 6 if len(nsn) >= 9 else 4
    digits = nsn[:-tail] + "".join(rng.choice("0123456789") for _ in range(tail))
    return phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int(digits))


def _format_valid(rng: random.Random, number: phonenumbers.PhoneNumber) -> str:
    nsn = phonenumbers.national_significant_number(number)
    padding = " " if rng.random() < 0.03 else ""
    if number.country_code == 1 and nsn[:3] in _US_AREA_CODES:
        area, exchange, line = nsn[:3], nsn[3:6], nsn[6:]
        text = rng.choice(
            (
                f"({area}) {exchange}-{line}",
                f"{area}-{exchange}-{line}",
                f"{area}.{exchange}.{line}",
                f"+1 {area} {exchange} {line}",
                f"+1{nsn}",
                f"1 ({area}) {exchange}-{line}",
            )
        )
    elif rng.random() < 0.5:
        text = f"+{number.country_code}{nsn}"
    else:
        text = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    return text + padding


def _invalid_cell(rng: random.Random) -> str:
    """Return a phone cell that is invalid with the default region US."""
    area = rng.choice(_US_AREA_CODES)
    line = f"{rng.randrange(10_000):04d}"
    kinds = (
        f"({area}) 555-{line[:3]}",  # a digit missing
        f"+1{rng.randrange(10**8, 10**9)}",  # nine digits after +1
        f"+1-{area}-FLOWERS",
        f"1.{area}55E+10",
        f"1{area}555{line}.0",
        "",
        f"07{rng.randrange(10**8, 10**9)}",  # a UK mobile without +44
        f"+1 {area} 555 {line}",  # a valid number, written with an empty reason
    )
    return rng.choice(kinds)
