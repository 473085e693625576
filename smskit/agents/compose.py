"""Compose the offline agent's greetings, explanations and confirmations from a read reason.

An English reason is reworded for an English message: facts become sentences addressed to the
recipient and instructions become questions or offers. For a message in Spanish, French or
German, the facts of an English reason are quoted as written (in the second person) and the
instruction is carried out with the language's own question. A reason written in the
message's language is used as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from typing import Any, Literal

from smskit.agents import english
from smskit.agents.phrases import LanguageText, ToneText
from smskit.agents.reasons import Ask, Reason, capitalise
from smskit.agents.when import When, format_when


@dataclass(frozen=True)
class Layout:
    """The parts of a message and the length of each."""

    opener: Literal["full", "plain", "compact"] = "full"
    business: Literal["full", "short"] = "short"
    pleasantry: bool = True
    details: bool = True
    reason: Literal["long", "short"] = "long"
    question: Literal["long", "short"] = "long"


def _shrinking(first: Layout) -> list[Layout]:
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
        following = replace(layouts[-1], **step)
        if following != layouts[-1]:
            layouts.append(following)
    return layouts


GREETING_LAYOUTS = _shrinking(Layout())
EXPLANATION_LAYOUTS = _shrinking(Layout(opener="plain", business="full", pleasantry=False))

# A Spanish or French reason that opens with an infinitive reads "I write to <reason>".
_INFINITIVE = {
    "es": re.compile(r"^[a-záéíóúñ]+(?:ar|er|ir)(?:le|les|lo|la|los|las|te|se|nos)?\b", re.I),
    "fr": re.compile(r"^(?:vous |te |lui |leur )?[a-zéèêàç]+(?:er|ir|re)\b", re.I),
}
# Kinds of ask whose phrase is quoted when an English reason is explained in another language.
_PAY_QUESTION = re.compile(r"when (?:can|could|will) you pay", re.IGNORECASE)
_QUOTED_KINDS = frozenset(
    "confirm feedback schedule request question invite remind remind-to thank about".split()
)


def join(parts: list[str]) -> str:
    """Join message parts with spaces, capitalising a part that follows a sentence end."""
    text = ""
    for part in parts:
        if not part:
            continue
        if not text:
            text = part
        elif text.rstrip()[-1] in ".!?:":
            text = f"{text} {capitalise(part)}"
        else:
            text = f"{text} {part}"
    return text


def _sentence(text: str) -> str:
    text = capitalise(text.strip())
    return text if text[-1:] in ".!?" else text + "."


def _with_details(sentence: str, details: str) -> str:
    """Put " (date: March 5)" before the sentence's final punctuation."""
    if not details:
        return sentence
    end = len(sentence.rstrip(".!?"))
    return sentence[:end] + details + sentence[end:]


@dataclass(frozen=True)
class Body:
    """The sentences of a message between the opener and the question, and the question."""

    sentences: tuple[str, ...]
    short_sentences: tuple[str, ...]
    question: tuple[str, str]


