import pytest

from smskit.errors import InvalidInputError
from smskit.segments import GSM7_BASIC, GSM7_EXTENSION, Segments, estimate_cost, max_chars, measure

GREETING = (
    "Hi Maria, this is Alex from Acme Dental. We're confirming your cleaning on Friday at 3 pm. "
    "Can you still make it?"
)


def test_measure_greeting_fits_one_segment():
    assert len(GREETING) == 113
    assert measure(GREETING) == Segments("GSM-7", 113, 1)


def test_measure_right_single_quote_switches_to_ucs2():
    text = GREETING.replace("'", "\u2019")
    assert len(text) == 113
    assert measure(text) == Segments("UCS-2", 113, 2)


def test_measure_emoji_counts_two_units():
    text = GREETING + "🙂"
    result = measure(text)
    assert result.encoding == "UCS-2"
    assert result.units == 115
    assert len(text) == 114
    assert result.segments == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Segments("GSM-7", 0, 0)),
        ("a", Segments("GSM-7", 1, 1)),
        ("a" * 160, Segments("GSM-7", 160, 1)),
        ("a" * 161, Segments("GSM-7", 161, 2)),
        ("a" * 306, Segments("GSM-7", 306, 2)),
        ("a" * 307, Segments("GSM-7", 307, 3)),
        ("ç" * 70, Segments("UCS-2", 70, 1)),
        ("ç" * 71, Segments("UCS-2", 71, 2)),
        ("ç" * 134, Segments("UCS-2", 134, 2)),
        ("ç" * 135, Segments("UCS-2", 135, 3)),
    ],
)
def test_measure_boundaries(text, expected):
    assert measure(text) == expected


def test_measure_gsm7_accents_stay_gsm7():
    assert measure("àéèùìòÄÖÜäöüñÑßÉ¿¡£¥§").encoding == "GSM-7"


@pytest.mark.parametrize("char", sorted(GSM7_EXTENSION))
def test_measure_extension_character_counts_two_septets(char):
    result = measure("a" + char)
    assert result.encoding == "GSM-7"
    assert result.units == 3


def test_measure_escape_at_single_limit_goes_multipart():
    assert measure("a" * 158 + "€") == Segments("GSM-7", 160, 1)
    assert measure("a" * 159 + "€") == Segments("GSM-7", 161, 2)


def test_measure_escape_pair_not_split_across_parts():
    # 152 septets then an escape pair: the pair moves to part two, which then holds 154 septets,
    # more than 153, so a third part starts.
    text = "a" * 152 + "€" + "a" * 152
    result = measure(text)
    assert result.units == 306
    assert result.segments == 3
    assert measure("a" * 151 + "€" + "a" * 153).segments == 2


def test_measure_surrogate_pair_not_split_across_parts():
    text = "ç" * 66 + "🙂" + "ç" * 66
    result = measure(text)
    assert result.units == 134
    assert result.segments == 3
    assert measure("ç" * 65 + "🙂" + "ç" * 67).segments == 2


def test_measure_emoji_at_single_limit():
    assert measure("ç" * 68 + "🙂") == Segments("UCS-2", 70, 1)
    assert measure("ç" * 69 + "🙂") == Segments("UCS-2", 71, 2)


def test_measure_escape_character_itself_is_ucs2():
    assert measure("a\x1bb").encoding == "UCS-2"


def test_gsm7_tables_are_disjoint():
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert len(GSM7_BASIC) == 127


@pytest.mark.parametrize(
    ("segments", "encoding", "expected"),
    [(1, "GSM-7", 160), (2, "GSM-7", 306), (3, "GSM-7", 459), (1, "UCS-2", 70), (3, "UCS-2", 201)],
)
def test_max_chars_values(segments, encoding, expected):
    assert max_chars(segments, encoding) == expected


@pytest.mark.parametrize("segments", [1, 2, 3, 5])
@pytest.mark.parametrize(("encoding", "char"), [("GSM-7", "a"), ("UCS-2", "ç")])
def test_max_chars_agrees_with_measure(segments, encoding, char):
    limit = max_chars(segments, encoding)
    assert measure(char * limit).segments == segments
    assert measure(char * (limit + 1)).segments == segments + 1


def test_max_chars_rejects_bad_encoding():
    with pytest.raises(InvalidInputError, match="'UTF-8'.*'GSM-7' or 'UCS-2'"):
        max_chars(1, "UTF-8")


@pytest.mark.parametrize("segments", [0, -1, 1.5, True])
def test_max_chars_rejects_bad_segments(segments):
    with pytest.raises(InvalidInputError, match="segment count"):
        max_chars(segments, "GSM-7")


def test_estimate_cost_default_price():
    assert estimate_cost(3) == pytest.approx(0.0237)
    assert estimate_cost(0) == 0.0


def test_estimate_cost_custom_price():
    assert estimate_cost(2, 0.05) == pytest.approx(0.1)


def test_estimate_cost_rejects_negative_values():
    with pytest.raises(InvalidInputError, match="segment count -1"):
        estimate_cost(-1)
    with pytest.raises(InvalidInputError, match="price per segment -0.1"):
        estimate_cost(1, -0.1)
