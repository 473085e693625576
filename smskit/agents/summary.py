"""Summarise a conversation in one or two sentences: what was asked and how the recipient answered.

English summaries reword the reason ("Asked whether Maria wants to renew the Home Plus plan
(renews on March 15). Maria agreed to renew."). Spanish, French and German summaries quote the
reason as written and say the outcome in that language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smskit.agents.intents import Intent
from smskit.agents.reasons import Ask, Reason, capitalise, lower_first, to_third_person_singular
from smskit.agents.when import When, format_when


@dataclass(frozen=True)
class Answer:
    """One recipient message and how it was read."""

    intent: Intent
    text: str


@dataclass(frozen=True)
class _Outcomes:
    """A language's wording of the outcome, as verb phrases after the recipient's name."""

    recipient: str
    to_recipient: str
    asked: str
    asked_purpose: str
    no_reply: str
    opted_out: str
    agreed: str
    agreed_when: str
    pays_when: str
    feedback: str
    declined: str
    question: str
    unsure: str
    goodbye: str
    other: str


_OUTCOMES = {
    "en": _Outcomes(
        recipient="the recipient",
        to_recipient="the recipient",
        asked='Texted {who} about the following: "{reason}"',
        asked_purpose="Texted {who} to {reason}",
        no_reply="no reply before the session closed",
        opted_out="opted out",
        agreed="agreed",
        agreed_when="agreed ({when})",
        pays_when="promised to pay {when}",
        feedback='gave feedback: "{quote}"',
        declined="declined",
        question='asked "{quote}" but did not answer',
        unsure="was unsure and gave no clear answer",
        goodbye="said goodbye without answering",
        other='replied "{quote}" without a clear answer',
    ),
    "es": _Outcomes(
        recipient="el destinatario",
        to_recipient="al destinatario",
        asked='Se escribió {who} por lo siguiente: "{reason}"',
        asked_purpose="Se escribió {who} para {reason}",
        no_reply="sin respuesta antes del cierre de la sesión",
        opted_out="pidió no recibir más mensajes",
        agreed="aceptó",
        agreed_when="aceptó ({when})",
        pays_when="prometió pagar {when}",
        feedback='dio su opinión: "{quote}"',
        declined="rechazó la propuesta",
        question='preguntó "{quote}" pero no respondió',
        unsure="dudó y no dio una respuesta clara",
        goodbye="se despidió sin responder",
        other='respondió "{quote}" sin una respuesta clara',
    ),
    "fr": _Outcomes(
        recipient="le destinataire",
        to_recipient="au destinataire",
        asked='Message envoyé {who} au sujet suivant : "{reason}"',
        asked_purpose="Message envoyé {who} pour {reason}",
        no_reply="pas de réponse avant la fin de la session",
        opted_out="a demandé à ne plus recevoir de messages",
        agreed="a accepté",
        agreed_when="a accepté ({when})",
        pays_when="a promis de régler {when}",
        feedback='a donné son avis : "{quote}"',
        declined="a refusé",
        question='a demandé "{quote}" sans répondre',
        unsure="a hésité sans donner de réponse claire",
        goodbye="a dit au revoir sans répondre",
        other='a répondu "{quote}" sans réponse claire',
    ),
    "de": _Outcomes(
        recipient="der Empfänger",
        to_recipient="den Empfänger",
        asked='Nachricht an {who} wegen: "{reason}"',
        asked_purpose='Nachricht an {who} wegen: "{reason}"',
        no_reply="keine Antwort bis zum Ende der Sitzung",
        opted_out="hat sich abgemeldet",
        agreed="hat zugestimmt",
        agreed_when="hat zugestimmt ({when})",
        pays_when="will {when} zahlen",
        feedback='hat Feedback gegeben: "{quote}"',
        declined="hat abgelehnt",
        question='hat "{quote}" gefragt, aber nicht geantwortet',
        unsure="war unsicher und hat nicht klar geantwortet",
        goodbye="hat sich verabschiedet, ohne zu antworten",
        other='hat "{quote}" geantwortet, ohne klare Antwort',
    ),
}
_TO_NAME = {"en": "{name}", "es": "a {name}", "fr": "à {name}", "de": "{name}"}
_DECIDING: frozenset[Intent] = frozenset({"opt-out", "agreement", "refusal"})
_PAST_TENSE = {
    "remind": "reminded",
    "tell": "told",
    "inform": "informed",
    "notify": "notified",
    "thank": "thanked",
    "invite": "invited",
    "offer": "offered",
    "ask": "asked",
}
_RECIPIENT_OBJECT = re.compile(
    r"^(?:them|him|her|you|the (?:customer|client|recipient|user|member|patient|tenant|"
    r"subscriber|account holder))\b\s*",
    re.IGNORECASE,
)
_SUBJECT_FACT = re.compile(
    r"^(?:their|your|the|his|her)\s+(?P<thing>.+?)\s+(?P<rest>(?:renews|expires|ends|runs out|"
    r"lapses|is due)\b.*)$",
    re.IGNORECASE,
)
_INFINITIVE_START = re.compile(r"^[a-záéíóúñèêàç]+(?:ar|er|ir|re)\b", re.IGNORECASE)


def quote(text: str, limit: int = 80) -> str:
    """Return a message for quoting in a summary, cut at a word boundary after `limit`."""
    text = " ".join(text.split()).replace('"', "'")
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


def _name_the_recipient(text: str, who: str) -> str:
    """Replace the first "they", "them" or "their" with the recipient's name."""
    match = re.search(r"\b(they|them|their)\b(\s+[a-z']+)?", text)
    if match is None:
        return text
    word, following = match[1], match[2] or ""
    if word == "they":
        replacement = who + " " + to_third_person_singular(following.strip()) if following else who
    elif word == "their":
        replacement = f"{who}'s{following}"
    else:
        replacement = who + following
    return text[: match.start()] + replacement + text[match.end() :]


