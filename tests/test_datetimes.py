from datetime import date, time

import pytest

from smskit.agents.datetimes import find_dates, find_numbers, find_times
from smskit.keywords import normalise_text

MONDAY = date(2026, 3, 2)


def dates(text: str, *, month_first: bool = False, reference: date = MONDAY) -> list[date]:
    found = find_dates(normalise_text(text), reference, month_first=month_first)
    return [item.value for item in found]


def times(text: str) -> list[time]:
    return [item.value for item in find_times(normalise_text(text))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today works", date(2026, 3, 2)),
        ("tomorrow please", date(2026, 3, 3)),
        ("the day after tomorrow", date(2026, 3, 4)),
        ("mañana", date(2026, 3, 3)),
        ("pasado mañana", date(2026, 3, 4)),
        ("demain", date(2026, 3, 3)),
        ("après-demain", date(2026, 3, 4)),
        ("morgen früh", date(2026, 3, 3)),
        ("übermorgen", date(2026, 3, 4)),
        ("Thursday", date(2026, 3, 5)),
        ("Monday", date(2026, 3, 9)),
        ("jueves", date(2026, 3, 5)),
        ("vendredi", date(2026, 3, 6)),
        ("Donnerstag", date(2026, 3, 5)),
        ("March 5", date(2026, 3, 5)),
        ("Mar 5th", date(2026, 3, 5)),
        ("5th of March", date(2026, 3, 5)),
        ("el 5 de marzo", date(2026, 3, 5)),
        ("le 1er avril", date(2026, 4, 1)),
        ("am 5. März", date(2026, 3, 5)),
        ("2026-04-01", date(2026, 4, 1)),
        ("05.03.2026", date(2026, 3, 5)),
        ("5.3.", date(2026, 3, 5)),
        ("25/3", date(2026, 3, 25)),
        ("March 5, 2027", date(2027, 3, 5)),
    ],
)
def test_find_dates_values(text, expected):
    assert dates(text) == [expected]


def test_find_dates_slash_order_by_region():
    assert dates("5/3") == [date(2026, 3, 5)]
    assert dates("5/3", month_first=True) == [date(2026, 5, 3)]


def test_find_dates_nearest_year():
    december = date(2026, 12, 20)
    assert dates("Jan 5", reference=december) == [date(2027, 1, 5)]
    assert dates("Dec 1", reference=december) == [date(2026, 12, 1)]


def test_find_dates_morning_is_not_tomorrow():
    assert dates("por la mañana") == []
    assert dates("Guten Morgen") == []


def test_find_dates_explicit_flag():
    found = find_dates(normalise_text("Thursday, March 12"), MONDAY)
    assert [item.explicit for item in found] == [False, True]
    assert found[1].value == date(2026, 3, 12)


def test_find_dates_invalid_dates_skipped():
    assert dates("February 30") == []
    assert dates("13/13") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3pm", time(15, 0)),
        ("3 p.m.", time(15, 0)),
        ("10am", time(10, 0)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("4:30pm", time(16, 30)),
        ("15:00", time(15, 0)),
        ("3:30", time(15, 30)),
        ("03:30", time(3, 30)),
        ("10:15", time(10, 15)),
        ("15h30", time(15, 30)),
        ("9h", time(9, 0)),
        ("15 Uhr", time(15, 0)),
        ("16:30 Uhr", time(16, 30)),
        ("at 3", time(15, 0)),
        ("at 9", time(9, 0)),
        ("a las 4 de la tarde", time(16, 0)),
        ("a las 10", time(10, 0)),
        ("vers 9h", time(9, 0)),
        ("um 3 am Freitag", time(15, 0)),
        ("at 7 in the morning", time(7, 0)),
        ("noon", time(12, 0)),
        ("midi", time(12, 0)),
        ("midnight", time(0, 0)),
    ],
)
def test_find_times_values(text, expected):
    assert times(text) == [expected]


@pytest.mark.parametrize(
    "text",
    ["table for 2 people", "around 20 minutes", "5/3", "2026-04-01", "at 2 people", "5 stars"],
)
def test_find_times_not_times(text):
    assert times(text) == []


def test_find_numbers_skips_spans():
    text = normalise_text("Thursday at 3pm, 2 people")
    skip = [(item.start, item.end) for item in find_times(text)]
    values = [item.value for item in find_numbers(text, skip)]
    assert values == [2.0]


def test_find_numbers_words_and_decimals():
    found = find_numbers(normalise_text("twenty guests, 2,5 hours, une table"), [])
    assert [item.value for item in found] == [20.0, 2.5, 1.0]
    assert [item.explicit for item in found] == [True, True, False]
