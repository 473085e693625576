"""Fill payload-schema fields from the recipient's messages, without a model.

Each property of the schema is filled from what the recipient wrote: booleans from yes and no
answers, dates, times and date-times, numbers and enum values. A property's name and
description pick the message that answers it, when several could. A value that would not
validate against the property's schema, and every property of another kind, is None.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any

from smskit.agents.datetimes import Found, find_dates, find_numbers, find_times
from smskit.errors import InvalidInputError
from smskit.keywords import normalise_text

logger = logging.getLogger(__name__)

_STOP_WORDS = frozenset(
    "the a an of to is are was were be been did does do whether if recipient customer user "
    "person they their them he she his her true false yes no for on in at with and or has "
    "have had will would should can could this that what which who when how about from by "
    "field value any some our your you".split()
)
# Names of booleans that are true when the recipient replied no ("declined": True on a "no").
_NEGATIVE_NAMES = frozenset(
    "declined decline refused refuse rejected reject cancelled canceled cancel".split()
)
_OPT_OUT_NAMES = frozenset({"opted_out", "opt_out", "optout", "unsubscribed", "opted_out_sms"})
# A negation at most one word before a value, with no punctuation between: "not by email".
_NEGATIONS = re.compile(
    r"\b(not|no|never|rather than|instead of|pas|ni|jamais|nicht|kein|keine|nunca|sin)\s+"
    r"(\w+\s+)?$"
)


@dataclass(frozen=True)
class Exchange:
    """One recipient message, the agent message it answers, and its reading."""

    prompt: str
    reply: str
    local_date: date
    polarity: bool | None

    @property
    def normalised(self) -> str:
        return normalise_text(self.reply)


def _stems(text: str) -> set[str]:
    words = re.findall(r"[a-z]+", normalise_text(text))
    return {word[:5] for word in words if len(word) >= 3 and word not in _STOP_WORDS}


def _name_words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [word for word in re.split(r"[^A-Za-z]+", spaced.lower()) if word]


def _keywords(name: str, prop: dict[str, Any]) -> set[str]:
    text = " ".join(_name_words(name)) + " " + str(prop.get("description", ""))
    text += " " + str(prop.get("title", ""))
    return _stems(text)


def _score(keywords: set[str], exchange: Exchange) -> int:
    """Rate how well an exchange matches a property: reply words count twice, prompt once."""
    return 2 * len(keywords & _stems(exchange.reply)) + len(keywords & _stems(exchange.prompt))


def _ranked(keywords: set[str], exchanges: list[Exchange]) -> list[Exchange]:
    """Order exchanges best match first, and the latest first among equal matches."""
    indexed = list(enumerate(exchanges))
    indexed.sort(key=lambda pair: (_score(keywords, pair[1]), pair[0]), reverse=True)
    return [exchange for _, exchange in indexed]


def _types(prop: dict[str, Any]) -> set[str]:
    declared = prop.get("type")
    types: set[str] = set()
    if isinstance(declared, str):
        types.add(declared)
    elif isinstance(declared, list):
        types.update(str(item) for item in declared)
    for key in ("anyOf", "oneOf"):
        for option in prop.get(key, []) or []:
            if isinstance(option, dict):
                types |= _types(option)
    types.discard("null")
    return types


def _format(prop: dict[str, Any]) -> str | None:
    if isinstance(prop.get("format"), str):
        return str(prop["format"])
    for key in ("anyOf", "oneOf"):
        for option in prop.get(key, []) or []:
            if isinstance(option, dict) and isinstance(option.get("format"), str):
                return str(option["format"])
    return None


def _enum(prop: dict[str, Any]) -> list[Any] | None:
    if isinstance(prop.get("enum"), list):
        return [value for value in prop["enum"] if value is not None]
    for key in ("anyOf", "oneOf"):
        for option in prop.get(key, []) or []:
            if isinstance(option, dict) and isinstance(option.get("enum"), list):
                return [value for value in option["enum"] if value is not None]
    return None


@dataclass(frozen=True)
class _Context:
    exchanges: list[Exchange]
    overall: bool | None
    opted_out: bool
    month_first: bool
    zone: tzinfo


def _boolean(name: str, keywords: set[str], context: _Context) -> bool | None:
    words = set(_name_words(name))
    if "_".join(_name_words(name)) in _OPT_OUT_NAMES:
        return context.opted_out
    answered = [exchange for exchange in context.exchanges if exchange.polarity is not None]
    matching = [exchange for exchange in answered if _score(keywords, exchange) > 0]
    if matching:
        value = _ranked(keywords, matching)[0].polarity
    else:
        value = context.overall
    if value is not None and words & _NEGATIVE_NAMES:
        return not value
    return value


def _first(found: list[Found[Any]]) -> Any:
    explicit = [item for item in found if item.explicit]
    return (explicit or found)[0].value


def _date(keywords: set[str], context: _Context) -> date | None:
    for exchange in _ranked(keywords, context.exchanges):
        found = find_dates(
            exchange.normalised, exchange.local_date, month_first=context.month_first
        )
        if found:
            value: date = _first(found)
            return value
    return None


def _time(keywords: set[str], context: _Context) -> time | None:
    for exchange in _ranked(keywords, context.exchanges):
        found = find_times(exchange.normalised)
        if found:
            value: time = _first(found)
            return value
    return None


def _number_near_keyword(
    text: str, numbers: list[Found[float]], keywords: set[str]
) -> float | None:
    """Return the number that a property word follows within two words ("2 people")."""
    for number in numbers:
        following = re.findall(r"[a-z]+", text[number.end :])[:2]
        if keywords & {word[:5] for word in following}:
            return number.value
    return None


def _number(keywords: set[str], context: _Context) -> float | None:
    single: float | None = None
    for exchange in _ranked(keywords, context.exchanges):
        text = exchange.normalised
        dates = find_dates(text, exchange.local_date)
        skip = [(item.start, item.end) for item in dates]
        skip += [(item.start, item.end) for item in find_times(text)]
        numbers = find_numbers(text, skip)
        near = _number_near_keyword(text, numbers, keywords)
        if near is not None:
            return near
        explicit = [number for number in numbers if number.explicit]
        if single is None and len(explicit) == 1:
            single = explicit[0].value
    return single


def _enum_value(values: list[Any], keywords: set[str], context: _Context) -> Any:
    for exchange in _ranked(keywords, context.exchanges):
        text = exchange.normalised
        matches: list[tuple[int, Any]] = []
        for value in values:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                continue
            pattern = r"(?<!\w)" + re.escape(normalise_text(str(value))) + r"(?!\w)"
            for match in re.finditer(pattern, text):
                if not _NEGATIONS.search(text[: match.start()]):
                    matches.append((match.start(), value))
        if matches:
            return min(matches, key=lambda item: item[0])[1]
    return None


def _value(name: str, prop: dict[str, Any], context: _Context) -> Any:
    keywords = _keywords(name, prop)
    values = _enum(prop)
    if values is not None:
        return _enum_value(values, keywords, context)
    types = _types(prop)
    kind = _format(prop)
    if "boolean" in types:
        return _boolean(name, keywords, context)
    if "string" in types and kind == "date":
        found_date = _date(keywords, context)
        return found_date.isoformat() if found_date else None
    if "string" in types and kind == "time":
        found_time = _time(keywords, context)
        return found_time.strftime("%H:%M") if found_time else None
    if "string" in types and kind == "date-time":
        return _date_time(keywords, context)
    if "integer" in types or "number" in types:
        number = _number(keywords, context)
        if number is None:
            return None
        if "integer" in types and number.is_integer():
            return int(number)
        return number if "number" in types else None
    return None


def _date_time(keywords: set[str], context: _Context) -> str | None:
    found_date = _date(keywords, context)
    found_time = _time(keywords, context)
    if found_date is None or found_time is None:
        return None
    local = datetime.combine(found_date, found_time, tzinfo=context.zone)
    return local.isoformat(timespec="seconds")


def _is_valid(schema: dict[str, Any], prop: dict[str, Any], value: Any) -> bool:
    """Validate a value against its property schema, without checking string formats."""
    import jsonschema

    validator_class = jsonschema.validators.validator_for(schema)
    try:
        return bool(validator_class(prop).is_valid(value))
    except (jsonschema.exceptions.SchemaError, LookupError, ValueError) as exc:
        logger.warning("cannot validate a field value against %r: %s", prop, exc)
        return False


def schema_properties(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the properties of a payload schema, or raise InvalidInputError if it has none."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        raise InvalidInputError(
            f"invalid payload schema {schema!r}: use a JSON Schema object with 'properties'",
            name="project_attributes_setting_outbound_payload_schema",
            value=schema,
        )
    return {str(name): prop if isinstance(prop, dict) else {} for name, prop in properties.items()}


def fill_fields(
    schema: dict[str, Any],
    exchanges: Iterable[Exchange],
    *,
    overall: bool | None,
    opted_out: bool,
    month_first: bool,
    zone: tzinfo,
) -> dict[str, Any]:
    """Return a value or None for every property of the schema.

    `overall` is the conversation's final yes or no, for booleans that no message answers by
    name. `month_first` reads "5/3" as 3 May. `zone` is the recipient's zone for date-times.
    """
    context = _Context(list(exchanges), overall, opted_out, month_first, zone)
    fields: dict[str, Any] = {}
    for name, prop in schema_properties(schema).items():
        value = _value(name, prop, context)
        if value is not None and not _is_valid(schema, prop, value):
            value = None
        fields[name] = value
    return fields
