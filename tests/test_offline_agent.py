import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest

from smskit.agents.base import AgentProfile, Recipient, Turn
from smskit.agents.offline import OfflineAgent
from smskit.errors import AgentError, InvalidInputError

NEW_YORK = "+12125550100"
LONDON = "+447911123456"
# Monday 2 March 2026, 10:00 in New York
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
APPOINTMENT = "confirm your cleaning appointment on Friday"

FOUR_FIELDS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "confirmed": {
            "type": "boolean",
            "description": "Whether the recipient confirmed the appointment",
        },
        "appointment_date": {"type": "string", "format": "date"},
        "appointment_time": {"type": "string", "format": "time"},
        "reminder_channel": {
            "type": "string",
            "enum": ["SMS", "Email", "Phone call"],
            "description": "How the recipient wants to get reminders",
        },
    },
}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """Return the schema with every property also accepting null, as smskit validates."""
    properties = {
        name: {"anyOf": [prop, {"type": "null"}]} for name, prop in schema["properties"].items()
    }
    return {**schema, "properties": properties, "required": list(properties)}


def profile(**changes: str) -> AgentProfile:
    values = {"name": "Alex", "business_context": "Acme Dental", "tone": "friendly"}
    values.update(changes)
    return AgentProfile(**values)


def recipient(reason: str = APPOINTMENT, phone: str = NEW_YORK, **variables: str) -> Recipient:
    return Recipient(task_id=7, phone_number=phone, reason=reason, variables=variables)


def conversation(*messages: str, start: datetime = START) -> list[Turn]:
    """Build a transcript that alternates agent and recipient, agent first."""
    turns = []
    for index, text in enumerate(messages):
        speaker = "agent" if index % 2 == 0 else "recipient"
        turns.append(Turn(speaker, text, start + timedelta(minutes=index)))
    return turns


async def test_greeting_uses_name_business_and_reason():
    text = (await OfflineAgent().greeting(profile(), recipient(first_name="Maria"))).text
    assert text.startswith("Hi Maria, this is Alex from Acme Dental.")
    assert "to confirm your cleaning appointment on Friday" in text
    assert text.endswith("?")


async def test_greeting_without_name_or_business():
    agent = OfflineAgent()
    text = (await agent.greeting(profile(business_context=""), recipient())).text
    assert text.startswith("Hi, this is Alex.")


@pytest.mark.parametrize(
    ("variables", "tone", "salutation"),
    [
        ({"Name": "Maria Lopez"}, "friendly", "Hi Maria,"),
        ({"Name": "Maria Lopez"}, "formal", "Dear Maria Lopez,"),
        ({"first_name": "Maria", "last_name": "Lopez"}, "formal", "Dear Maria Lopez,"),
        ({"First Name": "Maria"}, "casual", "Hey Maria!"),
        ({"vorname": "Maria"}, "empathetic", "Hi Maria,"),
        ({"name": "+12125550100"}, "friendly", "Hi,"),
        ({"email": "maria@example.com"}, "friendly", "Hi,"),
    ],
)
async def test_greeting_salutation_from_columns(variables, tone, salutation):
    text = (await OfflineAgent().greeting(profile(tone=tone), recipient(**variables))).text
    assert text.startswith(salutation + " ")


async def test_greeting_tones_differ():
    agent = OfflineAgent()
    texts = {
        tone: (await agent.greeting(profile(tone=tone), recipient(first_name="Maria"))).text
        for tone in ("friendly", "formal", "casual", "empathetic")
    }
    assert len(set(texts.values())) == 4
    assert "I am writing" in texts["formal"]
    assert texts["casual"].startswith("Hey Maria!")
    assert "I hope you're doing well." in texts["empathetic"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", "Hola Maria, soy Alex, de Acme Dental."),
        ("fr", "Bonjour Maria, ici Alex, de Acme Dental."),
        ("de", "Hallo Maria, hier ist Alex von Acme Dental."),
        ("es-MX", "Hola Maria, soy Alex, de Acme Dental."),
    ],
)
async def test_greeting_languages(language, expected):
    text = (
        await OfflineAgent().greeting(
            profile(language=language), recipient("Termin am Freitag", first_name="Maria")
        )
    ).text
    assert text.startswith(expected)
    assert "Termin am Freitag" in text


