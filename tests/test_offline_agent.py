import csv
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
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


DEMO_BATCH = Path(__file__).resolve().parent.parent / "data" / "examples" / "demo_batch.csv"
DEMO_ROWS = csv.DictReader(DEMO_BATCH.read_text(encoding="utf-8").splitlines())
DEMO_REASONS = sorted({row["Reason"] for row in DEMO_ROWS if row["Reason"]})
# Reasons as analysts write them, beyond the demo batch's.
MORE_REASONS = [
    "Let them know their order #5521 has shipped and will arrive on Thursday",
    "Remind them that their appointment with Dr. Patel is on May 3 at 2:30pm",
    "Ask the customer whether they are happy with the new Fibre 500 plan",
    "The customer's parcel 88213 is delayed; apologise and offer a 10% discount",
    "Their card ending 4242 expires on 04/27; ask them to update it",
    "Ask if they can attend the Saturday workshop on June 7",
    "Thank them for their payment of $45 and ask for feedback on the checkout",
    "Invite them to the Spring Open Day on April 12",
    "Ask what time they prefer for the installation on Monday",
    "Confirm that they still want the Premium bundle from May 1",
    "Offer them a callback from our billing team tomorrow",
    "Schedule a follow-up call about invoice 7781",
    "Her Gold membership expires on June 30. Ask if she would like to renew it",
    "Ask him to send a meter reading for account A-1002 by Friday",
    "Follow up on their complaint about the missed delivery on March 3",
    "Reminder: dental check-up on Monday at 10:30am with Dr. Lee",
    "Policy HX-2231 lapses on April 1 unless they pay the $120 premium; ask when they can pay",
]
REASONS = DEMO_REASONS + MORE_REASONS
TONES = ("friendly", "formal", "casual", "empathetic")
LANGUAGES = ("en", "es", "fr", "de")
NORTHWIND = "Northwind Energy, a home energy supplier"
# Words of an instruction to the agent that must never reach the recipient.
INSTRUCTION_FRAGMENTS = re.compile(
    r"\b(ask whether|ask if|ask for|ask when|offer a|offer to|confirm they|they want|them|they|"
    r"their|the customer)\b|; ",
    re.IGNORECASE,
)
_DAY_WORDS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
)
# A capitalised word after a space that does not follow a sentence end, a colon or a quote.
MID_SENTENCE_CAPITAL = re.compile(r"(?<=[^.!?:\"¿¡\s]) ([A-Z][\w-]*[A-Za-z0-9])")
# Clause and sentence ends in a reason, except the full stop in "Dr. Patel".
CLAUSE_END = re.compile(r"(?<!Dr)(?<!Mr)(?<!Mrs)(?<!Ms)[;.] ")


def key_facts(reason: str) -> set[str]:
    """Return the numbers, dates and names in a reason that a message must keep."""
    facts = set(re.findall(r"\d[\d/:.%]*\d(?:am|pm)?|\d(?:am|pm)?", reason))
    facts |= set(re.findall(rf"\b(?:{_DAY_WORDS})\b", reason))
    for clause in CLAUSE_END.split(reason):
        facts |= set(re.findall(r"(?<=\s)[A-Z][\w-]*[A-Za-z0-9]", clause))
    return facts


def clause_openers(reason: str) -> set[str]:
    """Return the capitalised first words of a reason's clauses ("Their", "Confirm")."""
    return {clause.split()[0] for clause in CLAUSE_END.split(reason) if clause.split()}


def northwind(**changes: str) -> AgentProfile:
    return profile(business_context=NORTHWIND, **changes)


@pytest.mark.parametrize("reason", REASONS)
async def test_greeting_reads_naturally_in_english(reason):
    agent = OfflineAgent()
    for tone in TONES:
        row = recipient(reason, first_name="Maria")
        text = (await agent.greeting(northwind(tone=tone), row)).text
        assert not INSTRUCTION_FRAGMENTS.search(text), text
        pasted = set(MID_SENTENCE_CAPITAL.findall(text)) - key_facts(reason)
        assert pasted <= {"Alex", "Maria", "Northwind", "Energy", "I"}, text
        for fact in key_facts(reason):
            assert fact in text, (fact, text)
        assert text.endswith("?"), text


