"""Read the day and time in a message and write them back in English, Spanish, French or German.

The offline agent uses this to repeat what the recipient proposed ("Thursday at 10am") in its
confirmations and summaries, and to drop the day and time from a phrase of the reason when
the recipient chose another one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time

from smskit.agents.datetimes import find_dates, find_times
from smskit.keywords import normalise_text

_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
}
_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
}
# Words around a day or time in an English phrase, dropped with it: "on Monday morning".
_BEFORE = re.compile(r"(?:\b(?:on|at|for|by|from|next|this|coming|the)\s+)+$")
_AFTER = re.compile(r"^\s+(?:morning|afternoon|evening|night)\b")


@dataclass(frozen=True)
class When:
    """A day and a time of day, either of which may be missing.

    `named` is True for a date written with its month ("March 5") and False for a weekday
    or a relative word ("Thursday", "tomorrow"), which are written back as weekdays.
    """

    day: date | None
    named: bool
    at: time | None

    def differs_from(self, other: When) -> bool:
        """Return whether the two name different days, or different times of day."""
        days = self.day is not None and other.day is not None and self.day != other.day
        times = self.at is not None and other.at is not None and self.at != other.at
        return days or times


def find_when(text: str, reference: date, *, month_first: bool = False) -> When | None:
    """Return the first day and time named in a text, or None when it names neither."""
    normalised = normalise_text(text)
    dates = find_dates(normalised, reference, month_first=month_first)
    times = find_times(normalised)
    if not dates and not times:
        return None
    day = dates[0] if dates else None
    return When(
        day=day.value if day else None,
        named=bool(day and day.explicit),
        at=times[0].value if times else None,
    )


def _english_time(at: time) -> str:
    hour = at.hour % 12 or 12
    suffix = "am" if at.hour < 12 else "pm"
    return f"{hour}{suffix}" if at.minute == 0 else f"{hour}:{at.minute:02d}{suffix}"


def _day_text(when: When, language: str) -> str:
    assert when.day is not None
    if not when.named:
        return _WEEKDAYS[language][when.day.weekday()]
    month = _MONTHS[language].split()[when.day.month - 1]
    if language == "en":
        return f"{month} {when.day.day}"
    if language == "es":
        return f"el {when.day.day} de {month}"
    if language == "fr":
        return f"le {when.day.day} {month}"
    return f"{when.day.day}. {month}"


def _time_text(at: time, language: str) -> str:
    if language == "en":
        return "at " + _english_time(at)
    if language == "es":
        clock = f"{at.hour}:{at.minute:02d}"
        return f"a la {clock}" if at.hour == 1 else f"a las {clock}"
    if language == "fr":
        return f"à {at.hour}h" + (f"{at.minute:02d}" if at.minute else "")
    return f"um {at.hour} Uhr" if at.minute == 0 else f"um {at.hour}:{at.minute:02d} Uhr"


def format_when(when: When, language: str, *, with_preposition: bool = False) -> str:
    """Write a day and time: "Thursday at 10am", "el jueves a las 10:00", "jeudi à 10h".

    With `with_preposition`, English and German put "on" and "am" before the day ("on
    Thursday", "am Donnerstag"); Spanish and French need none. Other languages are written
    in English.
    """
    language = language if language in _WEEKDAYS else "en"
    parts: list[str] = []
    if when.day is not None:
        day = _day_text(when, language)
        if language == "es" and not when.named:
            day = "el " + day
        if with_preposition and language in ("en", "de"):
            day = ("on " if language == "en" else "am ") + day
        parts.append(day)
    if when.at is not None:
        parts.append(_time_text(when.at, language))
    return " ".join(parts)


def strip_when(phrase: str, reference: date) -> str:
    """Drop the days and times from an English phrase, with the words that introduce them.

    "your boiler service appointment on Monday at 9am" gives "your boiler service appointment".
    A phrase whose normalised form has another length (accented letters) is returned as is.
    """
    normalised = normalise_text(phrase)
    if len(normalised) != len(phrase):
        return phrase
    spans = [(item.start, item.end) for item in find_dates(normalised, reference)]
    spans += [(item.start, item.end) for item in find_times(normalised)]
    text = phrase
    for start, end in sorted(spans, reverse=True):
        before = _BEFORE.search(text[:start])
        after = _AFTER.match(text[end:])
        cut_start = before.start() if before else start
        cut_end = end + (after.end() if after else 0)
        text = text[:cut_start] + text[cut_end:]
    return " ".join(text.split()).replace(" ,", ",").strip(" ,")
