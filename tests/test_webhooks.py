"""Tests of webhook payloads, the delivery outbox, signing and retries against a real receiver."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from local_server import ThreadedServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smskit import attributes
from smskit.clock import Clock
from smskit.datafolder import DataFolder
from smskit.errors import InvalidInputError
from smskit.runner.signing import header_problem, secret_bytes, sign
from smskit.runner.webhooks import (
    BACKOFF_CAP_SECONDS,
    Deliverer,
    backoff_seconds,
    build_payload,
    encode_body,
    enqueue,
    given_up,
    outbox_summary,
    parse_retry_after,
    replay,
)
from smskit.store import Store, query_frame, query_rows

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
# A project clock this fast makes every backoff (at most 600 project seconds) take under 0.1 s.
FAST = 10_000.0
TASK_ROW = {
    "task_id": 7,
    "phone_number": "+12025550107",
    "user_id": "usr_7",
    "status": "finished",
    "outcome": "completed",
}


@dataclass
class Plan:
    """One planned response of the receiver: a status and headers, or a hang of `hang` s."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    hang: float = 0.0


class Receiver:
    """A webhook endpoint that responds from a plan and records every request it receives."""

    def __init__(self) -> None:
        self.plans: list[Plan] = []
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0.0
        self._guard = threading.Lock()
        self.app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        with self._guard:
            self.requests.append((dict(request.headers), body))
            plan = self.plans.pop(0) if self.plans else Plan()
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(plan.hang or self.delay)
        finally:
            with self._guard:
                self.in_flight -= 1
        return Response(plan.body, status_code=plan.status, headers=plan.headers)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    endpoint = Receiver()
    with ThreadedServer(endpoint.app) as server:
        yield endpoint, server.url + "/hook"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(DataFolder(tmp_path))
    with store.transaction() as conn:
        attributes.write(conn, attributes.WEBHOOK_TIMEOUT, "0.5")
    return store


def queue(store: Store, url: str, task_id: int = 7, **fields: Any) -> str:
    payload = build_payload(TASK_ROW | {"task_id": task_id}, "Agent: Hi\nRecipient: Yes", fields)
    with store.transaction() as conn:
        return enqueue(conn, task_id, url, payload, START)


def delivery(store: Store, delivery_id: str) -> dict[str, Any]:
    with store.transaction() as conn:
        frame = query_frame(conn, "SELECT * FROM deliveries WHERE delivery_id = ?", [delivery_id])
    return frame.to_dicts()[0]


def attempts(store: Store, delivery_id: str) -> list[dict[str, Any]]:
    with store.transaction() as conn:
        frame = query_frame(
            conn,
            "SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt",
            [delivery_id],
        )
    return frame.to_dicts()


def set_attribute(store: Store, name: str, value: str) -> None:
    with store.transaction() as conn:
        attributes.write(conn, name, value)


async def deliver_until_settled(deliverer: Deliverer, store: Store, delivery_id: str) -> None:
    """Run delivery rounds until the delivery leaves `pending`, for at most 10 seconds."""
    deadline = time.monotonic() + 10
    while delivery(store, delivery_id)["state"] == "pending":
        assert time.monotonic() < deadline, "delivery still pending after 10 s"
        if await deliverer.deliver_due() == 0:
            await asyncio.sleep(0.01)


# payloads and the outbox


def test_build_payload_order_and_fields() -> None:
    payload = build_payload(TASK_ROW, "Agent: Hi", {"rating": 4, "day": None})

    assert list(payload) == [
        "phone_number",
        "transcript",
        "status",
        "outcome",
        "task_id",
        "user_id",
        "rating",
        "day",
    ]
    assert payload["phone_number"] == "+12025550107"
    assert payload["transcript"] == "Agent: Hi"
    assert payload["day"] is None


def test_build_payload_rejects_clashing_field() -> None:
    with pytest.raises(InvalidInputError, match=r"\['status'\] clash"):
        build_payload(TASK_ROW, "", {"status": "x"})