async def test_greeting_unknown_language_falls_back_to_english(caplog):
    with caplog.at_level(logging.WARNING, logger="smskit.agents.offline"):
        text = (await OfflineAgent().greeting(profile(language="xx"), recipient())).text
    assert text.startswith("Hi, this is Alex")
    assert "'xx'" in caplog.text


@pytest.mark.parametrize(
    ("reason", "phrase"),
    [
        ("Confirm your appointment", "I'm reaching out to confirm your appointment."),
        ("to renew your plan", "I'm reaching out to renew your plan."),
        ("Your invoice from May", "I'm reaching out about your invoice from May."),
        ("Acme's new opening hours", "I'm reaching out about Acme's new opening hours."),
        ("the survey.", "I'm reaching out about the survey."),
    ],
)
async def test_greeting_english_reason_phrasing(reason, phrase):
    text = (await OfflineAgent().greeting(profile(), recipient(reason))).text
    assert phrase in text


async def test_greeting_weaves_detail_columns():
    agent = OfflineAgent()
    row = recipient("confirm your cleaning appointment", date="March 5", time="3 pm", plan="x")
    text = (await agent.greeting(profile(), row)).text
    assert "confirm your cleaning appointment (date: March 5, time: 3 pm, plan: x)." in text
    already = recipient("confirm your appointment on March 5", date="March 5", segment="B")
    text = (await agent.greeting(profile(), already)).text
    assert "(" not in text
    assert "segment" not in text


async def test_greeting_shrinks_to_fit():
    agent = OfflineAgent()
    row = recipient(APPOINTMENT, first_name="Maria", date="Friday 6 March")
    full = (await agent.greeting(profile(tone="empathetic"), row)).text
    lengths = []
    for limit in range(len(full), 40, -1):
        try:
            text = (await agent.greeting(profile(tone="empathetic"), row, max_chars=limit)).text
        except AgentError:
            break
        assert len(text) <= limit
        assert APPOINTMENT in text
        assert text.endswith("?")
        lengths.append(len(text))
    assert lengths[0] == len(full)
    assert min(lengths) < len(full) / 2
    assert len(set(lengths)) >= 6


async def test_greeting_never_cuts_words():
    agent = OfflineAgent()
    row = recipient(APPOINTMENT, first_name="Maria")
    variants = set()
    for limit in range(200, 40, -1):
        try:
            variants.add((await agent.greeting(profile(), row, max_chars=limit)).text)
        except AgentError:
            break
    assert len(variants) >= 5
    vocabulary = set(re.findall(r"\w+", " ".join(variants)))
    full_words = set(re.findall(r"\w+", (await agent.greeting(profile(), row)).text))
    # every word comes from the phrase tables or the row, none is a truncated stem
    for word in vocabulary - full_words:
        assert word in {"Does", "that", "work", "To", "This"}, word


async def test_greeting_too_long_raises():
    with pytest.raises(AgentError, match="shortest greeting for task 7 has .* limit of 30"):
        await OfflineAgent().greeting(profile(), recipient(), max_chars=30)


async def test_greeting_invalid_tone_raises():
    with pytest.raises(AgentError, match="invalid agent tone 'angry'.*friendly, formal"):
        await OfflineAgent().greeting(profile(tone="angry"), recipient())


async def test_greeting_empty_reason_raises():
    with pytest.raises(AgentError, match="reason of task 7 is empty"):
        await OfflineAgent().greeting(profile(), recipient("  "))


async def test_greeting_invalid_limit_raises():
    with pytest.raises(AgentError, match="invalid character limit 0"):
        await OfflineAgent().greeting(profile(), recipient(), max_chars=0)


@pytest.mark.parametrize("question", ["who is this?", "What is this about?", "why?"])
async def test_reply_question_explains_reason(question):
    reply = await OfflineAgent().reply(profile(), recipient(), conversation("Hi", question))
    assert reply.end is None
    assert reply.text is not None
    assert reply.text.startswith("This is Alex from Acme Dental.")
    assert "confirm your cleaning appointment on Friday" in reply.text


@pytest.mark.parametrize("answer", ["Yes", "yes, see you Friday", "Sure thing!", "ok"])
async def test_reply_agreement_reaches_goal(answer):
    reply = await OfflineAgent().reply(profile(), recipient(), conversation("Hi", answer))
    assert reply.end == "goal-reached"
    assert reply.text == "Great, thank you! Your appointment is confirmed."


