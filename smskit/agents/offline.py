"""The offline agent: rule-based messages and analysis, with no network and no model.

It writes in English, Spanish, French and German (other languages fall back to English, with
a warning in the log), in four tones. The greeting names the agent and the business, greets
the recipient by name when the row has a name column, states the reason and asks the goal's
question. Replies are chosen by classifying the recipient's latest message. The analysis
summary is in English, for the analysts who read the results.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, tzinfo
from typing import Any, Literal

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
from smskit.agents.fields import Exchange, fill_fields
from smskit.agents.intents import Category, Intent, classify_intent, reason_category
from smskit.agents.phrases import PHRASES, TONES, LanguageText, ToneText
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

# English reasons that open with one of these verbs read "I'm reaching out to <reason>".
_ENGLISH_VERBS = frozenset(
    "confirm remind ask check schedule reschedule book renew collect get gather follow invite "
    "let share discuss verify update offer thank notify inform see talk arrange request review "
    "welcome say tell find help make set hear learn know".split()
)
_ENGLISH_DETERMINERS = frozenset("your the a an our this that my its".split())
_BUSINESS_END = re.compile(r"[,;:(|\n]| [-–—] |(?<=[a-z]{3})\. ")
_BUSINESS_PREFIX = re.compile(r"^(we are|we're|this is|here is)\s+", re.IGNORECASE)

_warned_languages: set[str] = set()


@dataclass(frozen=True)
class _Layout:
    """The parts of a message and the length of each."""

    opener: Literal["full", "plain", "compact"] = "full"
    business: Literal["full", "short"] = "full"
    pleasantry: bool = True
    details: bool = True
    reason: Literal["long", "short"] = "long"
    question: Literal["long", "short"] = "long"


def _shrinking(first: _Layout) -> list[_Layout]:
    """Return layouts from `first` to the shortest, dropping one optional part at a time."""
    steps: list[dict[str, Any]] = [
        {"pleasantry": False},
        {"details": False},
        {"business": "short"},
        {"question": "short"},
        {"reason": "short"},
        {"opener": "plain"},
        {"opener": "compact"},
    ]
    layouts = [first]
    for step in steps:
        if step.get("opener") == "plain" and first.opener != "full":
            continue
        layouts.append(replace(layouts[-1], **step))
    return layouts


_GREETING_LAYOUTS = _shrinking(_Layout())
_EXPLANATION_LAYOUTS = _shrinking(_Layout(opener="plain", pleasantry=False))


def _capitalise(text: str) -> str:
    for index, char in enumerate(text):
        if char.isalpha():
            return text[:index] + char.upper() + text[index + 1 :]
    return text


def _join(parts: list[str]) -> str:
    """Join message parts with spaces, capitalising a part that follows a sentence end."""
    text = ""
    for part in parts:
        if not part:
            continue
        if not text:
            text = part
        elif text.rstrip()[-1] in ".!?:":
            text = f"{text} {_capitalise(part)}"
        else:
            text = f"{text} {part}"
    return text


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


def _details(variables: dict[str, str], reason: str, labels: dict[str, str]) -> str:
    """Return "(date: March 5, time: 10:00)" for detail columns that the reason lacks."""
    reason_text = normalise_text(reason)
    parts: list[str] = []
    seen: set[str] = set()
    for key, value in variables.items():
        kind = _DETAIL_KEYS.get(_normalise_key(key))
        value = _clean(value)
        if kind is None or kind in seen or not value or len(value) > _MAX_DETAIL_CHARS:
            continue
        if normalise_text(value) in reason_text:
            continue
        seen.add(kind)
        parts.append(f"{labels[kind]}: {value}")
    return f" ({', '.join(parts)})" if parts else ""


def _business_names(context: str) -> tuple[str, str]:
    """Return the business context as a full name and a short name (its first clause)."""
    text = _BUSINESS_PREFIX.sub("", _clean(context)).rstrip(" .")
    short = _BUSINESS_END.split(text, maxsplit=1)[0].strip(" .")
    full = text if len(text) <= _MAX_BUSINESS_CHARS and ". " not in text else short
    return full, short


def _link_english_reason(reason: str) -> str:
    """Turn a reason into "to confirm ..." or "about your ..." after "I'm reaching out"."""
    words = reason.split()
    first = words[0].lower()
    if first == "to" and len(words) > 1:
        return "to " + " ".join(words[1:])
    if first in _ENGLISH_VERBS:
        return "to " + reason[0].lower() + reason[1:]
    if first in _ENGLISH_DETERMINERS:
        return "about " + reason[0].lower() + reason[1:]
    return "about " + reason


@dataclass(frozen=True)
class _Message:
    """Everything the offline agent needs to write one conversation's messages."""

    text: LanguageText
    tone: ToneText
    agent: str
    business_full: str
    business_short: str
    name: str
    reason: str
    details: str
    category: Category

    def question(self, length: Literal["long", "short"]) -> str:
        long, short = self.text.questions[self.tone.register][self.category]
        return long if length == "long" else short

    def _reason_sentence(self, layout: _Layout) -> str:
        details = self.details if layout.details else ""
        if self.text.links_reason:
            linked = _link_english_reason(self.reason) + details
            if layout.reason == "long":
                return self.tone.reason.format(reason=linked)
            return self.text.reason_short.format(reason=_capitalise(linked))
        template = self.tone.reason if layout.reason == "long" else self.text.reason_short
        return template.format(reason=self.reason + details)

    def _opener(self, layout: _Layout) -> str:
        business = self.business_full if layout.business == "full" else self.business_short
        if business:
            identity = self.tone.identity_business.format(agent=self.agent, business=business)
        else:
            identity = self.tone.identity.format(agent=self.agent)
        if layout.opener == "plain":
            return _capitalise(identity)
        if self.name:
            salutation = self.tone.salutation_named.format(name=self.name)
        else:
            salutation = self.tone.salutation
        return _join([salutation, identity])

    def compose(self, layout: _Layout) -> str:
        """Write the greeting or explanation that a layout describes."""
        question = self.question(layout.question)
        if layout.opener == "compact":
            label = self.business_short or self.agent
            return _join([f"{label}: {self.reason}.", question])
        pleasantry = self.tone.pleasantry if layout.pleasantry else ""
        return _join([self._opener(layout), pleasantry, self._reason_sentence(layout), question])


