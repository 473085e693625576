from datetime import date, time

import pytest

from smskit.agents.when import When, find_when, format_when, strip_when

MONDAY = date(2026, 3, 2)
THURSDAY = date(2026, 3, 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes, Thursday at 10am works for me.", When(THURSDAY, False, time(10, 0))),
        ("Sí, el jueves a las 16:30 me viene bien.", When(THURSDAY, False, time(16, 30))),
        ("Oui, jeudi à 15h, ça me va.", When(THURSDAY, False, time(15, 0))),
        ("Ja, Donnerstag um 10 Uhr passt mir.", When(THURSDAY, False, time(10, 0))),
        ("I'll pay on March 20", When(date(2026, 3, 20), True, None)),
        ("at 4:30pm please", When(None, False, time(16, 30))),
        ("tomorrow", When(date(2026, 3, 3), False, None)),
    ],
)
def test_find_when_cases(text, expected):
    assert find_when(text, MONDAY) == expected


def test_find_when_none_without_day_or_time():
    assert find_when("Yes, please go ahead", MONDAY) is None


def test_find_when_month_first():
    assert find_when("5/3", MONDAY, month_first=True) == When(date(2026, 5, 3), True, None)
    assert find_when("5/3", MONDAY) == When(date(2026, 3, 5), True, None)


@pytest.mark.parametrize(
    ("language", "plain", "with_preposition"),
    [
        ("en", "Thursday at 4:30pm", "on Thursday at 4:30pm"),
        ("es", "el jueves a las 16:30", "el jueves a las 16:30"),
        ("fr", "jeudi à 16h30", "jeudi à 16h30"),
        ("de", "Donnerstag um 16:30 Uhr", "am Donnerstag um 16:30 Uhr"),
        ("pt", "Thursday at 4:30pm", "on Thursday at 4:30pm"),
    ],
)
def test_format_when_weekday_and_time(language, plain, with_preposition):
    when = When(THURSDAY, False, time(16, 30))
    assert format_when(when, language) == plain
    assert format_when(when, language, with_preposition=True) == with_preposition


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "March 20"), ("es", "el 20 de marzo"), ("fr", "le 20 mars"), ("de", "20. März")],
)
def test_format_when_named_date(language, expected):
    assert format_when(When(date(2026, 3, 20), True, None), language) == expected


@pytest.mark.parametrize(
    ("at", "language", "expected"),
    [
        (time(12, 0), "en", "at 12pm"),
        (time(0, 15), "en", "at 12:15am"),
        (time(9, 0), "en", "at 9am"),
        (time(1, 0), "es", "a la 1:00"),
        (time(15, 0), "fr", "à 15h"),
        (time(15, 0), "de", "um 15 Uhr"),
    ],
)
def test_format_when_times(at, language, expected):
    assert format_when(When(None, False, at), language) == expected


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("your boiler service appointment next Tuesday morning", "your boiler service appointment"),
        ("your boiler service appointment on Monday at 9am", "your boiler service appointment"),
        ("your meter reading visit on Wednesday", "your meter reading visit"),
        ("your visit on March 5, with Dr. Lee", "your visit, with Dr. Lee"),
        ("your cleaning", "your cleaning"),
        ("tu cita del miércoles", "tu cita del"),
        ("Termin in der Hauptstraße am Freitag", "Termin in der Hauptstraße am Freitag"),
    ],
)  # fmt: skip
def test_strip_when_cases(phrase, expected):
    assert strip_when(phrase, MONDAY) == expected


def test_when_differs_from():
    thursday_ten = When(THURSDAY, False, time(10, 0))
    assert thursday_ten.differs_from(When(date(2026, 3, 3), False, None))
    assert thursday_ten.differs_from(When(None, False, time(9, 0)))
    assert not thursday_ten.differs_from(When(THURSDAY, False, None))
    assert not thursday_ten.differs_from(When(None, False, None))
