"""A whole batch through `python runner.py` with the Twilio provider pointed at Prism.

Prism serves Twilio's Messages contract and rejects every request that breaks it; the model is
the scripted litellm server. The test signs inbound replies for two of the three recipients as
Twilio would, and receives the runner's result webhooks on its own server, all on 127.0.0.1.
Prism responds to every send with the same example message, so the greetings share one SID,
and its example listing always has a next page, so the runner's start-up listing of inbound
messages stops at its page limit and logs a warning.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import polars as pl
import pytest
from local_server import ThreadedServer
from model_server import ModelServer
from prism import SPEC, Prism
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from test_runner_twilio import free_port, respond

import smskit
from smskit.project import Project
from smskit.providers.twilio_signature import compute_signature

REPO = Path(__file__).resolve().parents[2]

# The account SID of the examples in Twilio's description, which Prism's path rules accept.
ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "prism-runner-token"
SENDER = "+12025550100"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
INBOUND_PATH = "/providers/twilio/inbound"

MARIA = "+12025550151"
JAMES = "+12025550152"
SILENT = "+12025550153"
REPLIES = {MARIA: "Yes, Tuesday at 10 works", JAMES: "Wednesday is fine"}
BATCH = f"""phone_number,reason,first_name
{MARIA},Confirm the boiler service on Tuesday at 10:00,Maria
{JAMES},Confirm the boiler service on Wednesday at 9:00,James
{SILENT},Confirm the boiler service on Thursday at 11:00,Aisha
"""
SCHEMA = {"type": "object", "properties": {"confirmed": {"type": ["boolean", "null"]}}}

T = TypeVar("T")


def example_sid() -> str:
    """Return the SID of the example message that Prism sends back for every create."""
    spec = json.loads(SPEC.read_text())
    created = spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Messages.json"]["post"]
    examples = created["responses"]["201"]["content"]["application/json"]["examples"]
    sid: str = next(iter(examples.values()))["value"]["sid"]
    return sid


class WebhookReceiver:
    """Record the JSON body of every POST on `/results` and respond with 200."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        app = Starlette(routes=[Route("/results", self._receive, methods=["POST"])])
        self.server = ThreadedServer(app)

    async def _receive(self, request: Request) -> Response:
        body = json.loads(await request.body())
        with self._lock:
            self.bodies.append(body)
        return Response(status_code=200)

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.bodies)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    receiver.server.start()
    yield receiver
    receiver.server.stop()


