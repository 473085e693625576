from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from smskit.agents.base import AgentProfile, Recipient, Turn
from smskit.agents.offline import OfflineAgent
from smskit.errors import InvalidInputError
from smskit.keywords import is_opt_out_request
from smskit.runner.personas import (
    LATE_DELAY_SECONDS,
    PERSONA_NAMES,
    Persona,
    guess_language,
    persona_for,
    persona_named,
)

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SESSION_SECONDS = 60 * 60
PHONE = "+12125550100"

REASONS = {
    "en": [
        "confirm your dental appointment on Friday",
        "renew your gym membership",
        "get your feedback on your recent visit",
        "remind you about the overdue invoice",
    ],
    "es": [
        "confirmar su cita del viernes",
        "renovar su suscripción",
        "conocer su opinión sobre su visita",
        "recordarle el pago pendiente de su factura",
    ],
    "fr": [
        "confirmer votre rendez-vous de vendredi",
        "renouveler votre abonnement",
        "recueillir votre avis sur votre visite",
        "vous rappeler le paiement de votre facture",
    ],
    "de": [
        "Ihren Termin am Freitag bestätigen",
        "Ihr Abonnement verlängern",
        "Ihre Bewertung zu Ihrem letzten Besuch",
        "Erinnerung an die offene Rechnung",
    ],
}
EXPECTED_END = {
    "agreeable": "goal-reached",
    "questioner": "goal-reached",
    "refuser": "refused",
    "opt-out": "opted-out",
    "silent": None,
    "late": None,
}


async def run_conversation(persona: Persona, language: str, reason: str, tone: str):
    """Play a persona against the offline agent for one session; return the end and turns."""
    agent = OfflineAgent()
    profile = AgentProfile(business_context="Acme", tone=tone, language=language)
    recipient = Recipient(1, PHONE, reason, {"first_name": "Maria"})
    greeting = await agent.greeting(profile, recipient)
    transcript = [Turn("agent", greeting.text + " Reply STOP to opt out.", START)]
    elapsed = 0.0
    for _ in range(10):
        planned = persona.next_reply(transcript, language=language)
        if planned is None:
            return None, transcript
        elapsed += planned.delay_seconds
        if elapsed > SESSION_SECONDS:
            return None, transcript
        now = START + timedelta(seconds=elapsed)
        transcript.append(Turn("recipient", planned.text, now))
        reply = await agent.reply(profile, recipient, transcript)
        if reply.text is not None:
            transcript.append(Turn("agent", reply.text, now + timedelta(seconds=5)))
        if reply.end is not None:
            return reply.end, transcript
    raise AssertionError("conversation did not end within 10 replies")


@pytest.mark.parametrize("language", sorted(REASONS))
@pytest.mark.parametrize("name", PERSONA_NAMES)
async def test_persona_conversation_ends_as_intended(name, language):
    for index, reason in enumerate(REASONS[language]):
        tone = ("friendly", "formal", "casual", "empathetic")[index]
        persona = persona_named(name, f"+1212555{index:04d}")
        end, transcript = await run_conversation(persona, language, reason, tone)
        assert end == EXPECTED_END[name], (reason, [turn.text for turn in transcript])


async def test_persona_late_replies_after_session():
    persona = persona_named("late")
    transcript = [Turn("agent", "Hi, confirm your appointment on Friday?", START)]
    planned = persona.next_reply(transcript, language="en")
    assert planned is not None
    assert planned.delay_seconds == LATE_DELAY_SECONDS
    assert planned.delay_seconds > SESSION_SECONDS
    assert planned.text.startswith("Sorry, only just saw this. Yes,")


async def test_persona_agreeable_detail_is_analysed():
    schema = {
        "type": "object",
        "properties": {
            "day": {"type": "string", "format": "date"},
            "at": {"type": "string", "format": "time"},
        },
    }
    persona = persona_named("agreeable", PHONE)
    reason = REASONS["en"][0]
    end, transcript = await run_conversation(persona, "en", reason, "friendly")
    assert end == "goal-reached"
    analysis = await OfflineAgent().analyse(
        AgentProfile(), Recipient(1, PHONE, reason), transcript, schema
    )
    assert analysis.fields["day"] is not None
    assert analysis.fields["at"] is not None


