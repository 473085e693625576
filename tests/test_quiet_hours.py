from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from smskit.errors import InvalidInputError
from smskit.quiet_hours import QuietWindow, next_allowed, parse_window, zones_for

NEW_YORK = "+12125550100"
LOS_ANGELES = "+16505550100"
LONDON = "+447911123456"
SYDNEY_MOBILE = "+61412345678"
TOLL_FREE = "+18005550100"
UNKNOWN_ZONE = "+80012345678"
NIGHT = QuietWindow(time(21, 0), time(8, 0))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21:00-08:00", QuietWindow(time(21, 0), time(8, 0))),
        (" 9:30 - 17:45 ", QuietWindow(time(9, 30), time(17, 45))),
        ("00:00-06:00", QuietWindow(time(0, 0), time(6, 0))),
        ("22:00-24:00", QuietWindow(time(22, 0), time(0, 0))),
    ],
)
def test_parse_window_valid(text, expected):
    assert parse_window(text) == expected


@pytest.mark.parametrize("text", ["", "   "])
def test_parse_window_empty_is_off(text):
    assert parse_window(text) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("21-8", "not in the expected format"),
        ("9pm-8am", "not in the expected format"),
        ("21:00", "not in the expected format"),
        ("25:00-08:00", "25:00 is not a time of day"),
        ("21:60-08:00", "21:60 is not a time of day"),
        ("24:00-08:00", "24:00 is not a time of day"),
        ("08:00-08:00", "the start equals the end"),
    ],
)
def test_parse_window_invalid(text, reason):
    with pytest.raises(InvalidInputError, match=reason) as info:
        parse_window(text)
    assert repr(text) in str(info.value)
    assert "HH:MM-HH:MM" in str(info.value)
    assert info.value.value == text


@pytest.mark.parametrize(
    ("local", "inside"),
    [
        (time(20, 59), False),
        (time(21, 0), True),
        (time(23, 0), True),
        (time(0, 0), True),
        (time(7, 59), True),
        (time(8, 0), False),
        (time(12, 0), False),
    ],
)
def test_quiet_window_contains_wrapping(local, inside):
    assert NIGHT.contains(local) is inside


def test_quiet_window_contains_same_day():
    window = QuietWindow(time(12, 0), time(14, 0))
    assert window.contains(time(13, 0))
    assert not window.contains(time(14, 0))
    assert not window.contains(time(11, 59))
    assert str(window) == "12:00-14:00"


def test_zones_for_known_number():
    assert zones_for(NEW_YORK, "UTC") == [ZoneInfo("America/New_York")]


def test_zones_for_unknown_uses_default():
    assert zones_for(UNKNOWN_ZONE, "Europe/Paris") == [ZoneInfo("Europe/Paris")]


def test_zones_for_several_zones():
    zones = zones_for(TOLL_FREE, "UTC")
    assert ZoneInfo("America/New_York") in zones
    assert ZoneInfo("Pacific/Honolulu") in zones
    assert len(zones) == len(set(zones))


def test_zones_for_invalid_phone():
    with pytest.raises(InvalidInputError, match="invalid phone number '12345'.*E.164"):
        zones_for("12345", "UTC")


def test_zones_for_invalid_default_zone():
    with pytest.raises(InvalidInputError, match="unknown time zone 'Mars/Base'"):
        zones_for(NEW_YORK, "Mars/Base")


def test_next_allowed_at_23_local_waits_until_8():
    # 04:00 UTC on 2 March 2026 is 23:00 on 1 March in New York (EST, UTC-5)
    now = utc(2026, 3, 2, 4, 0)
    allowed = next_allowed(NEW_YORK, now, NIGHT, "UTC")
    assert allowed == utc(2026, 3, 2, 13, 0)
    assert allowed.astimezone(ZoneInfo("America/New_York")).time() == time(8, 0)


def test_next_allowed_outside_window_is_now():
    now = utc(2026, 3, 2, 15, 30, 12)
    assert next_allowed(NEW_YORK, now, NIGHT, "UTC") == now


def test_next_allowed_window_off_is_now():
    now = utc(2026, 3, 2, 4, 0)
    assert next_allowed(NEW_YORK, now, None, "UTC") == now


def test_next_allowed_returns_utc():
    now = datetime(2026, 3, 1, 23, 0, tzinfo=ZoneInfo("America/New_York"))
    allowed = next_allowed(NEW_YORK, now, NIGHT, "UTC")
    assert allowed.tzinfo == UTC
    assert allowed == utc(2026, 3, 2, 13, 0)


def test_next_allowed_after_midnight_same_day():
    # 07:00 UTC is 02:00 in New York: wait six hours
    assert next_allowed(NEW_YORK, utc(2026, 3, 2, 7, 0), NIGHT, "UTC") == utc(2026, 3, 2, 13, 0)


def test_next_allowed_window_start_included_end_excluded():
    # 21:00 New York is quiet, 08:00 is not
    assert next_allowed(NEW_YORK, utc(2026, 3, 3, 2, 0), NIGHT, "UTC") == utc(2026, 3, 3, 13, 0)
    assert next_allowed(NEW_YORK, utc(2026, 3, 3, 13, 0), NIGHT, "UTC") == utc(2026, 3, 3, 13, 0)


