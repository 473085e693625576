from datetime import date

import pytest

from smskit.agents.intents import classify_intent, polarity, reason_category

MONDAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Who is this?", "question"),
        ("what is this about", "question"),
        ("Why?", "question"),
        ("HELP", "question"),
        ("¿Quién es?", "question"),
        ("C'est à quel sujet ?", "question"),
        ("Worum geht es?", "question"),
        ("Yes, what time?", "question"),
        ("Yes", "agreement"),
        ("Yes, Thursday at 3pm works for me", "agreement"),
        ("No problem!", "agreement"),
        ("sounds good", "agreement"),
        ("Sí, claro", "agreement"),
        ("Oui, d'accord", "agreement"),
        ("Ja, passt", "agreement"),
        ("Thursday at 3", "agreement"),
        ("How about Friday?", "agreement"),
        ("No thanks", "refusal"),
        ("not interested", "refusal"),
        ("I can't make it", "refusal"),
        ("That doesn't work for me", "refusal"),
        ("no, bye", "refusal"),
        ("No, gracias", "refusal"),
        ("Non merci", "refusal"),
        ("Nein danke", "refusal"),
        ("Thanks, bye!", "goodbye"),
        ("thank you!", "goodbye"),
        ("Gracias, adiós", "goodbye"),
        ("Merci, au revoir", "goodbye"),
        ("Danke, tschüss", "goodbye"),
        ("please stop texting me", "opt-out"),
        ("STOP", "opt-out"),
        ("bitte keine SMS mehr", "opt-out"),
        ("Not sure yet", "unsure"),
        ("Yes, but I can't make it", "unsure"),
        ("Hmm", "other"),
        ("I'll think about the colour", "other"),
    ],
)
def test_classify_intent_cases(text, intent):
    assert classify_intent(text, "en", MONDAY) == intent


def test_classify_intent_date_needs_reference():
    assert classify_intent("Thursday at 3", "en") == "other"


def test_polarity_values():
    assert polarity("yes please", "en") is True
    assert polarity("no thanks", "en") is False
    assert polarity("who is this?", "en") is None


@pytest.mark.parametrize(
    ("reason", "category"),
    [
        ("confirm your dental appointment on Friday", "appointment"),
        ("Bestätigung Ihres Termins", "appointment"),
        ("confirmer votre rendez-vous", "appointment"),
        ("renew your gym membership", "renewal"),
        ("renovar su suscripción", "renewal"),
        ("get your feedback on your recent visit", "feedback"),
        ("remind you about the overdue invoice", "payment"),
        ("Erinnerung an die offene Rechnung", "payment"),
        ("say hello", "general"),
        ("confirm the solar panel survey appointment", "appointment"),
        ("ask for feedback on the appointment", "feedback"),
        ("confirm the meter reading visit on Wednesday", "appointment"),
        ("offer a free home energy check", "general"),
    ],
)
def test_reason_category_cases(reason, category):
    assert reason_category(reason) == category
