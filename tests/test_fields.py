from datetime import date
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from smskit.agents.fields import Exchange, fill_fields, schema_properties
from smskit.agents.intents import polarity
from smskit.errors import InvalidInputError

MONDAY = date(2026, 3, 2)
NEW_YORK = ZoneInfo("America/New_York")


def exchanges(*pairs: tuple[str, str]) -> list[Exchange]:
    return [Exchange(prompt, reply, MONDAY, polarity(reply, "en")) for prompt, reply in pairs]


def fill(schema, pairs, *, overall=None, opted_out=False, month_first=False):
    return fill_fields(
        schema,
        exchanges(*pairs),
        overall=overall,
        opted_out=opted_out,
        month_first=month_first,
        zone=NEW_YORK,
    )


def schema_of(**properties):
    return {"type": "object", "properties": properties}


def test_fill_fields_booleans_by_question():
    schema = schema_of(
        attending={"type": "boolean", "description": "Will the recipient attend the dinner?"},
        wants_parking={"type": "boolean", "description": "Does the recipient need parking?"},
    )
    pairs = [
        ("Will you attend the dinner on Friday?", "Yes!"),
        ("Great. Do you need a parking space?", "No, I'll take the bus"),
    ]
    assert fill(schema, pairs) == {"attending": True, "wants_parking": False}


def test_fill_fields_boolean_falls_back_to_overall():
    schema = schema_of(interested={"type": "boolean"})
    assert fill(schema, [("Hi", "Sure, go ahead")], overall=True) == {"interested": True}
    assert fill(schema, [("Hi", "hmm")]) == {"interested": None}


def test_fill_fields_boolean_negative_name():
    schema = schema_of(declined={"type": "boolean"})
    assert fill(schema, [("Hi", "No thanks")], overall=False) == {"declined": True}


def test_fill_fields_opt_out_name():
    schema = schema_of(opted_out={"type": "boolean"}, unsubscribed={"type": ["boolean", "null"]})
    assert fill(schema, [], opted_out=True) == {"opted_out": True, "unsubscribed": True}


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("We'll be 2 people", 2),
        ("twenty guests", 20),
        ("party of 4, around 7pm", 4),
        ("just me", None),
    ],
)
def test_fill_fields_integer(reply, expected):
    schema = schema_of(guests={"type": "integer", "description": "number of people or guests"})
    assert fill(schema, [("How many?", reply)]) == {"guests": expected}


def test_fill_fields_number_near_keyword_wins():
    schema = schema_of(
        guests={"type": "integer", "description": "number of people"},
        budget={"type": "number", "description": "budget in dollars"},
    )
    pairs = [("Details?", "3 people, about 150.5 dollars total")]
    assert fill(schema, pairs) == {"guests": 3, "budget": 150.5}


def test_fill_fields_out_of_range_is_none():
    schema = schema_of(rating={"type": "integer", "minimum": 1, "maximum": 5})
    assert fill(schema, [("Rate us 1-5", "I'd say 9")]) == {"rating": None}
    assert fill(schema, [("Rate us 1-5", "I'd say 4")]) == {"rating": 4}


def test_fill_fields_integer_rejects_fraction():
    schema = schema_of(count={"type": "integer"})
    assert fill(schema, [("How many?", "2.5")]) == {"count": None}


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("EMAIL please", "Email"),
        ("I prefer a phone call in the evening", "Phone call"),
        ("Not by phone call, sms is fine", "SMS"),
        ("sms rather than email", "SMS"),
        ("carrier pigeon", None),
    ],
)
def test_fill_fields_enum(reply, expected):
    schema = schema_of(channel={"type": "string", "enum": ["SMS", "Email", "Phone call"]})
    assert fill(schema, [("How should we contact you?", reply)]) == {"channel": expected}


def test_fill_fields_enum_with_null_and_numbers():
    schema = schema_of(stars={"enum": [1, 2, 3, 4, 5, None]})
    assert fill(schema, [("Stars?", "I give it 4")]) == {"stars": 4}


def test_fill_fields_date_time_and_date_time():
    schema = schema_of(
        day={"type": "string", "format": "date"},
        at={"type": "string", "format": "time"},
        slot={"type": "string", "format": "date-time"},
    )
    result = fill(schema, [("When?", "tomorrow at 3pm")])
    assert result == {"day": "2026-03-03", "at": "15:00", "slot": "2026-03-03T15:00:00-05:00"}
    jsonschema.validate(
        result, schema, format_checker=jsonschema.FormatChecker(formats=["date", "date-time"])
    )


def test_fill_fields_date_time_needs_both():
    schema = schema_of(slot={"type": "string", "format": "date-time"})
    assert fill(schema, [("When?", "Thursday")]) == {"slot": None}


def test_fill_fields_prefers_matching_message():
    schema = schema_of(
        delivery_date={"type": "string", "format": "date", "description": "delivery day"},
        callback_date={"type": "string", "format": "date", "description": "callback day"},
    )
    pairs = [
        ("Which delivery day suits you?", "Thursday"),
        ("And when should we call you back about the callback?", "March 10"),
    ]
    assert fill(schema, pairs) == {"delivery_date": "2026-03-05", "callback_date": "2026-03-10"}


def test_fill_fields_latest_answer_wins():
    schema = schema_of(day={"type": "string", "format": "date"})
    assert fill(schema, [("When?", "Thursday"), ("Sure?", "Actually Friday")]) == {
        "day": "2026-03-06"
    }


def test_fill_fields_other_kinds_are_none():
    schema = schema_of(
        notes={"type": "string"},
        items={"type": "array"},
        address={"type": "object"},
        broken="not a schema",
    )
    result = fill(schema, [("Anything else?", "Yes, 3 things, tomorrow")])
    assert result == {"notes": None, "items": None, "address": None, "broken": None}


def test_fill_fields_nullable_type_list():
    schema = schema_of(day={"type": ["string", "null"], "format": "date"})
    assert fill(schema, [("When?", "March 5")]) == {"day": "2026-03-05"}


def test_schema_properties_rejects_schema_without_properties():
    with pytest.raises(InvalidInputError, match="use a JSON Schema object with 'properties'"):
        schema_properties({"type": "object"})
    with pytest.raises(InvalidInputError, match="invalid payload schema"):
        schema_properties({"properties": ["a"]})