@pytest.mark.parametrize("answer", ["No thanks", "not interested", "Nope."])
async def test_reply_refusal_closes(answer):
    reply = await OfflineAgent().reply(profile(), recipient(), conversation("Hi", answer))
    assert reply.end == "refused"
    assert reply.text is not None
    assert reply.text.startswith("No problem at all")


@pytest.mark.parametrize("answer", ["thanks, bye!", "Goodbye", "thank you"])
async def test_reply_goodbye_ends(answer):
    reply = await OfflineAgent().reply(profile(), recipient(), conversation("Hi", answer))
    assert reply.end == "goodbye"
    assert reply.text == "Thanks, have a great day!"


async def test_reply_goodbye_without_room_sends_nothing():
    transcript = conversation("Hi", "bye")
    reply = await OfflineAgent().reply(profile(), recipient(), transcript, max_chars=5)
    assert reply.end == "goodbye"
    assert reply.text is None


@pytest.mark.parametrize(
    "answer",
    ["please stop texting me", "STOP", "remove me from your list", "no me escriban más"],
)
async def test_reply_opt_out_ends_without_text(answer):
    reply = await OfflineAgent().reply(profile(), recipient(), conversation("Hi", answer))
    assert reply.end == "opted-out"
    assert reply.text is None


async def test_reply_other_follows_up_toward_goal():
    agent = OfflineAgent()
    first = await agent.reply(profile(), recipient(), conversation("Hi", "hmm"))
    assert first.end is None
    assert first.text == "Thanks for your reply! Can you let me know if that works for you?"
    second = await agent.reply(
        profile(), recipient(), conversation("Hi", "hmm", "x", "the blue one")
    )
    assert second.end is None
    assert second.text is not None
    assert second.text.startswith("Sorry, I didn't quite catch that.")


async def test_reply_unsure_gives_time():
    reply = await OfflineAgent().reply(profile(), recipient(), conversation("Hi", "not sure"))
    assert reply.end is None
    assert reply.text == "No rush, take your time. Can you let me know if that works for you?"


async def test_reply_feedback_answer_reaches_goal():
    row = recipient("get your feedback on your visit last week")
    reply = await OfflineAgent().reply(profile(), row, conversation("Hi", "It was fine"))
    assert reply.end == "goal-reached"
    assert reply.text is not None
    assert "feedback" in reply.text


@pytest.mark.parametrize(
    ("language", "answer", "end", "start"),
    [
        ("es", "Sí, el jueves", "goal-reached", "¡Genial, gracias!"),
        ("fr", "Non merci", "refused", "Pas de souci"),
        ("de", "Wer ist da?", None, "Hier ist Alex von Acme Dental."),
        ("de", "Danke, tschüss", "goodbye", "Danke, einen schönen Tag noch!"),
    ],
)
async def test_reply_languages(language, answer, end, start):
    reply = await OfflineAgent().reply(
        profile(language=language), recipient(), conversation("Hi", answer)
    )
    assert reply.end == end
    assert reply.text is not None
    assert reply.text.startswith(start)


async def test_reply_respects_limit():
    agent = OfflineAgent()
    transcript = conversation("Hi", "who is this?")
    full = (await agent.reply(profile(), recipient(), transcript)).text
    assert full is not None
    short = (await agent.reply(profile(), recipient(), transcript, max_chars=90)).text
    assert short is not None
    assert len(short) <= 90
    assert len(short) < len(full)
    with pytest.raises(AgentError, match="shortest reply"):
        await agent.reply(profile(), recipient(), transcript, max_chars=10)


async def test_reply_needs_recipient_turn():
    with pytest.raises(AgentError, match="no recipient message to answer"):
        await OfflineAgent().reply(profile(), recipient(), conversation("Hi"))
    with pytest.raises(AgentError, match="no recipient message to answer"):
        await OfflineAgent().reply(profile(), recipient(), [])


