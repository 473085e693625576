"""Registry of every project attribute: type, default, description and validation.

Attributes are stored as text in the `attributes` table. An attribute never set, or reset, has
its default. Values are validated when set; an invalid value is rejected with the reason and the
old value is kept. The results attributes are written by smskit only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from smskit.errors import InvalidInputError
from smskit.store.db import query_rows, utcnow

RESULTS = "project_attributes_outbound_call_table_csv_result"
RESULTS_CHUNK_PREFIX = RESULTS + "_batch_"
SESSION_DURATION = "project_attributes_setting_outbound_sms_session_duration"
WEBHOOK_URL = "project_attributes_setting_outbound_request_endpoint"
PAYLOAD_SCHEMA = "project_attributes_setting_outbound_payload_schema"
WEBHOOK_HEADERS = "project_attributes_setting_outbound_request_headers"
AGENT_NAME = "project_attributes_setting_agent_name"
BUSINESS_CONTEXT = "project_attributes_setting_business_context"
AGENT_TONE = "project_attributes_setting_agent_tone"
AGENT_LANGUAGE = "project_attributes_setting_agent_language"
LLM_MODEL = "project_attributes_setting_llm_model"
LLM_CONCURRENCY = "project_attributes_setting_llm_concurrency"
SMS_PROVIDER = "project_attributes_setting_sms_provider"
SMS_SENDER = "project_attributes_setting_sms_sender"
PUBLIC_BASE_URL = "project_attributes_setting_public_base_url"
DEFAULT_REGION = "project_attributes_setting_default_region"
TIME_ZONE = "project_attributes_setting_time_zone"
SEND_RATE = "project_attributes_setting_send_rate_per_second"
DAILY_SEND_CAP = "project_attributes_setting_daily_send_cap"
QUIET_HOURS = "project_attributes_setting_quiet_hours"
MAX_SEGMENTS = "project_attributes_setting_max_segments"
OPT_OUT_NOTICE = "project_attributes_setting_opt_out_notice"
OPT_OUT_CONFIRMATION = "project_attributes_setting_opt_out_confirmation"
HELP_TEXT = "project_attributes_setting_help_text"
RESULTS_CHUNK_SIZE = "project_attributes_setting_results_chunk_size"
WEBHOOK_TIMEOUT = "project_attributes_setting_webhook_timeout_seconds"
WEBHOOK_MAX_ATTEMPTS = "project_attributes_setting_webhook_max_attempts"

# Property names that the webhook payload uses itself.
PAYLOAD_FIELDS = ("phone_number", "transcript", "status", "outcome", "task_id", "user_id")
TONES = ("friendly", "formal", "casual", "empathetic")
PROVIDERS = ("local", "twilio")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_QUIET_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_SENDER = re.compile(r"^(\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32})$")


@dataclass(frozen=True)
class Attribute:
    """One attribute: its type name, default (None: unset), description and parser.

    `parse` turns the stored text into a typed value and raises InvalidInputError with the
    reason when the text is not valid.
    """

    name: str
    type: str
    default: Any
    description: str
    parse: Callable[[str], Any]
    read_only: bool = False


def _reject(name: str, text: str, why: str) -> InvalidInputError:
    return InvalidInputError(f"invalid value {text!r} for {name}: {why}", name=name, value=text)


def _number(
    minimum: float, *, inclusive: bool, maximum: float = 1e9
) -> Callable[[str, str], float]:
    def parse(name: str, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise _reject(name, text, "expected a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise _reject(name, text, "expected a finite number")
        if value < minimum or (not inclusive and value == minimum):
            bound = ">=" if inclusive else ">"
            raise _reject(name, text, f"expected a number {bound} {minimum:g}")
        if value > maximum:
            raise _reject(name, text, f"expected a number <= {maximum:g}")
        return value

    return parse


def _integer(minimum: int) -> Callable[[str, str], int]:
    def parse(name: str, text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise _reject(name, text, "expected a whole number") from None
        if value < minimum:
            raise _reject(name, text, f"expected a whole number >= {minimum}")
        return value

    return parse


def _name(name: str, text: str) -> str:
    value = _text(name, text).strip()
    if not value or len(value) > 40:
        raise _reject(name, text, "expected a name of 1 to 40 characters, e.g. Alex")
    return value


def _text(name: str, text: str) -> str:
    if "\x00" in text:
        raise _reject(name, text, "contains a NUL character")
    return text


def _choice(choices: tuple[str, ...]) -> Callable[[str, str], str]:
    def parse(name: str, text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise _reject(name, text, f"expected one of {', '.join(choices)}")
        return value

    return parse


def _url(schemes: tuple[str, ...], *, empty_ok: bool) -> Callable[[str, str], str | None]:
    def parse(name: str, text: str) -> str | None:
        value = text.strip()
        if not value:
            if empty_ok:
                return None
            raise _reject(name, text, "expected a URL")
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.hostname:
            raise _reject(name, text, f"expected an absolute {' or '.join(schemes)} URL")
        if any(ch in value for ch in "\r\n\t "):
            raise _reject(name, text, "a URL must not contain spaces or line breaks")
        return value.rstrip("/") if name == PUBLIC_BASE_URL else value

    return parse


def _language(name: str, text: str) -> str:
    value = text.strip()
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
        raise _reject(name, text, "expected a language code such as en, es, fr or de")
    return value.lower()


def _llm_model(name: str, text: str) -> str:
    value = text.strip()
    if not value:
        raise _reject(
            name, text, "expected 'offline' or a litellm model such as openai/gpt-4o-mini"
        )
    if value != "offline" and "/" not in value:
        raise _reject(
            name,
            text,
            "expected 'offline' or a litellm model with its provider, e.g. openai/gpt-4o-mini",
        )
    return value


def _sender(name: str, text: str) -> str | None:
    value = text.strip()
    if not value:
        return None
    if not _SENDER.match(value):
        raise _reject(
            name,
            text,
            "expected an E.164 number such as +12025550100 or a Messaging Service SID (MG...)",
        )
    return value


def _region(name: str, text: str) -> str | None:
    value = text.strip().upper()
    if not value:
        return None
    import phonenumbers

    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise _reject(name, text, "expected an ISO 3166 alpha-2 region code such as US, GB or DE")
    return value


def _time_zone(name: str, text: str) -> str:
    value = text.strip()
    # ZoneInfo raises OSError for a folder of the zone database, such as "Europe", and for a
    # name too long to be a file name.
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _reject(
            name, text, "expected an IANA time zone such as UTC or America/New_York"
        ) from None
    return value


def _quiet_hours(name: str, text: str) -> str | None:
    value = text.strip()
    if not value:
        return None
    match = _QUIET_HOURS.match(value)
    if not match:
        raise _reject(name, text, "expected HH:MM-HH:MM in 24-hour time, e.g. 21:00-08:00")
    if match.group(1, 2) == match.group(3, 4):
        raise _reject(name, text, "start and end are equal; use an empty value to turn it off")
    return value


def _headers(name: str, text: str) -> dict[str, str]:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise _reject(name, text, f"not valid JSON ({error.msg})") from None
    if not isinstance(value, dict):
        raise _reject(name, text, 'expected a JSON object such as {"Authorization": "Bearer ..."}')
    for key, item in value.items():
        if not _HEADER_NAME.match(key):
            raise _reject(name, text, f"header name {key!r} is not a valid HTTP header name")
        if not isinstance(item, str):
            raise _reject(name, text, f"header {key!r} must have a string value")
        if any(ch in item for ch in "\r\n\x00"):
            raise _reject(name, text, f"header {key!r} contains a line break")
    return value


def _schema(name: str, text: str) -> dict[str, Any] | None:
    if not text.strip():
        return None
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as error:
        raise _reject(name, text, f"not valid JSON ({error.msg})") from None
    validate_payload_schema(schema, name=name, text=text)
    return schema  # type: ignore[no-any-return]


def validate_payload_schema(schema: Any, *, name: str = PAYLOAD_SCHEMA, text: str = "") -> None:
    """Raise InvalidInputError unless `schema` is a usable payload schema.

    It must be a JSON Schema whose top level is an object with `properties`, and no property may
    clash with the payload's own fields.
    """
    import jsonschema

    shown = text or json.dumps(schema)[:200]
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        raise _reject(name, shown, 'expected a JSON Schema object with "properties"')
    if schema.get("type", "object") != "object":
        raise _reject(name, shown, 'the top-level "type" must be "object"')
    if not schema["properties"]:
        raise _reject(name, shown, '"properties" is empty; add at least one field')
    clashes = sorted(set(schema["properties"]) & set(PAYLOAD_FIELDS))
    if clashes:
        raise _reject(
            name, shown, f"properties {clashes} clash with the payload's own fields; rename them"
        )
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as error:
        raise _reject(name, shown, f"not a valid JSON Schema: {error.message}") from None


def _results(name: str, text: str) -> str:
    return text


def _attribute(
    name: str, type_: str, default: Any, description: str, parse: Callable[[str, str], Any]
) -> Attribute:
    return Attribute(name, type_, default, description, lambda text: parse(name, text))


_REGISTRY = [
    _attribute(
        SESSION_DURATION,
        "number of minutes, > 0 and at most 30 days",
        60.0,
        "How long a conversation stays open after the greeting is sent.",
        _number(0, inclusive=False, maximum=43200),
    ),
    _attribute(
        WEBHOOK_URL,
        "http(s) URL, empty = no webhook",
        None,
        "Where each result is POSTed as JSON.",
        _url(("http", "https"), empty_ok=True),
    ),
    _attribute(
        PAYLOAD_SCHEMA,
        "JSON Schema object, empty = none",
        None,
        "Extra fields the agent extracts from each conversation into results and webhooks.",
        _schema,
    ),
    _attribute(
        WEBHOOK_HEADERS,
        "JSON object of header name to string",
        {},
        "Extra HTTP headers sent with every webhook.",
        _headers,
    ),
    _attribute(AGENT_NAME, "1 to 40 characters", "Alex", "The name the agent signs with.", _name),
    _attribute(
        BUSINESS_CONTEXT, "text", "", "Who the agent writes for and what the business does.", _text
    ),
    _attribute(
        AGENT_TONE,
        "one of " + ", ".join(TONES),
        "friendly",
        "Tone of the agent's messages.",
        _choice(TONES),
    ),
    _attribute(
        AGENT_LANGUAGE,
        "language code",
        "en",
        "Language of the agent's messages (en, es, fr, de, ...).",
        _language,
    ),
    _attribute(
        LLM_MODEL,
        "'offline' or a litellm model",
        "offline",
        "The model that writes messages; 'offline' uses the built-in templates.",
        _llm_model,
    ),
    _attribute(LLM_CONCURRENCY, "integer >= 1", 4, "Maximum LLM calls in flight.", _integer(1)),
    _attribute(
        SMS_PROVIDER,
        "local or twilio",
        "local",
        "Where messages are sent. 'local' keeps them on this machine.",
        _choice(PROVIDERS),
    ),
    _attribute(
        SMS_SENDER,
        "E.164 number or Messaging Service SID",
        None,
        "The sender number or Messaging Service (required for twilio).",
        _sender,
    ),
    _attribute(
        PUBLIC_BASE_URL,
        "https URL",
        None,
        "Public URL at which the provider reaches the runner (required for twilio inbound).",
        _url(("https", "http"), empty_ok=True),
    ),
    _attribute(
        DEFAULT_REGION,
        "ISO 3166 alpha-2, empty = none",
        None,
        "Region for numbers written without a country code.",
        _region,
    ),
    _attribute(
        TIME_ZONE,
        "IANA time zone",
        "UTC",
        "Time zone for numbers whose zone is unknown.",
        _time_zone,
    ),
    _attribute(
        SEND_RATE,
        "messages per second, 0 = unlimited",
        None,
        "Send rate per sender; unset uses the provider default (twilio 1, local 0).",
        _number(0, inclusive=True, maximum=10000),
    ),
    _attribute(
        DAILY_SEND_CAP, "integer, 0 = none", 0, "Maximum greetings sent per UTC day.", _integer(0)
    ),
    _attribute(
        QUIET_HOURS,
        "HH:MM-HH:MM, empty = off",
        "21:00-08:00",
        "Recipient-local hours in which no greeting is sent.",
        _quiet_hours,
    ),
    _attribute(MAX_SEGMENTS, "integer >= 1", 3, "Maximum SMS segments per message.", _integer(1)),
    _attribute(
        OPT_OUT_NOTICE,
        "text, empty = off",
        "Reply STOP to opt out.",
        "Appended to every greeting.",
        _text,
    ),
    _attribute(
        OPT_OUT_CONFIRMATION,
        "text, empty = none",
        "You are unsubscribed and will not receive more messages.",
        "Sent after an opt-out; empty when the provider confirms itself.",
        _text,
    ),
    _attribute(
        HELP_TEXT,
        "text, empty = no answer",
        "Reply STOP to opt out.",
        "Sent in answer to HELP or INFO; empty when the provider answers itself.",
        _text,
    ),
    _attribute(
        RESULTS_CHUNK_SIZE, "integer >= 1", 50, "Rows per results chunk attribute.", _integer(1)
    ),
    _attribute(
        WEBHOOK_TIMEOUT,
        "seconds, > 0 and at most 300",
        10.0,
        "Timeout of one webhook attempt.",
        _number(0, inclusive=False, maximum=300),
    ),
    _attribute(
        WEBHOOK_MAX_ATTEMPTS,
        "integer >= 1",
        8,
        "Webhook attempts before a delivery is given up.",
        _integer(1),
    ),
]
ATTRIBUTES: dict[str, Attribute] = {attribute.name: attribute for attribute in _REGISTRY}
ATTRIBUTES[RESULTS] = Attribute(
    RESULTS,
    "CSV text, written by smskit",
    "",
    "Results of every task (the first chunk).",
    lambda text: text,
    read_only=True,
)


def is_results_chunk(name: str) -> bool:
    """Tell whether `name` is one of the numbered results chunk attributes."""
    suffix = name.removeprefix(RESULTS_CHUNK_PREFIX)
    return suffix != name and suffix.isdigit() and not suffix.startswith("0")


def lookup(name: str) -> Attribute:
    """Return the registered attribute, or raise InvalidInputError naming close matches."""
    if name in ATTRIBUTES:
        return ATTRIBUTES[name]
    if is_results_chunk(name):
        return Attribute(
            name,
            "CSV text, written by smskit",
            None,
            "A chunk of the results.",
            lambda text: text,
            read_only=True,
        )
    import difflib

    close = difflib.get_close_matches(name, ATTRIBUTES, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `smskit attr list` shows them all"
    raise InvalidInputError(f"unknown attribute {name!r}{hint}", name=name, value=name)


def to_text(name: str, value: Any) -> str:
    """Render a typed or textual value as the stored text of attribute `name`."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bool):
        raise InvalidInputError(
            f"invalid value {value!r} for {name}: booleans are not accepted", name=name, value=value
        )
    return str(value)