@pytest.mark.parametrize("reason", REASONS)
@pytest.mark.parametrize("language", ["es", "fr", "de"])
async def test_greeting_other_languages_keep_facts(reason, language):
    agent = OfflineAgent()
    for tone in TONES:
        row = recipient(reason, first_name="Maria")
        text = (await agent.greeting(northwind(tone=tone, language=language), row)).text
        assert not INSTRUCTION_FRAGMENTS.search(text), text
        for fact in key_facts(reason):
            assert fact in text, (fact, text)
        pasted_openers = set(MID_SENTENCE_CAPITAL.findall(text)) & clause_openers(reason)
        assert not pasted_openers - key_facts(reason), text
        if language != "de":
            pasted = set(MID_SENTENCE_CAPITAL.findall(text)) - key_facts(reason)
            assert pasted <= {"Alex", "Maria", "Northwind", "Energy"}, text
        assert text.rstrip().endswith("?"), text


@pytest.mark.parametrize("reason", DEMO_REASONS)
@pytest.mark.parametrize("language", LANGUAGES)
async def test_greeting_shrunk_keeps_facts(reason, language):
    agent = OfflineAgent()
    row = recipient(reason, first_name="Maria", date="March 5")
    full = (await agent.greeting(northwind(tone="empathetic", language=language), row)).text
    lengths = []
    for limit in range(len(full), 20, -1):
        try:
            text = (
                await agent.greeting(
                    northwind(tone="empathetic", language=language), row, max_chars=limit
                )
            ).text
        except AgentError:
            break
        assert len(text) <= limit
        for fact in key_facts(reason):
            assert fact in text, (fact, text)
        lengths.append(len(text))
    assert lengths[0] == len(full)
    assert min(lengths) < len(full) * 0.75
    assert len(set(lengths)) >= 3


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("Their Home Plus plan renews on March 15; ask whether they want to renew",
         "Hi Maria, this is Alex from Northwind Energy. Hope you're well! Your Home Plus plan "
         "renews on March 15. Would you like to renew?"),
        ("Confirm the boiler service appointment next Tuesday morning",
         "Hi Maria, this is Alex from Northwind Energy. Hope you're well! Can you confirm your "
         "boiler service appointment next Tuesday morning?"),
        ("Ask for feedback on last week's smart meter installation",
         "Hi Maria, this is Alex from Northwind Energy. Hope you're well! We'd love your "
         "feedback on last week's smart meter installation. How did it go?"),
        ("Invoice 4411 is due Friday; offer a payment plan if they need one",
         "Hi Maria, this is Alex from Northwind Energy. Hope you're well! Invoice 4411 is due "
         "Friday. We can offer you a payment plan if you need one. Would you be interested?"),
        ("Offer a free home energy check and ask for a convenient date",
         "Hi Maria, this is Alex from Northwind Energy. Hope you're well! We can offer you a "
         "free home energy check. What date would suit you?"),
        ("Offer to switch them to the Green plan at the same price",
         "Hi Maria, this is Alex from Northwind Energy. Hope you're well! Would you like us to "
         "switch you to the Green plan at the same price?"),
        ("Invoice 4420 is overdue; ask when they can pay",
         "Hi Maria, this is Alex from Northwind Energy. Hope you're well! Invoice 4420 is "
         "overdue. When can you pay?"),
    ],
)  # fmt: skip
async def test_greeting_rewords_demo_reasons(reason, expected):
    text = (await OfflineAgent().greeting(northwind(), recipient(reason, first_name="Maria"))).text
    assert text == expected


async def test_greeting_uses_name_business_and_reason():
    text = (await OfflineAgent().greeting(profile(), recipient(first_name="Maria"))).text
    assert text == (
        "Hi Maria, this is Alex from Acme Dental. Hope you're well! "
        "Can you confirm your cleaning appointment on Friday?"
    )


async def test_greeting_without_name_or_business():
    agent = OfflineAgent()
    text = (await agent.greeting(profile(business_context=""), recipient())).text
    assert text.startswith("Hi, this is Alex.")


@pytest.mark.parametrize(
    ("context", "opener"),
    [
        (NORTHWIND, "Hi, this is Alex from Northwind Energy. "),
        ("We are Acme Dental. We care for your teeth.", "Hi, this is Alex from Acme Dental. "),
        ("Acme Dental (a family practice)", "Hi, this is Alex from Acme Dental. "),
    ],
)
async def test_greeting_business_name_from_context(context, opener):
    text = (await OfflineAgent().greeting(profile(business_context=context), recipient())).text
    assert text.startswith(opener)


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
    reason = "Ask for feedback on the visit; confirm the next appointment on Friday"
    texts = {
        tone: (await agent.greeting(profile(tone=tone), recipient(reason, first_name="Maria"))).text
        for tone in TONES
    }
    assert len(set(texts.values())) == 4
    assert "We would appreciate your feedback on the visit." in texts["formal"]
    assert "Could you please confirm your next appointment on Friday?" in texts["formal"]
    assert texts["casual"].startswith("Hey Maria!")
    assert "I hope you're doing well." in texts["empathetic"]


