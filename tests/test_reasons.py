import pytest

from smskit.agents.reasons import (
    Ask,
    Fact,
    guess_language,
    lower_first,
    read_reason,
    split_clauses,
    to_second_person,
    to_third_person_singular,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Their Home Plus plan renews", "Your Home Plus plan renews"),
        ("switch them to the Green plan", "switch you to the Green plan"),
        ("if they need one", "if you need one"),
        ("they're moving and they've paid", "you're moving and you've paid"),
        ("the customer's parcel", "your parcel"),
        ("the customer needs a new meter", "you need a new meter"),
        ("She has an appointment", "You have an appointment"),
        ("he is due a refund", "you are due a refund"),
        ("he watches the match", "you watch the match"),
        ("she applies today", "you apply today"),
        ("bring her ID", "bring your ID"),
        ("call her back", "call you back"),
        ("remind him", "remind you"),
        ("we told them ourselves", "we told you ourselves"),
        ("our team", "our team"),
    ],
)
def test_to_second_person_cases(text, expected):
    assert to_second_person(text) == expected


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("want to renew", "wants to renew"),
        ("can pay", "can pay"),
        ("are happy", "is happy"),
        ("have paid", "has paid"),
        ("need one", "needs one"),
        ("try again", "tries again"),
        ("finish it", "finishes it"),
        ("received it", "received it"),
        ("", ""),
    ],
)
def test_to_third_person_singular_cases(phrase, expected):
    assert to_third_person_singular(phrase) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Their plan", "their plan"),
        ("Invoice 4411 is due", "invoice 4411 is due"),
        ("Acme's opening hours", "Acme's opening hours"),
        ("SMS reminders", "SMS reminders"),
        ("Maria's visit", "Maria's visit"),
    ],
)
def test_lower_first_cases(text, expected):
    assert lower_first(text) == expected


@pytest.mark.parametrize(
    ("reason", "clauses"),
    [
        (
            "Their Home Plus plan renews on March 15; ask whether they want to renew",
            ["Their Home Plus plan renews on March 15", "ask whether they want to renew"],
        ),
        (
            "Offer a free home energy check and ask for a convenient date",
            ["Offer a free home energy check", "ask for a convenient date"],
        ),
        (
            "Her membership expires on June 30. Ask if she would like to renew it.",
            ["Her membership expires on June 30", "Ask if she would like to renew it"],
        ),
        (
            "Confirm the visit with Dr. Smith on Monday",
            ["Confirm the visit with Dr. Smith on Monday"],
        ),
        ("Invoice 4420 is overdue, ask when they can pay",
         ["Invoice 4420 is overdue", "ask when they can pay"]),
        ("Please confirm the booking", ["confirm the booking"]),
        ("Check the boiler and the pipes", ["Check the boiler and the pipes"]),
    ],
)  # fmt: skip
def test_split_clauses_cases(reason, clauses):
    assert split_clauses(reason) == clauses


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Their Home Plus plan renews on March 15", "en"),
        ("Invoice 4450 is due Friday", "en"),
        ("confirmar su cita del viernes", "es"),
        ("renovar su suscripción", "es"),
        ("confirmer votre rendez-vous de vendredi", "fr"),
        ("Termin am Freitag", "de"),
        ("Erinnerung an die offene Rechnung", "de"),
        ("Renewal", "en"),
    ],
)
def test_guess_language_cases(text, language):
    assert guess_language(text) == language


