"""Tests of the results frame, its CSV chunks in attributes and spreadsheet neutralising."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from smskit import attributes
from smskit.datafolder import DataFolder
from smskit.results import (
    BASE_COLUMNS,
    ResultsExporter,
    csv_chunks,
    format_transcript,
    neutralise,
    results_frame,
    to_csv,
    to_json,
    transcripts,
)
from smskit.store import Store, insert_frame, query_rows

START = datetime(2026, 3, 2, 14, 0)
SCHEMA = {
    "type": "object",
    "properties": {
        "confirmed": {"type": "boolean"},
        "preferred_day": {"type": ["string", "null"]},
        "rating": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "summary": {"type": "string"},
    },
}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(DataFolder(tmp_path))


def add_batch(store: Store, batch_id: int, columns: list[str], title: str = "") -> None:
    with store.transaction() as conn:
        insert_frame(
            conn,
            "batches",
            pl.DataFrame(
                {
                    "batch_id": [batch_id],
                    "title": [title or f"Batch {batch_id}"],
                    "body": ["Phone Number,Reason\n"],
                    "created_at": [START],
                    "state": ["active"],
                    "columns": [json.dumps(columns)],
                    "row_count": [0],
                }
            ),
        )


def add_tasks(store: Store, rows: list[dict[str, Any]]) -> None:
    """Insert tasks; every row needs task_id, the rest has defaults of a finished task."""
    defaults: dict[str, Any] = {
        "batch_id": 1,
        "input_phone": None,
        "phone_number": None,
        "user_id": None,
        "reason": "Confirm the appointment",
        "variables": "{}",
        "verdict": "valid",
        "state": "done",
        "status": "finished",
        "outcome": "completed",
        "started_at": START,
        "ended_at": START + timedelta(hours=1),
        "summary": "Confirmed.",
        "fields": None,
        "llm_tokens": 100,
        "llm_cost": 0.001,
        "updated_at": START,
    }
    records = []
    for row in rows:
        record = defaults | row
        record.setdefault("row", row["task_id"])
        if record["phone_number"] is None and record["verdict"] == "valid":
            record["phone_number"] = f"+1202555{row['task_id']:04d}"
        records.append(record)
    frame = pl.DataFrame(
        records,
        schema_overrides={
            "input_phone": pl.String,
            "phone_number": pl.String,
            "user_id": pl.String,
            "fields": pl.String,
        },
    )
    with store.transaction() as conn:
        insert_frame(conn, "tasks", frame)


def add_messages(store: Store, rows: list[dict[str, Any]]) -> None:
    """Insert messages; every row needs message_id, task_id, direction and body."""
    defaults: dict[str, Any] = {
        "kind": "reply",
        "phone_number": "+12025550100",
        "status": "delivered",
        "segments": None,
        "cost": None,
        "after_session": False,
    }
    records = []
    for row in rows:
        record = defaults | row
        record.setdefault("created_at", START + timedelta(seconds=row["message_id"]))
        if record["direction"] == "inbound":
            record["status"] = row.get("status", "received")
        records.append(record)
    frame = pl.DataFrame(records, schema_overrides={"segments": pl.Int32, "cost": pl.Float64})
    with store.transaction() as conn:
        insert_frame(conn, "messages", frame)


def finished_tasks(store: Store, count: int) -> None:
    add_batch(store, 1, ["first_name"])
    add_tasks(
        store,
        [
            {"task_id": i, "variables": json.dumps({"first_name": f"Name {i}"})}
            for i in range(1, count + 1)
        ],
    )


def stored_results(store: Store) -> dict[str, tuple[str, datetime]]:
    with store.transaction() as conn:
        rows = query_rows(
            conn,
            "SELECT name, value, updated_at FROM attributes WHERE starts_with(name, ?)",
            [attributes.RESULTS],
        )
    return {name: (value, updated_at) for name, value, updated_at in rows}


def refresh(store: Store, exporter: ResultsExporter) -> bool:
    with store.transaction() as conn:
        return exporter.refresh(conn)


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def chunk(number: int) -> str:
    return f"{attributes.RESULTS_CHUNK_PREFIX}{number}"


# transcripts


def test_format_transcript_speakers_and_marks() -> None:
    turns = [
        {"direction": "outbound", "body": "Hi Sam,\nconfirm Tuesday?", "status": "delivered"},
        {"direction": "inbound", "body": "yes\r\nsee you", "status": "received"},
        {"direction": "outbound", "body": "never sent", "status": "pending"},
        {"direction": "outbound", "body": "refused", "status": "failed"},
        {"direction": "inbound", "body": "thanks!", "after_session": True},
    ]

    text = format_transcript(turns)

    assert text.splitlines() == [
        "Agent: Hi Sam, confirm Tuesday?",
        "Recipient: yes see you",
        "Recipient: thanks! (after the session closed)",
    ]


def test_format_transcript_empty() -> None:
    assert format_transcript([]) == ""


@pytest.mark.parametrize(
    "body",
    [
        "plain",
        "two\nlines",
        "windows\r\nline",
        "old mac\rline",
        "form\x0bfeed\x0c",
        "unicode\u2028separators\u2029and\x85next line",
        "",
        "émoji 🎉 and ünïcode",
        "=SUM(A1)",
        'it\'s "quoted", with commas',
    ],
)
def test_transcript_sql_matches_python(store: Store, body: str) -> None:
    add_batch(store, 1, [])
    add_tasks(store, [{"task_id": 1}])
    turns = [
        {"message_id": 1, "task_id": 1, "direction": "outbound", "body": "Hello"},
        {"message_id": 2, "task_id": 1, "direction": "inbound", "body": body},
        {
            "message_id": 3,
            "task_id": 1,
            "direction": "inbound",
            "body": body,
            "after_session": True,
        },
    ]
    add_messages(store, turns)

    with store.transaction() as conn:
        frame = results_frame(conn, schema={})
        by_task = transcripts(conn, [1, 2])

    assert frame["transcript"][0] == format_transcript(turns)
    assert by_task[1] == format_transcript(turns)
    assert by_task[2] == ""


def test_transcript_orders_by_time_then_id(store: Store) -> None:
    add_batch(store, 1, [])
    add_tasks(store, [{"task_id": 1}])
    same = START + timedelta(minutes=5)
    add_messages(
        store,
        [
            {
                "message_id": 9,
                "task_id": 1,
                "direction": "inbound",
                "body": "third",
                "created_at": same,
            },
            {
                "message_id": 4,
                "task_id": 1,
                "direction": "outbound",
                "body": "second",
                "created_at": same,
            },
            {
                "message_id": 20,
                "task_id": 1,
                "direction": "outbound",
                "body": "first",
                "created_at": START,
            },
        ],
    )

    with store.transaction() as conn:
        frame = results_frame(conn, schema={})

    assert frame["transcript"][0] == "Agent: first\nAgent: second\nRecipient: third"


# the results frame


def test_results_frame_columns_and_values(store: Store) -> None:
    add_batch(store, 1, ["first_name", "amount"], title="Spring reminders")
    add_batch(store, 2, ["amount", "city"])
    add_tasks(
        store,
        [
            {
                "task_id": 2,
                "variables": json.dumps({"first_name": "Ana", "amount": "12.50"}),
                "fields": json.dumps(
                    {
                        "confirmed": True,
                        "preferred_day": "Tuesday",
                        "rating": 4,
                        "tags": ["vip", "new"],
                        "summary": "field text",
                    }
                ),
                "user_id": "usr_a",
            },
            {
                "task_id": 1,
                "verdict": "invalid",
                "input_phone": "12ab",
                "status": "failed",
                "outcome": "invalid-phone-number",
                "started_at": None,
                "ended_at": None,
                "summary": None,
                "llm_tokens": None,
                "llm_cost": None,
            },
            {"task_id": 3, "batch_id": 2, "variables": json.dumps({"city": "Lyon"})},
            {"task_id": 4, "state": "in_session"},
        ],
    )
    with store.transaction() as conn:
        conn.execute("UPDATE tasks SET user_id = 'usr_stable' WHERE task_id = 3")
    add_messages(
        store,
        [
            {
                "message_id": 1,
                "task_id": 2,
                "direction": "outbound",
                "body": "Hi",
                "segments": 2,
                "cost": 0.0158,
            },
            {"message_id": 2, "task_id": 2, "direction": "inbound", "body": "Yes", "cost": 0.0079},
            {
                "message_id": 3,
                "task_id": 2,
                "direction": "outbound",
                "body": "Thanks",
                "segments": 1,
                "cost": 0.0079,
            },
            {
                "message_id": 4,
                "task_id": 2,
                "direction": "outbound",
                "body": "lost",
                "status": "failed",
                "segments": 1,
            },
        ],
    )

    with store.transaction() as conn:
        frame = results_frame(conn, schema=SCHEMA)

    assert frame.columns == [
        *BASE_COLUMNS,
        "var_first_name",
        "var_amount",
        "var_city",
        "confirmed",
        "preferred_day",
        "rating",
        "tags",
        "field_summary",
        "sms_cost",
        "llm_tokens",
        "llm_cost",
    ]
    assert frame["task_id"].to_list() == [1, 2, 3]
    invalid, talked, quiet = frame.to_dicts()
    assert invalid["phone_number"] == "12ab"
    assert invalid["transcript"] == ""
    assert invalid["started_at"] is None
    assert invalid["messages_sent"] == 0
    assert invalid["segments"] == 0
    assert invalid["sms_cost"] is None
    assert talked["batch"] == "Spring reminders"
    assert talked["channel"] == "sms"
    assert talked["phone_number"] == "+12025550002"
    assert talked["user_id"] == "usr_a"
    assert talked["transcript"] == "Agent: Hi\nRecipient: Yes\nAgent: Thanks"
    assert talked["messages_sent"] == 2
    assert talked["messages_received"] == 1
    assert talked["segments"] == 3
    assert talked["sms_cost"] == pytest.approx(0.0316)
    assert talked["started_at"] == "2026-03-02T14:00:00Z"
    assert talked["ended_at"] == "2026-03-02T15:00:00Z"
    assert talked["var_first_name"] == "Ana"
    assert talked["var_amount"] == "12.50"
    assert talked["var_city"] is None
    assert talked["confirmed"] is True
    assert talked["preferred_day"] == "Tuesday"
    assert talked["rating"] == 4
    assert json.loads(talked["tags"]) == ["vip", "new"]
    assert talked["field_summary"] == "field text"
    assert talked["llm_tokens"] == 100
    assert quiet["user_id"] == "usr_stable"
    assert quiet["var_city"] == "Lyon"
    assert quiet["confirmed"] is None
    assert frame.schema["confirmed"] == pl.Boolean
    assert frame.schema["rating"] == pl.Int64
    assert frame.schema["tags"] == pl.String


def test_results_frame_one_batch(store: Store) -> None:
    add_batch(store, 1, ["first_name"])
    add_batch(store, 2, ["city"])
    add_tasks(store, [{"task_id": 1}, {"task_id": 2, "batch_id": 2}, {"task_id": 3}])

    with store.transaction() as conn:
        frame = results_frame(conn, batch=2, schema={})

    assert frame["task_id"].to_list() == [2]
    assert "var_city" in frame.columns
    assert "var_first_name" not in frame.columns


def test_results_frame_reads_schema_attribute(store: Store) -> None:
    add_batch(store, 1, [])
    add_tasks(store, [{"task_id": 1, "fields": json.dumps({"rating": 5})}])
    with store.transaction() as conn:
        attributes.write(conn, attributes.PAYLOAD_SCHEMA, json.dumps(SCHEMA))
        frame = results_frame(conn)

    assert frame["rating"].to_list() == [5]


def test_results_frame_unusual_column_names(store: Store) -> None:
    names = ['with "quotes"', "dotted.name", "back\\slash", "ünïcode", "task_id"]
    add_batch(store, 1, names)
    add_tasks(store, [{"task_id": 1, "variables": json.dumps({n: n.upper() for n in names})}])

    with store.transaction() as conn:
        frame = results_frame(conn, schema={})

    for name in names:
        assert frame["var_" + name].to_list() == [name.upper()]


def test_results_frame_empty_has_columns(store: Store) -> None:
    add_batch(store, 1, ["first_name"])

    with store.transaction() as conn:
        frame = results_frame(conn, schema=SCHEMA)

    assert frame.is_empty()
    assert frame.columns[: len(BASE_COLUMNS)] == list(BASE_COLUMNS)
    assert "var_first_name" in frame.columns


# neutralising and output formats


def test_neutralise_formula_cells() -> None:
    frame = pl.DataFrame(
        {
            "phone_number": ["+12025550100", "+12025550101"],
            "summary": ['=HYPERLINK("http://x")', "fine"],
            "var_a": ["+1 202 555", "-5"],
            "var_b": ["@SUM(A1)", "\tTAB"],
            "var_c": ["\rCR", "a=b"],
            "segments": [-1, 2],
            "sms_cost": [-0.5, 1.0],
        }
    )

    result = neutralise(frame)

    assert result["phone_number"].to_list() == ["+12025550100", "+12025550101"]
    assert result["summary"].to_list() == ['\'=HYPERLINK("http://x")', "fine"]
    assert result["var_a"].to_list() == ["'+1 202 555", "'-5"]
    assert result["var_b"].to_list() == ["'@SUM(A1)", "'\tTAB"]
    assert result["var_c"].to_list() == ["'\rCR", "a=b"]
    assert result["segments"].to_list() == [-1, 2]
    assert result["sms_cost"].to_list() == [-0.5, 1.0]


def test_neutralise_keeps_nulls() -> None:
    frame = pl.DataFrame({"summary": [None, "=1"]}, schema={"summary": pl.String})

    assert neutralise(frame)["summary"].to_list() == [None, "'=1"]


def test_to_csv_neutralises_but_to_json_does_not(store: Store) -> None:
    add_batch(store, 1, ["note"])
    add_tasks(
        store,
        [
            {
                "task_id": 1,
                "variables": json.dumps({"note": "=cmd|' /C calc'!A0"}),
                "summary": "-2+3",
            }
        ],
    )
    with store.transaction() as conn:
        frame = results_frame(conn, schema={})

    rows = csv_rows(to_csv(frame))
    objects = json.loads(to_json(frame))

    assert rows[0] == frame.columns
    header = rows[0]
    assert rows[1][header.index("phone_number")] == "+12025550001"
    assert rows[1][header.index("var_note")] == "'=cmd|' /C calc'!A0"
    assert rows[1][header.index("summary")] == "'-2+3"
    assert objects[0]["var_note"] == "=cmd|' /C calc'!A0"
    assert objects[0]["summary"] == "-2+3"
    assert objects[0]["phone_number"] == "+12025550001"


def test_to_json_empty_frame() -> None:
    assert json.loads(to_json(pl.DataFrame(schema={"task_id": pl.Int64}))) == []


def test_csv_chunks_join_to_whole_csv(store: Store) -> None:
    add_batch(store, 1, ["note"])
    add_tasks(
        store,
        [
            {"task_id": i, "variables": json.dumps({"note": f'line one\nline, "two" {i}'})}
            for i in range(1, 8)
        ],
    )
    add_messages(
        store,
        [
            {"message_id": i, "task_id": i, "direction": "inbound", "body": "ça\nva"}
            for i in range(1, 8)
        ],
    )
    with store.transaction() as conn:
        frame = results_frame(conn, schema={})

    chunks = csv_chunks(frame, 3)

    whole = to_csv(frame)
    header = whole.split("\n", 1)[0] + "\n"
    assert len(chunks) == 3
    assert all(text.startswith(header) for text in chunks)
    assert header + "".join(text[len(header) :] for text in chunks) == whole
    assert [len(csv_rows(text)) - 1 for text in chunks] == [3, 3, 1]


def test_csv_chunks_cell_with_nul() -> None:
    frame = pl.DataFrame({"task_id": [1, 2, 3], "summary": ["a\x00b", "c", "=d"]})

    chunks = csv_chunks(frame, 2)

    assert chunks == ["task_id,summary\n1,a\x00b\n2,c\n", "task_id,summary\n3,'=d\n"]


def test_csv_chunks_rejects_zero_size() -> None:
    with pytest.raises(ValueError, match="chunk size must be >= 1, got 0"):
        csv_chunks(pl.DataFrame({"a": [1]}), 0)


# the exporter


def test_exporter_splits_into_chunks(store: Store) -> None:
    finished_tasks(store, 120)

    assert refresh(store, ResultsExporter()) is True

    stored = stored_results(store)
    assert sorted(stored) == sorted([attributes.RESULTS, chunk(1), chunk(2), chunk(3)])
    for number, expected in [(1, 50), (2, 50), (3, 20)]:
        rows = csv_rows(stored[chunk(number)][0])
        assert rows[0][:3] == ["task_id", "batch_id", "batch"]
        assert len(rows) - 1 == expected
    assert stored[attributes.RESULTS][0] == stored[chunk(1)][0]
    assert csv_rows(stored[chunk(3)][0])[-1][0] == "120"


def test_exporter_removes_stale_chunks(store: Store) -> None:
    finished_tasks(store, 120)
    exporter = ResultsExporter()
    refresh(store, exporter)
    with store.transaction() as conn:
        conn.execute("UPDATE tasks SET state = 'in_session' WHERE task_id > 30")

    assert refresh(store, exporter) is True

    stored = stored_results(store)
    assert sorted(stored) == sorted([attributes.RESULTS, chunk(1)])
    assert len(csv_rows(stored[chunk(1)][0])) - 1 == 30
    assert stored[attributes.RESULTS][0] == stored[chunk(1)][0]


def test_exporter_unchanged_refresh_writes_nothing(store: Store) -> None:
    finished_tasks(store, 120)
    exporter = ResultsExporter()
    refresh(store, exporter)
    before = stored_results(store)
    writes = exporter.writes

    assert refresh(store, exporter) is False
    assert refresh(store, ResultsExporter()) is False

    assert stored_results(store) == before
    assert exporter.writes == writes


def test_exporter_rewrites_only_changed_chunk(store: Store) -> None:
    finished_tasks(store, 120)
    exporter = ResultsExporter()
    refresh(store, exporter)
    before = stored_results(store)
    with store.transaction() as conn:
        conn.execute("UPDATE tasks SET summary = 'changed' WHERE task_id = 75")

    assert refresh(store, exporter) is True

    after = stored_results(store)
    assert exporter.writes == 4 + 1
    assert after[chunk(1)] == before[chunk(1)]
    assert after[chunk(3)] == before[chunk(3)]
    assert after[attributes.RESULTS] == before[attributes.RESULTS]
    assert "changed" in after[chunk(2)][0]


def test_exporter_new_instance_reads_stored_values(store: Store) -> None:
    finished_tasks(store, 120)
    refresh(store, ResultsExporter())
    with store.transaction() as conn:
        conn.execute("UPDATE tasks SET state = 'in_session' WHERE task_id > 60")
    before = stored_results(store)
    exporter = ResultsExporter()

    assert refresh(store, exporter) is True

    after = stored_results(store)
    assert exporter.writes == 1
    assert sorted(after) == sorted([attributes.RESULTS, chunk(1), chunk(2)])
    assert after[chunk(1)] == before[chunk(1)]
    assert len(csv_rows(after[chunk(2)][0])) - 1 == 10


def test_exporter_no_rows(store: Store) -> None:
    finished_tasks(store, 60)
    exporter = ResultsExporter()
    refresh(store, exporter)
    with store.transaction() as conn:
        conn.execute("DELETE FROM tasks")

    assert refresh(store, exporter) is True

    assert stored_results(store).keys() == {attributes.RESULTS}
    assert stored_results(store)[attributes.RESULTS][0] == ""


def test_exporter_empty_store_writes_nothing(store: Store) -> None:
    exporter = ResultsExporter()

    assert refresh(store, exporter) is False
    assert stored_results(store) == {}
    with store.transaction() as conn:
        assert attributes.read_raw(conn).get(attributes.RESULTS, "") == ""


def test_exporter_chunk_size_setting(store: Store) -> None:
    finished_tasks(store, 100)
    with store.transaction() as conn:
        attributes.write(conn, attributes.RESULTS_CHUNK_SIZE, "40")
    exporter = ResultsExporter()
    refresh(store, exporter)
    with store.transaction() as conn:
        attributes.write(conn, attributes.RESULTS_CHUNK_SIZE, "100")

    assert refresh(store, exporter) is True

    stored = stored_results(store)
    assert sorted(stored) == sorted([attributes.RESULTS, chunk(1)])
    assert len(csv_rows(stored[chunk(1)][0])) - 1 == 100


def test_exporter_forget_after_rollback(store: Store) -> None:
    finished_tasks(store, 10)
    exporter = ResultsExporter()
    with pytest.raises(RuntimeError, match="rolled back"):
        with store.transaction() as conn:
            exporter.refresh(conn)
            raise RuntimeError("rolled back")
    exporter.forget()

    assert refresh(store, exporter) is True
    assert chunk(1) in stored_results(store)


def test_exporter_interval() -> None:
    assert ResultsExporter.min_interval_seconds == 1.0


def test_exporter_refresh_store_two_transactions(store: Store) -> None:
    finished_tasks(store, 120)
    exporter = ResultsExporter()

    assert exporter.refresh_store(store) is True
    first = stored_results(store)
    assert exporter.refresh_store(store) is False
    with store.transaction() as conn:
        conn.execute("UPDATE tasks SET summary = 'changed' WHERE task_id = 120")
    assert exporter.refresh_store(store) is True

    after = stored_results(store)
    assert sorted(after) == sorted([attributes.RESULTS, chunk(1), chunk(2), chunk(3)])
    assert after[chunk(1)] == first[chunk(1)]
    assert after[chunk(2)] == first[chunk(2)]
    assert "changed" in after[chunk(3)][0]
    assert exporter.writes == 4 + 1


def test_exporter_refresh_store_touch_without_change(store: Store) -> None:
    finished_tasks(store, 10)
    exporter = ResultsExporter()
    exporter.refresh_store(store)
    before = stored_results(store)
    with store.transaction() as conn:
        conn.execute("UPDATE tasks SET updated_at = updated_at + INTERVAL 1 SECOND")

    assert exporter.refresh_store(store) is False

    assert stored_results(store) == before
