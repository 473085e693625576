"""Scripted simulated recipients for `--simulate` and the demo, offline and deterministic.

A persona answers the agent's messages as one kind of recipient would:

- "agreeable" says yes with a concrete detail (a day and a time), then thanks and goodbye;
- "questioner" asks who is texting or what it is about, then agrees as above;
- "refuser" declines;
- "opt-out" replies STOP or a plain-language request to stop;
- "silent" never answers;
- "late" agrees only after two hours, after a session of the default 60 minutes has closed.

Replies fit the goal that the greeting states (appointment, renewal, feedback, payment) and
are written in the campaign's language: English, Spanish, French or German. Delays are project
seconds, from 20 seconds to 5 minutes except for the late persona.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from typing import Literal, get_args

from smskit.agents.base import Turn
from smskit.agents.intents import Category, reason_category
from smskit.errors import InvalidInputError
from smskit.keywords import normalise_text

PersonaName = Literal["agreeable", "questioner", "refuser", "opt-out", "silent", "late"]
PERSONA_NAMES: tuple[PersonaName, ...] = get_args(PersonaName)

# Share of each persona among numbers, in percent.
_WEIGHTS: dict[PersonaName, int] = {
    "agreeable": 30,
    "questioner": 20,
    "refuser": 15,
    "opt-out": 10,
    "silent": 15,
    "late": 10,
}
LATE_DELAY_SECONDS = 2 * 3600.0
_MIN_DELAY_SECONDS = 20.0
_MAX_DELAY_SECONDS = 300.0


@dataclass(frozen=True)
class _Script:
    """A language's replies. `{day}` and `{time}` are filled from the persona's seed."""

    days: tuple[str, str, str]
    times: tuple[str, str, str]
    agree: dict[Category, str]
    questions: tuple[str, str]
    refusal: str
    opt_out_request: str
    goodbye: str
    late_prefix: str
    # Common words of the language, to recognise it in the agent's messages.
    markers: frozenset[str]


_SCRIPTS: dict[str, _Script] = {
    "en": _Script(
        days=("Tuesday", "Thursday", "Friday"),
        times=("10am", "3pm", "4:30pm"),
        agree={
            "appointment": "Yes, {day} at {time} works for me.",
            "renewal": "Yes, please go ahead and renew it for another year.",
            "feedback": "Sure! It went really well, I'd give it 5 stars.",
            "payment": "Yes, I'll pay it on {day}.",
            "general": "Yes, {day} at {time} works for me.",
        },
        questions=("Who is this?", "Sorry, what is this about?"),
        refusal="No thanks, not interested.",
        opt_out_request="Please stop texting me.",
        goodbye="Thanks, bye!",
        late_prefix="Sorry, only just saw this.",
        markers=frozenset("the this is your you to about from and hi hello".split()),
    ),
    "es": _Script(
        days=("martes", "jueves", "viernes"),
        times=("10:00", "15:00", "16:30"),
        agree={
            "appointment": "Sí, el {day} a las {time} me viene bien.",
            "renewal": "Sí, por favor, renuévelo por un año más.",
            "feedback": "¡Sí! Todo muy bien, le doy 5 estrellas.",
            "payment": "Sí, pagaré el {day}.",
            "general": "Sí, el {day} a las {time} me viene bien.",
        },
        questions=("¿Quién es?", "Perdone, ¿de qué se trata?"),
        refusal="No, gracias. No me interesa.",
        opt_out_request="No me escriban más, por favor.",
        goodbye="¡Gracias, adiós!",
        late_prefix="Perdón, acabo de verlo.",
        markers=frozenset("el la de que por te le su tu es soy hola lo siguiente".split()),
    ),
    "fr": _Script(
        days=("mardi", "jeudi", "vendredi"),
        times=("10h", "15h", "16h30"),
        agree={
            "appointment": "Oui, {day} à {time}, ça me va.",
            "renewal": "Oui, je veux bien renouveler pour un an.",
            "feedback": "Oui ! Tout s'est très bien passé, 5 étoiles.",
            "payment": "Oui, je paierai {day}.",
            "general": "Oui, {day} à {time}, ça me va.",
        },
        questions=("Qui est-ce ?", "Pardon, c'est à quel sujet ?"),
        refusal="Non merci, ça ne m'intéresse pas.",
        opt_out_request="Ne m'envoyez plus de messages.",
        goodbye="Merci, au revoir !",
        late_prefix="Désolé, je viens de voir le message.",
        markers=frozenset("le la les de vous je pour ici bonjour est que suivante".split()),
    ),
    "de": _Script(
        days=("Dienstag", "Donnerstag", "Freitag"),
        times=("10 Uhr", "15 Uhr", "16:30 Uhr"),
        agree={
            "appointment": "Ja, {day} um {time} passt mir.",
            "renewal": "Ja, bitte um ein Jahr verlängern.",
            "feedback": "Ja! Alles super gelaufen, 5 Sterne.",
            "payment": "Ja, ich zahle am {day}.",
            "general": "Ja, {day} um {time} passt mir.",
        },
        questions=("Wer ist da?", "Entschuldigung, worum geht es?"),
        refusal="Nein danke, kein Interesse.",
        opt_out_request="Bitte keine SMS mehr.",
        goodbye="Danke, tschüss!",
        late_prefix="Sorry, hab's gerade erst gesehen.",
        markers=frozenset("der die das und ich sie ihnen hier ist von hallo grund".split()),
    ),
}


@dataclass(frozen=True)
class PlannedReply:
    """A reply that a simulated recipient sends `delay_seconds` project seconds from now."""

    text: str
    delay_seconds: float


def guess_language(transcript: list[Turn]) -> str:
    """Return the language of the agent's messages among en, es, fr and de; "en" if unclear."""
    words = re.findall(r"[a-z']+", normalise_text(" ".join(
        turn.text for turn in transcript if turn.speaker == "agent"
    )))  # fmt: skip
    counts = {
        code: sum(1 for word in words if word in script.markers)
        for code, script in _SCRIPTS.items()
    }
    best = max(counts, key=lambda code: counts[code])
    return best if counts[best] > counts["en"] else "en"