def _third_person(text: str) -> str:
    """Turn a reason written to the recipient into one about them: "your plan", "their plan"."""
    subject = r"\byou\b(?=\s+(?:are|were|have|had|can|could|will|would|should|need|want|owe|may|"
    subject += r"might|must|do|did)\b)"
    text = re.sub(subject, "they", text)
    replacements = {"your": "their", "yours": "theirs", "yourself": "themselves", "you": "them"}
    return re.sub(r"\b(your|yours|yourself|you)\b", lambda match: replacements[match[1]], text)


def _asked_part(ask: Ask, who: str | None) -> str:
    """Write one instruction as something done: "asked whether Maria wants to renew"."""
    source = _third_person(ask.source.strip())
    them = who or "them"

    # kinds whose wording does not follow the instruction's verb
    if ask.kind == "about":
        return f"texted {them} about {lower_first(source)}"
    if ask.kind == "feedback":
        topic = f" on {_third_person(ask.phrase)}" if ask.phrase else ""
        return f"asked {them} for feedback{topic}"
    if ask.kind == "want":
        wants = f"{who} wants" if who else "they want"
        return f"asked whether {wants} {_third_person(ask.phrase)}"

    verb, _, rest = source.partition(" ")
    verb = verb.lower()
    if verb == "confirm":
        return f"asked {them} to confirm {rest}"
    if verb == "let" and rest.lower().startswith("them know"):
        verb, rest = "tell", rest[len("them know") :].strip()
    if verb not in _PAST_TENSE:
        # every other ask opens with a verb, which a sentence continues in lower case
        return f"texted {them} to {source[:1].lower()}{source[1:]}"

    # name the recipient where the instruction names them, or after the verb
    done = _PAST_TENSE[verb]
    if who is None:
        return f"{done} {_RECIPIENT_OBJECT.sub('them ', rest)}".strip()
    if _RECIPIENT_OBJECT.match(rest):
        return f"{done} {_RECIPIENT_OBJECT.sub(who + ' ', rest, count=1)}".strip()
    if verb == "ask" and re.match(r"^(?:whether|if|when|what|which|where|how|who|why)\b", rest):
        return f"{done} {_name_the_recipient(rest, who)}"
    if verb == "offer" and rest.startswith("to "):
        return f"{done} {_name_the_recipient(rest, who)}"
    return f"{done} {who} {rest}"


def _fact_part(source: str) -> str:
    fact = lower_first(_third_person(source))
    return re.sub(r"^(?:their|his|her)\b", "the", fact, flags=re.IGNORECASE)