def test_next_allowed_non_wrapping_window():
    lunch = QuietWindow(time(12, 0), time(14, 0))
    now = utc(2026, 6, 1, 11, 30)  # 12:30 in London (BST)
    assert next_allowed(LONDON, now, lunch, "UTC") == utc(2026, 6, 1, 13, 0)


def test_next_allowed_dst_spring_forward():
    # 23:00 EST on 7 March 2026; clocks go forward on 8 March, so 08:00 is EDT (UTC-4)
    now = utc(2026, 3, 8, 4, 0)
    assert next_allowed(NEW_YORK, now, NIGHT, "UTC") == utc(2026, 3, 8, 12, 0)


def test_next_allowed_dst_fall_back():
    # 23:00 EDT on 31 October 2026; clocks go back on 1 November, so 08:00 is EST (UTC-5)
    now = utc(2026, 11, 1, 3, 0)
    assert next_allowed(NEW_YORK, now, NIGHT, "UTC") == utc(2026, 11, 1, 13, 0)


def test_next_allowed_window_ending_in_dst_gap():
    # the window ends at 02:30, which does not exist on 8 March 2026 in New York: sending may
    # start when clocks jump from 02:00 EST to 03:00 EDT, at 07:00 UTC
    window = QuietWindow(time(21, 0), time(2, 30))
    now = utc(2026, 3, 8, 5, 0)  # 00:00 EST
    allowed = next_allowed(NEW_YORK, now, window, "UTC")
    assert allowed == utc(2026, 3, 8, 7, 0)
    assert allowed.astimezone(ZoneInfo("America/New_York")).time() == time(3, 0)


def test_next_allowed_window_ending_in_repeated_hour():
    # the window ends at 01:30, which happens twice on 1 November 2026 in New York; the first
    # 01:30 (EDT) is allowed
    window = QuietWindow(time(21, 0), time(1, 30))
    now = utc(2026, 11, 1, 4, 0)  # 00:00 EDT
    assert next_allowed(NEW_YORK, now, window, "UTC") == utc(2026, 11, 1, 5, 30)


def test_next_allowed_several_zones_takes_strictest():
    # toll-free numbers span Guam (UTC+10) to Pago Pago (UTC-11); 18:00 UTC is 08:00 in
    # Honolulu but still 07:00 in Pago Pago, and already 04:00 next day in Guam
    now = utc(2026, 1, 15, 12, 0)
    allowed = next_allowed(TOLL_FREE, now, NIGHT, "UTC")
    zones = zones_for(TOLL_FREE, "UTC")
    for zone in zones:
        assert not NIGHT.contains(allowed.astimezone(zone).time()), zone
    assert allowed > now
    # one second earlier at least one zone is still quiet
    before = allowed - timedelta(seconds=1)
    assert any(NIGHT.contains(before.astimezone(zone).time()) for zone in zones)


def test_next_allowed_several_zones_in_one_country():
    # Australian mobile numbers span the Cocos Islands (UTC+6:30) to Lord Howe (UTC+11 in
    # January), so the westernmost zone decides
    now = utc(2026, 1, 15, 20, 0)  # 07:00 in Sydney, 02:30 in the Cocos Islands
    allowed = next_allowed(SYDNEY_MOBILE, now, NIGHT, "UTC")
    assert allowed == utc(2026, 1, 16, 1, 30)
    assert allowed.astimezone(ZoneInfo("Indian/Cocos")).time() == time(8, 0)
    assert allowed.astimezone(ZoneInfo("Australia/Sydney")).time() == time(12, 30)


def test_next_allowed_unknown_zone_uses_default():
    now = utc(2026, 3, 2, 22, 0)  # 23:00 in Paris (CET)
    assert next_allowed(UNKNOWN_ZONE, now, NIGHT, "Europe/Paris") == utc(2026, 3, 3, 7, 0)
    assert next_allowed(UNKNOWN_ZONE, now, NIGHT, "UTC") == utc(2026, 3, 3, 8, 0)


def test_next_allowed_no_common_time():
    window = QuietWindow(time(9, 0), time(8, 0))
    with pytest.raises(InvalidInputError, match="no common sending time.*shorten"):
        next_allowed(TOLL_FREE, utc(2026, 1, 15, 12, 0), window, "UTC")


def test_next_allowed_rejects_naive_now():
    with pytest.raises(InvalidInputError, match="naive time.*aware UTC"):
        next_allowed(NEW_YORK, datetime(2026, 3, 2, 4, 0), NIGHT, "UTC")


@pytest.mark.parametrize("hour", range(24))
def test_next_allowed_every_hour_lands_on_allowed_boundary(hour):
    now = utc(2026, 3, 2, hour, 17)
    allowed = next_allowed(LOS_ANGELES, now, NIGHT, "UTC")
    local = allowed.astimezone(ZoneInfo("America/Los_Angeles"))
    assert not NIGHT.contains(local.time())
    assert allowed >= now
    assert allowed - now < timedelta(hours=12)
    if allowed != now:
        assert local.time() == time(8, 0)
