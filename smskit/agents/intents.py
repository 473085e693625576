"""Classify a recipient's reply and the kind of goal a reason sets, without a model.

Word lists cover English, Spanish, French and German and are matched on text normalised by
`smskit.keywords.normalise_text`, so accents and case do not matter.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from smskit.agents.datetimes import find_dates, find_times
from smskit.keywords import classify_keyword, is_opt_out_request, normalise_text

Intent = Literal["opt-out", "question", "refusal", "agreement", "goodbye", "unsure", "other"]
Category = Literal["feedback", "payment", "renewal", "appointment", "general"]


def _words(*alternatives: str) -> re.Pattern[str]:
    """Compile a pattern matching any of the alternatives as whole words, longest first."""
    ordered = sorted(set(alternatives), key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(ordered) + r")\b")


_QUESTION_WORDS = _words(
    "who", "what", "whats", "what's", "why", "which", "when", "where", "how", "is this",
    "are you", "quien", "que", "por que", "porque", "cual", "cuando", "donde", "como",
    "qui", "quoi", "pourquoi", "quel", "quelle", "quand", "comment", "c'est qui", "qui est-ce",
    "wer", "was", "warum", "wieso", "weshalb", "welche", "welcher", "wann", "wo", "wie",
    "worum", "wofur", "woher",
)  # fmt: skip
# An English question word that opens a message makes it a question even without "?".
_OPENING_QUESTION = re.compile(r"^(who|what|whats|what's|why|which|when|where|how)\b")
# A counter-proposal with a date or time ("how about Thursday?") answers rather than asks.
_PROPOSAL = _words(
    "how about", "what about", "can we do", "could we do", "que tal el", "y si", "et si",
    "plutot", "wie ware es mit", "wie waere es mit", "lieber", "instead", "en su lugar",
)  # fmt: skip

_UNSURE = _words(
    "not sure", "unsure", "maybe", "perhaps", "don't know", "dont know", "no idea",
    "let me check", "i'll check", "will check", "no estoy segur[oa]", "no lo se",
    "no se si", "ni idea", "quizas",
    "tal vez", "a lo mejor", "pas sur", "peut-etre", "je ne sais pas", "je sais pas",
    "nicht sicher", "vielleicht", "weiss nicht", "weis nicht", "keine ahnung",
)  # fmt: skip

_REFUSAL = _words(
    "no thanks?", "no thank you", "nope", "nah", "not interested", "no interest",
    "not for me", "i'll pass", "i will pass", "pass on this", "decline", "cancel",
    "not now", "not right now", r"(doesn't|does not|won't|will not|wont) work",
    "ahora no", "pas maintenant", "jetzt nicht", "no me viene bien", "ca ne me va pas",
    "passt nicht", "passt mir nicht",
    r"(i|we) (don't|dont|do not) (want|need)( it| this| that)?",
    r"(can't|cant|cannot|won't|wont|will not|unable to|not able to) (make it|come|attend|pay|"
    r"renew|do it|do that|help|afford)",
    "no gracias", "no me interesa", "no estoy interesad[oa]", r"no (puedo|podre|podemos|quiero|"
    r"necesito|deseo)", "cancelar", "cancela", "anular",
    "non merci", "pas interesse", "pas interessee", "ca ne m'interesse pas",
    r"je ne (peux|pourrai|veux|souhaite) pas", "je (peux|veux) pas", "annuler", "annulez",
    "nein danke", "kein interesse", "leider nicht", r"(kann|will|mochte|werde) (ich )?"
    r"(leider )?nicht", "absagen", "stornieren", "nicht interessiert",
)  # fmt: skip
# A bare "no" that opens a message refuses, unless it opens "no problem" or "no worries".
_OPENING_NO = re.compile(
    r"^(no|non|nein|nop)\b(?!\s*(problem|worries|prob|hay problema|problema|pasa nada|"
    r"de problema|probleme|soucis))"
)

_AGREEMENT = _words(
    "yes", "yeah", "yep", "yup", "sure", "ok", "okay", "k", "alright", "all right",
    "sounds good", "that works", "works for me", "works", "will do", "i'll be there",
    "i will be there", "see you", "confirmed?", "i confirm", "confirm", "of course",
    "absolutely", "definitely", "perfect", "great", "no problem", "no worries", "go ahead",
    "please do", "count me in", "i'll pay", "i will pay", "happy to", "gladly", "fine",
    "si", "claro", "vale", "de acuerdo", "perfecto", "confirmo", "confirmado", "por supuesto",
    "esta bien", "me parece bien", "me viene bien", "ahi estare", "cuenta conmigo", "dale",
    "okey", "sin problema", "con gusto", "pagare",
    "oui", "ouais", "d'accord", "dac", "parfait", "bien sur", "je confirme", "ca marche",
    "ca me va", "volontiers", "entendu", "pas de probleme", "avec plaisir", "c'est bon",
    "je paierai", "je vais payer",
    "ja", "jawohl", "gerne", "gern", "klar", "passt", "einverstanden", "bestatige",
    "bestatigt", "genau", "super", "in ordnung", "geht klar", "kein problem", "alles klar",
    "mache ich", "ich komme", "ich zahle", "ich werde zahlen",
)  # fmt: skip

_GOODBYE = _words(
    "bye", "goodbye", "bye-bye", "see ya", "cya", "take care", "have a good day",
    "have a nice day", "have a great day", "adios", "hasta luego", "hasta pronto", "chao",
    "chau", "nos vemos", "que tengas buen dia", "au revoir", "bonne journee", "bonne soiree",
    "a bientot", "a plus", "salut", "ciao", "tschuss", "tschus", "auf wiedersehen",
    "bis dann", "bis bald", "schonen tag", "ciao",
)  # fmt: skip
_THANKS = _words(
    "thanks?", "thank you", "thx", "ty", "cheers", "gracias", "muchas gracias", "merci",
    "merci beaucoup", "danke", "vielen dank", "danke schon",
)  # fmt: skip
_FILLER = _words(
    "ok",
    "okay",
    "so",
    "much",
    "very",
    "again",
    "a lot",
    "lots",
    "and",
    "y",
    "et",
    "und",
    "you too",
    "too",
    "igualmente",
    "vous aussi",
    "ebenfalls",
    "a",
    "for",
    "your",
    "the",
    "help",
    "all",
    "everything",
    "tout",
    "todo",
    "alles",
    "for now",
    "you",
    "te",
    "le",
    "vous",
    "dir",
    "ihnen",
)

# Words that name a kind of goal. A strong word decides alone; a weak word decides only when
# no category has a strong word ("confirm the survey appointment" is about an appointment).
_CATEGORY_WORDS: list[tuple[Category, re.Pattern[str], re.Pattern[str]]] = [
    ("feedback", re.compile(
        r"\b(feedback|reviews?|rate|rating|satisf\w*|opinion|how was|valoracion|valora\w*|"
        r"comentarios|avis|retour|bewert\w*|meinung|zufrieden\w*|ruckmeldung)\b"),
     re.compile(r"\b(survey|experience|encuesta|experiencia|enquete|umfrage|erfahrung)\b")),
    ("payment", re.compile(
        r"\b(payment|pay|paid|invoice|bill|balance|overdue|outstanding|amount due|pago|pagar|"
        r"factura|saldo|deuda|importe|paiement|payer|facture|solde|reglement|regler|montant|"
        r"impaye\w*|zahlung|zahlen|bezahl\w*|rechnung|betrag|mahnung)\b"),
     re.compile(r"\b(offen\w*)\b")),
    ("renewal", re.compile(
        r"\b(renew\w*|expir\w*|renov\w*|vence|renouvel\w*|verlanger\w*|ablauf\w*|"
        r"lauft ab)\b"),
     re.compile(
        r"\b(subscription|membership|contract|policy|suscripcion|membresia|contrato|poliza|"
        r"abonnement|adhesion|contrat|abo|mitgliedschaft|vertrag)\b")),
    ("appointment", re.compile(
        r"\b(appointment|appt|booking|booked|reservation|consultation|check-?up|cita|reserva|"
        r"rendez-vous|rdv|termin\w*|reservierung|sprechstunde)\b"),
     re.compile(r"\b(meeting|visit|consulta|besuch)\b")),
]  # fmt: skip


def reason_category(text: str) -> Category:
    """Return the kind of goal a reason or a greeting text sets, "general" when none fits."""
    normalised = normalise_text(text)
    for strength in (1, 2):
        for category, strong, weak in _CATEGORY_WORDS:
            if (strong if strength == 1 else weak).search(normalised):
                return category
    return "general"


def _is_question(normalised: str, raw: str) -> bool:
    if classify_keyword(raw) == "help":
        return True
    if _OPENING_QUESTION.match(normalised):
        return True
    return "?" in raw and bool(_QUESTION_WORDS.search(normalised))


def _is_only_goodbye(normalised: str) -> bool:
    """Return whether the message is only thanks and goodbye words ("thanks, bye!")."""
    has_goodbye = bool(_GOODBYE.search(normalised) or _THANKS.search(normalised))
    rest = _FILLER.sub(" ", _THANKS.sub(" ", _GOODBYE.sub(" ", normalised)))
    return has_goodbye and not re.sub(r"[\W_]+", "", rest)


def mentions_date_or_time(normalised: str, reference: date) -> bool:
    """Return whether a normalised text names a date, a weekday or a time of day."""
    return bool(find_dates(normalised, reference) or find_times(normalised))


def classify_intent(text: str, language: str, reference: date | None = None) -> Intent:
    """Classify one recipient message.

    The order decides mixed messages. An opt-out request wins, then a question with a
    question word, then doubt ("not sure"), a refusal and an agreement. An agreement is a yes
    word, or a date or time with no refusal. Next come a message that is only thanks or
    goodbye, and then any other question.
    `reference` is the local date of the message, for recognising dates.
    """
    if is_opt_out_request(text, language):
        return "opt-out"
    normalised = normalise_text(text)
    proposes = reference is not None and bool(_PROPOSAL.search(normalised))
    if proposes and reference is not None and mentions_date_or_time(normalised, reference):
        return "agreement"
    if _is_question(normalised, text):
        return "question"
    if _UNSURE.search(normalised):
        return "unsure"
    refuses = bool(_REFUSAL.search(normalised) or _OPENING_NO.match(normalised))
    agrees = bool(_AGREEMENT.search(normalised))
    if refuses and not agrees:
        return "refusal"
    if agrees and not refuses:
        return "agreement"
    if refuses and agrees:
        return "unsure"
    if _is_only_goodbye(normalised):
        return "goodbye"
    if "?" in text:
        return "question"
    if reference is not None and mentions_date_or_time(normalised, reference):
        return "agreement"
    return "other"


def polarity(text: str, language: str) -> bool | None:
    """Return True for a yes, False for a no, None when the message is neither."""
    intent = classify_intent(text, language)
    if intent == "agreement":
        return True
    if intent == "refusal":
        return False
    return None