async def test_analyse_four_field_schema():
    transcript = conversation(
        "Hi Maria, this is Alex from Acme Dental. Can you let me know if that works for you?",
        "Who is this?",
        "This is Alex from Acme Dental, about your cleaning appointment.",
        "Oh right. Yes, I can come Thursday at 3pm.",
        "Great! How would you like your reminder: SMS, email or a phone call?",
        "Email is best for me, thanks",
    )
    analysis = await OfflineAgent().analyse(profile(), recipient(), transcript, FOUR_FIELDS)
    assert analysis.fields == {
        "confirmed": True,
        "appointment_date": "2026-03-05",
        "appointment_time": "15:00",
        "reminder_channel": "Email",
    }
    jsonschema.validate({"phone_number": NEW_YORK, **analysis.fields}, nullable(FOUR_FIELDS))
    checker = jsonschema.FormatChecker(formats=["date"])
    jsonschema.validate(analysis.fields, nullable(FOUR_FIELDS), format_checker=checker)
    assert analysis.opted_out is False
    assert analysis.summary == (
        "Alex texted the recipient about: confirm your cleaning appointment on Friday. "
        'The recipient first asked "Who is this?", then agreed ("Oh right. Yes, I can come '
        'Thursday at 3pm."), so the goal was reached.'
    )


async def test_analyse_refusal():
    transcript = conversation("Hi", "No thanks, not interested.")
    analysis = await OfflineAgent().analyse(profile(), recipient(), transcript, FOUR_FIELDS)
    assert analysis.fields == {
        "confirmed": False,
        "appointment_date": None,
        "appointment_time": None,
        "reminder_channel": None,
    }
    assert analysis.summary.endswith('The recipient declined ("No thanks, not interested.").')
    jsonschema.validate(analysis.fields, nullable(FOUR_FIELDS))


async def test_analyse_opt_out():
    transcript = conversation("Hi", "please stop texting me")
    schema = {"type": "object", "properties": {"opted_out": {"type": "boolean"}}}
    analysis = await OfflineAgent().analyse(profile(), recipient(), transcript, schema)
    assert analysis.opted_out is True
    assert analysis.fields == {"opted_out": True}
    assert "asked to stop receiving messages" in analysis.summary
    assert "opted out" in analysis.summary


async def test_analyse_no_reply():
    analysis = await OfflineAgent().analyse(profile(), recipient(), conversation("Hi"), None)
    assert analysis.summary.endswith("The recipient did not reply.")
    assert analysis.fields == {}
    assert analysis.opted_out is False


async def test_analyse_unclear_reply_quotes_it():
    long_reply = "Well " + "really " * 30 + "hard to say"
    analysis = await OfflineAgent().analyse(
        profile(), recipient(), conversation("Hi", "Who is this?", "Alex", long_reply), None
    )
    sentences = analysis.summary.split(". ", 1)
    assert len(sentences) == 2
    assert "without a clear answer" in analysis.summary
    assert "…" in analysis.summary
    assert len(analysis.summary) < 250


async def test_analyse_feedback_summary():
    row = recipient("get your feedback on your visit")
    analysis = await OfflineAgent().analyse(
        profile(), row, conversation("Hi", "Great visit, 5 stars"), None
    )
    assert 'gave feedback ("Great visit, 5 stars")' in analysis.summary


async def test_analyse_invalid_schema_raises():
    with pytest.raises(InvalidInputError, match="invalid payload schema"):
        await OfflineAgent().analyse(
            profile(), recipient(), conversation("Hi", "yes"), {"type": "object"}
        )


async def test_analyse_month_first_for_north_american_numbers():
    schema = {"type": "object", "properties": {"day": {"type": "string", "format": "date"}}}
    transcript = conversation("Hi", "yes, 5/3 please")
    agent = OfflineAgent()
    us = await agent.analyse(profile(), recipient(phone=NEW_YORK), transcript, schema)
    uk = await agent.analyse(profile(), recipient(phone=LONDON), transcript, schema)
    assert us.fields == {"day": "2026-05-03"}
    assert uk.fields == {"day": "2026-03-05"}


async def test_analyse_relative_date_uses_local_day():
    schema = {"type": "object", "properties": {"day": {"type": "string", "format": "date"}}}
    # 03:00 UTC on 3 March is still 2 March, 22:00, in New York
    late_evening = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
    transcript = conversation("Hi", "tomorrow works", start=late_evening)
    analysis = await OfflineAgent().analyse(profile(), recipient(), transcript, schema)
    assert analysis.fields == {"day": "2026-03-03"}


async def test_aclose_is_harmless():
    await OfflineAgent().aclose()