def test_persona_agreeable_says_goodbye_after_confirmation():
    persona = persona_named("agreeable")
    transcript = [Turn("agent", "Hi, can you confirm your appointment?", START)]
    first = persona.next_reply(transcript, language="en")
    assert first is not None
    transcript += [
        Turn("recipient", first.text, START),
        Turn("agent", "Great, you're confirmed.", START),
    ]
    second = persona.next_reply(transcript, language="en")
    assert second is not None
    assert second.text == "Thanks, bye!"
    transcript += [Turn("recipient", second.text, START), Turn("agent", "Bye!", START)]
    assert persona.next_reply(transcript, language="en") is None


def test_persona_opt_out_variants():
    texts = {persona_named("opt-out", f"+4420794600{index:02d}").next_reply(
        [Turn("agent", "Hi", START)], language="en"
    ).text for index in range(40)}  # fmt: skip
    assert texts == {"STOP", "Please stop texting me."}
    for text in texts:
        assert is_opt_out_request(text, "en")


def test_persona_waits_for_agent_turn():
    persona = persona_named("agreeable")
    assert persona.next_reply([]) is None
    assert persona.next_reply([Turn("recipient", "hello", START)]) is None


@pytest.mark.parametrize("name", PERSONA_NAMES)
def test_persona_delays_realistic(name):
    for index in range(30):
        persona = persona_named(name, f"+3361234{index:04d}")
        planned = persona.next_reply([Turn("agent", "Hi, how was your visit?", START)], "en")
        if planned is None:
            assert name == "silent"
            continue
        if name == "late":
            assert planned.delay_seconds == LATE_DELAY_SECONDS
        else:
            assert 20 <= planned.delay_seconds <= 300


def test_persona_for_is_deterministic():
    assert persona_for(PHONE) == persona_for(PHONE)
    assert persona_for(PHONE) == persona_for(f" {PHONE} ")


def test_persona_for_mix():
    counts = Counter(persona_for(f"+1415555{index:04d}").name for index in range(3000))
    assert set(counts) == set(PERSONA_NAMES)
    for name in PERSONA_NAMES:
        assert counts[name] >= 150, counts


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("agreeable", "agreeable"),
        (" Questioner ", "questioner"),
        ("opt_out", "opt-out"),
        ("optout", "opt-out"),
        ("OPT OUT", "opt-out"),
        ("late", "late"),
    ],
)
def test_persona_named_aliases(text, name):
    assert persona_named(text).name == name


def test_persona_named_unknown():
    with pytest.raises(InvalidInputError, match="unknown persona 'grumpy'.*agreeable"):
        persona_named("grumpy")


def test_persona_named_seed_from_phone():
    assert persona_named("late", PHONE).seed == persona_for(PHONE).seed
    assert persona_named("late").seed == 0


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", "Sí, el"),
        ("fr", "Oui,"),
        ("de", "Ja,"),
        ("en", "Yes,"),
        ("pt", "Yes,"),
    ],
)
def test_persona_replies_in_language(language, expected):
    persona = persona_named("agreeable")
    transcript = [Turn("agent", "Appointment reminder", START)]
    planned = persona.next_reply(transcript, language=language)
    assert planned is not None
    assert planned.text.startswith(expected)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hola Maria, soy Alex, de Acme. Te escribo por lo siguiente: su cita.", "es"),
        ("Bonjour Maria, ici Alex. Je vous écris pour la raison suivante : rendez-vous.", "fr"),
        ("Hallo Maria, hier ist Alex von Acme. Ich schreibe Ihnen aus folgendem Grund.", "de"),
        ("Hi Maria, this is Alex from Acme. I'm reaching out about your appointment.", "en"),
        ("12345", "en"),
    ],
)
def test_guess_language_cases(text, language):
    assert guess_language([Turn("agent", text, START)]) == language
