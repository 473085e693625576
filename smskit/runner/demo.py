"""`python runner.py --demo`: the whole flow on the shipped example batch, in about a minute.

The demo makes a fresh `demo/` project next to the example batches, stores the example batch,
sets a payload schema and a webhook endpoint served by the demo itself, and runs the runner with
simulated recipients and a time scale until every task is done and every webhook delivered.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import shutil
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from smskit import attributes as attrs
from smskit.clock import Clock
from smskit.datafolder import DataFolder, resolve_data_folder

EXAMPLE = Path("examples") / "demo_batch.csv"
REPOSITORY_DATA = Path(__file__).resolve().parents[2] / "data"
DEMO_START = datetime.fromisoformat("2026-03-02T17:00:00+00:00")
DEMO_TIME_SCALE = 60.0
DEMO_SCHEMA = {
    "type": "object",
    "properties": {
        "wants_renewal": {"type": "boolean", "description": "Whether the customer agreed"},
        "appointment_date": {
            "type": "string",
            "format": "date",
            "description": "Date the customer chose",
        },
        "appointment_time": {
            "type": "string",
            "format": "time",
            "description": "Time the customer chose",
        },
        "preferred_channel": {
            "type": "string",
            "enum": ["sms", "email", "phone"],
            "description": "How the customer prefers to be contacted",
        },
    },
}
_MARKER = ".smskit-demo"


def run_demo(args: argparse.Namespace) -> int:
    """Prepare the demo folder, run the runner until idle, and print what happened."""
    from smskit.runner.main import configure_logging

    base = resolve_data_folder(args.data)
    example = REPOSITORY_DATA / EXAMPLE
    if not example.is_file():
        raise SystemExit(f"runner: example batch {example} not found; run from a repository clone")
    folder = _fresh_folder(base.path / "demo")
    configure_logging(args.log_level, folder)
    # The demo prints its own report: the console shows warnings only, the log file everything.
    logging.getLogger().handlers[0].setLevel(logging.WARNING)
    os.environ.setdefault(
        "SMSKIT_WEBHOOK_SECRET", "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    )
    print(f"smskit demo in {folder.path}")
    return asyncio.run(_demo(folder, example, args))


def _fresh_folder(path: Path) -> DataFolder:
    # Only a folder that an earlier demo made is removed.
    if path.exists():
        if not (path / _MARKER).exists():
            raise SystemExit(f"runner: {path} exists and was not made by the demo; move it away")
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / _MARKER).write_text("made by python runner.py --demo\n")
    return DataFolder(path)


async def _demo(folder: DataFolder, example: Path, args: argparse.Namespace) -> int:
    from smskit.project import Project
    from smskit.runner.main import serve

    received: list[dict[str, Any]] = []
    receiver, url = await _start_receiver(folder, received)
    project = Project(folder, program="demo")
    project.set(attrs.WEBHOOK_URL, url)
    project.set(attrs.PAYLOAD_SCHEMA, json.dumps(DEMO_SCHEMA))
    project.set(attrs.SESSION_DURATION, "10")
    project.set(attrs.DEFAULT_REGION, "US")
    project.set(attrs.BUSINESS_CONTEXT, "Northwind Energy, a home energy supplier")
    project.set(attrs.AGENT_NAME, "Alex")
    project.set(attrs.WEBHOOK_TIMEOUT, "2")
    batch = project.add_batch("Demo: March customer follow-ups", example.read_bytes())
    print(
        f"batch {batch['title']!r}: {batch['rows']} rows, {batch['valid']} valid, "
        f"{batch['invalid']} invalid, {batch['duplicate']} duplicate"
    )
    print(
        f"running with simulated recipients, time scale {DEMO_TIME_SCALE:g} "
        "(one project minute per second)..."
    )
    clock = Clock(DEMO_TIME_SCALE, DEMO_START)
    code = await serve(folder, clock, port=0, until_idle=True, simulate=True)
    receiver.should_exit = True
    await asyncio.sleep(0.2)
    _report(project, received)
    return code


async def _start_receiver(folder: DataFolder, received: list[dict[str, Any]]) -> tuple[Any, str]:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from smskit.runner.http import EmbeddedServer

    log = folder.path / "webhooks-received.jsonl"

    async def receive(request: Request) -> Response:
        body = await request.body()
        record = {
            "webhook_id": request.headers.get("webhook-id"),
            "signature_valid": _verify(request.headers, body),
            "payload": json.loads(body),
        }
        received.append(record)
        with open(log, "a", encoding="utf-8") as log_file:
            log_file.write(json.dumps(record) + "\n")
        return JSONResponse({"ok": True})

    import uvicorn

    config = uvicorn.Config(
        Starlette(routes=[Route("/webhook", receive, methods=["POST"])]),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
    )
    server = EmbeddedServer(config)
    asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/webhook"


def _verify(headers: Any, body: bytes) -> bool:
    """Check a Standard Webhooks signature, as a receiver would."""
    secret = os.environ.get("SMSKIT_WEBHOOK_SECRET", "")
    key = (
        base64.b64decode(secret.removeprefix("whsec_"))
        if secret.startswith("whsec_")
        else secret.encode()
    )
    signed = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [part.split(",", 1)[-1] for part in (headers.get("webhook-signature") or "").split()]
    return any(hmac.compare_digest(expected, value) for value in offered)


def _command_path(name: str) -> str:
    """Return how to call a console script of this environment from the current folder."""
    script = Path(sys.executable).parent / name
    if not script.exists():
        return name
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def _report(project: Any, received: list[dict[str, Any]]) -> None:
    from smskit.runner.personas import persona_for

    results = project.results()
    print()
    print(f"{'row':>3}  {'phone':<16} {'persona':<11} {'status':<9} {'outcome':<24} summary")
    for row in results.to_dicts():
        phone = row["phone_number"] or ""
        persona = (
            persona_for(phone).name
            if phone.startswith("+")
            and row["outcome"] not in ("invalid-phone-number", "duplicate-phone-number")
            else "-"
        )
        summary = (row["summary"] or row.get("error_message") or "")[:60]
        print(
            f"{row['row']:>3}  {phone:<16} {persona:<11} {row['status']:<9} "
            f"{row['outcome']:<24} {summary}"
        )
    ids = {record["webhook_id"] for record in received}
    valid = sum(1 for record in received if record["signature_valid"])
    print()
    print(
        f"{results.height} result rows; webhooks received: {len(received)} "
        f"({len(ids)} deliveries, {valid} with a valid signature) at the demo receiver"
    )
    smskit = _command_path("smskit")
    print(f"results: {smskit} results --data {project.path}")
    print(
        f"  attribute {attrs.RESULTS} (and _batch_N chunks): "
        f"{smskit} attr get {attrs.RESULTS} --data {project.path}"
    )
    print(f"webhooks received: {project.path / 'webhooks-received.jsonl'}")
    print(f"runner log: {project.path / 'logs' / 'runner.log'}")