def _english_asked(reason: Reason, who: str) -> str:
    """Write what the agent asked or told, with the reason's facts in brackets."""
    facts = [_fact_part(fact.source) for fact in reason.facts]
    if not reason.asks:
        if facts:
            return f"Told {who} that " + " and ".join(facts)
        return f"Texted {who} about {lower_first(reason.text)}"
    parts = [_asked_part(ask, who if index == 0 else None)
             for index, ask in enumerate(reason.asks)]  # fmt: skip
    first = reason.asks[0]
    folded = _SUBJECT_FACT.match(facts[0]) if facts else None
    if first.kind == "want" and re.fullmatch(r"to [a-z]+", first.phrase) and folded:
        parts[0] += f" the {folded['thing']} ({folded['rest']})"
        facts = facts[1:]
    text = capitalise(" and ".join(parts))
    return text + (f" ({'; '.join(facts)})" if facts else "")


def _english_agreement(reason: Reason, given: When | None, stated: When | None) -> str | None:
    """Return what an English summary says the recipient agreed to, or None for the default."""
    last = reason.asks[-1] if reason.asks else None
    when = format_when(given, "en") if given else ""
    if last is None:
        return None
    if last.kind == "want" and last.phrase.startswith("to "):
        return "agreed " + _third_person(last.phrase)
    if last.kind == "confirm":
        if given is not None and stated is not None and given.differs_from(stated):
            return f"agreed to {when} instead"
        return f"confirmed ({when})" if given else "confirmed"
    if last.kind in ("offer", "offer-to", "invite"):
        accepted = "accepted the invitation" if last.kind == "invite" else "accepted the offer"
        return f"{accepted} and chose {when}" if given else accepted
    if last.kind in ("choose", "schedule") and given is not None:
        offered = any(ask.kind == "offer" for ask in reason.asks)
        return f"accepted the offer and chose {when}" if offered else f"chose {when}"
    return None


def _outcome(
    language: str,
    reason: Reason,
    answer: Answer,
    given: When | None,
    stated: When | None,
) -> str:
    """Return the verb phrase for the deciding answer: "agreed to renew", "declined"."""
    words = _OUTCOMES[language]
    text = quote(answer.text)
    if answer.intent == "agreement":
        if reason.category == "feedback":
            return words.feedback.format(quote=text)
        if reason.category == "payment" and given is not None and given.day is not None:
            return words.pays_when.format(when=format_when(given, language, with_preposition=True))
        agreed = _english_agreement(reason, given, stated) if language == "en" else None
        if agreed:
            return agreed
        if given is not None:
            return words.agreed_when.format(when=format_when(given, language))
        return words.agreed
    phrases: dict[Intent, str] = {
        "opt-out": words.opted_out,
        "refusal": words.declined,
        "question": words.question,
        "unsure": words.unsure,
        "goodbye": words.goodbye,
        "other": words.other,
    }
    return phrases[answer.intent].format(quote=text)


def _asked(language: str, reason: Reason, name: str) -> str:
    words = _OUTCOMES[language]
    if language == "en" and reason.is_english:
        return _english_asked(reason, name or words.recipient)
    who = _TO_NAME[language].format(name=name) if name else words.to_recipient
    if reason.language == language and _INFINITIVE_START.match(reason.text):
        return words.asked_purpose.format(who=who, reason=lower_first(reason.text))
    return words.asked.format(who=who, reason=reason.text)


def write_summary(
    language: str,
    reason: Reason,
    name: str,
    answers: list[Answer],
    given: When | None,
    stated: When | None,
) -> str:
    """Write the summary: what was asked and how the recipient answered.

    `language` is en, es, fr or de; `name` is the recipient's name or "". `given` is the day
    and time in the deciding answer, `stated` those in the reason.
    """
    language = language if language in _OUTCOMES else "en"
    words = _OUTCOMES[language]
    asked = _asked(language, reason, name)
    subject = capitalise(name or words.recipient)
    if not answers:
        return _end(f"{asked}; {words.no_reply}")
    deciding = next((item for item in reversed(answers) if item.intent in _DECIDING), answers[-1])
    outcome = _outcome(language, reason, deciding, given, stated)
    if deciding.intent == "opt-out":
        return _end(f"{asked}; {name or words.recipient} {outcome}")
    earlier = answers[: answers.index(deciding)]
    question = next((item for item in earlier if item.intent == "question"), None)
    if language == "en" and question is not None and deciding.intent in _DECIDING:
        outcome = f'first asked "{quote(question.text, 40)}", then {outcome}'
    return f"{_end(asked)} {_end(f'{subject} {outcome}')}"


def _end(sentence: str) -> str:
    """End a sentence with a full stop unless it ends with a quoted sentence's own stop."""
    return sentence if re.search(r'[.!?…]"?$', sentence) else sentence + "."
