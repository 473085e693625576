"""The offline agent: rule-based messages and analysis, with no network and no model.

It writes in English, Spanish, French and German (other languages fall back to English, with
a warning in the log), in four tones. The greeting names the agent and the business, greets
the recipient by name when the row has a name column, tells the reason's facts and carries out
its instructions as a question or an offer (see `smskit.agents.reasons`). Replies are chosen
by classifying the recipient's latest message. The analysis summary is in the agent's
language when it is one of the four, else in English.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, tzinfo
from typing import Any

from smskit.agents.base import (
    Agent,
    AgentProfile,
    AgentReply,
    AgentText,
    Analysis,
    EndReason,
    Recipient,
    Turn,
)
from smskit.agents.compose import EXPLANATION_LAYOUTS, GREETING_LAYOUTS, Message
from smskit.agents.fields import Exchange, fill_fields
from smskit.agents.intents import Category, Intent, classify_intent
from smskit.agents.phrases import PHRASES, TONES
from smskit.agents.reasons import read_reason
from smskit.agents.summary import Answer, write_summary
from smskit.agents.when import When, find_when
from smskit.errors import AgentError, InvalidInputError
from smskit.keywords import normalise_text
from smskit.quiet_hours import zones_for

logger = logging.getLogger(__name__)

# Column names, normalised to lower case with underscores, that hold the recipient's name.
_FIRST_NAME_KEYS = ("first_name", "firstname", "given_name", "nombre", "prenom", "vorname")
_FULL_NAME_KEYS = ("name", "full_name", "fullname", "customer_name", "recipient_name")
_LAST_NAME_KEYS = ("last_name", "lastname", "surname", "family_name", "apellido", "nachname")
# Columns woven into the greeting as details, when the reason does not already contain them.
_DETAIL_KEYS = {
    "date": "date", "appointment_date": "date", "due_date": "date", "day": "date",
    "time": "time", "appointment_time": "time",
    "amount": "amount", "amount_due": "amount", "balance": "amount",
    "location": "location", "address": "location", "clinic": "location", "branch": "location",
    "plan": "plan", "product": "plan",
}  # fmt: skip
_MAX_NAME_CHARS = 40
_MAX_DETAIL_CHARS = 40
_MAX_BUSINESS_CHARS = 40
# The detail columns worth mentioning for each kind of goal: a plan name in a feedback request
# would only distract.
_RELEVANT_DETAILS: dict[Category, frozenset[str]] = {
    "appointment": frozenset({"date", "time", "location"}),
    "payment": frozenset({"amount", "date"}),
    "renewal": frozenset({"plan", "date", "amount"}),
    "feedback": frozenset(),
    "general": frozenset({"date", "time", "location", "amount"}),
}
_BUSINESS_END = re.compile(r"[,;:(|\n]| [-–—] |(?<=[a-z]{3})\. ")
_BUSINESS_PREFIX = re.compile(r"^(we are|we're|this is|here is)\s+", re.IGNORECASE)

_warned_languages: set[str] = set()


def _normalise_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", normalise_text(key)).strip("_")


def _clean(text: str) -> str:
    return " ".join(text.split())


def _looks_like_name(value: str) -> bool:
    return bool(value) and not re.search(r"[\d@/:]", value)


def _recipient_name(variables: dict[str, str], tone: str) -> str:
    """Return the name to greet the recipient with, or "" when the row has none."""
    columns = {_normalise_key(key): _clean(value) for key, value in variables.items()}
    first = next((columns[key] for key in _FIRST_NAME_KEYS if columns.get(key)), "")
    full = next((columns[key] for key in _FULL_NAME_KEYS if columns.get(key)), "")
    last = next((columns[key] for key in _LAST_NAME_KEYS if columns.get(key)), "")
    if tone == "formal":
        name = f"{first} {last}".strip() if first else full or last
    else:
        name = first or (full.split()[0] if full else "")
    if not _looks_like_name(name):
        return ""
    if len(name) > _MAX_NAME_CHARS:
        return name.split()[0][:_MAX_NAME_CHARS]
    return name


def _details(
    variables: dict[str, str], reason: str, category: Category, labels: dict[str, str]
) -> str:
    """Return " (date: March 5, time: 10:00)" for relevant detail columns the reason lacks."""
    reason_text = normalise_text(reason)
    parts: list[str] = []
    seen: set[str] = set()
    for key, value in variables.items():
        kind = _DETAIL_KEYS.get(_normalise_key(key))
        value = _clean(value)
        if kind is None or kind in seen or not value or len(value) > _MAX_DETAIL_CHARS:
            continue
        if kind not in _RELEVANT_DETAILS[category]:
            continue
        if normalise_text(value) in reason_text:
            continue
        seen.add(kind)
        parts.append(f"{labels[kind]}: {value}")
    return f" ({', '.join(parts)})" if parts else ""


def _business_names(context: str) -> tuple[str, str]:
    """Return the business's name and its description, from a context like "Acme, a dentist".

    The description is addressed to the recipient ("your dentist"), and "" when the context
    has none or it is too long for a message.
    """
    text = _BUSINESS_PREFIX.sub("", _clean(context)).rstrip(" .")
    name = _BUSINESS_END.split(text, maxsplit=1)[0].strip(" .")
    rest = text[len(name) :].lstrip(" ,;:-–—(").rstrip(" )")
    described = re.match(r"^(?:a|an|the|your)\s+(\S.*)$", rest, re.IGNORECASE)
    if not described or len(described[1]) > _MAX_BUSINESS_CHARS or re.search(r"[.;:]", rest):
        return name, ""
    return name, "your " + described[1]


def _language(code: str) -> str:
    primary = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    if primary in PHRASES:
        return primary
    if primary not in _warned_languages:
        _warned_languages.add(primary)
        logger.warning("the offline agent has no wording for language %r; writing English", code)
    return "en"


def _message(profile: AgentProfile, recipient: Recipient) -> Message:
    if profile.tone not in TONES:
        raise AgentError(
            f"invalid agent tone {profile.tone!r}: use one of {', '.join(TONES)}",
            task_id=recipient.task_id,
        )
    reason = read_reason(recipient.reason)
    if not reason.text:
        raise AgentError(
            f"the reason of task {recipient.task_id} is empty: fill the row's reason column",
            task_id=recipient.task_id,
        )
    language = _language(profile.language)
    text = PHRASES[language]
    business, description = _business_names(profile.business_context)
    return Message(
        language=language,
        text=text,
        tone=text.tones[profile.tone],
        agent=_clean(profile.name) or "Alex",
        business=business,
        description=description if language == "en" else "",
        name=_recipient_name(recipient.variables, profile.tone),
        reason=reason,
        details=_details(recipient.variables, reason.text, reason.category, text.detail_labels),
    )


def _fit(candidates: list[str], max_chars: int | None, recipient: Recipient, what: str) -> str:
    """Return the first candidate within `max_chars`, or raise AgentError if none fits."""
    if max_chars is not None and max_chars < 1:
        raise AgentError(
            f"invalid character limit {max_chars!r} for the {what}: use 1 or more",
            task_id=recipient.task_id,
        )
    for candidate in candidates:
        if max_chars is None or len(candidate) <= max_chars:
            return candidate
    shortest = min(candidates, key=len)
    raise AgentError(
        f"the shortest {what} for task {recipient.task_id} has {len(shortest)} characters, "
        f"more than the limit of {max_chars}: shorten the reason or the business context, "
        "or raise project_attributes_setting_max_segments",
        task_id=recipient.task_id,
    )


def _first_sentence(text: str) -> str:
    match = re.match(r"^(.+?[.!?])\s", text)
    return match[1] if match else text


def _local_zone(phone: str) -> tzinfo:
    try:
        return zones_for(phone, "UTC")[0]
    except InvalidInputError:
        return UTC


def _local_date(turn: Turn, zone: tzinfo) -> date:
    at = turn.at if turn.at.tzinfo is not None else turn.at.replace(tzinfo=UTC)
    return at.astimezone(zone).date()


class OfflineAgent(Agent):
    """Write and analyse conversations with phrase tables and rules, offline."""

    async def greeting(
        self, profile: AgentProfile, recipient: Recipient, *, max_chars: int | None = None
    ) -> AgentText:
        """Write the opening message, dropping optional parts to fit `max_chars`."""
        message = _message(profile, recipient)
        candidates = [message.compose(layout) for layout in GREETING_LAYOUTS]
        return AgentText(_fit(candidates, max_chars, recipient, "greeting"))

    async def reply(
        self,
        profile: AgentProfile,
        recipient: Recipient,
        transcript: list[Turn],
        *,
        max_chars: int | None = None,
    ) -> AgentReply:
        """Answer the recipient's latest message, ending the conversation when it settles."""
        if not transcript or transcript[-1].speaker != "recipient":
            raise AgentError(
                f"no recipient message to answer for task {recipient.task_id}: the last turn "
                "of the transcript must be the recipient's",
                task_id=recipient.task_id,
            )
        message = _message(profile, recipient)
        latest = transcript[-1]
        today = _local_date(latest, _local_zone(recipient.phone_number))
        intent = classify_intent(latest.text, profile.language, today)
        if intent == "other" and message.reason.category == "feedback":
            intent = "agreement"
        if intent == "opt-out":
            return AgentReply(None, end="opted-out")
        if intent == "goodbye":
            sign_off = [message.tone.goodbye, _first_sentence(message.tone.goodbye)]
            fitting = [text for text in sign_off if max_chars is None or len(text) <= max_chars]
            return AgentReply(fitting[0] if fitting else None, end="goodbye")
        if intent == "agreement":
            given, stated = _days_and_times(recipient, latest.text, today)
            note = message.confirmation(given, stated, today)
            candidates = [f"{message.tone.confirm} {note}", note, message.tone.confirm]
            return AgentReply(_fit(candidates, max_chars, recipient, "reply"), end="goal-reached")
        follow_ups = sum(1 for turn in transcript[:-1] if turn.speaker == "recipient")
        candidates, end = self._answer(message, intent, follow_ups)
        return AgentReply(_fit(candidates, max_chars, recipient, "reply"), end=end)

    def _answer(
        self, message: Message, intent: Intent, follow_ups: int
    ) -> tuple[list[str], EndReason | None]:
        """Return the reply texts, longest first, and the end reason for an intent."""
        tone = message.tone
        if intent == "question":
            return [message.compose(layout) for layout in EXPLANATION_LAYOUTS], None
        if intent == "refusal":
            return [tone.refused, _first_sentence(tone.refused)], "refused"
        template = tone.unsure if intent == "unsure" else tone.follow_up[follow_ups % 2]
        long, short = message.body.question
        return [template.format(question=long), template.format(question=short), short], None

    async def analyse(
        self,
        profile: AgentProfile,
        recipient: Recipient,
        transcript: list[Turn],
        schema: dict[str, Any] | None,
    ) -> Analysis:
        """Summarise the conversation and fill the payload-schema fields it settles."""
        zone = _local_zone(recipient.phone_number)
        reason = read_reason(recipient.reason)
        readings = _read_replies(transcript, profile.language, zone, reason.category)
        opted_out = any(reading.intent == "opt-out" for reading in readings)
        decisive = [reading for reading in readings if reading.exchange.polarity is not None]
        overall = decisive[-1].exchange.polarity if decisive else None
        fields: dict[str, Any] = {}
        if schema is not None:
            fields = fill_fields(
                schema,
                [reading.exchange for reading in readings],
                overall=overall,
                opted_out=opted_out,
                month_first=recipient.phone_number.startswith("+1"),
                zone=zone,
            )

        # the summary repeats the day and time of the answer that settled the conversation
        given: When | None = None
        stated: When | None = None
        if readings:
            deciding = decisive[-1] if decisive else readings[-1]
            exchange = deciding.exchange
            given, stated = _days_and_times(recipient, exchange.reply, exchange.local_date)
        summary = write_summary(
            _language(profile.language),
            reason,
            _recipient_name(recipient.variables, "friendly"),
            [Answer(reading.intent, reading.exchange.reply) for reading in readings],
            given,
            stated,
        )
        return Analysis(summary=summary, opted_out=opted_out, fields=fields)


def _days_and_times(
    recipient: Recipient, reply: str, today: date
) -> tuple[When | None, When | None]:
    """Return the day and time in a reply and those in the reason, read on the reply's date."""
    month_first = recipient.phone_number.startswith("+1")
    given = find_when(reply, today, month_first=month_first)
    stated = find_when(recipient.reason, today, month_first=month_first)
    return given, stated


@dataclass(frozen=True)
class _Reading:
    intent: Intent
    exchange: Exchange


def _read_replies(
    transcript: list[Turn], language: str, zone: tzinfo, category: Category
) -> list[_Reading]:
    """Classify every recipient message with the agent message before it."""
    readings: list[_Reading] = []
    prompt = ""
    for turn in transcript:
        if turn.speaker == "agent":
            prompt = turn.text
            continue
        local = _local_date(turn, zone)
        intent = classify_intent(turn.text, language, local)
        if intent == "other" and category == "feedback":
            intent = "agreement"
        polarity = {"agreement": True, "refusal": False}.get(intent)
        readings.append(_Reading(intent, Exchange(prompt, turn.text, local, polarity)))
    return readings