def _language(code: str) -> str:
    primary = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    if primary in PHRASES:
        return primary
    if primary not in _warned_languages:
        _warned_languages.add(primary)
        logger.warning("the offline agent has no wording for language %r; writing English", code)
    return "en"


def _message(profile: AgentProfile, recipient: Recipient) -> _Message:
    if profile.tone not in TONES:
        raise AgentError(
            f"invalid agent tone {profile.tone!r}: use one of {', '.join(TONES)}",
            task_id=recipient.task_id,
        )
    reason = _clean(recipient.reason).rstrip(" .!?;,:")
    if not reason:
        raise AgentError(
            f"the reason of task {recipient.task_id} is empty: fill the row's reason column",
            task_id=recipient.task_id,
        )
    text = PHRASES[_language(profile.language)]
    business_full, business_short = _business_names(profile.business_context)
    return _Message(
        text=text,
        tone=text.tones[profile.tone],
        agent=_clean(profile.name) or "Alex",
        business_full=business_full,
        business_short=business_short,
        name=_recipient_name(recipient.variables, profile.tone),
        reason=reason,
        details=_details(recipient.variables, reason, text.detail_labels),
        category=reason_category(reason),
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
        candidates = [message.compose(layout) for layout in _GREETING_LAYOUTS]
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
        zone = _local_zone(recipient.phone_number)
        latest = transcript[-1]
        intent = classify_intent(latest.text, profile.language, _local_date(latest, zone))
        if intent == "other" and message.category == "feedback":
            intent = "agreement"
        if intent == "opt-out":
            return AgentReply(None, end="opted-out")
        if intent == "goodbye":
            sign_off = [message.tone.goodbye, _first_sentence(message.tone.goodbye)]
            fitting = [text for text in sign_off if max_chars is None or len(text) <= max_chars]
            return AgentReply(fitting[0] if fitting else None, end="goodbye")
        follow_ups = sum(1 for turn in transcript[:-1] if turn.speaker == "recipient")
        candidates, end = self._answer(message, intent, follow_ups)
        return AgentReply(_fit(candidates, max_chars, recipient, "reply"), end=end)

    def _answer(
        self, message: _Message, intent: Intent, follow_ups: int
    ) -> tuple[list[str], EndReason | None]:
        """Return the reply texts, longest first, and the end reason for an intent."""
        tone = message.tone
        if intent == "question":
            return [message.compose(layout) for layout in _EXPLANATION_LAYOUTS], None
        if intent == "refusal":
            return [tone.refused, _first_sentence(tone.refused)], "refused"
        if intent == "agreement":
            note = message.text.confirmations[tone.register][message.category]
            return [f"{tone.confirm} {note}", note, tone.confirm], "goal-reached"
        template = tone.unsure if intent == "unsure" else tone.follow_up[follow_ups % 2]
        long, short = message.question("long"), message.question("short")
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
        category = reason_category(recipient.reason)
        readings = _read_replies(transcript, profile.language, zone, category)
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
        summary = _summary(profile, recipient, readings, category)
        return Analysis(summary=summary, opted_out=opted_out, fields=fields)


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


def _quote(text: str, limit: int = 80) -> str:
    """Return a message for quoting in a summary, cut at a word boundary after `limit`."""
    text = _clean(text).replace('"', "'")
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


_OUTCOMES: dict[Intent, str] = {
    "opt-out": 'The recipient asked to stop receiving messages ("{quote}") and was opted out.',
    "agreement": 'The recipient agreed ("{quote}"), so the goal was reached.',
    "refusal": 'The recipient declined ("{quote}").',
    "question": 'The recipient asked "{quote}" but did not give an answer.',
    "goodbye": 'The recipient replied "{quote}" without answering.',
    "unsure": 'The recipient was unsure ("{quote}") and did not give a clear answer.',
    "other": 'The recipient replied "{quote}" without a clear answer.',
}


def _summary(
    profile: AgentProfile, recipient: Recipient, readings: list[_Reading], category: Category
) -> str:
    """Write one or two sentences: what was asked, how the recipient answered, the outcome."""
    reason = _clean(recipient.reason).rstrip(" .!?;,:")
    agent = _clean(profile.name) or "The agent"
    asked = f"{agent} texted the recipient about: {reason}."
    if not readings:
        return f"{asked} The recipient did not reply."
    final = {"opt-out", "agreement", "refusal"}
    deciding = next(
        (reading for reading in reversed(readings) if reading.intent in final), readings[-1]
    )
    outcome = _OUTCOMES[deciding.intent].format(quote=_quote(deciding.exchange.reply))
    if deciding.intent == "agreement" and category == "feedback":
        outcome = outcome.replace("agreed", "gave feedback", 1)
    earlier = readings[: readings.index(deciding)]
    question = next((reading for reading in earlier if reading.intent == "question"), None)
    if question is not None and deciding.intent in final:
        lead = f'The recipient first asked "{_quote(question.exchange.reply, 40)}", then'
        outcome = lead + " " + outcome.removeprefix("The recipient ")
    return f"{asked} {outcome}"
