"""Message wording of the offline agent in English, Spanish, French and German, by tone.

Placeholders: `{name}` (the recipient's name), `{agent}`, `{business}`, `{reason}` and
`{question}`. Spanish, French and German address the recipient informally (tú, tu, du) in the
casual tone, Spanish also in the friendly tone, and formally (usted, vous, Sie) otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from smskit.agents.intents import Category

Register = Literal["informal", "formal"]
TONES = ("friendly", "formal", "casual", "empathetic")
LANGUAGES = ("en", "es", "fr", "de")


@dataclass(frozen=True)
class ToneText:
    """The wording that a tone changes, for one language."""

    register: Register
    salutation_named: str
    salutation: str
    identity_business: str
    identity: str
    pleasantry: str
    reason: str
    confirm: str
    refused: str
    goodbye: str
    follow_up: tuple[str, str]
    unsure: str
    # "I write to {reason}." for a reason that opens with an infinitive; "" when the
    # language needs another word order (German puts the verb last).
    purpose: str = ""


@dataclass(frozen=True)
class LanguageText:
    """The wording of one language: tones, goal questions, confirmations and labels."""

    tones: dict[str, ToneText]
    # English rewords an English reason; other languages quote it (see `quote`).
    links_reason: bool
    reason_short: str
    # Per register and goal: the full question and a short one.
    questions: dict[Register, dict[Category, tuple[str, str]]]
    confirmations: dict[Register, dict[Category, str]]
    detail_labels: dict[str, str]
    # Template that quotes a reason in another language, as the `{reason}` of a tone.
    quote: str
    # An offer quoted from an English reason: "We can offer you: {quote}."
    offer: dict[Register, str]
    # Per register, questions by what the reason asks for: "confirm", "interest" (in an
    # offer), "choose" (a day and time) and "reply" (to a question quoted from the reason).
    ask_questions: dict[Register, dict[str, tuple[str, str]]]
    # Confirmations that repeat the day and time the recipient gave ("{when}").
    noted_when: dict[Register, str]
    pay_when: dict[Register, str]


_EN_QUESTIONS: dict[Category, tuple[str, str]] = {
    "appointment": ("Can you let me know if that works for you?", "Does that work?"),
    "renewal": ("Would you like to go ahead with the renewal?", "Shall we renew?"),
    "feedback": ("Would you mind telling us how it went?", "How did it go?"),
    "payment": ("Could you let me know when you'll be able to pay?", "When can you pay?"),
    "general": ("Could you let me know if that works for you?", "Does that work?"),
}
_EN_CONFIRMATIONS: dict[Category, str] = {
    "appointment": "Your appointment is confirmed.",
    "renewal": "I've noted that you'd like to renew.",
    "feedback": "Your feedback has been passed on to the team.",
    "payment": "I've noted your payment.",
    "general": "That's noted.",
}

_EN_ASK_QUESTIONS: dict[str, tuple[str, str]] = {
    "confirm": ("Can you confirm?", "Can you confirm?"),
    "interest": ("Would you be interested?", "Interested?"),
    "choose": ("What day and time would suit you?", "What day suits you?"),
    "reply": ("Could you let me know?", "Could you let me know?"),
}

ENGLISH = LanguageText(
    tones={
        "friendly": ToneText(
            register="informal",
            salutation_named="Hi {name},",
            salutation="Hi,",
            identity_business="this is {agent} from {business}.",
            identity="this is {agent}.",
            pleasantry="Hope you're well!",
            reason="I'm reaching out {reason}.",
            confirm="Great, thank you!",
            refused="No problem at all, thanks for letting me know. Have a great day!",
            goodbye="Thanks, have a great day!",
            follow_up=(
                "Thanks for your reply! {question}",
                "Sorry, I didn't quite catch that. {question} A quick yes or no is fine.",
            ),
            unsure="No rush, take your time. {question}",
        ),
        "formal": ToneText(
            register="formal",
            salutation_named="Dear {name},",
            salutation="Hello,",
            identity_business="this is {agent} from {business}.",
            identity="this is {agent}.",
            pleasantry="",
            reason="I am writing {reason}.",
            confirm="Thank you for your reply.",
            refused="Understood. Thank you for your reply, and have a good day.",
            goodbye="Thank you. Goodbye.",
            follow_up=(
                "Thank you for your message. {question}",
                "I am sorry, I did not understand your reply. {question} A yes or no is "
                "sufficient.",
            ),
            unsure="Of course, please take your time. {question}",
        ),
        "casual": ToneText(
            register="informal",
            salutation_named="Hey {name}!",
            salutation="Hey!",
            identity_business="{agent} here from {business}.",
            identity="{agent} here.",
            pleasantry="",
            reason="Just texting {reason}.",
            confirm="Awesome, thanks!",
            refused="No worries, thanks anyway!",
            goodbye="Cheers, bye!",
            follow_up=(
                "Thanks! {question}",
                "Sorry, didn't catch that. {question} Yes or no is fine.",
            ),
            unsure="No rush! {question}",
        ),
        "empathetic": ToneText(
            register="formal",
            salutation_named="Hi {name},",
            salutation="Hi,",
            identity_business="this is {agent} from {business}.",
            identity="this is {agent}.",
            pleasantry="I hope you're doing well.",
            reason="I'm reaching out {reason}.",
            confirm="Thank you so much, I really appreciate it.",
            refused="I completely understand, thank you for letting me know. Take care!",
            goodbye="Thank you, take care!",
            follow_up=(
                "Thank you for getting back to me. {question}",
                "I'm sorry, I want to make sure I understand. {question} A simple yes or no "
                "is perfectly fine.",
            ),
            unsure="That's completely fine, take all the time you need. {question}",
        ),
    },
    links_reason=True,
    reason_short="{reason}.",
    questions={"informal": _EN_QUESTIONS, "formal": _EN_QUESTIONS},
    confirmations={"informal": _EN_CONFIRMATIONS, "formal": _EN_CONFIRMATIONS},
    detail_labels={
        "date": "date",
        "time": "time",
        "amount": "amount",
        "location": "location",
        "plan": "plan",
    },
    quote='about the following: "{text}"',
    offer={
        "informal": "We can offer you the following: {quote}.",
        "formal": "We can offer you the following: {quote}.",
    },
    ask_questions={"informal": _EN_ASK_QUESTIONS, "formal": _EN_ASK_QUESTIONS},
    noted_when={"informal": "I've noted {when}.", "formal": "I have noted {when}."},
    pay_when={
        "informal": "I've noted that you'll pay {when}.",
        "formal": "I have noted that you will pay {when}.",
    },
)

SPANISH = LanguageText(
    tones={
        "friendly": ToneText(
            register="informal",
            salutation_named="Hola {name},",
            salutation="Hola,",
            identity_business="soy {agent}, de {business}.",
            identity="soy {agent}.",
            pleasantry="¡Espero que estés bien!",
            reason="Te escribo por lo siguiente: {reason}.",
            purpose="Te escribo para {reason}.",
            confirm="¡Genial, gracias!",
            refused="No hay problema, gracias por avisarme. ¡Que tengas un buen día!",
            goodbye="¡Gracias, que tengas un buen día!",
            follow_up=(
                "¡Gracias por tu respuesta! {question}",
                "Perdona, no te he entendido bien. {question} Basta con un sí o un no.",
            ),
            unsure="Sin prisa, tómate tu tiempo. {question}",
        ),
        "formal": ToneText(
            register="formal",
            salutation_named="Estimado/a {name}:",
            salutation="Estimado/a cliente:",
            identity_business="le escribe {agent}, de {business}.",
            identity="le escribe {agent}.",
            pleasantry="",
            reason="Le escribo por el siguiente motivo: {reason}.",
            purpose="Le escribo para {reason}.",
            confirm="Muchas gracias por su respuesta.",
            refused="Entendido. Gracias por su respuesta y que tenga un buen día.",
            goodbye="Muchas gracias. Un saludo.",
            follow_up=(
                "Gracias por su mensaje. {question}",
                "Disculpe, no he entendido su respuesta. {question} Basta con un sí o un no.",
            ),
            unsure="Por supuesto, tómese su tiempo. {question}",
        ),
        "casual": ToneText(
            register="informal",
            salutation_named="¡Hola {name}!",
            salutation="¡Hola!",
            identity_business="{agent} de {business} por aquí.",
            identity="{agent} por aquí.",
            pleasantry="",
            reason="Te escribo por esto: {reason}.",
            purpose="Te escribo para {reason}.",
            confirm="¡Genial, gracias!",
            refused="¡Sin problema, gracias igual!",
            goodbye="¡Gracias, chao!",
            follow_up=(
                "¡Gracias! {question}",
                "Perdona, no te pillé. {question} Con un sí o un no vale.",
            ),
            unsure="¡Sin prisa! {question}",
        ),
        "empathetic": ToneText(
            register="formal",
            salutation_named="Hola {name},",
            salutation="Hola,",
            identity_business="le escribe {agent}, de {business}.",
            identity="le escribe {agent}.",
            pleasantry="Espero que se encuentre bien.",
            reason="Le escribo por lo siguiente: {reason}.",
            purpose="Le escribo para {reason}.",
            confirm="Muchísimas gracias, se lo agradezco de verdad.",
            refused="Lo entiendo perfectamente, gracias por hacérmelo saber. ¡Cuídese!",
            goodbye="Gracias, ¡cuídese mucho!",
            follow_up=(
                "Gracias por responderme. {question}",
                "Disculpe, quiero asegurarme de entenderle bien. {question} Basta con un sí "
                "o un no.",
            ),
            unsure="No se preocupe, tómese el tiempo que necesite. {question}",
        ),
    },
    links_reason=False,
    reason_short="Motivo: {reason}.",
    questions={
        "informal": {
            "appointment": ("¿Me confirmas si te viene bien?", "¿Te viene bien?"),
            "renewal": ("¿Quieres que tramitemos la renovación?", "¿Quieres renovar?"),
            "feedback": ("¿Nos cuentas qué tal fue?", "¿Qué tal fue?"),
            "payment": ("¿Nos indicas cuándo podrás pagar?", "¿Cuándo podrás pagar?"),
            "general": ("¿Me confirmas si te parece bien?", "¿Te parece bien?"),
        },
        "formal": {
            "appointment": ("¿Me confirma si le viene bien?", "¿Le viene bien?"),
            "renewal": ("¿Desea que tramitemos la renovación?", "¿Desea renovar?"),
            "feedback": ("¿Nos cuenta qué tal fue?", "¿Qué tal fue?"),
            "payment": ("¿Nos indica cuándo podrá pagar?", "¿Cuándo podrá pagar?"),
            "general": ("¿Me confirma si le parece bien?", "¿Le parece bien?"),
        },
    },
    confirmations={
        "informal": {
            "appointment": "La cita queda confirmada.",
            "renewal": "Queda anotada la renovación.",
            "feedback": "Le pasaré tus comentarios al equipo.",
            "payment": "Queda anotado tu pago.",
            "general": "Queda anotado.",
        },
        "formal": {
            "appointment": "La cita queda confirmada.",
            "renewal": "Queda anotada la renovación.",
            "feedback": "Le pasaré sus comentarios al equipo.",
            "payment": "Queda anotado su pago.",
            "general": "Queda anotado.",
        },
    },
    detail_labels={
        "date": "fecha",
        "time": "hora",
        "amount": "importe",
        "location": "lugar",
        "plan": "plan",
    },
    quote='"{text}"',
    offer={
        "informal": "Podemos ofrecerte lo siguiente: {quote}.",
        "formal": "Podemos ofrecerle lo siguiente: {quote}.",
    },
    ask_questions={
        "informal": {
            "confirm": ("¿Me lo confirmas?", "¿Lo confirmas?"),
            "interest": ("¿Te interesa?", "¿Te interesa?"),
            "choose": ("¿Qué día y hora te vienen bien?", "¿Qué día te va bien?"),
            "reply": ("¿Me respondes cuando puedas?", "¿Me respondes?"),
        },
        "formal": {
            "confirm": ("¿Me lo confirma?", "¿Lo confirma?"),
            "interest": ("¿Le interesa?", "¿Le interesa?"),
            "choose": ("¿Qué día y hora le vienen bien?", "¿Qué día le va bien?"),
            "reply": ("¿Me responde cuando pueda?", "¿Me responde?"),
        },
    },
    noted_when={"informal": "Queda anotado: {when}.", "formal": "Queda anotado: {when}."},
    pay_when={
        "informal": "Queda anotado que pagarás {when}.",
        "formal": "Queda anotado que pagará {when}.",
    },
)

FRENCH = LanguageText(
    tones={
        "friendly": ToneText(
            register="formal",
            salutation_named="Bonjour {name},",
            salutation="Bonjour,",
            identity_business="ici {agent}, de {business}.",
            identity="ici {agent}.",
            pleasantry="J'espère que vous allez bien !",
            reason="Je vous écris pour la raison suivante : {reason}.",
            purpose="Je vous écris pour {reason}.",
            confirm="Parfait, merci !",
            refused="Pas de souci, merci de m'avoir prévenu. Bonne journée !",
            goodbye="Merci, bonne journée !",
            follow_up=(
                "Merci pour votre réponse ! {question}",
                "Désolé, je n'ai pas bien compris. {question} Un simple oui ou non suffit.",
            ),
            unsure="Rien ne presse, prenez votre temps. {question}",
        ),
        "formal": ToneText(
            register="formal",
            salutation_named="Bonjour {name},",
            salutation="Madame, Monsieur,",
            identity_business="je suis {agent}, de {business}.",
            identity="je suis {agent}.",
            pleasantry="",
            reason="Je me permets de vous écrire au sujet suivant : {reason}.",
            purpose="Je me permets de vous écrire pour {reason}.",
            confirm="Je vous remercie de votre réponse.",
            refused="C'est bien noté. Je vous remercie de votre réponse et vous souhaite une "
            "bonne journée.",
            goodbye="Je vous remercie. Au revoir.",
            follow_up=(
                "Je vous remercie de votre message. {question}",
                "Veuillez m'excuser, je n'ai pas compris votre réponse. {question} Un oui ou "
                "un non suffit.",
            ),
            unsure="Bien entendu, prenez le temps nécessaire. {question}",
        ),
        "casual": ToneText(
            register="informal",
            salutation_named="Salut {name} !",
            salutation="Salut !",
            identity_business="c'est {agent}, de {business}.",
            identity="c'est {agent}.",
            pleasantry="",
            reason="Je t'écris pour ça : {reason}.",
            purpose="Je t'écris pour {reason}.",
            confirm="Super, merci !",
            refused="Pas de souci, merci quand même !",
            goodbye="Merci, à plus !",
            follow_up=(
                "Merci ! {question}",
                "Désolé, j'ai pas bien compris. {question} Oui ou non, ça suffit.",
            ),
            unsure="Pas de stress ! {question}",
        ),
        "empathetic": ToneText(
            register="formal",
            salutation_named="Bonjour {name},",
            salutation="Bonjour,",
            identity_business="ici {agent}, de {business}.",
            identity="ici {agent}.",
            pleasantry="J'espère que vous allez bien.",
            reason="Je vous écris pour la raison suivante : {reason}.",
            purpose="Je vous écris pour {reason}.",
            confirm="Merci beaucoup, je vous en suis très reconnaissant.",
            refused="Je comprends tout à fait, merci de me l'avoir dit. Prenez soin de vous !",
            goodbye="Merci, prenez soin de vous !",
            follow_up=(
                "Merci de m'avoir répondu. {question}",
                "Pardon, je veux être sûr de bien vous comprendre. {question} Un simple oui "
                "ou non suffit.",
            ),
            unsure="Aucun souci, prenez tout le temps qu'il vous faut. {question}",
        ),
    },
    links_reason=False,
    reason_short="Objet : {reason}.",
    questions={
        "informal": {
            "appointment": ("Tu peux me confirmer que ça te va ?", "Ça te va ?"),
            "renewal": ("Tu veux qu'on fasse le renouvellement ?", "Tu veux renouveler ?"),
            "feedback": ("Tu peux nous dire comment ça s'est passé ?", "Ça s'est bien passé ?"),
            "payment": ("Tu peux nous dire quand tu pourras payer ?", "Quand pourras-tu payer ?"),
            "general": ("Tu peux me confirmer que ça te va ?", "Ça te va ?"),
        },
        "formal": {
            "appointment": ("Pouvez-vous me confirmer que cela vous convient ?", "Cela vous va ?"),
            "renewal": (
                "Souhaitez-vous que nous procédions au renouvellement ?",
                "Souhaitez-vous renouveler ?",
            ),
            "feedback": (
                "Pourriez-vous nous dire comment cela s'est passé ?",
                "Comment cela s'est-il passé ?",
            ),
            "payment": (
                "Pouvez-vous nous indiquer quand vous pourrez régler ?",
                "Quand pourrez-vous régler ?",
            ),
            "general": ("Pouvez-vous me confirmer que cela vous convient ?", "Cela vous va ?"),
        },
    },
    confirmations={
        "informal": {
            "appointment": "Ton rendez-vous est confirmé.",
            "renewal": "Le renouvellement est bien noté.",
            "feedback": "Ton retour est bien noté, je le transmets à l'équipe.",
            "payment": "Ton paiement est bien noté.",
            "general": "C'est noté.",
        },
        "formal": {
            "appointment": "Votre rendez-vous est confirmé.",
            "renewal": "Le renouvellement est bien noté.",
            "feedback": "Votre retour est bien noté, je le transmets à l'équipe.",
            "payment": "Votre paiement est bien noté.",
            "general": "C'est noté.",
        },
    },
    detail_labels={
        "date": "date",
        "time": "heure",
        "amount": "montant",
        "location": "lieu",
        "plan": "formule",
    },
    quote='"{text}"',
    offer={
        "informal": "On peut te proposer ceci : {quote}.",
        "formal": "Nous pouvons vous proposer ceci : {quote}.",
    },
    ask_questions={
        "informal": {
            "confirm": ("Tu peux me le confirmer ?", "Tu confirmes ?"),
            "interest": ("Ça t'intéresse ?", "Ça t'intéresse ?"),
            "choose": ("Quel jour et quelle heure te conviennent ?", "Quel jour te va ?"),
            "reply": ("Tu peux me répondre ?", "Tu me réponds ?"),
        },
        "formal": {
            "confirm": ("Pouvez-vous me le confirmer ?", "Vous confirmez ?"),
            "interest": ("Cela vous intéresse ?", "Cela vous intéresse ?"),
            "choose": ("Quel jour et quelle heure vous conviendraient ?", "Quel jour vous va ?"),
            "reply": ("Pouvez-vous me répondre ?", "Vous me répondez ?"),
        },
    },
    noted_when={"informal": "C'est noté : {when}.", "formal": "C'est noté : {when}."},
    pay_when={
        "informal": "C'est noté, tu régleras {when}.",
        "formal": "C'est noté, vous réglerez {when}.",
    },
)

GERMAN = LanguageText(
    tones={
        "friendly": ToneText(
            register="formal",
            salutation_named="Hallo {name},",
            salutation="Hallo,",
            identity_business="hier ist {agent} von {business}.",
            identity="hier ist {agent}.",
            pleasantry="Ich hoffe, es geht Ihnen gut!",
            reason="Ich schreibe Ihnen aus folgendem Grund: {reason}.",
            confirm="Super, vielen Dank!",
            refused="Kein Problem, danke für die Rückmeldung. Einen schönen Tag noch!",
            goodbye="Danke, einen schönen Tag noch!",
            follow_up=(
                "Danke für Ihre Antwort! {question}",
                "Entschuldigung, das habe ich nicht ganz verstanden. {question} Ein kurzes Ja "
                "oder Nein genügt.",
            ),
            unsure="Kein Stress, lassen Sie sich Zeit. {question}",
        ),
        "formal": ToneText(
            register="formal",
            salutation_named="Guten Tag {name},",
            salutation="Guten Tag,",
            identity_business="hier schreibt {agent} von {business}.",
            identity="hier schreibt {agent}.",
            pleasantry="",
            reason="Ich wende mich aus folgendem Grund an Sie: {reason}.",
            confirm="Vielen Dank für Ihre Antwort.",
            refused="Verstanden. Vielen Dank für Ihre Antwort und einen schönen Tag.",
            goodbye="Vielen Dank. Auf Wiedersehen.",
            follow_up=(
                "Vielen Dank für Ihre Nachricht. {question}",
                "Entschuldigen Sie, ich habe Ihre Antwort nicht verstanden. {question} Ein Ja "
                "oder Nein genügt.",
            ),
            unsure="Selbstverständlich, nehmen Sie sich Zeit. {question}",
        ),
        "casual": ToneText(
            register="informal",
            salutation_named="Hey {name}!",
            salutation="Hey!",
            identity_business="hier ist {agent} von {business}.",
            identity="hier ist {agent}.",
            pleasantry="",
            reason="Ich schreib dir wegen Folgendem: {reason}.",
            confirm="Super, danke!",
            refused="Kein Ding, trotzdem danke!",
            goodbye="Danke, tschüss!",
            follow_up=(
                "Danke! {question}",
                "Sorry, hab ich nicht ganz verstanden. {question} Ja oder Nein reicht.",
            ),
            unsure="Kein Stress! {question}",
        ),
        "empathetic": ToneText(
            register="formal",
            salutation_named="Hallo {name},",
            salutation="Hallo,",
            identity_business="hier ist {agent} von {business}.",
            identity="hier ist {agent}.",
            pleasantry="Ich hoffe, es geht Ihnen gut.",
            reason="Ich melde mich aus folgendem Grund bei Ihnen: {reason}.",
            confirm="Herzlichen Dank, das weiß ich sehr zu schätzen.",
            refused="Das verstehe ich vollkommen, danke, dass Sie es mir sagen. Alles Gute!",
            goodbye="Danke, alles Gute für Sie!",
            follow_up=(
                "Danke, dass Sie sich melden. {question}",
                "Entschuldigung, ich möchte Sie richtig verstehen. {question} Ein einfaches Ja "
                "oder Nein genügt.",
            ),
            unsure="Ganz in Ruhe, nehmen Sie sich die Zeit, die Sie brauchen. {question}",
        ),
    },
    links_reason=False,
    reason_short="Anliegen: {reason}.",
    questions={
        "informal": {
            "appointment": ("Kannst du mir kurz bestätigen, ob das passt?", "Passt das?"),
            "renewal": ("Sollen wir für dich verlängern?", "Verlängern?"),
            "feedback": ("Magst du uns kurz sagen, wie es war?", "Wie war's?"),
            "payment": ("Kannst du uns sagen, wann du zahlen kannst?", "Wann kannst du zahlen?"),
            "general": ("Kannst du mir kurz bestätigen, ob das passt?", "Passt das?"),
        },
        "formal": {
            "appointment": ("Können Sie mir kurz bestätigen, ob das passt?", "Passt das?"),
            "renewal": (
                "Möchten Sie, dass wir die Verlängerung vornehmen?",
                "Möchten Sie verlängern?",
            ),
            "feedback": ("Möchten Sie uns kurz sagen, wie es war?", "Wie war es?"),
            "payment": ("Können Sie uns sagen, wann Sie zahlen können?", "Wann können Sie zahlen?"),
            "general": ("Können Sie mir kurz bestätigen, ob das passt?", "Passt das?"),
        },
    },
    confirmations={
        "informal": {
            "appointment": "Dein Termin ist bestätigt.",
            "renewal": "Die Verlängerung ist notiert.",
            "feedback": "Dein Feedback gebe ich ans Team weiter.",
            "payment": "Deine Zahlung ist notiert.",
            "general": "Ist notiert.",
        },
        "formal": {
            "appointment": "Ihr Termin ist bestätigt.",
            "renewal": "Die Verlängerung ist notiert.",
            "feedback": "Ihre Rückmeldung gebe ich an das Team weiter.",
            "payment": "Ihre Zahlung ist notiert.",
            "general": "Ist notiert.",
        },
    },
    detail_labels={
        "date": "Datum",
        "time": "Uhrzeit",
        "amount": "Betrag",
        "location": "Ort",
        "plan": "Tarif",
    },
    quote='"{text}"',
    offer={
        "informal": "Wir können dir Folgendes anbieten: {quote}.",
        "formal": "Wir können Ihnen Folgendes anbieten: {quote}.",
    },
    ask_questions={
        "informal": {
            "confirm": ("Kannst du mir das kurz bestätigen?", "Bestätigst du?"),
            "interest": ("Hast du Interesse?", "Interesse?"),
            "choose": ("Welcher Tag und welche Uhrzeit passen dir?", "Welcher Tag passt dir?"),
            "reply": ("Kannst du mir kurz antworten?", "Antwortest du mir?"),
        },
        "formal": {
            "confirm": ("Können Sie mir das kurz bestätigen?", "Bestätigen Sie?"),
            "interest": ("Haben Sie Interesse?", "Interesse?"),
            "choose": ("Welcher Tag und welche Uhrzeit passen Ihnen?", "Welcher Tag passt Ihnen?"),
            "reply": ("Können Sie mir kurz antworten?", "Antworten Sie mir?"),
        },
    },
    noted_when={"informal": "Notiert: {when}.", "formal": "Notiert: {when}."},
    pay_when={"informal": "Notiert: Du zahlst {when}.", "formal": "Notiert: Sie zahlen {when}."},
)

PHRASES: dict[str, LanguageText] = {"en": ENGLISH, "es": SPANISH, "fr": FRENCH, "de": GERMAN}
