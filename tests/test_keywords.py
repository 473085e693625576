import pytest

from smskit.keywords import classify_keyword, is_opt_out_request, normalise_text


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        " Stop. ",
        "STOP!!",
        "stopall",
        "Unsubscribe",
        "cancel",
        "END",
        "quit",
        "Revoke",
        "OPTOUT",
        "opt out",
        "opt-out",
        "\tStop\n",
        "«STOP»",
        "stop 🛑",
    ],
)
def test_classify_keyword_opt_out(text):
    assert classify_keyword(text) == "opt-out"


@pytest.mark.parametrize("text", ["START", "start", " Unstop! "])
def test_classify_keyword_opt_in(text):
    assert classify_keyword(text) == "opt-in"


@pytest.mark.parametrize("text", ["HELP", "help?", "Info", " INFO. "])
def test_classify_keyword_help(text):
    assert classify_keyword(text) == "help"


@pytest.mark.parametrize(
    "text",
    [
        "We must STOP this bill!",
        "yes",
        "YES",
        "stop by tomorrow",
        "the end",
        "",
        "   ",
        "?!",
        "cancel my appointment",
        "help me choose a day",
        "Stopped",
        "information",
    ],
)
def test_classify_keyword_none(text):
    assert classify_keyword(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "please stop texting me",
        "Please STOP sending me these messages",
        "remove me from your list",
        "Remove my number from your database please",
        "don't text me again",
        "Do not contact me",
        "unsubscribe me",
        "I want to unsubscribe",
        "take me off this list",
        "Stop please",
        "stop it now!",
        "STOP STOP STOP",
        "No more texts please",
        "leave me alone",
        "I don’t want any more messages",
    ],
)
def test_is_opt_out_request_english(text):
    assert is_opt_out_request(text, "en")


@pytest.mark.parametrize(
    "text",
    [
        "no me escriban más",
        "No me manden mensajes",
        "dejen de escribirme por favor",
        "Deja de enviarme mensajes",
        "bórrenme de su lista",
        "Quítenme de la lista",
        "quiero darme de baja",
        "BAJA",
        "no quiero recibir más mensajes",
        "ya no me escriban",
    ],
)
def test_is_opt_out_request_spanish(text):
    assert is_opt_out_request(text, "es")


@pytest.mark.parametrize(
    "text",
    [
        "ne m'envoyez plus de messages",
        "Ne m’envoyez plus de SMS",
        "arrêtez de m'écrire",
        "Arrêtez les messages svp",
        "désabonnez-moi",
        "je veux me désinscrire",
        "retirez mon numéro",
        "je ne veux plus recevoir de messages",
        "ARRÊT",
        "laissez-moi tranquille",
    ],
)
def test_is_opt_out_request_french(text):
    assert is_opt_out_request(text, "fr")


@pytest.mark.parametrize(
    "text",
    [
        "bitte keine SMS mehr",
        "Keine Nachrichten mehr!",
        "keine weiteren Nachrichten",
        "schreiben Sie mir nicht mehr",
        "Hören Sie auf, mir zu schreiben",
        "löschen Sie meine Nummer",
        "bitte mich austragen",
        "abmelden",
        "Ich möchte keine SMS",
        "lassen Sie mich in Ruhe",
        "STOPP",
    ],
)
def test_is_opt_out_request_german(text):
    assert is_opt_out_request(text, "de")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("no me escriban más", "en"),
        ("bitte keine SMS mehr", "fr"),
        ("please stop texting me", "de"),
        ("ne m'envoyez plus de messages", "es"),
        ("STOP", "it"),
        ("please stop texting me", "pt-BR"),
    ],
)
def test_is_opt_out_request_any_language(text, language):
    assert is_opt_out_request(text, language)


@pytest.mark.parametrize(
    "text",
    [
        "we must stop meeting like this",
        "We must STOP this bill!",
        "Yes, see you Friday",
        "Can you text me the address?",
        "stop by the office tomorrow",
        "I can't make it, please cancel my appointment",
        "no me manden el recibo por correo",
        "Sí, por favor",
        "je ne suis plus disponible mardi",
        "ich habe keine Nachricht bekommen",
        "Keine Ahnung, wer sind Sie?",
        "thank you",
        "",
        "START",
        "who is this?",
    ],
)
def test_is_opt_out_request_not_a_request(text):
    assert not is_opt_out_request(text, "en")


def test_normalise_text_folds_case_accents_and_quotes():
    assert normalise_text("  No me ESCRIBAN   más ") == "no me escriban mas"
    assert normalise_text("m’envoyez") == "m'envoyez"
    assert normalise_text("Straße HÖREN") == "strasse horen"