@dataclass(frozen=True)
class Persona:
    """A scripted recipient: what it replies to each agent message, and after how long."""

    name: PersonaName
    seed: int = 0

    def _choice(self, options: tuple[str, ...], salt: int) -> str:
        return options[random.Random(self.seed * 7919 + salt).randrange(len(options))]

    def _delay(self, replies_so_far: int) -> float:
        if self.name == "late":
            return LATE_DELAY_SECONDS
        rng = random.Random(self.seed * 104729 + replies_so_far)
        return round(rng.uniform(_MIN_DELAY_SECONDS, _MAX_DELAY_SECONDS), 1)

    def _agreement(self, script: _Script, category: Category) -> str:
        day = self._choice(script.days, 1)
        time = self._choice(script.times, 2)
        return script.agree[category].format(day=day, time=time)

    def _text(self, script: _Script, category: Category, replies_so_far: int) -> str | None:
        """Return the reply after `replies_so_far` earlier replies, or None to stay quiet."""
        if self.name == "agreeable":
            steps = [self._agreement(script, category), script.goodbye]
        elif self.name == "questioner":
            question = self._choice(script.questions, 3)
            steps = [question, self._agreement(script, category), script.goodbye]
        elif self.name == "refuser":
            steps = [script.refusal]
        elif self.name == "opt-out":
            steps = [self._choice(("STOP", script.opt_out_request), 4)]
        elif self.name == "late":
            steps = [f"{script.late_prefix} {self._agreement(script, category)}"]
        else:
            steps = []
        return steps[replies_so_far] if replies_so_far < len(steps) else None

    def next_reply(
        self, transcript: list[Turn], language: str | None = None
    ) -> PlannedReply | None:
        """Plan the reply to the agent's latest message, or return None for no reply.

        `language` is the campaign's language code; without it, or for a language without a
        script, the language is guessed from the agent's messages.
        """
        if not transcript or transcript[-1].speaker != "agent":
            return None
        code = (language or "").split("-")[0].split("_")[0].lower()
        if code not in _SCRIPTS:
            code = guess_language(transcript)
        first_agent_text = next(turn.text for turn in transcript if turn.speaker == "agent")
        replies_so_far = sum(1 for turn in transcript if turn.speaker == "recipient")
        text = self._text(_SCRIPTS[code], reason_category(first_agent_text), replies_so_far)
        if text is None:
            return None
        return PlannedReply(text=text, delay_seconds=self._delay(replies_so_far))


def _seed(phone_e164: str) -> int:
    digest = hashlib.sha256(phone_e164.strip().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def persona_for(phone_e164: str) -> Persona:
    """Return the persona of a phone number, the same for the same number on every run."""
    seed = _seed(phone_e164)
    point = seed % sum(_WEIGHTS.values())
    for name, weight in _WEIGHTS.items():
        if point < weight:
            return Persona(name=name, seed=seed)
        point -= weight
    raise AssertionError("persona weights do not cover the hash range")


def persona_named(name: str, phone_e164: str = "") -> Persona:
    """Return the persona called `name` ("opt_out" and "optout" also mean "opt-out").

    A phone number, when given, picks the persona's wording and delays as `persona_for` does.
    """
    key = re.sub(r"[\s_]+", "-", name.strip().lower())
    key = "opt-out" if key == "optout" else key
    seed = _seed(phone_e164) if phone_e164 else 0
    for known in PERSONA_NAMES:
        if key == known:
            return Persona(name=known, seed=seed)
    raise InvalidInputError(
        f"unknown persona {name!r}: use one of {', '.join(PERSONA_NAMES)}",
        name="persona",
        value=name,
    )
