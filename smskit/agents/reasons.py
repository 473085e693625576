"""Split an analyst's reason into the facts to tell the recipient and the instructions to follow.

Analysts write a reason for the agent, about the recipient in the third person: "Their Home
Plus plan renews on March 15; ask whether they want to renew". `read_reason` splits an English
reason into clauses. A fact becomes a sentence addressed to the recipient ("Your Home Plus plan
renews on March 15"), and an instruction becomes an `Ask` that the agent carries out as a
question, an offer or a statement ("Would you like to renew?"). A reason in another language
is kept as written, because rewording it without that language's grammar could break it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from smskit.agents.intents import Category, reason_category
from smskit.keywords import normalise_text

AskKind = Literal[
    "want",
    "confirm",
    "feedback",
    "offer",
    "offer-to",
    "choose",
    "schedule",
    "request",
    "question",
    "invite",
    "remind",
    "remind-to",
    "thank",
    "about",
    "action",
]


@dataclass(frozen=True)
class Ask:
    """One instruction of a reason, reworded for the recipient in English.

    What `phrase` contains depends on `kind`:

    - want: "to renew" or "a callback" (after "Would you like");
    - confirm: "your boiler service appointment on Monday" or "you received it";
    - feedback: what the feedback is about, "" when the reason does not say;
    - offer: "a payment plan", with `condition` "if you need one";
    - offer-to: "switch you to the Green plan" (after "Would you like us to");
    - choose: "date" or "time" (after "What ... would suit you");
    - schedule: "a follow-up call";
    - request: "send us a meter reading" (after "Could you");
    - question: a whole question, without the question mark;
    - invite: "to our open day"; remind: "your visit tomorrow"; remind-to: "bring your ID";
    - thank: "your payment"; about: "your invoice from May"; action: "follow up on your
      complaint" (after "I'm reaching out to").

    `source` is the instruction as the analyst wrote it, in the third person.
    """

    kind: AskKind
    phrase: str
    source: str
    condition: str = ""


@dataclass(frozen=True)
class Fact:
    """A fact of the reason: `text` addressed to the recipient, `source` as written."""

    text: str
    source: str


@dataclass(frozen=True)
class Reason:
    """A reason read for writing messages.

    `facts` and `asks` are filled only for an English reason. For another language, `text`
    is the whole reason as written and they stay empty.
    """

    text: str
    language: str
    category: Category
    facts: tuple[Fact, ...] = ()
    asks: tuple[Ask, ...] = ()

    @property
    def is_english(self) -> bool:
        return self.language == "en"


# Common words of each language, to tell which language a reason is written in.
_LANGUAGE_MARKERS = {
    "en": frozenset(
        "the their they them your you is are was were to of for on and a an with at by due "
        "ask confirm offer whether if about from this that will has have please".split()
    ),
    "es": frozenset(
        "el la los las del de que por para su sus con una es sobre tu usted cita pago factura "
        "confirmar recordarle renovar su le".split()
    ),
    "fr": frozenset(
        "le la les du des de votre vos pour avec sur une est au aux rendez-vous facture "
        "confirmer rappeler renouveler vous".split()
    ),
    "de": frozenset(
        "der die das den dem des und ihr ihre ihren ihrem ihres am zum zur fur mit von ist "
        "eine ein einen termin rechnung an bitte".split()
    ),
}
_LANGUAGE_LETTERS = {"es": "ñ¿¡áíóú", "fr": "çèêëâîôûœ", "de": "äöüß"}

# Verbs that open an instruction to the agent.
_INSTRUCTION_VERBS = (
    "ask|offer|confirm|remind|check|tell|let|thank|invite|get|collect|gather|request|schedule|"
    "book|arrange|see|find out|follow up|inform|notify|encourage|suggest|mention|explain|"
    "verify|welcome|congratulate|apologi[sz]e|wish|share|send|say|help|discuss|update|set up|"
    "make sure|ensure|promote|introduce|review|call|contact|text|reach out|advise|warn"
)
# Verbs for something the recipient does: "renew your membership" asks whether they want to.
_WANT_VERBS = "renew|upgrade|switch|join|sign up|register|enrol|enroll|subscribe|extend|try"
_REQUEST_VERBS = "pay|complete|submit|return|provide|upload|fill in|fill out|bring|reply|read"
_ANY_VERB = re.compile(
    rf"^(?:{_INSTRUCTION_VERBS}|{_WANT_VERBS}|{_REQUEST_VERBS})\b", re.IGNORECASE
)
# Verbs after which " and " or ", " starts a new instruction.
_JOINED_VERBS = "ask|offer|confirm|remind|check|tell|let|thank|invite|find out|see if|mention"
_ABBREVIATIONS = r"(?<!\bDr)(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bSt)(?<!\bNo)(?<!\bvs)(?<!\be\.g)"
_CLAUSE_BREAK = re.compile(
    r"\s*;\s*"
    rf"|{_ABBREVIATIONS}(?<=[\w)\]])[.!]\s+(?=(?-i:[A-Z]))"
    rf"|,?\s+(?:and then|and|then)\s+(?=(?:{_JOINED_VERBS})\b)"
    rf"|,\s+(?=(?:{_JOINED_VERBS})\b)"
    r"|\s+[-–—]\s+",
    re.IGNORECASE,
)
_LEADING_FILLER = re.compile(r"^(?:please|kindly|and|then|also|to)\s+", re.IGNORECASE)
_LABEL = re.compile(r"^(reminder|note|fyi|info|update)\s*[:\-–]\s*", re.IGNORECASE)

# The recipient, named as an object of an instruction: "ask them", "remind the customer".
_RECIPIENT = (
    r"(?:them|him|her|you|the (?:customer|client|recipient|user|member|patient|tenant|subscriber)"
    r"|the account holder)"
)
_OBJECT = rf"(?:{_RECIPIENT}\s+)?"

# A finite verb makes a clause a fact ("Invoice 4411 is due"), and a clause without one is a
# topic ("your invoice from May").
_FINITE = re.compile(
    r"\b(?:is|are|was|were|will|won't|has|have|had|can|can't|could|should|must|(?-i:may)|might|"
    r"does|did|do|doesn't|didn't|isn't|aren't|wasn't|weren't|hasn't|haven't|needs?|owes?|"
    r"renews|expires|starts|ends|begins|runs|opens|closes|changes|increases|decreases|goes|"
    r"moves|arrives|falls|lapses|remains|gets|ships|shipped|arrived|changed|expired|moved|"
    r"started|ended|failed|missed|bounced|increased|decreased|rose|fell|went|came|left|"
    r"became|been|being)\b"
    r"|\b[a-z]+(?:s|ed)\s+(?:on|in|at|by|to|tomorrow|today|tonight|next|this|soon|"
    r"yesterday|last)\b",
    re.IGNORECASE,
)

# Nouns of things the recipient owns: "confirm the appointment" becomes "your appointment".
_OWNED = re.compile(
    r"\b(appointment|visit|booking|reservation|order|delivery|address|details|account|plan|"
    r"subscription|contract|policy|membership|attendance|email|phone number|survey|"
    r"installation|service|check-?up|consultation|session|meeting|repair|inspection|"
    r"payment|invoice|bill|reading|registration|application|tickets?)\b",
    re.IGNORECASE,
)
_CHOOSE = re.compile(
    r"^(?:a |an |the |their |your )?(?:(?:convenient|good|suitable|preferred|best|new|"
    r"possible)\s+)?(?P<what>date and time|day and time|date|day|time slot|time|slot)"
    r"(?P<rest>\s.*)?$",
    re.IGNORECASE,
)
_AUXILIARIES = "are|were|have|had|can|could|will|would|should|may|might|must"
_IRREGULAR_PAST = frozenset(
    "got went saw made paid had did took came heard sent found left bought gave told said "
    "knew thought felt kept met put read ran set sold spent understood won wrote".split()
)

_DETERMINERS = frozenset(
    "a an the your our their my his her its this that these those some any every each you "
    "no all".split()
)  # Present-tense verbs that end in "ed" like a past tense.
_PRESENT_IN_ED = frozenset("need feed proceed succeed exceed bleed speed breed heed".split())
# First words that are ordinary words, lower-cased when a reason continues a sentence.
_COMMON_FIRST_WORDS = frozenset(
    "the a an your their our this that these those his her its my some any every each "
    "invoice bill payment appointment renewal plan account order delivery subscription "
    "contract policy meter boiler service visit survey feedback reminder balance statement "
    "booking reservation membership ticket package parcel new upcoming last next overdue "
    "outstanding recent monthly annual latest free missed unpaid scheduled pending".split()
)


def guess_language(text: str) -> str:
    """Return the language code (en, es, fr or de) that a short text is most likely in."""
    lowered = text.lower()
    words = re.findall(r"[\w'-]+", normalise_text(text))
    scores = {code: sum(word in markers for word in words) for code, markers in
              _LANGUAGE_MARKERS.items()}  # fmt: skip
    for code, letters in _LANGUAGE_LETTERS.items():
        scores[code] += 2 * sum(lowered.count(letter) for letter in letters)
    best = max(scores, key=lambda code: scores[code])
    return best if scores[best] > scores["en"] else "en"


def capitalise(text: str) -> str:
    """Return the text with its first letter in upper case."""
    for index, char in enumerate(text):
        if char.isalpha():
            return text[:index] + char.upper() + text[index + 1 :]
    return text


def lower_first(text: str) -> str:
    """Lower-case the first word when it is an ordinary word, so that a sentence can go on.

    Names, acronyms and words not known to be ordinary ("Acme's", "SMS") keep their case.
    """
    match = re.match(r"([A-Za-z]+)", text)
    if match and match[1].lower() in _COMMON_FIRST_WORDS and match[1][1:].islower():
        return text[0].lower() + text[1:]
    if match and match[1] in ("Their", "The", "Your"):
        return text[0].lower() + text[1:]
    return text


# Person conversion. Subjects in the singular ("she", "the customer") become this marker
# first, so that the verb after them can be put in the plural ("she needs" to "you need").
_SINGULAR_YOU = "\x00you"
_PRONOUNS = re.compile(
    r"\b(?:the (?:customer|client|recipient|user|member|patient|tenant|subscriber|account "
    r"holder)(?:'s)?|they're|they've|they'll|they'd|themselves|themself|himself|herself|"
    r"theirs|their|them|they|his|him|he|she|her)\b",
    re.IGNORECASE,
)
_PLAIN = {
    "they're": "you're",
    "they've": "you've",
    "they'll": "you'll",
    "they'd": "you'd",
    "themselves": "yourself",
    "themself": "yourself",
    "himself": "yourself",
    "herself": "yourself",
    "theirs": "yours",
    "their": "your",
    "them": "you",
    "they": "you",
    "his": "your",
    "him": "you",
}
# "her" followed by one of these words, or by nothing, is an object ("call her back").
_OBJECT_FOLLOWERS = frozenset(
    "to for about on at with and or if that know up back in a an the this tomorrow today "
    "now again when before after by".split()
)
_PLURAL_VERBS = {
    "is": "are",
    "was": "were",
    "has": "have",
    "does": "do",
    "isn't": "aren't",
    "wasn't": "weren't",
    "hasn't": "haven't",
    "doesn't": "don't",
}


def _match_case(original: str, replacement: str) -> str:
    return capitalise(replacement) if original[:1].isupper() else replacement


def _convert_pronoun(match: re.Match[str]) -> str:
    word = match[0]
    lowered = word.lower()
    if lowered.startswith("the "):
        replacement = "your" if lowered.endswith("'s") else _SINGULAR_YOU
    elif lowered in ("he", "she"):
        replacement = _SINGULAR_YOU
    elif lowered == "her":
        following = re.match(r"\s*([A-Za-z']+)", match.string[match.end() :])
        is_object = following is None or following[1].lower() in _OBJECT_FOLLOWERS
        replacement = "you" if is_object else "your"
    else:
        replacement = _PLAIN[lowered]
    if replacement == _SINGULAR_YOU:
        return _SINGULAR_YOU + ("Y" if word[:1].isupper() else "")
    return _match_case(word, replacement)


def _plural_verb(verb: str) -> str:
    """Return the plural form of a present-tense verb: "needs" gives "need"."""
    lowered = verb.lower()
    if lowered in _PLURAL_VERBS:
        return _PLURAL_VERBS[lowered]
    if len(lowered) <= 3 or not lowered.endswith("s") or lowered.endswith(("ss", "us", "is")):
        return verb
    if lowered.endswith("ies"):
        return verb[:-3] + "y"
    if lowered.endswith(("ches", "shes", "sses", "xes", "zes", "oes")):
        return verb[:-2]
    return verb[:-1]


def _fix_singular(match: re.Match[str]) -> str:
    you = "You" if match[1] else "you"
    return f"{you} {_plural_verb(match[2])}" if match[2] else you


def to_second_person(text: str) -> str:
    """Address the recipient: "their plan" becomes "your plan", "she needs" "you need"."""
    converted = _PRONOUNS.sub(_convert_pronoun, text)
    return re.sub(r"\x00you(Y)?(?:\s+([a-z']+)\b)?", _fix_singular, converted)


def to_third_person_singular(verb_phrase: str) -> str:
    """Put the first verb of a phrase in the third person: "want to renew" to "wants to renew"."""
    match = re.match(r"([A-Za-z']+)(.*)", verb_phrase, re.DOTALL)
    if match is None:
        return verb_phrase
    verb, rest = match[1], match[2]
    lowered = verb.lower()
    irregular = {"are": "is", "were": "was", "have": "has", "do": "does", "don't": "doesn't",
                 "aren't": "isn't", "weren't": "wasn't", "haven't": "hasn't"}  # fmt: skip
    if lowered in irregular:
        return irregular[lowered] + rest
    modal = set(_AUXILIARIES.split("|")) - {"are", "were", "have"}
    if lowered in modal or _is_past(lowered):
        return verb_phrase
    if lowered.endswith("y") and lowered[-2:-1] not in "aeiou":
        return verb[:-1] + "ies" + rest
    if lowered.endswith(("ch", "sh", "s", "x", "z", "o")):
        return verb + "es" + rest
    return verb + "s" + rest


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(" .!;,:")


def split_clauses(reason: str) -> list[str]:
    """Split a reason into its facts and instructions, without filler words."""
    clauses: list[str] = []
    for part in _CLAUSE_BREAK.split(_clean(reason)):
        clause = _clean(part or "")
        while _LEADING_FILLER.match(clause) and _ANY_VERB.match(_LEADING_FILLER.sub("", clause)):
            clause = _LEADING_FILLER.sub("", clause, count=1)
        if clause:
            clauses.append(clause)
    return clauses


def _is_past(verb: str) -> bool:
    lowered = verb.lower()
    if lowered in _PRESENT_IN_ED:
        return False
    return lowered.endswith("ed") or lowered in _IRREGULAR_PAST


def _embedded_question(word: str, clause: str) -> str:
    """Return "Could you let us know whether ..." for a question that cannot be inverted."""
    return f"Could you let us know {word} {clause}"


def _whether_question(source: str, rest: str) -> Ask:
    """Turn "(ask) whether they ..." into a yes-or-no question to the recipient."""
    clause = to_second_person(rest)
    want = re.match(
        r"^you\s+(?:still\s+)?(?:want|would like|'d like|wish|would want|are interested in)\s+"
        r"(?P<what>.+)$",
        clause,
        re.IGNORECASE,
    )
    if want:
        return Ask("want", want["what"], source)
    auxiliary = re.match(rf"^you\s+(?P<aux>{_AUXILIARIES})\s+(?P<rest>.+)$", clause, re.I)
    if auxiliary:
        text = f"{capitalise(auxiliary['aux'].lower())} you {auxiliary['rest']}"
        return Ask("question", text, source)
    verb = re.match(r"^you\s+(?P<verb>[a-z]+)\b(?P<rest>.*)$", clause)
    if verb and not _is_past(verb["verb"]):
        return Ask("question", f"Do you {verb['verb']}{verb['rest']}", source)
    return Ask("question", _embedded_question("whether", clause), source)


def _wh_question(source: str, word: str, rest: str) -> Ask:
    """Turn "(ask) when they can pay" into "When can you pay"."""
    clause = to_second_person(rest)
    word = word.lower()
    head = r"(?P<head>(?:[a-z]+\s+){0,3}?)"
    auxiliary = re.match(rf"^{head}you\s+(?P<aux>{_AUXILIARIES})\s+(?P<rest>.+)$", clause)
    if auxiliary and not _FINITE.search(auxiliary["head"]):
        text = f"{capitalise(word)} {auxiliary['head']}{auxiliary['aux']} you {auxiliary['rest']}"
        return Ask("question", " ".join(text.split()), source)
    verb = re.match(rf"^{head}you\s+(?P<verb>[a-z]+)\b(?P<rest>.*)$", clause)
    if verb and not _FINITE.search(verb["head"]) and not _is_past(verb["verb"]):
        text = f"{capitalise(word)} {verb['head']}do you {verb['verb']}{verb['rest']}"
        return Ask("question", " ".join(text.split()), source)
    return Ask("question", _embedded_question(word, clause), source)


def _owned(phrase: str) -> str:
    """Turn "the appointment" into "your appointment" for things the recipient owns."""
    match = re.match(r"^(the\s+)?(.+)$", phrase, re.IGNORECASE)
    assert match is not None
    if not _OWNED.search(match[2].split(" with ")[0]):
        return phrase
    if match[1]:
        return "your " + match[2]
    first = phrase.split()[0]
    if first.islower() and first not in _DETERMINERS:
        return "your " + phrase
    return phrase


def _ask_for(source: str, wanted: str) -> Ask:
    choose = _CHOOSE.match(wanted)
    if choose:
        rest = to_second_person(choose["rest"] or "")
        return Ask("choose", choose["what"].lower() + rest, source)
    return Ask("request", "send us " + _owned(to_second_person(wanted)), source)


def _offer(source: str, offered: str) -> Ask:
    match = re.match(r"^(?P<what>.+?)(?P<cond>\s+(?:if|in case|should|when)\s+.+)?$", offered)
    assert match is not None
    condition = to_second_person((match["cond"] or "").strip())
    return Ask("offer", to_second_person(match["what"]), source, condition)


def _tell(source: str, told: str) -> Fact | Ask:
    about = re.match(r"^(?:about|of)\s+(.+)$", told, re.IGNORECASE)
    if about:
        return Ask("about", lower_first(to_second_person(about[1])), source)
    return Fact(capitalise(to_second_person(told)), source)


def _remind(source: str, how: str, what: str) -> Fact | Ask:
    how = how.lower()
    if how in ("about", "of"):
        return Ask("remind", to_second_person(what), source)
    if how == "to":
        return Ask("remind-to", to_second_person(what), source)
    return Fact(capitalise(to_second_person(what)), source)


def _verb_phrase(clause: str) -> str:
    return to_second_person(clause[0].lower() + clause[1:])


Builder = Callable[[str, re.Match[str]], "Fact | Ask"]
_R = _RECIPIENT
_O = _OBJECT
_FEEDBACK = r"(?:their\s+|some\s+|a\s+|your\s+)?(?:feedback|opinion|thoughts|review|rating)"
_TOPIC = r"(?:\s+(?:on|about|of|regarding|for)\s+(?P<topic>.+))?"
_BUILDERS: list[tuple[str, Builder]] = [
    (rf"^(?:ask|check|see|find out|verify)\s+{_O}(?:whether|if)\s+(?P<rest>.+)$",
     lambda s, m: _whether_question(s, m["rest"])),
    (rf"^(?:ask|get|collect|gather|request|invite)\s+{_O}(?:for\s+)?{_FEEDBACK}{_TOPIC}$",
     lambda s, m: Ask("feedback", to_second_person(m["topic"] or ""), s)),
    (rf"^ask\s+{_O}how\s+(?P<topic>.+?)\s+(?:went|was|were)$",
     lambda s, m: Ask("feedback", to_second_person(m["topic"]), s)),
    (rf"^ask\s+{_O}about\s+(?:their|the)\s+experiences?\s+(?:with|of|at)\s+(?P<topic>.+)$",
     lambda s, m: Ask("feedback", to_second_person(m["topic"]), s)),
    (rf"^ask\s+{_O}(?:to\s+)?(?:rate|review)\s+(?P<topic>.+)$",
     lambda s, m: Ask("feedback", to_second_person(m["topic"]), s)),
    (rf"^ask\s+{_O}(?P<word>when|what|which|where|how|who|why)\s+(?P<rest>.+)$",
     lambda s, m: _wh_question(s, m["word"], m["rest"])),
    (rf"^ask\s+{_O}for\s+(?P<what>.+)$", lambda s, m: _ask_for(s, m["what"])),
    (rf"^ask\s+(?:{_R}\s+)?to\s+(?P<what>.+)$",
     lambda s, m: Ask("request", _verb_phrase(m["what"]), s)),
    (rf"^ask\s+{_O}about\s+(?P<what>.+)$",
     lambda s, m: Ask("request", "tell us about " + to_second_person(m["what"]), s)),
    (rf"^confirm\s+(?:with\s+{_R}\s+)?(?P<what>.+)$",
     lambda s, m: Ask("confirm", _owned(to_second_person(m["what"])), s)),
    (rf"^offer\s+{_O}to\s+(?P<what>.+)$",
     lambda s, m: Ask("offer-to", _verb_phrase(m["what"]), s)),
    (rf"^offer\s+{_O}(?P<what>.+)$", lambda s, m: _offer(s, m["what"])),
    (rf"^remind\s+{_O}(?P<how>that|about|of|to)\s+(?P<what>.+)$",
     lambda s, m: _remind(s, m["how"], m["what"])),
    (rf"^remind\s+{_R}\s+(?P<what>.+)$", lambda s, m: _remind(s, "that", m["what"])),
    (rf"^(?:tell|inform|notify|let\s+{_R}\s+know|advise)\s+{_O}(?:that\s+)?(?P<what>.+)$",
     lambda s, m: _tell(s, m["what"])),
    (rf"^thank\s+{_O}(?:for\s+(?P<what>.+))?$",
     lambda s, m: Ask("thank", to_second_person(m["what"] or ""), s)),
    (rf"^invite\s+{_O}(?P<what>(?:to\s+)?.+)$",
     lambda s, m: Ask("invite", to_second_person(m["what"]), s)),
    (rf"^(?:schedule|book|arrange|set up)\s+(?P<what>.+?)(?:\s+with\s+{_R})?$",
     lambda s, m: Ask("schedule", _owned(to_second_person(m["what"])), s)),
    (rf"^(?:{_WANT_VERBS})\b.*$", lambda s, m: Ask("want", "to " + _verb_phrase(s), s)),
    (rf"^(?:{_REQUEST_VERBS})\b.*$", lambda s, m: Ask("request", _verb_phrase(s), s)),
    (rf"^(?:{_INSTRUCTION_VERBS})\b.*$", lambda s, m: Ask("action", _verb_phrase(s), s)),
]  # fmt: skip
_COMPILED = [(re.compile(pattern, re.IGNORECASE), build) for pattern, build in _BUILDERS]


def _read_clause(clause: str) -> Fact | Ask:
    label = _LABEL.match(clause)
    if label:
        rest = clause[label.end() :]
        if label[1].lower() == "reminder" and not _FINITE.search(rest):
            return Ask("remind", _owned(to_second_person(rest)), clause)
        clause = rest
    for pattern, build in _COMPILED:
        match = pattern.match(clause)
        if match:
            return build(clause, match)
    if _FINITE.search(clause):
        return Fact(capitalise(to_second_person(clause)), clause)
    return Ask("about", lower_first(to_second_person(clause)), clause)


def read_reason(reason: str) -> Reason:
    """Read a reason: its language and goal, and for English its facts and asks."""
    text = _clean(reason)
    language = guess_language(text)
    category = reason_category(text)
    if language != "en":
        return Reason(text, language, category)
    facts: list[Fact] = []
    asks: list[Ask] = []
    for clause in split_clauses(text):
        part = _read_clause(clause)
        if isinstance(part, Fact):
            facts.append(part)
        else:
            asks.append(part)
    return Reason(text, language, category, tuple(facts), tuple(asks))
