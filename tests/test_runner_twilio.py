"""A whole batch through `python runner.py` with the Twilio provider and a litellm model.

The runner talks to the fake Twilio (Messages API, signed status callbacks and inbound replies)
and to the scripted model server, both on 127.0.0.1. It runs until idle with a time scale of
60, so a five-minute session lasts five seconds.
"""

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fake_twilio import SENDER, FakeTwilio
from model_server import ModelServer, error

import smskit
from smskit.clock import Clock

REPO = Path(__file__).resolve().parents[1]
CONTRACT = REPO / "tests" / "contract" / "twilio_messages.json"
START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)

CONFIRMS = "+12025550141"
SILENT = "+12025550142"
INVALID = "+12025550143"
UNSUBSCRIBED = "+12025550144"
BATCH = f"""phone_number,reason,first_name
{CONFIRMS},Confirm the boiler service on Tuesday at 10:00,Maria
{SILENT},Confirm the boiler service on Wednesday at 9:00,James
{INVALID},Confirm the boiler service on Thursday at 11:00,Aisha
{UNSUBSCRIBED},Confirm the boiler service on Friday at 14:00,Chen
"""
SCHEMA = {"type": "object", "properties": {"confirmed": {"type": ["boolean", "null"]}}}


def respond(request: dict[str, Any]) -> str:
    """Write the model's output for a greeting, a reply or an analysis request."""
    system = request["messages"][0]["content"]
    data = json.loads(request["messages"][1]["content"])
    name = data["variables"].get("first_name", "there")
    if "You analyse a finished SMS conversation" in system:
        replied = any(t["speaker"] == "recipient" for t in data.get("transcript", []))
        summary = f"{name} confirmed the visit." if replied else f"{name} did not reply."
        fields = {"confirmed": True if replied else None}
        return json.dumps({"summary": summary, "opted_out": False, "fields": fields})
    if "write the opening SMS" in system:
        return json.dumps({"text": f"Hi {name}, this is Alex from Acme. Does the time suit you?"})
    return json.dumps({"text": "Great, see you then!", "end": "goal-reached"})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_runner_twilio_batch(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    project = smskit.open(data)
    settings = {
        "project_attributes_setting_sms_provider": "twilio",
        "project_attributes_setting_sms_sender": SENDER,
        "project_attributes_setting_public_base_url": public_url,
        "project_attributes_setting_llm_model": "openai/gpt-4o-mini",
        "project_attributes_setting_outbound_sms_session_duration": "5",
        "project_attributes_setting_outbound_payload_schema": json.dumps(SCHEMA),
    }
    for name, value in settings.items():
        project.set(name, value)
    project.add_batch("boiler visits", BATCH)

    # The fake's clock starts before the runner's, so its times are never behind the runner's.
    fake = FakeTwilio(
        now=Clock(60, START).now,
        inbound_url=f"{public_url}/providers/twilio/inbound",
        auto_statuses=("sent", "delivered"),
        replies={CONFIRMS: ["Yes, Tuesday at 10 works"]},
    ).start()
    fake.fail_number(CONFIRMS, "drop")
    fake.fail_number(INVALID, "21211")
    fake.fail_number(UNSUBSCRIBED, "21610")
    model = ModelServer([error(429, retry_after="0"), error(500)], responder=respond).start()
    environ = {
        **os.environ,
        **fake.environ(),
        "OPENAI_API_BASE": model.url,
        "OPENAI_API_KEY": "sk-test-key-0123456789abcdef",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    environ.pop("SMSKIT_DATA", None)
    command = [sys.executable, "runner.py", "--data", str(data), "--until-idle"]
    command += ["--time-scale", "60", "--clock-start", "2026-03-02T14:00:00Z"]
    command += ["--port", str(port)]
    try:
        run = subprocess.run(
            command, cwd=REPO, env=environ, capture_output=True, text=True, timeout=180
        )
    finally:
        fake.stop()
        model.stop()
    assert run.returncode == 0, run.stderr[-4000:]

    results = {row["phone_number"]: row for row in project.results().to_dicts()}
    assert results[CONFIRMS]["outcome"] == "completed"
    assert results[CONFIRMS]["status"] == "finished"
    assert results[CONFIRMS]["confirmed"] is True
    assert results[CONFIRMS]["summary"] == "Maria confirmed the visit."
    assert results[SILENT]["outcome"] == "customer-did-not-answer"
    assert results[SILENT]["status"] == "failed"
    assert results[INVALID]["outcome"] == "invalid-phone-number"
    assert results[UNSUBSCRIBED]["outcome"] == "suppressed"

    # the greeting whose response was dropped was found by find_sent, not sent twice
    to_confirms = [m["body"] for m in fake.sent(CONFIRMS)]
    assert len(to_confirms) == len(set(to_confirms))
    assert to_confirms[0].startswith("Hi Maria, this is Alex from Acme.")
    assert to_confirms[0].endswith("Reply STOP to opt out.")
    assert to_confirms[1:] == ["Great, see you then!"]
    assert any(r.method == "GET" and r.params.get("To") == CONFIRMS for r in fake.requests)
    assert len(fake.sent(SILENT)) == 1
    assert fake.sent(INVALID) == []
    assert fake.sent(UNSUBSCRIBED) == []

    # every signed callback was accepted, and every send matches Twilio's request schema
    assert fake.callbacks
    assert {status for _, _, status in fake.callbacks} == {200}
    spec = json.loads(CONTRACT.read_text())
    post = spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Messages.json"]["post"]
    form_schema = post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    sends = [r.params for r in fake.requests if r.method == "POST"]
    assert len(sends) == 5
    for form in sends:
        jsonschema.validate(form, form_schema, format_checker=jsonschema.FormatChecker())
        assert form["StatusCallback"] == f"{public_url}/providers/twilio/status"

    # the model's 429 and 500 were retried
    assert len(model.requests) >= 8
