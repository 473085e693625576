from datetime import date, time

import pytest

from smskit.agents.reasons import read_reason
from smskit.agents.summary import Answer, quote, write_summary
from smskit.agents.when import When

RENEWAL = "Their Home Plus plan renews on March 15; ask whether they want to renew"
APPOINTMENT = "Confirm the boiler service appointment next Tuesday morning"
TUESDAY = When(date(2026, 3, 3), False, None)
THURSDAY_TEN = When(date(2026, 3, 5), False, time(10, 0))


def summary(reason, answers=(), *, language="en", name="Maria", given=None, stated=None):
    return write_summary(
        language, read_reason(reason), name, [Answer(*answer) for answer in answers], given, stated
    )


def test_write_summary_renewal_after_question():
    text = summary(
        RENEWAL,
        [("question", "Sorry, what is this about?"), ("agreement", "Yes, renew it please")],
    )
    assert text == (
        "Asked whether Maria wants to renew the Home Plus plan (renews on March 15). "
        'Maria first asked "Sorry, what is this about?", then agreed to renew.'
    )


def test_write_summary_no_reply():
    assert summary(APPOINTMENT, name="Leo") == (
        "Asked Leo to confirm the boiler service appointment next Tuesday morning; "
        "no reply before the session closed."
    )


def test_write_summary_opt_out_without_name():
    text = summary(
        "Offer to switch them to the Green plan at the same price", [("opt-out", "STOP")], name=""
    )
    assert text == (
        "Offered to switch the recipient to the Green plan at the same price; "
        "the recipient opted out."
    )


@pytest.mark.parametrize(
    ("reason", "answers", "given", "expected"),
    [
        (APPOINTMENT, [("agreement", "Yes")], None,
         "Asked Maria to confirm the boiler service appointment next Tuesday morning. "
         "Maria confirmed."),
        (APPOINTMENT, [("agreement", "Yes, Thursday at 10am")], THURSDAY_TEN,
         "Asked Maria to confirm the boiler service appointment next Tuesday morning. "
         "Maria agreed to Thursday at 10am instead."),
        (APPOINTMENT, [("agreement", "Yes, Tuesday")], TUESDAY,
         "Asked Maria to confirm the boiler service appointment next Tuesday morning. "
         "Maria confirmed (Tuesday)."),
        ("Invoice 4420 is overdue; ask when they can pay", [("agreement", "Friday")],
         When(date(2026, 3, 6), False, None),
         "Asked when Maria can pay (invoice 4420 is overdue). Maria promised to pay on Friday."),
        ("Invoice 4411 is due Friday; offer a payment plan if they need one",
         [("refusal", "No thanks")], None,
         "Offered Maria a payment plan if they need one (invoice 4411 is due Friday). "
         "Maria declined."),
        ("Offer a free home energy check and ask for a convenient date",
         [("agreement", "Thursday at 10am")], THURSDAY_TEN,
         "Offered Maria a free home energy check and asked for a convenient date. "
         "Maria accepted the offer and chose Thursday at 10am."),
        ("Ask for feedback on last week's smart meter installation",
         [("agreement", "It went really well, 5 stars!")], None,
         "Asked Maria for feedback on last week's smart meter installation. "
         'Maria gave feedback: "It went really well, 5 stars!"'),
        ("Remind them about the meter reading", [("unsure", "not sure")], None,
         "Reminded Maria about the meter reading. Maria was unsure and gave no clear answer."),
        ("Invoice 4450 is due Friday", [("question", "Who is this?")], None,
         'Told Maria that invoice 4450 is due Friday. Maria asked "Who is this?" but did not '
         "answer."),
        ("Follow up on their complaint", [("goodbye", "bye")], None,
         "Texted Maria to follow up on their complaint. Maria said goodbye without answering."),
        ("Your invoice from May", [("other", "the blue one")], None,
         'Texted Maria about your invoice from May. Maria replied "the blue one" without a '
         "clear answer."),
        ("renew your gym membership", [("agreement", "yes")], None,
         "Asked whether Maria wants to renew their gym membership. Maria agreed to renew their "
         "gym membership."),
        ("confirm your cleaning appointment; you owe $20", [("refusal", "no")], None,
         "Asked Maria to confirm their cleaning appointment (they owe $20). Maria declined."),
        ("get your feedback on your visit", [], None,
         "Asked Maria for feedback on their visit; no reply before the session closed."),
    ],
)  # fmt: skip
def test_write_summary_english_cases(reason, answers, given, expected):
    assert summary(reason, answers, given=given, stated=TUESDAY) == expected


@pytest.mark.parametrize(
    ("language", "reason", "answers", "given", "expected"),
    [
        ("es", "confirmar su cita del viernes", [("agreement", "Sí")], None,
         "Se escribió a Maria para confirmar su cita del viernes. Maria aceptó."),
        ("es", APPOINTMENT, [("agreement", "Sí, el jueves a las 10:00")], THURSDAY_TEN,
         f'Se escribió a Maria por lo siguiente: "{APPOINTMENT}". '
         "Maria aceptó (el jueves a las 10:00)."),
        ("fr", RENEWAL, [("refusal", "Non merci")], None,
         f'Message envoyé à Maria au sujet suivant : "{RENEWAL}". Maria a refusé.'),
        ("de", "Termin am Freitag", [], None,
         'Nachricht an Maria wegen: "Termin am Freitag"; keine Antwort bis zum Ende der '
         "Sitzung."),
        ("de", "Rechnung 4411 offen", [("agreement", "Ja, am Freitag")],
         When(date(2026, 3, 6), False, None),
         'Nachricht an Maria wegen: "Rechnung 4411 offen". Maria will am Freitag zahlen.'),
        ("xx", APPOINTMENT, [("refusal", "no")], None,
         "Asked Maria to confirm the boiler service appointment next Tuesday morning. "
         "Maria declined."),
    ],
)  # fmt: skip
def test_write_summary_languages(language, reason, answers, given, expected):
    assert summary(reason, answers, language=language, given=given) == expected


def test_write_summary_unnamed_recipient_in_spanish():
    text = summary("confirmar su cita del viernes", [("opt-out", "BAJA")], language="es", name="")
    assert text == (
        "Se escribió al destinatario para confirmar su cita del viernes; "
        "el destinatario pidió no recibir más mensajes."
    )


def test_quote_cuts_long_text():
    text = quote("Well " + "really " * 30 + "hard to say")
    assert text.endswith("…")
    assert len(text) <= 81
    assert quote('He said "yes"') == "He said 'yes'"