def parse_value(name: str, value: Any) -> tuple[str, Any]:
    """Validate a new value for `name`; return (stored text, typed value) or raise."""
    attribute = lookup(name)
    text = to_text(name, value)
    return text, attribute.parse(text)


def read_raw(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Return every stored attribute's text."""
    return {name: value for name, value in query_rows(conn, "SELECT name, value FROM attributes")}


def read_settings(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Return the typed value of every registered attribute, defaults filled in."""
    stored = dict(
        query_rows(
            conn, "SELECT name, value FROM attributes WHERE name NOT LIKE ?", [RESULTS + "%"]
        )
    )
    settings: dict[str, Any] = {}
    for name, attribute in ATTRIBUTES.items():
        if name == RESULTS:
            continue
        if name not in stored:
            settings[name] = attribute.default
        elif name == PAYLOAD_SCHEMA:
            # The schema was validated when it was set; checking it again would import
            # jsonschema (seconds) in every process that reads the settings.
            settings[name] = json.loads(stored[name]) if stored[name].strip() else None
        else:
            settings[name] = attribute.parse(stored[name])
    return settings


def write(conn: duckdb.DuckDBPyConnection, name: str, text: str) -> None:
    """Store an attribute's text (insert or replace)."""
    conn.execute(
        "INSERT OR REPLACE INTO attributes (name, value, updated_at) VALUES (?, ?, ?)",
        [name, text, utcnow()],
    )


def delete(conn: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    """Remove stored attributes, so they have their defaults again."""
    if names:
        conn.execute("DELETE FROM attributes WHERE list_contains(?, name)", [names])