def test_enqueue_stores_compact_body(store: Store) -> None:
    delivery_id = queue(store, "http://127.0.0.1:9/hook", note="ça va")

    row = delivery(store, delivery_id)

    assert delivery_id.startswith("msg_")
    assert len(delivery_id) > 20
    assert row["body"] == (
        '{"phone_number":"+12025550107","transcript":"Agent: Hi\\nRecipient: Yes",'
        '"status":"finished","outcome":"completed","task_id":7,"user_id":"usr_7",'
        '"note":"ça va"}'
    )
    assert row["state"] == "pending"
    assert row["attempts"] == 0
    assert row["next_attempt_at"] == START.replace(tzinfo=None)


def test_enqueue_ids_differ(store: Store) -> None:
    assert queue(store, "http://127.0.0.1:9/hook") != queue(store, "http://127.0.0.1:9/hook")


def test_enqueue_rejects_nan(store: Store) -> None:
    with pytest.raises(InvalidInputError, match="task 7 cannot be encoded as JSON"):
        queue(store, "http://127.0.0.1:9/hook", score=float("nan"))


def test_encode_body_keeps_key_order() -> None:
    assert encode_body({"b": 1, "a": [1, {"z": None}]}) == '{"b":1,"a":[1,{"z":null}]}'


# delivering against a real receiver


