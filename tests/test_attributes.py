"""The attribute registry: defaults, validation, payload-schema rules."""

from __future__ import annotations

import json

import pytest

from smskit import attributes as attrs
from smskit.errors import InvalidInputError

DESIGN_NAMES = [
    "project_attributes_setting_outbound_sms_session_duration",
    "project_attributes_outbound_call_table_csv_result",
    "project_attributes_setting_outbound_request_endpoint",
    "project_attributes_setting_outbound_payload_schema",
    "project_attributes_setting_outbound_request_headers",
    "project_attributes_setting_agent_name",
    "project_attributes_setting_business_context",
    "project_attributes_setting_agent_tone",
    "project_attributes_setting_agent_language",
    "project_attributes_setting_llm_model",
    "project_attributes_setting_llm_concurrency",
    "project_attributes_setting_sms_provider",
    "project_attributes_setting_sms_sender",
    "project_attributes_setting_public_base_url",
    "project_attributes_setting_default_region",
    "project_attributes_setting_time_zone",
    "project_attributes_setting_send_rate_per_second",
    "project_attributes_setting_daily_send_cap",
    "project_attributes_setting_quiet_hours",
    "project_attributes_setting_max_segments",
    "project_attributes_setting_opt_out_notice",
    "project_attributes_setting_opt_out_confirmation",
    "project_attributes_setting_help_text",
    "project_attributes_setting_results_chunk_size",
    "project_attributes_setting_webhook_timeout_seconds",
    "project_attributes_setting_webhook_max_attempts",
]


def test_registry_has_every_design_name() -> None:
    assert sorted(attrs.ATTRIBUTES) == sorted(DESIGN_NAMES)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (attrs.SESSION_DURATION, "1.5", 1.5),
        (attrs.AGENT_TONE, "Formal", "formal"),
        (attrs.DEFAULT_REGION, "gb", "GB"),
        (attrs.QUIET_HOURS, "", None),
        (attrs.SEND_RATE, "0", 0.0),
        (attrs.WEBHOOK_HEADERS, '{"Authorization": "Bearer x"}', {"Authorization": "Bearer x"}),
        (attrs.SMS_SENDER, "+12025550100", "+12025550100"),
        (attrs.PUBLIC_BASE_URL, "https://example.org/", "https://example.org"),
    ],
)
def test_attribute_parses_valid_value(name: str, value: str, expected: object) -> None:
    assert attrs.parse_value(name, value)[1] == expected


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (attrs.SESSION_DURATION, "0", "expected a number > 0"),
        (attrs.SESSION_DURATION, "nan", "finite"),
        (attrs.SESSION_DURATION, "soon", "expected a number"),
        (attrs.AGENT_TONE, "angry", "expected one of"),
        (attrs.LLM_CONCURRENCY, "0", ">= 1"),
        (attrs.WEBHOOK_URL, "ftp://x.org", "http or https"),
        (attrs.WEBHOOK_HEADERS, '{"X-A": "a\\r\\nX-B: b"}', "line break"),
        (attrs.WEBHOOK_HEADERS, '{"bad name": "x"}', "not a valid HTTP header name"),
        (attrs.WEBHOOK_HEADERS, "[1]", "JSON object"),
        (attrs.QUIET_HOURS, "9pm-8am", "HH:MM-HH:MM"),
        (attrs.TIME_ZONE, "Mars/Olympus", "IANA"),
        (attrs.DEFAULT_REGION, "XX", "ISO 3166"),
        (attrs.SMS_SENDER, "12025550100", "E.164"),
        (attrs.LLM_MODEL, "gpt4", "provider"),
    ],
)
def test_attribute_rejects_invalid_value(name: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        attrs.parse_value(name, value)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "object"}, "properties"),
        ({"type": "array", "properties": {"a": {}}}, 'must be "object"'),
        ({"properties": {"status": {"type": "string"}}}, "clash"),
        ({"properties": {"a": {"type": "strnig"}}}, "not a valid JSON Schema"),
        ({"properties": {}}, "empty"),
    ],
)
def test_payload_schema_rejected(schema: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        attrs.parse_value(attrs.PAYLOAD_SCHEMA, json.dumps(schema))


def test_unknown_attribute_suggests_close_name() -> None:
    with pytest.raises(
        InvalidInputError, match="did you mean project_attributes_setting_agent_tone"
    ):
        attrs.lookup("project_attributes_setting_agent_tones")


def test_results_chunk_names() -> None:
    assert attrs.is_results_chunk(attrs.RESULTS_CHUNK_PREFIX + "3")
    assert not attrs.is_results_chunk(attrs.RESULTS_CHUNK_PREFIX + "03")
    assert not attrs.is_results_chunk(attrs.RESULTS)