@pytest.mark.parametrize(
    ("reason", "facts", "asks"),
    [
        (
            "Their Home Plus plan renews on March 15; ask whether they want to renew",
            ["Your Home Plus plan renews on March 15"],
            [("want", "to renew", "")],
        ),
        (
            "Confirm the boiler service appointment next Tuesday morning",
            [],
            [("confirm", "your boiler service appointment next Tuesday morning", "")],
        ),
        (
            "Ask for feedback on last week's smart meter installation",
            [],
            [("feedback", "last week's smart meter installation", "")],
        ),
        (
            "Invoice 4411 is due Friday; offer a payment plan if they need one",
            ["Invoice 4411 is due Friday"],
            [("offer", "a payment plan", "if you need one")],
        ),
        (
            "Offer a free home energy check and ask for a convenient date",
            [],
            [("offer", "a free home energy check", ""), ("choose", "date", "")],
        ),
        (
            "Invoice 4420 is overdue; ask when they can pay",
            ["Invoice 4420 is overdue"],
            [("question", "When can you pay", "")],
        ),
        (
            "Invoice 4432 is due next week; confirm they received it",
            ["Invoice 4432 is due next week"],
            [("confirm", "you received it", "")],
        ),
        (
            "Offer to switch them to the Green plan at the same price",
            [],
            [("offer-to", "switch you to the Green plan at the same price", "")],
        ),
        ("Ask if they received the letter", [],
         [("question", "Could you let us know whether you received the letter", "")]),
        ("Ask whether the customer is happy with the new tariff", [],
         [("question", "Are you happy with the new tariff", "")]),
        ("Ask if they need a parking space", [], [("question", "Do you need a parking space", "")]),
        ("Ask what time they prefer for the visit", [],
         [("question", "What time do you prefer for the visit", "")]),
        ("Ask how many people they are bringing", [],
         [("question", "How many people are you bringing", "")]),
        ("Ask what works best for them", [],
         [("question", "Could you let us know what works best for you", "")]),
        ("Let them know their order has shipped", ["Your order has shipped"], []),
        ("Remind them that their bill is due", ["Your bill is due"], []),
        ("Remind her to bring her ID", [], [("remind-to", "bring your ID", "")]),
        ("remind you about the overdue invoice", [], [("remind", "the overdue invoice", "")]),
        ("Reminder: dentist appointment tomorrow", [],
         [("remind", "your dentist appointment tomorrow", "")]),
        ("Ask them to send a meter reading", [], [("request", "send a meter reading", "")]),
        ("Ask for their account number", [], [("request", "send us your account number", "")]),
        ("Schedule a follow-up call with the customer", [], [("schedule", "a follow-up call", "")]),
        ("Thank them for their payment", [], [("thank", "your payment", "")]),
        ("Invite them to our open day", [], [("invite", "to our open day", "")]),
        ("renew your gym membership", [], [("want", "to renew your gym membership", "")]),
        ("Follow up on their complaint", [], [("action", "follow up on your complaint", "")]),
        ("Your invoice from May", [], [("about", "your invoice from May", "")]),
        ("the survey.", [], [("about", "the survey", "")]),
    ],
)  # fmt: skip
def test_read_reason_cases(reason, facts, asks):
    read = read_reason(reason)
    assert read.language == "en"
    assert [fact.text for fact in read.facts] == facts
    assert [(ask.kind, ask.phrase, ask.condition) for ask in read.asks] == asks


def test_read_reason_keeps_sources():
    read = read_reason("Their plan renews on May 2; ask whether they want to renew.")
    assert read.facts == (Fact("Your plan renews on May 2", "Their plan renews on May 2"),)
    assert read.asks == (Ask("want", "to renew", "ask whether they want to renew"),)
    assert read.text == "Their plan renews on May 2; ask whether they want to renew"


@pytest.mark.parametrize(
    ("reason", "category"),
    [
        ("Confirm the solar panel survey appointment on Thursday", "appointment"),
        ("Ask for feedback on the appointment", "feedback"),
        ("Invoice 4432 is due next week; confirm they received it", "payment"),
        ("Their Green plan renews on March 20", "renewal"),
    ],
)
def test_read_reason_category(reason, category):
    assert read_reason(reason).category == category


def test_read_reason_other_language_kept_whole():
    read = read_reason("confirmar su cita del viernes; gracias")
    assert read.language == "es"
    assert read.is_english is False
    assert read.text == "confirmar su cita del viernes; gracias"
    assert read.facts == ()
    assert read.asks == ()
