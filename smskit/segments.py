"""Count the SMS segments of a message body in GSM-7 or UCS-2 encoding.

A body uses GSM-7 (the 3GPP TS 23.038 default alphabet) when every character is in the basic
table or the extension table. An extension character takes two septets, an escape and the
character. Any other character switches the whole body to UCS-2, where each UTF-16 code unit
counts, so a character outside the Basic Multilingual Plane (most emoji) takes two units.
A single segment holds 160 septets or 70 units. In a multipart message the user data header
leaves 153 septets or 67 units per part, and an escape pair or a surrogate pair is never split
across parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from smskit.errors import InvalidInputError

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

# Units per segment: (single-part message, each part of a multipart message).
_CAPACITY: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class Segments:
    """The encoding of a message body, its size in units and the segments it takes.

    `units` is septets for GSM-7 and UTF-16 code units for UCS-2. An empty body takes 0
    segments because there is nothing to send.
    """

    encoding: Encoding
    units: int
    segments: int


def _is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _char_units(text: str, encoding: Encoding) -> list[int]:
    """Return the units of each character: 1 or 2, never split across parts."""
    if encoding == "GSM-7":
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _count_parts(char_units: list[int], per_part: int) -> int:
    """Fill parts of `per_part` units in order, moving a two-unit character to the next part."""
    parts = 1
    used = 0
    for units in char_units:
        if used + units > per_part:
            parts += 1
            used = 0
        used += units
    return parts


def measure(text: str) -> Segments:
    """Return the encoding, the size in units and the segment count of an SMS body."""
    encoding: Encoding = "GSM-7" if _is_gsm7(text) else "UCS-2"
    char_units = _char_units(text, encoding)
    units = sum(char_units)
    single, per_part = _CAPACITY[encoding]
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments = _count_parts(char_units, per_part)
    return Segments(encoding=encoding, units=units, segments=segments)


def _check_encoding(encoding: str) -> Encoding:
    if encoding == "GSM-7":
        return "GSM-7"
    if encoding == "UCS-2":
        return "UCS-2"
    raise InvalidInputError(
        f"invalid SMS encoding {encoding!r}: use 'GSM-7' or 'UCS-2'",
        name="encoding",
        value=encoding,
    )


def max_chars(segments: int, encoding: str) -> int:
    """Return the maximum units that fit in `segments` segments of `encoding`.

    The result is a character count for text made of single-unit characters: GSM-7 basic
    characters, or BMP characters in UCS-2.
    """
    checked = _check_encoding(encoding)
    if isinstance(segments, bool) or not isinstance(segments, int) or segments < 1:
        raise InvalidInputError(
            f"invalid segment count {segments!r}: use an integer of 1 or more",
            name="segments",
            value=segments,
        )
    single, per_part = _CAPACITY[checked]
    return single if segments == 1 else per_part * segments


def estimate_cost(segments: int, price_per_segment: float = 0.0079) -> float:
    """Return the cost of sending `segments` segments at `price_per_segment` each.

    The default of 0.0079 (USD) is an example price for one outbound segment to a US number;
    pass the current price for the destination and sender type in use.
    """
    if isinstance(segments, bool) or not isinstance(segments, int) or segments < 0:
        raise InvalidInputError(
            f"invalid segment count {segments!r}: use an integer of 0 or more",
            name="segments",
            value=segments,
        )
    if price_per_segment < 0:
        raise InvalidInputError(
            f"invalid price per segment {price_per_segment!r}: use a price of 0 or more",
            name="price_per_segment",
            value=price_per_segment,
        )
    return round(segments * price_per_segment, 10)