@pytest.mark.parametrize(
    ("language", "reason", "expected"),
    [
        ("es", "Their Home Plus plan renews on March 15; ask whether they want to renew",
         'Hola Maria, soy Alex, de Acme Dental. ¡Espero que estés bien! Te escribo por lo '
         'siguiente: "Your Home Plus plan renews on March 15". ¿Quieres que tramitemos la '
         "renovación?"),
        ("es", "confirmar su cita del viernes",
         "Hola Maria, soy Alex, de Acme Dental. ¡Espero que estés bien! Te escribo para "
         "confirmar su cita del viernes. ¿Me confirmas si te viene bien?"),
        ("fr", "Offer a free home energy check and ask for a convenient date",
         "Bonjour Maria, ici Alex, de Acme Dental. J'espère que vous allez bien ! Nous pouvons "
         'vous proposer ceci : "a free home energy check". Quel jour et quelle heure vous '
         "conviendraient ?"),
        ("fr", "renouveler votre abonnement",
         "Bonjour Maria, ici Alex, de Acme Dental. J'espère que vous allez bien ! Je vous "
         "écris pour renouveler votre abonnement. Souhaitez-vous que nous procédions au "
         "renouvellement ?"),
        ("de", "Confirm the boiler service appointment next Tuesday morning",
         "Hallo Maria, hier ist Alex von Acme Dental. Ich hoffe, es geht Ihnen gut! Ich "
         'schreibe Ihnen aus folgendem Grund: "Your boiler service appointment next Tuesday '
         'morning". Können Sie mir kurz bestätigen, ob das passt?'),
        ("de", "Termin am Freitag",
         "Hallo Maria, hier ist Alex von Acme Dental. Ich hoffe, es geht Ihnen gut! Ich "
         "schreibe Ihnen aus folgendem Grund: Termin am Freitag. Können Sie mir kurz "
         "bestätigen, ob das passt?"),
        ("es-MX", "Termin am Freitag",
         "Hola Maria, soy Alex, de Acme Dental. ¡Espero que estés bien! Te escribo por lo "
         'siguiente: "Termin am Freitag". ¿Me confirmas si te viene bien?'),
        ("en", "Termin am Freitag",
         "Hi Maria, this is Alex from Acme Dental. Hope you're well! I'm reaching out about "
         'the following: "Termin am Freitag". Can you let me know if that works for you?'),
    ],
)  # fmt: skip
async def test_greeting_languages(language, reason, expected):
    text = (
        await OfflineAgent().greeting(
            profile(language=language), recipient(reason, first_name="Maria")
        )
    ).text
    assert text == expected


async def test_greeting_unknown_language_falls_back_to_english(caplog):
    with caplog.at_level(logging.WARNING, logger="smskit.agents.offline"):
        text = (await OfflineAgent().greeting(profile(language="xx"), recipient())).text
    assert text.startswith("Hi, this is Alex")
    assert "'xx'" in caplog.text


@pytest.mark.parametrize(
    ("reason", "phrase"),
    [
        ("Confirm your appointment", "Can you confirm your appointment?"),
        ("to renew your plan", "Would you like to renew your plan?"),
        ("Your invoice from May", "I'm reaching out about your invoice from May."),
        ("Acme's new opening hours", "I'm reaching out about Acme's new opening hours."),
        ("the survey.", "I'm reaching out about the survey."),
        ("Follow up on their complaint", "I'm reaching out to follow up on your complaint."),
        ("Remind her to bring her ID", "Please remember to bring your ID."),
        ("Thank them for their payment", "Thank you for your payment!"),
        ("Ask what time they prefer for the visit", "What time do you prefer for the visit?"),
        ("Ask if they received the letter",
         "Could you let us know whether you received the letter?"),
        ("Invite them to our open day", "We'd like to invite you to our open day."),
        ("Ask them to send a meter reading", "Could you send a meter reading?"),
        ("Schedule a follow-up call", "When would suit you for a follow-up call?"),
    ],
)  # fmt: skip
async def test_greeting_english_reason_phrasing(reason, phrase):
    text = (await OfflineAgent().greeting(profile(), recipient(reason))).text
    assert phrase in text


