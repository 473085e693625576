"""Quiet hours in the recipient's local time: when a greeting may be sent.

The window is `HH:MM-HH:MM` in the recipient's local time, start included and end excluded;
a window whose start is after its end wraps midnight (`21:00-08:00`). A phone number's zones
come from libphonenumber's prefix data. A number whose prefix spans several zones (a toll-free
number, a mobile range of a large country) is outside quiet hours only when it is outside them
in every zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone

from smskit.errors import InvalidInputError

WINDOW_FORMAT = "HH:MM-HH:MM"
_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_UNKNOWN_ZONE = "Etc/Unknown"


@dataclass(frozen=True)
class QuietWindow:
    """A daily local-time window in which no greeting is sent. It wraps midnight if start > end."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        """Return whether a local wall-clock time is inside the window."""
        local = local.replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _invalid_window(text: str, reason: str) -> InvalidInputError:
    return InvalidInputError(
        f"invalid quiet hours {text!r}: {reason}; use {WINDOW_FORMAT} in 24-hour local time, "
        "for example '21:00-08:00', or an empty value to turn quiet hours off",
        name="quiet_hours",
        value=text,
    )


def _parse_clock(text: str, hours: str, minutes: str, *, is_end: bool) -> time:
    hour = int(hours)
    minute = int(minutes)
    if is_end and hour == 24 and minute == 0:
        return time(0, 0)
    if hour > 23 or minute > 59:
        raise _invalid_window(text, f"{hours}:{minutes} is not a time of day")
    return time(hour, minute)


def parse_window(text: str) -> QuietWindow | None:
    """Parse `HH:MM-HH:MM` into a window, or return None for an empty value (quiet hours off).

    An end of `24:00` means midnight. Raise InvalidInputError for any other form, for a time
    that does not exist, and for a window whose start equals its end.
    """
    stripped = text.strip()
    if not stripped:
        return None
    match = _WINDOW.match(stripped)
    if match is None:
        raise _invalid_window(text, "not in the expected format")
    start = _parse_clock(text, match[1], match[2], is_end=False)
    end = _parse_clock(text, match[3], match[4], is_end=True)
    if start == end:
        raise _invalid_window(text, "the start equals the end")
    return QuietWindow(start=start, end=end)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInputError(
            f"unknown time zone {name!r}: use an IANA zone name such as 'Europe/Paris' or 'UTC'",
            name="time_zone",
            value=name,
        ) from exc


def zones_for(phone_e164: str, default_zone: str) -> list[ZoneInfo]:
    """Return the time zones of a phone number, or `[default_zone]` when they are unknown."""
    default = _zone(default_zone)
    try:
        number = phonenumbers.parse(phone_e164, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInputError(
            f"invalid phone number {phone_e164!r}: use E.164 form with a country code, "
            "for example '+14155550100'",
            name="phone_number",
            value=phone_e164,
        ) from exc
    zones: list[ZoneInfo] = []
    for name in phone_timezone.time_zones_for_number(number):
        if name == _UNKNOWN_ZONE:
            continue
        try:
            zone = ZoneInfo(name)
        except ZoneInfoNotFoundError:
            continue
        if zone not in zones:
            zones.append(zone)
    return zones or [default]


def _first_instant_at_or_after(zone: ZoneInfo, day: date, wall: time) -> list[datetime]:
    """Return the UTC instants at which the wall clock of `zone` first reads `wall` on `day`.

    An ambiguous wall time (the repeated hour when clocks go back) returns both instants. A
    wall time in a gap (clocks go forward over it) returns the transition instant, the first
    moment at which the wall clock reads later than `wall`.
    """
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second:
        return [first]
    if first < second:
        return [first, second]

    # in a gap, fold=1 lands before the transition and fold=0 after it: search between them
    low, high = second, first
    while (high - low) > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return [high.replace(microsecond=0)]


def _is_quiet(instant: datetime, window: QuietWindow, zones: list[ZoneInfo]) -> bool:
    return any(window.contains(instant.astimezone(zone).time()) for zone in zones)


def next_allowed(
    phone_e164: str, now: datetime, window: QuietWindow | None, default_zone: str
) -> datetime:
    """Return the earliest UTC instant from `now` at which a greeting may be sent.

    That is `now` when no zone of the number is inside the window, else the first instant at
    which every zone of the number is outside it. Raise InvalidInputError for a naive `now`,
    and when the zones are so far apart that the window covers every moment in one of them.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInputError(
            f"naive time {now.isoformat()!r}: pass an aware UTC datetime",
            name="now",
            value=now,
        )
    now = now.astimezone(UTC)
    zones = zones_for(phone_e164, default_zone)
    if window is None or not _is_quiet(now, window, zones):
        return now

    # The allowed instants of one zone are intervals that start where the window ends, so
    # the earliest allowed instant for all zones is one of those starts.
    candidates: set[datetime] = set()
    for zone in zones:
        today = now.astimezone(zone).date()
        for offset in range(-1, 3):
            for instant in _first_instant_at_or_after(zone, today + timedelta(offset), window.end):
                if instant > now:
                    candidates.add(instant)
    for candidate in sorted(candidates):
        if not _is_quiet(candidate, window, zones):
            return candidate
    names = ", ".join(str(zone) for zone in zones)
    raise InvalidInputError(
        f"quiet hours {str(window)!r} leave no common sending time in the zones of "
        f"{phone_e164} ({names}): shorten the quiet hours",
        name="quiet_hours",
        value=str(window),
    )
