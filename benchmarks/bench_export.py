"""Results export speed: CSV chunks for the results attributes against a bare `write_csv`.

A temporary store gets 100,000 finished tasks (10,000 with `--quick`) with three messages
each, payload-schema fields and two extra CSV columns, about 1% of whose cells look like
formulas. The results frame is built from it once. The figure compares
`csv_chunks(frame, 50)`, which neutralises formula-like cells and splits the CSV text into
chunks with their own header rows, with a bare `frame.write_csv()` of the same frame. Both
run three times, alternately, in the same process, and the figure is the ratio of the
medians (CPU time). The goal is at most 1.5 times. Building the frame and a full exporter
refresh are reported without a goal.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from benchmarks.harness import Figure, meets_goal, timed_seconds
from smskit import attributes
from smskit.datafolder import DataFolder
from smskit.results import ResultsExporter, csv_chunks, results_frame
from smskit.store import Store, insert_frame

SEED = 20260302
GOAL = "<= 1.5"
RUNS = 3
CHUNK_SIZE = 50
MESSAGES_PER_TASK = 3
START = datetime(2026, 3, 2, 14, 0)
SCHEMA = {
    "type": "object",
    "properties": {
        "confirmed": {"type": "boolean"},
        "preferred_day": {"type": ["string", "null"]},
        "rating": {"type": "integer"},
        "topics": {"type": "array", "items": {"type": "string"}},
    },
}
_NAMES = ("Ana", "Ben", "Chloé", "Dmitri", "Emeka", "Fatima", "Grace", "Hiro", "Inès", "Jon")
_GREETINGS = (
    "Hi {name}, this is Alex from Acme Dental. Can you confirm your appointment on Tuesday "
    "at 10:00? Reply STOP to opt out.",
    "Hello {name}, Alex here from Northwind Energy.\nYour invoice of $42.10 is due on the "
    "31st; when could you pay it? Reply STOP to opt out.",
)
_REPLIES = ("Yes, see you then", "Can we move it to Wednesday?", "-", "=1+1", "ok 👍")


def run(quick: bool) -> list[Figure]:
    """Measure chunked CSV export of the results against a bare Polars write_csv."""
    rows = 10_000 if quick else 100_000
    label = f"{rows // 1000}k"
    with tempfile.TemporaryDirectory(prefix="smskit-bench-export-") as folder:
        store = Store(DataFolder(Path(folder)))
        _populate(store, rows, random.Random(SEED))
        frame_seconds, frame = _build_frame(store)
        refresh_seconds = _refresh_seconds(store)

    # warm-up, so that one-time start-up costs do not count against the first timed run
    frame.head(1000).write_csv()
    csv_chunks(frame.head(1000), CHUNK_SIZE)

    bare_times: list[float] = []
    ours_times: list[float] = []
    for _ in range(RUNS):
        bare_times.append(timed_seconds(frame.write_csv)[0])
        seconds, chunks = timed_seconds(lambda: csv_chunks(frame, CHUNK_SIZE))
        ours_times.append(seconds)
        _check_chunks(chunks, rows)
    bare = statistics.median(bare_times)
    ours = statistics.median(ours_times)
    ratio = ours / bare
    return [
        Figure(
            f"results export {label} rows / bare write_csv",
            ratio,
            "x",
            goal=GOAL,
            baseline=f"write_csv {bare:.3f} s, chunks {ours:.3f} s",
            passed=meets_goal(ratio, GOAL),
        ),
        Figure(f"results frame {label} rows", frame_seconds, "s"),
        Figure(f"results attributes refresh {label} rows", refresh_seconds, "s"),
    ]


def _build_frame(store: Store) -> tuple[float, pl.DataFrame]:
    def build() -> pl.DataFrame:
        with store.transaction() as conn:
            return results_frame(conn, schema=SCHEMA)

    seconds, frame = timed_seconds(build)
    assert isinstance(frame, pl.DataFrame)
    return seconds, frame


def _refresh_seconds(store: Store) -> float:
    exporter = ResultsExporter()
    # warm-up: the first payload-schema check imports jsonschema (about 3 s on a 2-core machine)
    with store.transaction() as conn:
        attributes.read_settings(conn)

    def refresh() -> bool:
        with store.transaction() as conn:
            return exporter.refresh(conn)

    seconds, changed = timed_seconds(refresh)
    if changed is not True:
        raise RuntimeError("the first refresh of a fresh store wrote nothing; expected chunks")
    return seconds


def _check_chunks(chunks: object, rows: int) -> None:
    assert isinstance(chunks, list)
    expected = -(-rows // CHUNK_SIZE)
    if len(chunks) != expected:
        raise RuntimeError(
            f"csv_chunks made {len(chunks)} chunks of {rows} rows, expected {expected}"
        )


def _populate(store: Store, rows: int, rng: random.Random) -> None:
    """Insert one batch of `rows` finished tasks with their messages."""
    names = [rng.choice(_NAMES) for _ in range(rows)]
    batches = pl.DataFrame(
        {
            "batch_id": [1],
            "title": ["Spring reminders"],
            "body": [""],
            "created_at": [START],
            "state": ["active"],
            "columns": [json.dumps(["first_name", "note"])],
            "row_count": [rows],
        }
    )
    with store.transaction() as conn:
        insert_frame(conn, "batches", batches)
        insert_frame(conn, "tasks", _tasks(names, rng))
        insert_frame(conn, "messages", _messages(names, rng))
        attributes.write(conn, attributes.PAYLOAD_SCHEMA, json.dumps(SCHEMA))


def _tasks(names: list[str], rng: random.Random) -> pl.DataFrame:
    rows = len(names)
    ids = list(range(1, rows + 1))
    variables = [
        json.dumps({"first_name": name, "note": "=HYPERLINK(1)" if i % 100 == 0 else ""})
        for i, name in enumerate(names)
    ]
    fields = [
        json.dumps(
            {
                "confirmed": rng.random() < 0.7,
                "preferred_day": rng.choice(["Tuesday", "Wednesday", None]),
                "rating": rng.randint(1, 5),
                "topics": ["parking"] if rng.random() < 0.3 else [],
            }
        )
        for _ in ids
    ]
    return pl.DataFrame(
        {
            "task_id": ids,
            "batch_id": [1] * rows,
            "row": ids,
            "phone_number": [f"+1202{task_id:07d}" for task_id in ids],
            "user_id": [f"usr_{task_id:012x}" for task_id in ids],
            "reason": ["Confirm the appointment on Tuesday at 10:00"] * rows,
            "variables": variables,
            "verdict": ["valid"] * rows,
            "state": ["done"] * rows,
            "status": ["finished"] * rows,
            "outcome": ["completed"] * rows,
            "started_at": [START + timedelta(seconds=task_id) for task_id in ids],
            "ended_at": [START + timedelta(seconds=task_id + 3600) for task_id in ids],
            "summary": [
                f"{name} confirmed the appointment and asked about parking." for name in names
            ],
            "fields": fields,
            "llm_tokens": [rng.randint(300, 900) for _ in ids],
            "llm_cost": [0.0012] * rows,
            "updated_at": [START] * rows,
        }
    )


def _messages(names: list[str], rng: random.Random) -> pl.DataFrame:
    count = len(names) * MESSAGES_PER_TASK
    message_ids = list(range(1, count + 1))
    # the second message of every task is the recipient's reply
    outbound = [(m - 1) % MESSAGES_PER_TASK != 1 for m in message_ids]
    bodies = []
    for message_id, is_outbound in zip(message_ids, outbound, strict=True):
        name = names[(message_id - 1) // MESSAGES_PER_TASK]
        if is_outbound:
            bodies.append(rng.choice(_GREETINGS).format(name=name))
        else:
            bodies.append(rng.choice(_REPLIES))
    return pl.DataFrame(
        {
            "message_id": message_ids,
            "task_id": [1 + (m - 1) // MESSAGES_PER_TASK for m in message_ids],
            "direction": ["outbound" if flag else "inbound" for flag in outbound],
            "kind": ["reply" if flag else "inbound" for flag in outbound],
            "phone_number": ["+12025550100"] * count,
            "body": bodies,
            "status": ["delivered" if flag else "received" for flag in outbound],
            "segments": [2 if flag else None for flag in outbound],
            "cost": [0.0158 if flag else 0.0079 for flag in outbound],
            "after_session": [False] * count,
            "created_at": [START + timedelta(seconds=m) for m in message_ids],
        }
    )