async def test_deliverer_retries_until_delivered(
    store: Store, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    endpoint.plans = [Plan(500, body="database down"), Plan(hang=1.5), Plan(200)]
    delivery_id = queue(store, url)
    deliverer = Deliverer(store, Clock(FAST, START), secret="")

    await deliver_until_settled(deliverer, store, delivery_id)
    await deliverer.aclose()

    assert len(endpoint.requests) == 3
    assert {headers["webhook-id"] for headers, _ in endpoint.requests} == {delivery_id}
    bodies = {body for _, body in endpoint.requests}
    assert bodies == {delivery(store, delivery_id)["body"].encode()}
    assert all(h["content-type"] == "application/json" for h, _ in endpoint.requests)
    log = attempts(store, delivery_id)
    assert [entry["attempt"] for entry in log] == [1, 2, 3]
    assert [entry["status_code"] for entry in log] == [500, None, 200]
    assert log[0]["error"] == "HTTP 500: database down"
    assert log[1]["error"].startswith("timed out after 0.5 s")
    assert log[2]["error"] is None
    assert log[1]["duration_ms"] >= 400
    row = delivery(store, delivery_id)
    assert row["state"] == "delivered"
    assert row["attempts"] == 3
    assert row["last_status"] == 200
    assert (deliverer.attempts, deliverer.failures, deliverer.delivered) == (3, 2, 1)
    assert deliverer.given_up == 0


async def test_deliverer_gone_gives_up_at_once(
    store: Store, receiver: tuple[Receiver, str], caplog: pytest.LogCaptureFixture
) -> None:
    endpoint, url = receiver
    endpoint.plans = [Plan(410)]
    delivery_id = queue(store, url, task_id=41)
    deliverer = Deliverer(store, Clock(FAST, START), secret="")

    with caplog.at_level(logging.WARNING, logger="smskit.runner.webhooks"):
        assert await deliverer.deliver_due() == 1
        assert await deliverer.deliver_due() == 0
    await deliverer.aclose()

    row = delivery(store, delivery_id)
    assert row["state"] == "given-up"
    assert row["attempts"] == 1
    assert row["last_status"] == 410
    assert len(endpoint.requests) == 1
    assert deliverer.given_up == 1
    assert delivery_id in caplog.text
    assert "task 41" in caplog.text
    with store.transaction() as conn:
        assert outbox_summary(conn) == {"pending": 0, "delivered": 0, "given-up": 1}
        assert given_up(conn)["delivery_id"].to_list() == [delivery_id]


@pytest.mark.parametrize("status", [400, 401, 404, 422, 301, 307])
async def test_deliverer_gives_up_on_client_errors(
    store: Store, receiver: tuple[Receiver, str], status: int
) -> None:
    endpoint, url = receiver
    headers = {"location": "http://127.0.0.1:9/elsewhere"} if status < 400 else {}
    endpoint.plans = [Plan(status, headers=headers)]
    delivery_id = queue(store, url)
    deliverer = Deliverer(store, Clock(FAST, START), secret="")

    await deliverer.deliver_due()
    await deliverer.aclose()

    row = delivery(store, delivery_id)
    assert row["state"] == "given-up"
    assert row["last_error"].startswith(f"HTTP {status}")
    assert len(endpoint.requests) == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_deliverer_retries_server_errors(
    store: Store, receiver: tuple[Receiver, str], status: int
) -> None:
    endpoint, url = receiver
    endpoint.plans = [Plan(status)]
    delivery_id = queue(store, url)
    deliverer = Deliverer(store, Clock(1.0, START), secret="", rng=random.Random(1))

    await deliverer.deliver_due()
    await deliverer.aclose()

    row = delivery(store, delivery_id)
    assert row["state"] == "pending"
    assert row["attempts"] == 1
    assert row["last_status"] == status
    wait = (row["next_attempt_at"] - attempts(store, delivery_id)[0]["started_at"]).total_seconds()
    assert 0 <= wait <= 2.5


async def test_deliverer_honours_retry_after_seconds(
    store: Store, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    endpoint.plans = [Plan(429, headers={"retry-after": "120"}), Plan(200)]
    delivery_id = queue(store, url)
    early = Deliverer(store, Clock(1.0, START), secret="")

    assert await early.deliver_due() == 1
    assert await early.deliver_due() == 0
    await early.aclose()

    row = delivery(store, delivery_id)
    wait = (row["next_attempt_at"] - attempts(store, delivery_id)[0]["started_at"]).total_seconds()
    assert 119 <= wait <= 121
    assert len(endpoint.requests) == 1
    late = Deliverer(store, Clock(1.0, START + timedelta(seconds=122)), secret="")
    assert await late.deliver_due() == 1
    await late.aclose()
    assert delivery(store, delivery_id)["state"] == "delivered"
    assert len(endpoint.requests) == 2


async def test_deliverer_honours_retry_after_date(
    store: Store, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    retry_at = format_datetime(datetime.now(UTC) + timedelta(seconds=300), usegmt=True)
    endpoint.plans = [Plan(503, headers={"retry-after": retry_at})]
    delivery_id = queue(store, url)
    deliverer = Deliverer(store, Clock(1.0, START), secret="")

    await deliverer.deliver_due()
    await deliverer.aclose()

    row = delivery(store, delivery_id)
    wait = (row["next_attempt_at"] - attempts(store, delivery_id)[0]["started_at"]).total_seconds()
    assert 295 <= wait <= 301


async def test_deliverer_retry_after_scales_with_clock(
    store: Store, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    endpoint.plans = [Plan(429, headers={"retry-after": "2"})]
    delivery_id = queue(store, url)
    deliverer = Deliverer(store, Clock(60.0, START), secret="")

    await deliverer.deliver_due()
    await deliverer.aclose()

    row = delivery(store, delivery_id)
    wait = (row["next_attempt_at"] - attempts(store, delivery_id)[0]["started_at"]).total_seconds()
    assert 115 <= wait <= 125


async def test_deliverer_gives_up_after_max_attempts(
    store: Store, receiver: tuple[Receiver, str], caplog: pytest.LogCaptureFixture
) -> None:
    endpoint, url = receiver
    endpoint.plans = [Plan(500), Plan(502), Plan(503), Plan(200)]
    set_attribute(store, attributes.WEBHOOK_MAX_ATTEMPTS, "3")
    delivery_id = queue(store, url, task_id=12)
    deliverer = Deliverer(store, Clock(FAST, START), secret="")

    with caplog.at_level(logging.WARNING, logger="smskit.runner.webhooks"):
        await deliver_until_settled(deliverer, store, delivery_id)
    await deliverer.aclose()

    row = delivery(store, delivery_id)
    assert row["state"] == "given-up"
    assert row["attempts"] == 3
    assert len(endpoint.requests) == 3
    assert f"webhook delivery {delivery_id} for task 12 given up after 3 attempts" in caplog.text


async def test_deliverer_connection_refused_retries(store: Store) -> None:
    with ThreadedServer(Starlette()) as server:
        closed_url = server.url + "/hook"
    delivery_id = queue(store, closed_url)
    deliverer = Deliverer(store, Clock(1.0, START), secret="")

    await deliverer.deliver_due()
    await deliverer.aclose()

    row = delivery(store, delivery_id)
    assert row["state"] == "pending"
    assert row["last_status"] is None
    assert row["last_error"].startswith("ConnectError")


async def test_replay_sends_given_up_delivery_again(
    store: Store, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    endpoint.plans = [Plan(410), Plan(200)]
    delivery_id = queue(store, url)
    deliverer = Deliverer(store, Clock(FAST, START), secret="")
    await deliverer.deliver_due()

    with store.transaction() as conn:
        replay(conn, delivery_id, START)
    row = delivery(store, delivery_id)
    assert row["state"] == "pending"
    assert row["attempts"] == 0
    await deliverer.deliver_due()
    await deliverer.aclose()

    row = delivery(store, delivery_id)
    assert row["state"] == "delivered"
    assert row["attempts"] == 1
    assert [entry["attempt"] for entry in attempts(store, delivery_id)] == [1, 2]
    assert endpoint.requests[0][1] == endpoint.requests[1][1]
    assert endpoint.requests[0][0]["webhook-id"] == endpoint.requests[1][0]["webhook-id"]


def test_replay_unknown_delivery(store: Store) -> None:
    with store.transaction() as conn:
        with pytest.raises(InvalidInputError, match=r"'msg_nope' not found; `smskit status`"):
            replay(conn, "msg_nope", START)


def test_replay_pending_delivery(store: Store) -> None:
    delivery_id = queue(store, "http://127.0.0.1:9/hook")

    with store.transaction() as conn:
        with pytest.raises(InvalidInputError, match="is pending, not given up"):
            replay(conn, delivery_id, START)


async def test_deliverer_limits_concurrency(store: Store, receiver: tuple[Receiver, str]) -> None:
    endpoint, url = receiver
    endpoint.delay = 0.1
    ids = [queue(store, url, task_id=i) for i in range(25)]
    deliverer = Deliverer(store, Clock(FAST, START), secret="")

    assert await deliverer.deliver_due() == 25
    await deliverer.aclose()

    assert 2 <= endpoint.max_in_flight <= 10
    with store.transaction() as conn:
        assert outbox_summary(conn) == {"pending": 0, "delivered": 25, "given-up": 0}
        count = query_rows(conn, "SELECT count(*) FROM delivery_attempts")[0][0]
    assert count == len(ids)


async def test_deliverer_run_until_stopped(store: Store, receiver: tuple[Receiver, str]) -> None:
    endpoint, url = receiver
    endpoint.plans = [Plan(503), Plan(200)]
    deliverer = Deliverer(store, Clock(FAST, START), secret="", poll_seconds=0.05)
    stop = asyncio.Event()
    runner = asyncio.create_task(deliverer.run(stop))
    delivery_id = queue(store, url)
    deliverer.wake()

    deadline = time.monotonic() + 10
    while delivery(store, delivery_id)["state"] != "delivered":
        assert time.monotonic() < deadline, "run did not deliver within 10 s"
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(runner, timeout=5)

    assert len(endpoint.requests) == 2


async def test_deliverer_run_waits_for_wake(store: Store, receiver: tuple[Receiver, str]) -> None:
    endpoint, url = receiver
    deliverer = Deliverer(store, Clock(FAST, START), secret="", poll_seconds=30)
    stop = asyncio.Event()
    runner = asyncio.create_task(deliverer.run(stop))
    await asyncio.sleep(0.3)
    delivery_id = queue(store, url)

    deliverer.wake()
    deadline = time.monotonic() + 5
    while delivery(store, delivery_id)["state"] != "delivered":
        assert time.monotonic() < deadline, "wake did not start a round within 5 s"
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(runner, timeout=5)

    assert len(endpoint.requests) == 1


async def test_deliverer_run_sleeps_until_retry_due(
    store: Store, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    endpoint.plans = [Plan(429, headers={"retry-after": "1"}), Plan(200)]
    delivery_id = queue(store, url)
    # The poll interval is far longer than the test, so only the due time can start round two.
    deliverer = Deliverer(store, Clock(1.0, START), secret="", poll_seconds=60)
    stop = asyncio.Event()
    runner = asyncio.create_task(deliverer.run(stop))

    deadline = time.monotonic() + 10
    while delivery(store, delivery_id)["state"] != "delivered":
        assert time.monotonic() < deadline, "the retry did not run within 10 s"
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(runner, timeout=5)

    log = attempts(store, delivery_id)
    gap = (log[1]["started_at"] - log[0]["started_at"]).total_seconds()
    assert 0.9 <= gap <= 3


async def test_deliverer_unsupported_scheme_gives_up(store: Store) -> None:
    delivery_id = queue(store, "ftp://127.0.0.1/hook")
    deliverer = Deliverer(store, Clock(FAST, START), secret="")

    await deliverer.deliver_due()
    await deliverer.aclose()

    row = delivery(store, delivery_id)
    assert row["state"] == "given-up"
    assert row["last_error"].startswith("UnsupportedProtocol")


async def test_deliverer_error_body_excerpt(store: Store, receiver: tuple[Receiver, str]) -> None:
    endpoint, url = receiver
    endpoint.plans = [Plan(500, body="trace\n" + "x" * 5000)]
    delivery_id = queue(store, url)
    deliverer = Deliverer(store, Clock(FAST, START), secret="")

    await deliverer.deliver_due()
    await deliverer.aclose()

    error = delivery(store, delivery_id)["last_error"]
    assert error.startswith("HTTP 500: trace x")
    assert len(error) <= len("HTTP 500: ") + 200


# headers and signatures


def verify_signature(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Check a Standard Webhooks signature, written apart from smskit's code."""
    if secret.startswith("whsec_"):
        key = base64.b64decode(secret[len("whsec_") :])
    else:
        key = secret.encode("utf-8")
    signed = (
        headers["webhook-id"].encode() + b"." + headers["webhook-timestamp"].encode() + b"." + body
    )
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [item.split(",", 1) for item in headers["webhook-signature"].split(" ")]
    return any(v == "v1" and hmac.compare_digest(s, expected) for v, s in offered)


@pytest.mark.parametrize(
    "secret", ["whsec_" + base64.b64encode(b"0123456789abcdef0123").decode(), "plain secret ü"]
)
async def test_signature_verifies(
    store: Store, receiver: tuple[Receiver, str], secret: str
) -> None:
    endpoint, url = receiver
    delivery_id = queue(store, url)
    deliverer = Deliverer(store, Clock(FAST, START), secret=secret)

    await deliverer.deliver_due()
    await deliverer.aclose()

    headers, body = endpoint.requests[0]
    assert headers["webhook-id"] == delivery_id
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 30
    assert verify_signature(secret, headers, body)
    assert not verify_signature(secret, headers, body + b" ")
    assert not verify_signature("other", headers, body)


async def test_signature_from_environment(
    store: Store, receiver: tuple[Receiver, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, url = receiver
    monkeypatch.setenv("SMSKIT_WEBHOOK_SECRET", "env secret")
    queue(store, url)
    deliverer = Deliverer(store, Clock(FAST, START))

    await deliverer.deliver_due()
    await deliverer.aclose()

    headers, body = endpoint.requests[0]
    assert verify_signature("env secret", headers, body)


async def test_no_signature_without_secret(
    store: Store, receiver: tuple[Receiver, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, url = receiver
    monkeypatch.delenv("SMSKIT_WEBHOOK_SECRET", raising=False)
    queue(store, url)
    deliverer = Deliverer(store, Clock(FAST, START))

    await deliverer.deliver_due()
    await deliverer.aclose()

    headers, _ = endpoint.requests[0]
    assert "webhook-signature" not in headers
    assert "webhook-id" in headers
    assert "webhook-timestamp" in headers


async def test_headers_attribute_cannot_override_reserved(
    store: Store, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    set_attribute(
        store,
        attributes.WEBHOOK_HEADERS,
        json.dumps(
            {
                "Authorization": "Bearer token-1",
                "X-Team": "growth",
                "Webhook-Id": "forged",
                "Content-Type": "text/plain",
            }
        ),
    )
    delivery_id = queue(store, url)
    deliverer = Deliverer(store, Clock(FAST, START), secret="s3cret")

    await deliverer.deliver_due()
    await deliverer.aclose()

    headers, body = endpoint.requests[0]
    assert headers["authorization"] == "Bearer token-1"
    assert headers["x-team"] == "growth"
    assert headers["webhook-id"] == delivery_id
    assert headers["content-type"] == "application/json"
    assert verify_signature("s3cret", headers, body)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Bearer é-token", "non-ASCII characters"),
        (" Bearer token", "starts or ends with whitespace"),
    ],
)
async def test_invalid_header_value_not_sent(
    store: Store, receiver: tuple[Receiver, str], value: str, problem: str
) -> None:
    endpoint, url = receiver
    set_attribute(store, attributes.WEBHOOK_HEADERS, json.dumps({"Authorization": value}))
    delivery_id = queue(store, url)
    deliverer = Deliverer(store, Clock(1.0, START), secret="")

    await deliverer.deliver_due()
    await deliverer.aclose()

    row = delivery(store, delivery_id)
    assert endpoint.requests == []
    assert row["state"] == "pending"
    assert row["attempts"] == 1
    assert problem in row["last_error"]
    assert "Authorization" in row["last_error"]
    assert "token" not in row["last_error"]


def test_header_problem_accepts_valid_values() -> None:
    assert header_problem({"Authorization": "Bearer abc", "X-Tab": "a\tb"}) is None


def test_sign_known_vector() -> None:
    # Computed with Python's hmac module for the key b"key" and the content "msg_1.1700000000.{}".
    expected = base64.b64encode(
        hmac.new(b"key", b"msg_1.1700000000.{}", hashlib.sha256).digest()
    ).decode()

    assert sign(b"key", "msg_1", 1700000000, "{}") == "v1," + expected


def test_secret_bytes_invalid_base64_hides_secret() -> None:
    with pytest.raises(InvalidInputError, match="not valid base64") as raised:
        secret_bytes("whsec_not*base64!")

    assert "not*base64" not in str(raised.value)


def test_secret_bytes_forms() -> None:
    assert secret_bytes("whsec_" + base64.b64encode(b"\x00\xff").decode()) == b"\x00\xff"
    assert secret_bytes("plain") == b"plain"


# retry policy helpers


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", 120.0), (" 0 ", 0.0), ("soon", None), ("-5", None), ("1.5", None), (None, None)],
)
def test_parse_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, 1_700_000_000.0) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    later = format_datetime(datetime.fromtimestamp(now + 90, UTC), usegmt=True)
    earlier = format_datetime(datetime.fromtimestamp(now - 90, UTC), usegmt=True)

    assert parse_retry_after(later, now) == 90.0
    assert parse_retry_after(earlier, now) == 0.0


def test_parse_retry_after_capped() -> None:
    assert parse_retry_after("99999999", 0.0) == 86_400.0


def test_backoff_grows_and_caps() -> None:
    rng = random.Random(7)
    for attempts_made, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (12, BACKOFF_CAP_SECONDS)]:
        delays = [backoff_seconds(attempts_made, rng) for _ in range(200)]
        assert max(delays) <= ceiling
        assert min(delays) >= 0
        assert max(delays) > ceiling / 2
