"""Webhook delivery rate: `Deliverer.deliver_due` against bare httpx posts of the same bodies.

A temporary store gets 5,000 queued deliveries (1,000 with `--quick`), each with a payload of
about 600 bytes (a four-line transcript and two payload-schema fields). A receiver runs in a
child process (Starlette under uvicorn on 127.0.0.1) and responds to every POST with 200. The
deliverer, signing with a webhook secret, calls `deliver_due()` as the runner does (up to 100
deliveries a round, 10 requests at a time) until nothing is due; one transaction per round
records its attempts and picks the next round's deliveries. The figure is deliveries per
second, wall clock, with a goal of at least 500. The baseline, measured in the same run, is
a bare `httpx.AsyncClient` posting the same bodies to the same receiver, 10 at a time, with no
store and no signing.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.harness import Figure, meets_goal
from smskit.clock import Clock
from smskit.datafolder import DataFolder
from smskit.runner.webhooks import CONCURRENCY, Deliverer, build_payload, enqueue, outbox_summary
from smskit.store import Store

GOAL = ">= 500"
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
RECEIVER = """
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

async def receive(request):
    await request.body()
    return Response(status_code=200)

app = Starlette(routes=[Route("/hook", receive, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""
TRANSCRIPT = (
    "Agent: Hi Ana, this is Alex from Acme. Can you confirm the boiler service on Tuesday "
    "at 10:00? Reply STOP to opt out.\nRecipient: Yes, Tuesday at 10 works for me.\n"
    "Agent: Great, see you on Tuesday at 10:00!\nRecipient: Thanks, bye!"
)


def run(quick: bool) -> list[Figure]:
    """Measure the deliverer's rate and a bare httpx rate against one receiver process."""
    count = 1_000 if quick else 5_000
    port = _free_port()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port)])
    try:
        _wait_for_port(port, receiver)
        url = f"http://127.0.0.1:{port}/hook"
        with tempfile.TemporaryDirectory(prefix="smskit-bench-webhooks-") as folder:
            store = Store(DataFolder(Path(folder)))
            bodies = _queue(store, url, count)
            deliverer_rate = asyncio.run(_deliverer_rate(store, count))
        bare_rate = asyncio.run(_bare_rate(url, bodies))
    finally:
        receiver.terminate()
        receiver.wait(timeout=30)
    return [
        Figure(
            f"webhook deliveries per second, {count:,} deliveries",
            deliverer_rate,
            "/s",
            goal=GOAL,
            baseline=f"bare httpx posts {bare_rate:,.0f}/s",
            passed=meets_goal(deliverer_rate, GOAL),
        ),
        Figure("deliverer rate / bare httpx rate", deliverer_rate / bare_rate, "x"),
    ]


def _queue(store: Store, url: str, count: int) -> list[bytes]:
    """Queue `count` deliveries in one transaction and return their bodies."""
    now = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    with store.transaction() as conn:
        for task_id in range(1, count + 1):
            task = {
                "phone_number": f"+1202555{task_id % 10_000:04d}",
                "status": "finished",
                "outcome": "completed",
                "task_id": task_id,
                "user_id": f"u_{task_id:012x}",
            }
            payload = build_payload(task, TRANSCRIPT, {"confirmed": True, "day": "Tuesday"})
            enqueue(conn, task_id, url, payload, now)
        rows = conn.execute("SELECT body FROM deliveries ORDER BY created_at").fetchall()
    return [row[0].encode() for row in rows]


async def _deliverer_rate(store: Store, count: int) -> float:
    deliverer = Deliverer(store, Clock(), secret=SECRET)
    started = time.perf_counter()
    try:
        while await deliverer.deliver_due():
            pass
    finally:
        await deliverer.aclose()
    seconds = time.perf_counter() - started
    with store.transaction() as conn:
        delivered = outbox_summary(conn)["delivered"]
    if delivered != count:
        raise RuntimeError(f"{delivered} of {count} deliveries delivered; the receiver failed")
    return count / seconds


async def _bare_rate(url: str, bodies: list[bytes]) -> float:
    limits = httpx.Limits(max_connections=CONCURRENCY)
    semaphore = asyncio.Semaphore(CONCURRENCY)
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(limits=limits) as client:

        async def post(body: bytes) -> None:
            async with semaphore:
                response = await client.post(url, content=body, headers=headers)
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(post(body) for body in bodies))
        seconds = time.perf_counter() - started
    return len(bodies) / seconds


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the webhook receiver did not start on port {port}") from None
            time.sleep(0.05)