async def test_greeting_weaves_detail_columns():
    agent = OfflineAgent()
    row = recipient("confirm your cleaning appointment", date="March 5", time="3 pm", plan="x")
    text = (await agent.greeting(profile(), row)).text
    assert "Can you confirm your cleaning appointment (date: March 5, time: 3 pm)?" in text
    already = recipient("confirm your appointment on March 5", date="March 5", segment="B")
    text = (await agent.greeting(profile(), already)).text
    assert "(" not in text
    assert "segment" not in text
    feedback = recipient("Ask for feedback on the visit", plan="Gold", date="March 5")
    assert "(" not in (await agent.greeting(profile(), feedback)).text
    renewal = recipient("Their plan renews on May 1; ask whether they want to renew", plan="Gold")
    text = (await agent.greeting(profile(), renewal)).text
    assert "Your plan renews on May 1 (plan: Gold)." in text


async def test_greeting_never_cuts_words():
    agent = OfflineAgent()
    row = recipient(APPOINTMENT, first_name="Maria")
    variants = set()
    for limit in range(200, 20, -1):
        try:
            variants.add((await agent.greeting(profile(), row, max_chars=limit)).text)
        except AgentError:
            break
    assert len(variants) >= 4
    full = (await agent.greeting(profile(), row)).text
    # every word comes from the full greeting, none is a truncated stem
    for word in set(re.findall(r"\w+", " ".join(variants))):
        assert re.search(rf"\b{word}\b", full, re.IGNORECASE), word


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
    assert reply.text == (
        "This is Alex from Acme Dental. Can you confirm your cleaning appointment on Friday?"
    )


async def test_reply_question_uses_business_description():
    row = recipient("Their Home Plus plan renews on March 15; ask whether they want to renew")
    transcript = conversation("Hi", "Sorry, what is this about?")
    reply = await OfflineAgent().reply(northwind(), row, transcript)
    assert reply.text == (
        "This is Alex from Northwind Energy, your home energy supplier. Your Home Plus plan "
        "renews on March 15. Would you like to renew?"
    )


@pytest.mark.parametrize(
    ("answer", "note"),
    [
        ("Yes", "Your cleaning appointment on Friday is confirmed."),
        ("Sure thing!", "Your cleaning appointment on Friday is confirmed."),
        ("yes, see you Friday", "Your cleaning appointment is confirmed for Friday."),
        ("ok, Friday at 3pm", "Your cleaning appointment is confirmed for Friday at 3pm."),
        ("Yes, Thursday at 10am works for me.",
         "I've noted Thursday at 10am for your cleaning appointment."),
    ],
)  # fmt: skip
async def test_reply_agreement_confirms_what_was_agreed(answer, note):
    reply = await OfflineAgent().reply(profile(), recipient(), conversation("Hi", answer))
    assert reply.end == "goal-reached"
    assert reply.text == f"Great, thank you! {note}"


@pytest.mark.parametrize(
    ("reason", "answer", "note"),
    [
        ("Their Home Plus plan renews on March 15; ask whether they want to renew",
         "Yes, please go ahead and renew it for another year.",
         "I'll renew your Home Plus plan."),
        ("Ask whether they want to join the loyalty club", "yes",
         "I've noted that you'd like to join the loyalty club."),
        ("Invoice 4411 is due Friday; offer a payment plan if they need one",
         "Yes, I'll pay it on Tuesday.", "I've noted that you'll pay on Tuesday."),
        ("Invoice 4411 is due Friday; offer a payment plan if they need one", "yes please",
         "I've noted that you'd like a payment plan."),
        ("Offer a free home energy check and ask for a convenient date",
         "Yes, Tuesday at 3pm works for me.",
         "I've noted Tuesday at 3pm for your free home energy check."),
        ("Offer to switch them to the Green plan at the same price", "ok",
         "We'll switch you to the Green plan at the same price."),
        ("Ask for feedback on last week's smart meter installation",
         "It went really well, 5 stars",
         "I'll pass your feedback on last week's smart meter installation to the team."),
        ("Ask for feedback on the new app, including the bill view", "Love it",
         "I'll pass your feedback on to the team."),
        ("Invoice 4432 is due next week; confirm they received it", "yes",
         "I've noted that you received it."),
        ("Invite them to our open day on Saturday", "sure",
         "I look forward to seeing you there."),
        ("Schedule a follow-up call", "Thursday at 10am",
         "I've noted Thursday at 10am for a follow-up call."),
        ("Your order has shipped", "ok", "That's noted."),
    ],
)  # fmt: skip
async def test_reply_agreement_notes(reason, answer, note):
    reply = await OfflineAgent().reply(northwind(), recipient(reason), conversation("Hi", answer))
    assert reply.end == "goal-reached"
    assert reply.text == f"Great, thank you! {note}"


