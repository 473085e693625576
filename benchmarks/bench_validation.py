"""Validation speed: `validate_batch` against bare phonenumbers calls on the same cells.

The baseline is the least any validation must do: `phonenumbers.parse(cell, "US")` and
`phonenumbers.is_valid_number` for every phone cell of the batch. `validate_batch` adds CSV
decoding, E.164 formatting, duplicate detection and one verdict object per row. The goal is
that all of this costs at most 30% on top. Both run three times, alternately, in the same
process, and the figure is the ratio of the medians of their CPU times. The phone cache is
cleared before every run, so repeated numbers are cached only within one run, as in real use.
"""

from __future__ import annotations

import csv
import io
import statistics

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from benchmarks.data import expected_counts, generate_batch_csv
from benchmarks.harness import Figure, median_seconds, meets_goal, timed_seconds
from smskit.phones import clear_cache
from smskit.validation import validate_batch

SEED = 20260302
REGION = "US"
GOAL = "<= 1.3"
RUNS = 3


def run(quick: bool) -> list[Figure]:
    """Measure validation of a generated batch against bare phonenumbers calls."""
    rows = 10_000 if quick else 100_000
    label = f"{rows // 1000}k"
    body = generate_batch_csv(rows, SEED)
    cells = _phone_cells(body)

    # warm-up: phonenumbers loads each region's metadata on first use
    _bare(cells[:2000])
    validate_batch("\n".join(body.splitlines()[:2001]), region=REGION)

    bare_times: list[float] = []
    ours_times: list[float] = []
    for run_index in range(RUNS):
        # alternate which side goes first, so a slow start or end of the run hits both
        if run_index % 2 == 0:
            bare_times.append(timed_seconds(lambda: _bare(cells))[0])
        seconds, validation = timed_seconds(
            lambda: validate_batch(body, region=REGION), setup=clear_cache
        )
        ours_times.append(seconds)
        _check_counts(validation.counts, expected_counts(rows))
        del validation
        if run_index % 2 == 1:
            bare_times.append(timed_seconds(lambda: _bare(cells))[0])
    bare = statistics.median(bare_times)
    ours = statistics.median(ours_times)
    ratio = ours / bare
    return [
        Figure(
            f"validate {label} rows / bare phonenumbers",
            ratio,
            "x",
            goal=GOAL,
            baseline=f"bare {bare:.2f} s, validate {ours:.2f} s",
            passed=meets_goal(ratio, GOAL),
        ),
        Figure(
            f"validate {label} rows", rows / ours, "rows/s", baseline=f"bare {rows / bare:,.0f}"
        ),
        *_e164_figures(cells),
    ]


def _phone_cells(body: str) -> list[str]:
    reader = csv.reader(io.StringIO(body, newline=""))
    next(reader)
    return [row[0] for row in reader if any(cell.strip() for cell in row)]


def _bare(cells: list[str]) -> int:
    valid = 0
    for cell in cells:
        try:
            valid += phonenumbers.is_valid_number(phonenumbers.parse(cell, REGION))
        except NumberParseException:
            pass
    return valid


def _check_counts(counts: dict[str, int], expected: dict[str, int]) -> None:
    if counts != expected:
        raise RuntimeError(
            f"validate_batch counted {counts} on the generated batch, expected {expected}; "
            "the generator or the validation is wrong"
        )


def _e164_figures(cells: list[str]) -> list[Figure]:
    """Compare format_number(E164) with building the text from the number's fields."""
    numbers = []
    for cell in cells[:20_000]:
        try:
            number = phonenumbers.parse(cell, REGION)
        except NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            numbers.append(number)

    def by_format_number() -> list[str]:
        return [phonenumbers.format_number(number, PhoneNumberFormat.E164) for number in numbers]

    def by_fields() -> list[str]:
        return [
            f"+{number.country_code}{phonenumbers.national_significant_number(number)}"
            if number.italian_leading_zero
            else f"+{number.country_code}{number.national_number}"
            for number in numbers
        ]

    per_number = 1e6 / len(numbers)
    formatted = median_seconds(by_format_number, repeat=RUNS) * per_number
    built = median_seconds(by_fields, repeat=RUNS) * per_number
    return [
        Figure(
            "E.164 text by format_number",
            formatted,
            "µs/number",
            baseline=f"from fields {built:.2f} µs (used)",
        )
    ]
