"""English sentences for a read reason: what the agent says, asks and confirms for each ask."""

from __future__ import annotations

import re
from datetime import date

from smskit.agents.reasons import Ask, Reason, capitalise
from smskit.agents.when import When, format_when, strip_when

# Words that make a feedback topic an event in the past: "How did it go?" rather than "What
# do you think of it so far?".
_PAST_EVENT = re.compile(
    r"\b(yesterday|last|ago|recent|recently|earlier|visit|call|installation|appointment|"
    r"repair|service|delivery|stay|meeting|session|inspection|check|consultation|survey|"
    r"treatment|order|trip|event|course|class|tour|went|was|were)\b",
    re.IGNORECASE,
)
_SUBJECT = re.compile(
    r"^(?P<subject>your\s+.+?)\s+(?:renews|expires|ends|runs out|is|will)\b", re.I
)


def _sentence(text: str) -> str:
    text = capitalise(text.strip())
    return text if text[-1:] in ".!?" else text + "."


def statement(ask: Ask, reason: str, *, formal: bool = False) -> str | None:
    """Return what the agent tells the recipient for an ask, or None for a pure question.

    `reason` is the tone's "I'm reaching out {reason}." template, which gets "to ..." or
    "about ...". `formal` words the feedback request and the offer without contractions.
    """
    phrase = ask.phrase
    if ask.kind == "feedback":
        lead = "We would appreciate your feedback" if formal else "We'd love your feedback"
        return f"{lead} on {phrase}." if phrase else f"{lead}."
    if ask.kind == "offer":
        condition = f" {ask.condition}" if ask.condition else ""
        lead = "We would be glad to offer you" if formal else "We can offer you"
        return f"{lead} {phrase}{condition}."
    if ask.kind == "invite":
        return f"We'd like to invite you {phrase}."
    if ask.kind == "remind":
        return f"This is a reminder about {phrase}."
    if ask.kind == "remind-to":
        return f"Please remember to {phrase}."
    if ask.kind == "thank":
        return f"Thank you for {phrase}!" if phrase else "Thank you!"
    if ask.kind == "about":
        return reason.format(reason="about " + phrase)
    if ask.kind == "action":
        return reason.format(reason="to " + phrase)
    return None


def short_statement(ask: Ask) -> str | None:
    """Return a shorter statement for the asks whose long one has a tone's opening words."""
    if ask.kind == "about":
        return _sentence(ask.phrase)
    if ask.kind == "action":
        return _sentence("to " + ask.phrase)
    return None


def question(ask: Ask, *, formal: bool = False) -> tuple[str, str] | None:
    """Return the question for an ask, long and short, or None when it asks nothing."""
    phrase = ask.phrase
    fixed = {
        "want": f"Would you like {phrase}?",
        "confirm": f"Could you please confirm {phrase}?"
        if formal
        else f"Can you confirm {phrase}?",
        "offer-to": f"Would you like us to {phrase}?",
        "choose": f"What {phrase} would suit you?",
        "schedule": f"When would suit you for {phrase}?",
        "request": f"Could you {phrase}?",
        "question": f"{phrase}?",
    }
    if ask.kind in fixed:
        text = fixed[ask.kind]
        return text, text
    if ask.kind == "feedback":
        if not phrase or _PAST_EVENT.search(phrase):
            return "How did it go?", "How did it go?"
        return "What do you think of it so far?", "What do you think?"
    if ask.kind == "offer":
        return "Would you be interested?", "Interested?"
    if ask.kind == "invite":
        return "Would you like to come?", "Can you come?"
    return None


def _owned(noun_phrase: str) -> str:
    return re.sub(r"^(?:a|an|the)\s+", "your ", noun_phrase, flags=re.IGNORECASE)


def _subject(reason: Reason) -> str | None:
    """Return "your Home Plus plan" from a fact like "Your Home Plus plan renews on ..."."""
    for fact in reason.facts:
        match = _SUBJECT.match(fact.text)
        if match:
            return "your " + match["subject"].split(None, 1)[1]
    return None


def _confirm_note(phrase: str, given: When | None, stated: When | None, today: date) -> str:
    if re.match(r"^(?:you|that|whether|if)\b", phrase, re.IGNORECASE):
        return f"I've noted that {phrase}."
    if given is None:
        return f"{capitalise(phrase)} is confirmed."
    stripped = strip_when(phrase, today)
    if stated is not None and given.differs_from(stated):
        return f"I've noted {format_when(given, 'en')} for {stripped}."
    return f"{capitalise(stripped)} is confirmed for {format_when(given, 'en')}."


def _want_note(reason: Reason, phrase: str) -> str:
    subject = _subject(reason)
    if subject and re.fullmatch(r"to [a-z]+", phrase):
        return f"I'll {phrase[3:]} {subject}."
    return f"I've noted that you'd like {phrase}."


def _feedback_note(phrase: str) -> str:
    # a topic with a comma ("the new app, including the bill view") would read as a list
    if not phrase or "," in phrase:
        return "I'll pass your feedback on to the team."
    return f"I'll pass your feedback on {phrase} to the team."


def _booking_note(reason: Reason, last: Ask, given: When | None) -> str | None:
    """Return the note for an offer, or for the day chosen for an offer or a call."""
    if last.kind == "offer" and given is None:
        return f"I've noted that you'd like {last.phrase}."
    if given is None:
        return None
    offers = [ask.phrase for ask in reason.asks if ask.kind == "offer"]
    if last.kind == "schedule":
        target = f" for {last.phrase}"
    elif offers:
        target = f" for {_owned(offers[-1])}"
    else:
        target = ""
    return f"I've noted {format_when(given, 'en')}{target}."


def confirmation(
    reason: Reason, given: When | None, stated: When | None, today: date
) -> str | None:
    """Return the note that confirms what the recipient agreed to, or None for the default.

    `given` is the day and time in the recipient's agreement, `stated` those in the reason,
    and `today` the recipient's local date.
    """
    if reason.category == "payment" and given is not None and given.day is not None:
        return f"I've noted that you'll pay {format_when(given, 'en', with_preposition=True)}."
    noted = f"I've noted {format_when(given, 'en')}." if given else None
    if not reason.asks:
        return noted
    last = reason.asks[-1]
    if last.kind == "confirm":
        return _confirm_note(last.phrase, given, stated, today)
    if last.kind == "want":
        return _want_note(reason, last.phrase)
    if last.kind in ("offer", "choose", "schedule"):
        return _booking_note(reason, last, given)
    if last.kind == "feedback":
        return _feedback_note(last.phrase)
    if last.kind == "offer-to":
        return f"We'll {last.phrase}."
    if last.kind == "invite":
        return "I look forward to seeing you there."
    return noted