@pytest.mark.parametrize(
    ("language", "reason", "answer", "text"),
    [
        ("es", APPOINTMENT, "Sí, el jueves a las 16:30 me viene bien.",
         "¡Genial, gracias! Queda anotado: el jueves a las 16:30."),
        ("fr", APPOINTMENT, "Oui, jeudi à 15h, ça me va.",
         "Parfait, merci ! C'est noté : jeudi à 15h."),
        ("de", "Invoice 4420 is overdue; ask when they can pay", "Ja, ich zahle am Freitag.",
         "Super, vielen Dank! Notiert: Sie zahlen am Freitag."),
        ("es", "Their plan renews on May 1; ask whether they want to renew", "Sí",
         "¡Genial, gracias! Queda anotada la renovación."),
    ],
)  # fmt: skip
async def test_reply_agreement_other_languages(language, reason, answer, text):
    agent = OfflineAgent()
    reply = await agent.reply(
        profile(language=language), recipient(reason), conversation("Hi", answer)
    )
    assert reply.end == "goal-reached"
    assert reply.text == text


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
    assert first.text == (
        "Thanks for your reply! Can you confirm your cleaning appointment on Friday?"
    )
    second = await agent.reply(
        profile(), recipient(), conversation("Hi", "hmm", "x", "the blue one")
    )
    assert second.end is None
    assert second.text is not None
    assert second.text.startswith("Sorry, I didn't quite catch that.")


async def test_reply_unsure_gives_time():
    reply = await OfflineAgent().reply(profile(), recipient(), conversation("Hi", "not sure"))
    assert reply.end is None
    assert reply.text == (
        "No rush, take your time. Can you confirm your cleaning appointment on Friday?"
    )


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
    row = recipient("Their Home Plus plan renews on March 15; ask whether they want to renew")
    transcript = conversation("Hi", "who is this?")
    full = (await agent.reply(northwind(), row, transcript)).text
    assert full is not None
    short = (await agent.reply(northwind(), row, transcript, max_chars=90)).text
    assert short is not None
    assert len(short) <= 90
    assert len(short) < len(full)
    assert "March 15" in short
    with pytest.raises(AgentError, match="shortest reply"):
        await agent.reply(northwind(), row, transcript, max_chars=10)


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
        "Asked the recipient to confirm their cleaning appointment on Friday. The recipient "
        'first asked "Who is this?", then agreed to Thursday at 3pm instead.'
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
    assert analysis.summary.endswith("The recipient declined.")
    jsonschema.validate(analysis.fields, nullable(FOUR_FIELDS))


async def test_analyse_opt_out():
    transcript = conversation("Hi", "please stop texting me")
    schema = {"type": "object", "properties": {"opted_out": {"type": "boolean"}}}
    analysis = await OfflineAgent().analyse(profile(), recipient(), transcript, schema)
    assert analysis.opted_out is True
    assert analysis.fields == {"opted_out": True}
    assert analysis.summary.endswith("; the recipient opted out.")


async def test_analyse_no_reply():
    analysis = await OfflineAgent().analyse(profile(), recipient(), conversation("Hi"), None)
    assert analysis.summary == (
        "Asked the recipient to confirm their cleaning appointment on Friday; "
        "no reply before the session closed."
    )
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
    assert analysis.summary == (
        'Asked the recipient for feedback on their visit. The recipient gave feedback: "Great '
        'visit, 5 stars".'
    )


@pytest.mark.parametrize(
    ("language", "summary"),
    [
        ("en", "Asked whether Maria wants to renew the Home Plus plan (renews on March 15). "
               'Maria first asked "Sorry, what is this about?", then agreed to renew.'),
        ("es", 'Se escribió a Maria por lo siguiente: "Their Home Plus plan renews on March 15; '
               'ask whether they want to renew". Maria aceptó.'),
        ("de", 'Nachricht an Maria wegen: "Their Home Plus plan renews on March 15; ask whether '
               'they want to renew". Maria hat zugestimmt.'),
    ],
)  # fmt: skip
async def test_analyse_summary_names_recipient(language, summary):
    row = recipient(
        "Their Home Plus plan renews on March 15; ask whether they want to renew",
        first_name="Maria",
    )
    transcript = conversation(
        "Hi Maria", "Sorry, what is this about?", "It's about your plan.", "Yes, renew it please"
    )
    analysis = await OfflineAgent().analyse(profile(language=language), row, transcript, None)
    assert analysis.summary == summary


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