def wait_for(check: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Call `check` every 0.1 s until it returns a truthy value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def states(project: Project) -> dict[str, str]:
    return {row["phone_number"]: row["state"] for row in project.tasks().to_dicts()}


def inbound_form(phone: str, body: str, index: int) -> dict[str, str]:
    """Return the form fields of an inbound SMS webhook as Twilio posts them."""
    return {
        "MessageSid": f"SM{index:032x}",
        "AccountSid": ACCOUNT_SID,
        "From": phone,
        "To": SENDER,
        "Body": body,
        "NumMedia": "0",
    }


def kinds(project: Project, phone: str) -> list[str]:
    return [m["kind"] for m in project.messages(phone=phone).to_dicts()]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_runner_prism_batch(prism: Prism, receiver: WebhookReceiver, tmp_path: Path) -> None:
    log_mark = prism.log_size()
    data = tmp_path / "data"
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    project = smskit.open(data)
    settings = {
        "project_attributes_setting_sms_provider": "twilio",
        "project_attributes_setting_sms_sender": SENDER,
        "project_attributes_setting_public_base_url": public_url,
        "project_attributes_setting_llm_model": "openai/gpt-4o-mini",
        "project_attributes_setting_outbound_sms_session_duration": "10",
        "project_attributes_setting_outbound_payload_schema": json.dumps(SCHEMA),
        "project_attributes_setting_outbound_request_endpoint": f"{receiver.server.url}/results",
    }
    for name, value in settings.items():
        project.set(name, value)
    project.add_batch("boiler visits", BATCH)

    model = ModelServer(responder=respond).start()
    environ = {
        **os.environ,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE": prism.url,
        "OPENAI_API_BASE": model.url,
        "OPENAI_API_KEY": "sk-test-key-0123456789abcdef",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    environ.pop("SMSKIT_DATA", None)
    command = [sys.executable, "runner.py", "--data", str(data), "--until-idle"]
    command += ["--time-scale", "60", "--clock-start", "2026-03-02T14:00:00Z"]
    command += ["--port", str(port)]
    log_path = tmp_path / "runner.log"
    with open(log_path, "wb") as log:
        runner = subprocess.Popen(command, cwd=REPO, env=environ, stdout=log, stderr=log)
    try:
        wait_for(
            lambda: set(states(project).values()) == {"in_session"},
            timeout=60,
            what="all three greetings to be sent",
        )
        url = public_url + INBOUND_PATH
        unsigned = httpx.post(url, data=inbound_form(MARIA, "unsigned", 99), timeout=10)
        assert unsigned.status_code == 403, unsigned.text
        for index, (phone, text) in enumerate(REPLIES.items(), start=1):
            form = inbound_form(phone, text, index)
            signature = compute_signature(AUTH_TOKEN, url, form)
            answer = httpx.post(
                url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10
            )
            assert answer.status_code == 200, answer.text
        returncode = runner.wait(timeout=150)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait(timeout=10)
        model.stop()
    runner_log = log_path.read_text(errors="replace")
    assert returncode == 0, runner_log[-4000:]

    # every greeting went to Prism and carries the SID of its example message
    sid = example_sid()
    greetings = project.messages().filter(pl.col("kind") == "greeting").to_dicts()
    assert sorted(m["phone_number"] for m in greetings) == sorted([MARIA, JAMES, SILENT])
    assert {m["provider_message_id"] for m in greetings} == {sid}
    assert all(m["body"].endswith("Reply STOP to opt out.") for m in greetings)

    # each signed reply was stored once and got a reply; the unsigned one was not stored
    for phone, text in REPLIES.items():
        messages = project.messages(phone=phone).to_dicts()
        assert [m["kind"] for m in messages] == ["greeting", "inbound", "reply"], messages
        assert messages[1]["body"] == text
        assert messages[2]["body"] == "Great, see you then!"
        assert messages[2]["provider_message_id"] == sid
    assert kinds(project, SILENT) == ["greeting"]

    assert set(states(project).values()) == {"done"}
    results = {row["phone_number"]: row for row in project.results().to_dicts()}
    for phone in REPLIES:
        assert results[phone]["status"] == "finished"
        assert results[phone]["outcome"] == "completed"
        assert results[phone]["confirmed"] is True
    assert results[SILENT]["status"] == "failed"
    assert results[SILENT]["outcome"] == "customer-did-not-answer"

    # one webhook per task, carrying the same status and outcome as the results
    hooks = wait_for(
        lambda: len(receiver.received()) >= 3 and receiver.received(),
        timeout=10,
        what="three result webhooks",
    )
    assert sorted(h["phone_number"] for h in hooks) == sorted([MARIA, JAMES, SILENT])
    for hook in hooks:
        result = results[hook["phone_number"]]
        assert hook["status"] == result["status"]
        assert hook["outcome"] == result["outcome"]
        assert hook["task_id"] == result["task_id"]
    assert REPLIES[MARIA] in next(h for h in hooks if h["phone_number"] == MARIA)["transcript"]

    # Prism saw the five sends, and every request the runner made passed its contract
    prism_log = prism.log_since(log_mark)
    assert prism_log.count(f"[HTTP SERVER] post {MESSAGES_PATH} ") == 5, prism_log[-4000:]
    assert prism.request_violations(log_mark) == [], prism_log[-4000:]
