"""Find dates, times and numbers in short messages in English, Spanish, French and German.

The parsers work on text normalised by `smskit.keywords.normalise_text` (lower case, no
accents). Each finder returns matches with their character spans, so a caller can tell which
digits belong to a date or a time and which are plain numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Generic, TypeVar

T = TypeVar("T")

_MONTHS = {
    # English
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
    # Spanish
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12,
    # French
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
    # German
    "januar": 1, "jaenner": 1, "februar": 2, "marz": 3, "maerz": 3, "juni": 6, "juli": 7,
    "oktober": 10, "dezember": 12,
}  # fmt: skip

_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "tues": 1, "wednesday": 2, "weds": 2, "thursday": 3,
    "thurs": 3, "friday": 4, "saturday": 5, "sunday": 6,
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5,
    "domingo": 6,
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5,
    "dimanche": 6,
    "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4, "samstag": 5,
    "sonnabend": 5, "sonntag": 6,
}  # fmt: skip

# Words for "today", "tomorrow" and "the day after tomorrow", as days from the message date.
# "manana" and "morgen" also mean "morning", so the patterns skip "la manana" and "guten morgen".
_RELATIVE = [
    (re.compile(r"\b(day after tomorrow|pasado manana|apres[- ]demain|ubermorgen)\b"), 2),
    (re.compile(r"\b(tomorrow|demain)\b"), 1),
    (re.compile(r"(?<!la )(?<!esta )\bmanana\b"), 1),
    (re.compile(r"(?<!guten )(?<!am )(?<!jeden )(?<!heute )\bmorgen\b"), 1),
    (re.compile(r"\b(today|tonight|this (morning|afternoon|evening)|hoy|aujourd'hui|ce soir|"
                r"cet apres-midi|heute)\b"), 0),
]  # fmt: skip

_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY = r"(\d{1,2})(?:st|nd|rd|th|er|\.)?"
_MONTH_FIRST = re.compile(rf"\b({_MONTH_NAMES})\.? {_DAY}\b(?:,? (\d{{4}}))?")
_DAY_FIRST = re.compile(rf"\b{_DAY} (?:of |de )?({_MONTH_NAMES})\b\.?(?:,? (?:de )?(\d{{4}}))?")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_SLASH_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b")
_DOTTED_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})?(?!\d)")
_WEEKDAY = re.compile(r"\b(" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")s?\b")

_MERIDIEM = re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?\s?m\b\.?")
_CLOCK = re.compile(r"(?<![\d/.:-])(\d{1,2}):(\d{2})(?![\d/])")
_FRENCH_H = re.compile(r"\b(\d{1,2})\s?h\s?(\d{2})?\b")
_GERMAN_UHR = re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))?\s?uhr\b")
# Words after a number that make it a quantity, not an hour: "at 2 people", "around 20 minutes".
_UNITS = (
    r"%|percent|people|persons|guests|adults|kids|children|seats|tickets|items?|stars?|times|"
    r"nights?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|euros?|dollars?|usd|eur|"
    r"personas|minutos|horas|dias|semanas|meses|anos|estrellas|veces|personnes|heures|jours|"
    r"semaines|mois|ans|etoiles|fois|personen|minuten|stunden|tage|wochen|monate|jahre|sterne|mal"
)
_AFTER_PREPOSITION = re.compile(
    r"\b(?:at|around|a las|a la|sobre las|hacia las|vers|um|gegen)\s(\d{1,2})"
    rf"(?![\d/.:,]\d|\s?(?:{_UNITS})\b)\b"
)
# "am" after a bare number is German "am Freitag", not a.m.: "um 3 am Freitag"
_GERMAN_AM = re.compile(r"\s(" + "|".join(_WEEKDAYS) + r"|\d)")
_NOON = re.compile(r"\b(noon|midday|mediodia|midi|mittag|mittags)\b")
_MIDNIGHT = re.compile(r"\b(midnight|medianoche|minuit|mitternacht)\b")
_MORNING_AFTER = re.compile(
    r"^\s*(in the morning|de la manana|du matin|morgens|am morgen|frueh|fruh)\b"
)
_EVENING_AFTER = re.compile(
    r"^\s*(in the (afternoon|evening)|tonight|de la tarde|de la noche|de l'apres-midi|du soir|"
    r"nachmittags|abends|am nachmittag|am abend)\b"
)

_NUMBER = re.compile(r"(?<![\d.,])(\d+(?:[.,]\d+)?)(?![\d]|[.,]\d)")
_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100,
    "cero": 0, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "veinte": 20,
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8,
    "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "vingt": 20,
    "null": 0, "eins": 1, "ein": 1, "eine": 1, "zwei": 2, "drei": 3, "vier": 4, "funf": 5,
    "fuenf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "elf": 11,
    "zwolf": 12, "zwanzig": 20,
}  # fmt: skip
# Number words that are also articles or common words ("un rendez-vous", "once a week"). They
# count only next to a word of the property they fill, never on their own.
_AMBIGUOUS_NUMBER_WORDS = frozenset(
    {"one", "un", "une", "uno", "una", "ein", "eine", "once", "sept", "null", "elf"}
)
_NUMBER_WORD = re.compile(r"\b(" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\b")


@dataclass(frozen=True)
class Found(Generic[T]):
    """A value found in a text, with the span of the text it was read from."""

    value: T
    start: int
    end: int
    explicit: bool = True


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _nearest_year(reference: date, month: int, day: int) -> date | None:
    """Return the date with this month and day that is nearest to the reference date."""
    options = [_make_date(reference.year + delta, month, day) for delta in (-1, 0, 1)]
    valid = [option for option in options if option is not None]
    if not valid:
        return None
    return min(valid, key=lambda option: (abs((option - reference).days), option < reference))


def _full_year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def _explicit_dates(text: str, reference: date, month_first: bool) -> list[Found[date]]:
    found: list[Found[date]] = []
    for match in _ISO_DATE.finditer(text):
        value = _make_date(int(match[1]), int(match[2]), int(match[3]))
        if value is not None:
            found.append(Found(value, match.start(), match.end()))
    for match in _MONTH_FIRST.finditer(text):
        _add_named(found, match, reference, match[1], match[2], match[3])
    for match in _DAY_FIRST.finditer(text):
        _add_named(found, match, reference, match[2], match[1], match[3])
    for match in _SLASH_DATE.finditer(text):
        _add_numeric(found, match, reference, month_first)
    for match in _DOTTED_DATE.finditer(text):
        # "5.3." or "05.03.2026" in German style: day first
        if match[3] is not None or text[match.end() - 1] == ".":
            _add_numeric(found, match, reference, False)
    return found


def _add_named(
    found: list[Found[date]],
    match: re.Match[str],
    reference: date,
    month_name: str,
    day: str,
    year: str | None,
) -> None:
    month = _MONTHS[month_name]
    if year is not None:
        value = _make_date(int(year), month, int(day))
    else:
        value = _nearest_year(reference, month, int(day))
    if value is not None and not _overlaps(found, match.start(), match.end()):
        found.append(Found(value, match.start(), match.end()))


def _add_numeric(
    found: list[Found[date]], match: re.Match[str], reference: date, month_first: bool
) -> None:
    first, second = int(match[1]), int(match[2])
    month, day = (first, second) if month_first else (second, first)
    # an order that gives no valid month is read the other way ("25/3" is 25 March anywhere)
    if month > 12 >= day:
        month, day = day, month
    if match[3] is not None:
        value = _make_date(_full_year(match[3]), month, day)
    else:
        value = _nearest_year(reference, month, day)
    if value is not None and not _overlaps(found, match.start(), match.end()):
        found.append(Found(value, match.start(), match.end()))


def _overlaps(found: list[Found[date]] | list[Found[time]], start: int, end: int) -> bool:
    return any(item.start < end and start < item.end for item in found)


def find_dates(text: str, reference: date, *, month_first: bool = False) -> list[Found[date]]:
    """Find the dates in a normalised text, in order of position.

    Relative words ("tomorrow", "demain") and weekday names are resolved against `reference`,
    the local date of the message. A weekday is its next occurrence after that date. A date
    without a year is the one nearest to `reference`. `month_first` reads "5/3" as 3 May
    (North American order), and otherwise it is 5 March. Matches from relative words and weekday
    names have `explicit` set to False.
    """
    found = _explicit_dates(text, reference, month_first)
    for pattern, days in _RELATIVE:
        for match in pattern.finditer(text):
            if not _overlaps(found, match.start(), match.end()):
                value = reference + timedelta(days=days)
                found.append(Found(value, match.start(), match.end(), explicit=False))
    for match in _WEEKDAY.finditer(text):
        if not _overlaps(found, match.start(), match.end()):
            ahead = (_WEEKDAYS[match[1]] - reference.weekday() - 1) % 7 + 1
            value = reference + timedelta(days=ahead)
            found.append(Found(value, match.start(), match.end(), explicit=False))
    return sorted(found, key=lambda item: item.start)


def _with_day_part(hour: int, minute: int, rest: str, *, assume_afternoon: bool) -> time | None:
    """Apply "in the morning" or "in the evening" words that follow a bare hour."""
    if _EVENING_AFTER.match(rest) and hour < 12:
        hour += 12
    elif _MORNING_AFTER.match(rest):
        pass
    elif assume_afternoon and 1 <= hour <= 7:
        # appointments and calls happen in the day: "at 3" means 15:00, "at 9" means 09:00
        hour += 12
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _meridiem_times(text: str) -> list[Found[time]]:
    """Find 12-hour times: "3pm", "3:30 p.m.", "10 am"."""
    found: list[Found[time]] = []
    for match in _MERIDIEM.finditer(text):
        hour, minute = int(match[1]), int(match[2] or 0)
        if match[0].endswith(" am") and _GERMAN_AM.match(text, match.end()):
            continue
        if 1 <= hour <= 12 and minute <= 59:
            hour = hour % 12 + (12 if match[3] == "p" else 0)
            found.append(Found(time(hour, minute), match.start(), match.end()))
    return found


def find_times(text: str) -> list[Found[time]]:
    """Find the times of day in a normalised text, in order of position.

    "3pm", "3:30 p.m.", "15:00", "15h30", "15 Uhr", "noon" and a bare hour after a
    preposition ("at 3", "a las 3", "um 3") are times. A bare hour from 1 to 7 without a
    morning word is taken as afternoon, as is "3:30" without a leading zero.
    """
    found = _meridiem_times(text)
    patterns = [(_GERMAN_UHR, False), (_FRENCH_H, False), (_CLOCK, True)]
    for pattern, afternoon_guess in patterns:
        for match in pattern.finditer(text):
            if _overlaps(found, match.start(), match.end()):
                continue
            guess = afternoon_guess and not match[1].startswith("0")
            value = _with_day_part(
                int(match[1]), int(match[2] or 0), text[match.end() :], assume_afternoon=guess
            )
            if value is not None:
                found.append(Found(value, match.start(), match.end()))
    for match in _AFTER_PREPOSITION.finditer(text):
        if _overlaps(found, match.start(1), match.end(1)):
            continue
        value = _with_day_part(int(match[1]), 0, text[match.end() :], assume_afternoon=True)
        if value is not None:
            found.append(Found(value, match.start(1), match.end()))
    for pattern, value in ((_NOON, time(12, 0)), (_MIDNIGHT, time(0, 0))):
        for match in pattern.finditer(text):
            if not _overlaps(found, match.start(), match.end()):
                found.append(Found(value, match.start(), match.end()))
    return sorted(found, key=lambda item: item.start)


def find_numbers(text: str, skip: list[tuple[int, int]]) -> list[Found[float]]:
    """Find numbers written in digits or as number words, outside the `skip` spans.

    A decimal comma ("2,5") counts as a decimal point. Number words that are also articles
    ("un", "eine") are returned with `explicit` set to False.
    """
    found: list[Found[float]] = []
    for match in _NUMBER.finditer(text):
        if not any(start < match.end() and match.start() < end for start, end in skip):
            value = float(match[1].replace(",", "."))
            found.append(Found(value, match.start(), match.end()))
    for match in _NUMBER_WORD.finditer(text):
        if not any(start < match.end() and match.start() < end for start, end in skip):
            word = match[1]
            explicit = word not in _AMBIGUOUS_NUMBER_WORDS
            found.append(Found(float(_NUMBER_WORDS[word]), match.start(), match.end(), explicit))
    return sorted(found, key=lambda item: item.start)