@dataclass(frozen=True)
class Message:
    """Everything the offline agent needs to write one conversation's messages."""

    language: str
    text: LanguageText
    tone: ToneText
    agent: str
    business: str
    description: str
    name: str
    reason: Reason
    details: str

    def category_question(self) -> tuple[str, str]:
        return self.text.questions[self.tone.register][self.reason.category]

    @cached_property
    def body(self) -> Body:
        reason = self.reason
        if reason.is_english and self.language == "en":
            return self._english_body()
        if reason.is_english:
            return self._quoted_body()
        if reason.language == self.language:
            return self._native_body()
        quoted = self.text.quote.format(text=reason.text)
        return Body(
            (self.tone.reason.format(reason=quoted),),
            (self.text.reason_short.format(reason=quoted),),
            self.category_question(),
        )

    def _english_body(self) -> Body:
        sentences = [_sentence(fact.text) for fact in self.reason.facts]
        shorts = list(sentences)
        questions: list[tuple[str, str]] = []
        formal = self.tone.salutation_named.startswith("Dear")
        for ask in self.reason.asks:
            said = english.statement(ask, self.tone.reason, formal=formal)
            if said:
                sentences.append(said)
                shorts.append(english.short_statement(ask) or said)
            asked = english.question(ask, formal=formal)
            if asked and (said is None or ask is self.reason.asks[-1]):
                questions.append(asked)
        if not questions:
            return Body(tuple(sentences), tuple(shorts), self.category_question())
        for earlier in questions[:-1]:
            sentences.append(earlier[0])
            shorts.append(earlier[0])
        return Body(tuple(sentences), tuple(shorts), questions[-1])

    def _quoted_body(self) -> Body:
        """Quote an English reason's facts in another language and ask in that language."""
        register = self.tone.register
        pieces = [fact.text for fact in self.reason.facts]
        offers: list[str] = []
        for ask in self.reason.asks:
            if ask.kind in ("offer", "offer-to"):
                offered = f"{ask.phrase} {ask.condition}".strip()
                offers.append(self.text.offer[register].format(quote=f'"{offered}"'))
            elif ask.kind == "question" and _PAY_QUESTION.fullmatch(ask.phrase):
                # the language's own payment question asks the same
                continue
            elif ask.kind in _QUOTED_KINDS and _quotable(ask):
                pieces.append(_quotable(ask))
            elif ask.kind in ("want", "action") and not self.reason.facts:
                pieces.append(ask.phrase.removeprefix("to "))
        sentences: list[str] = []
        shorts: list[str] = []
        if pieces:
            quoted = self.text.quote.format(text=". ".join(capitalise(p) for p in pieces))
            sentences.append(self.tone.reason.format(reason=quoted))
            shorts.append(self.text.reason_short.format(reason=quoted))
        return Body(tuple(sentences + offers), tuple(shorts + offers), self._quoted_question())

    def _quoted_question(self) -> tuple[str, str]:
        asks = self.reason.asks
        kind = asks[-1].kind if asks else None
        category = self.reason.category
        table = self.text.ask_questions[self.tone.register]
        if kind == "confirm" and category != "appointment":
            return table["confirm"]
        if (kind == "want" and category != "renewal") or kind in ("offer", "offer-to", "invite"):
            return table["interest"]
        if kind in ("choose", "schedule"):
            return table["choose"]
        if kind == "request" or (kind == "question" and category != "payment"):
            return table["reply"]
        return self.category_question()

    def _native_body(self) -> Body:
        reason = self.reason.text
        infinitive = _INFINITIVE.get(self.language)
        if self.tone.purpose and infinitive and infinitive.match(reason):
            long = self.tone.purpose.format(reason=reason[0].lower() + reason[1:])
        else:
            long = self.tone.reason.format(reason=reason)
        short = self.text.reason_short.format(reason=reason)
        return Body((long,), (short,), self.category_question())

    def _opener(self, layout: Layout) -> str:
        business = self.business
        if layout.business == "full" and self.description:
            business = f"{business}, {self.description}"
        if business:
            identity = self.tone.identity_business.format(agent=self.agent, business=business)
        else:
            identity = self.tone.identity.format(agent=self.agent)
        if layout.opener == "plain":
            return capitalise(identity)
        if self.name:
            salutation = self.tone.salutation_named.format(name=self.name)
        else:
            salutation = self.tone.salutation
        return join([salutation, identity])

    def compose(self, layout: Layout) -> str:
        """Write the greeting or explanation that a layout describes."""
        body = self.body
        long_question, short_question = body.question
        question = long_question if layout.question == "long" else short_question
        sentences = list(body.sentences if layout.reason == "long" else body.short_sentences)
        if layout.details and self.details:
            if sentences:
                sentences[0] = _with_details(sentences[0], self.details)
            else:
                question = _with_details(question, self.details)
        if layout.opener == "compact":
            label = self.business or self.agent
            return join([f"{label}:", *sentences, question])
        pleasantry = self.tone.pleasantry if layout.pleasantry else ""
        return join([self._opener(layout), pleasantry, *sentences, question])

    def confirmation(self, given: When | None, stated: When | None, today: date) -> str:
        """Return the note confirming what the recipient agreed to.

        `given` is the day and time in the recipient's agreement, `stated` those in the
        reason, and `today` the recipient's local date.
        """
        register = self.tone.register
        if self.reason.is_english and self.language == "en":
            note = english.confirmation(self.reason, given, stated, today)
            if note:
                return note
        elif given is not None:
            if self.reason.category == "payment" and given.day is not None:
                when = format_when(given, self.language, with_preposition=True)
                return self.text.pay_when[register].format(when=when)
            return self.text.noted_when[register].format(when=format_when(given, self.language))
        return self.text.confirmations[register][self.reason.category]


def _quotable(ask: Ask) -> str:
    """Return the part of an ask worth quoting, "" when its question says it all."""
    clause = re.match(r"^(?:(?:that|whether|if)\s+)?(you\b.*)$", ask.phrase, re.IGNORECASE)
    if ask.kind == "confirm" and clause:
        return clause[1] + "?"
    if ask.kind == "feedback":
        return f"feedback on {ask.phrase}" if ask.phrase else ""
    if ask.kind == "question":
        return ask.phrase + "?"
    if ask.kind == "invite":
        return ask.phrase.removeprefix("to ")
    if ask.kind == "remind-to":
        return "remember to " + ask.phrase
    if ask.kind == "thank":
        return f"thank you for {ask.phrase}" if ask.phrase else ""
    return ask.phrase
