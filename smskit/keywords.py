"""Recognise opt-out, opt-in and help keywords and plain-language opt-out requests.

Keywords follow the CTIA Messaging Principles and Best Practices and the defaults of Twilio's
opt-out handling: a message that is only the keyword, in any case, with surrounding spaces or
punctuation. YES is not an opt-in keyword here although Twilio's defaults include it, because
YES is the most common answer to the agent's own questions, and a keyword check cannot tell the
two apart. Opt-in applies only to a number that opted out, and the runner, not this module,
tracks which numbers did.

Plain-language requests ("please stop texting me", "no me escriban más") are matched in
English, Spanish, French and German whatever the campaign's language, because recipients may
answer in another language.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

KeywordKind = Literal["opt-out", "opt-in", "help"]

OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})

# Single words that carriers and senders in Spanish- and French-speaking markets treat as
# opt-out ("BAJA", "ARRET"/"ARRÊT"). They count as plain-language requests, not as keywords,
# so `classify_keyword` keeps to the CTIA list.
_FOREIGN_OPT_OUT_WORDS = frozenset({"baja", "arret", "alto", "stopp", "abmelden"})

# Words that may surround a keyword without changing its meaning: "stop please", "STOP it now",
# "stop messages".
_FILLER_WORDS = frozenset(
    "please pls plz now thanks thank you thx it this these messages texts sms "
    "por favor ya gracias svp merci bitte danke sofort jetzt".split()
)

_SEPARATORS = re.compile(r"[\s\-_.]+")

_ENGLISH = [
    r"\bstop (texting|txting|messaging|sending|contacting|spamming|bothering)\b",
    r"\b(do not|dont|don't|never) (text|txt|message|msg|sms|contact|write to) (me|us)\b",
    r"\b(no|any) more (texts|txts|messages|msgs|sms)\b.*\b(please|pls|thanks|thank you)\b",
    r"\bno more (texts|txts|messages|msgs|sms)\b\W*$",
    r"\b(remove|delete|take|erase) (me|my (number|phone|details|info))\b.*\b(list|database|"
    r"contacts|system|records)\b",
    r"\b(remove|delete|erase) my (number|phone number|details)\b",
    r"\btake me off\b",
    r"\bunsubscribe me\b",
    r"\b(want|wish|like|need) to (unsubscribe|opt out)\b",
    r"\bopt me out\b",
    r"\b(i|we) (do not|dont|don't) want (any more |anymore |these |your |any )?"
    r"(texts|messages|sms|msgs)\b",
    r"\bleave me alone\b",
    r"\blose my number\b",
]

# "no me manden" alone, or followed by "más", "nunca" or a word for messages; "no me manden el
# recibo" (do not send me the receipt) is not a request to stop.
_SPANISH_VERBS = (
    r"(escriban|escribas|escriba|envien|envies|envie|manden|mandes|mande|contacten|contactes|"
    r"contacte|molesten|molestes|moleste)"
)

_SPANISH = [
    rf"\bno (me |nos )?{_SPANISH_VERBS} (mas|nunca|ningun|mensajes|sms|textos)\b",
    rf"\bno (me |nos )?{_SPANISH_VERBS}\W*$",
    r"\b(deja|dejen|deje|dejad|dejar) de (escribir|enviar|mandar|contactar|molestar|llamar)",
    r"\b(borra|borren|borre|borrame|borrenme|elimina|eliminen|elimine|eliminame|eliminenme|"
    r"quita|quiten|quite|quitame|quitenme|saca|saquen|saque|sacame|saquenme)\b.*\b(lista|"
    r"numero|base de datos)\b",
    r"\b(dar|darme|dame|denme|deme) de baja\b",
    r"\bno (quiero|deseo) (recibir )?(mas |ningun |ningunos )?(mensajes|sms|textos|mensaje)\b",
    r"\bya no (me |nos )?(escriban|envien|manden|contacten)\b",
    r"\b(cancelar|cancela|cancelen|anular) (mi |la )?suscripcion\b",
    r"\bdesuscribir(me)?\b",
    r"\bdejenme en paz\b",
]

_FRENCH = [
    r"\b(ne )?(m'|me |nous )(envoyez|envoie|envoies|ecrivez|ecris|ecrivez|contactez|contacte|"
    r"textez|texte|appelez|appelle|derangez|derange) plus\b",
    r"\b(arretez|arrete|cessez|cesse) (de m'|de me |de nous |d')?(envoyer|ecrire|contacter|"
    r"texter|appeler|deranger|harceler)\b",
    r"\b(arretez|arrete|cessez|cesse) (les|vos|tes|ces) (messages|sms|textos|envois)\b",
    r"\b(desabonnez|desinscrivez|retirez|supprimez|enlevez|rayez|effacez)[- ]moi\b",
    r"\b(me|je veux me|je souhaite me|voudrais me) (desabonner|desinscrire)\b",
    r"\b(retirez|supprimez|effacez|enlevez) (mon numero|mes coordonnees)\b",
    r"\bje ne (veux|souhaite|desire) plus (recevoir )?(de |vos |ces |les )?(messages|sms|"
    r"textos)\b",
    r"\b(laissez|laisse)[- ]moi tranquille\b",
    r"\b(fichez|fiche|foutez|fous)[- ]moi la paix\b",
]

_GERMAN = [
    r"\bkeine (weiteren |weitere )?(sms|nachrichten|nachricht|textnachrichten|mitteilungen|"
    r"kurznachrichten|werbung|werbe-sms|texte)( an mich)? mehr\b",
    r"\bkeine weiteren? (sms|nachrichten|textnachrichten|mitteilungen|kurznachrichten)\b",
    r"\b(schreiben|schreibt|schreib|simsen|kontaktieren|kontaktiert|kontaktiere|senden|"
    r"sendet|send|schicken|schickt|schick) (sie |du |ihr )?(mir|mich|uns) (bitte )?"
    r"(nicht mehr|nie wieder|keine)\b",
    r"\b(mich|uns) (bitte )?(nicht mehr|nie wieder) (anschreiben|kontaktieren|anrufen|"
    r"benachrichtigen)\b",
    r"\b(horen|hor|hore) (sie |du |ihr )?(bitte )?auf,? (mir |mich |uns )?(zu schreiben|"
    r"zu kontaktieren|zu simsen|nachrichten zu senden|sms zu senden|zu nerven)",
    r"\b(entfernen|loschen|streichen|tragen) (sie |du )?(mich|meine nummer|meine daten)\b",
    r"\b(mich|meine nummer) (bitte )?(austragen|entfernen|loschen|abmelden|streichen)\b",
    r"\b(abmelden|abbestellen|austragen)\b\W*$",
    r"\bich (will|mochte) keine (sms|nachrichten|textnachrichten|mitteilungen)\b",
    r"\blassen sie mich in ruhe\b",
    r"\blass mich in ruhe\b",
]

_REQUEST_PATTERNS: dict[str, list[re.Pattern[str]]] = {
    language: [re.compile(pattern) for pattern in patterns]
    for language, patterns in {
        "en": _ENGLISH,
        "es": _SPANISH,
        "fr": _FRENCH,
        "de": _GERMAN,
    }.items()
}


def _strip_symbols(text: str) -> str:
    """Remove punctuation, symbols, separators and control characters at both ends."""
    start = 0
    end = len(text)
    while start < end and unicodedata.category(text[start])[0] in "PSZC":
        start += 1
    while end > start and unicodedata.category(text[end - 1])[0] in "PSZC":
        end -= 1
    return text[start:end]


def classify_keyword(text: str) -> KeywordKind | None:
    """Return the keyword kind of a message that is only an opt-out, opt-in or help keyword.

    "Stop.", " stop ", "STOP!!" and "opt out" are opt-outs. A keyword inside a sentence ("We
    must STOP this bill!") is not a keyword message and returns None.
    """
    word = _SEPARATORS.sub("", _strip_symbols(text)).upper()
    if word in OPT_OUT_KEYWORDS:
        return "opt-out"
    if word in OPT_IN_KEYWORDS:
        return "opt-in"
    if word in HELP_KEYWORDS:
        return "help"
    return None


def normalise_text(text: str) -> str:
    """Return lower-case text without accents, with plain apostrophes and single spaces.

    Matching works on this form, so "MÁS" and "mas", "m’envoyez" and "m'envoyez" compare equal.
    """
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.split())


def _without_filler_words(normalised: str) -> str:
    words = re.findall(r"\w+", normalised)
    return " ".join(word for word in words if word not in _FILLER_WORDS)


def is_opt_out_request(text: str, language: str) -> bool:
    """Return whether a message is a request to stop receiving messages.

    This covers the opt-out keywords, a keyword with polite words around it ("stop please"),
    and plain-language requests in English, Spanish, French and German. `language` is the
    campaign's language. Its patterns are tried first, but every language is always checked.
    """
    if classify_keyword(text) == "opt-out":
        return True
    normalised = normalise_text(text)
    words = _without_filler_words(normalised).split()
    if words and classify_keyword(" ".join(words)) == "opt-out":
        return True
    if words and all(
        word.upper() in OPT_OUT_KEYWORDS or word in _FOREIGN_OPT_OUT_WORDS for word in words
    ):
        return True
    primary = language.split("-")[0].split("_")[0].lower()
    order = sorted(_REQUEST_PATTERNS, key=lambda code: code != primary)
    return any(pattern.search(normalised) for code in order for pattern in _REQUEST_PATTERNS[code])
