"""Analysis functions on hand-built task, message and result frames."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest

from smskit import analysis
from smskit.attributes import RESULTS_CHUNK_PREFIX
from smskit.errors import InvalidInputError

T0 = datetime(2026, 3, 2, 17, 0, 0)


def _tasks() -> pl.DataFrame:
    # Batch 1: task 1 replied and finished, task 2 sent without reply, task 3 invalid,
    # task 4 a duplicate, task 5 still in session after a reply. Batch 2: task 6 greeting
    # failed at the provider, task 7 only replied after the session closed.
    return pl.DataFrame(
        {
            "task_id": [1, 2, 3, 4, 5, 6, 7],
            "batch_id": [1, 1, 1, 1, 1, 2, 2],
            "batch": ["March", "March", "March", "March", "March", "April", "April"],
            "verdict": ["valid", "valid", "invalid", "duplicate", "valid", "valid", "valid"],
            "state": ["done", "done", "done", "done", "in_session", "done", "done"],
            "status": ["finished", "failed", "failed", "failed", None, "failed", "failed"],
        }
    )


def _message(
    task_id: int,
    direction: str,
    minutes: float,
    status: str = "delivered",
    after_session: bool = False,
) -> dict[str, object]:
    at = T0 + timedelta(minutes=minutes)
    return {
        "task_id": task_id,
        "direction": direction,
        "status": status if direction == "outbound" else "received",
        "after_session": after_session,
        "created_at": at,
        "sent_at": at if direction == "outbound" else None,
    }


def _messages() -> pl.DataFrame:
    rows = [
        _message(1, "outbound", 0),
        _message(1, "inbound", 2.5),
        _message(1, "outbound", 3),
        _message(1, "inbound", 4),
        _message(2, "outbound", 0),
        _message(5, "outbound", 1),
        _message(5, "inbound", 11),
        _message(6, "outbound", 0, status="failed"),
        _message(7, "outbound", 0, status="undelivered"),
        _message(7, "inbound", 90, after_session=True),
    ]
    return pl.DataFrame(
        rows,
        schema={
            "task_id": pl.Int64,
            "direction": pl.String,
            "status": pl.String,
            "after_session": pl.Boolean,
            "created_at": pl.Datetime("us"),
            "sent_at": pl.Datetime("us"),
        },
    )


def _results() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "task_id": [1, 2, 3, 4, 6, 7, 8],
            "batch": ["March", "March", "March", "March", "April", "April", "April"],
            "status": ["finished", "failed", "failed", "failed", "failed", "failed", "finished"],
            "outcome": [
                "completed",
                "customer-did-not-answer",
                "invalid-phone-number",
                "duplicate-phone-number",
                "send-failed",
                "undelivered",
                "opted-out",
            ],
            "messages_sent": [2, 1, 0, 0, 0, 1, 1],
            "messages_received": [2, 0, 0, 0, 0, 1, 1],
            "var_Plan": ["Basic", "Basic", "Green", None, "Green", "Green", None],
            "wants_renewal": [True, None, None, None, None, False, True],
            "satisfaction": [5, None, None, None, None, 3, 5],
            "status_note": ["x", None, None, None, None, None, "y"],
        }
    )


def test_funnel_counts_each_step_per_batch() -> None:
    funnel = analysis.funnel(_tasks(), _messages())
    assert funnel.columns == ["batch_id", "batch", "rows", "valid", "sent", "replied", "finished"]
    rows = {row["batch_id"]: row for row in funnel.iter_rows(named=True)}
    assert rows[1] == {
        "batch_id": 1,
        "batch": "March",
        "rows": 5,
        "valid": 3,
        "sent": 3,
        "replied": 2,
        "finished": 1,
    }
    # a failed greeting is not sent; an undelivered one is, and a reply after the session
    # closed does not count as a reply
    assert rows[2] == {
        "batch_id": 2,
        "batch": "April",
        "rows": 2,
        "valid": 2,
        "sent": 1,
        "replied": 0,
        "finished": 0,
    }


def test_funnel_sorted_by_batch_id() -> None:
    funnel = analysis.funnel(_tasks().reverse(), _messages())
    assert funnel["batch_id"].to_list() == [1, 2]


def test_funnel_without_messages() -> None:
    funnel = analysis.funnel(_tasks(), _messages().head(0))
    assert funnel["sent"].to_list() == [0, 0]
    assert funnel["replied"].to_list() == [0, 0]
    assert funnel["rows"].to_list() == [5, 2]


def test_funnel_missing_column_names_it() -> None:
    with pytest.raises(InvalidInputError, match=r"no column 'verdict'.*project\.tasks\(\)"):
        analysis.funnel(_tasks().drop("verdict"), _messages())


def test_outcomes_counts_and_shares() -> None:
    outcomes = analysis.outcomes(_results())
    assert outcomes.columns == ["status", "outcome", "tasks", "share"]
    assert outcomes.height == 7
    assert outcomes["tasks"].sum() == 7
    assert outcomes["share"].sum() == pytest.approx(1.0)
    assert outcomes["outcome"].to_list()[:2] == ["completed", "customer-did-not-answer"]


def test_outcomes_by_batch_shares_within_batch() -> None:
    outcomes = analysis.outcomes(_results(), by="batch")
    shares = outcomes.group_by("batch").agg(pl.col("share").sum())
    assert shares["share"].to_list() == pytest.approx([1.0, 1.0])
    march = outcomes.filter(batch="March")
    assert march["share"].to_list() == pytest.approx([0.25] * 4)


def test_outcomes_most_frequent_first() -> None:
    results = _results().with_columns(pl.lit("completed").alias("outcome"))
    results = pl.concat([results, _results()])
    outcomes = analysis.outcomes(results)
    assert outcomes.row(0, named=True)["outcome"] == "completed"
    assert outcomes["tasks"].to_list() == sorted(outcomes["tasks"].to_list(), reverse=True)


def test_reply_rate_by_batch() -> None:
    rates = analysis.reply_rate(_results(), "batch")
    rows = {row["batch"]: row for row in rates.iter_rows(named=True)}
    assert rows["March"] == {
        "batch": "March",
        "rows": 4,
        "sent": 2,
        "replied": 1,
        "reply_rate": 0.5,
    }
    assert rows["April"]["sent"] == 2
    assert rows["April"]["replied"] == 1


def test_reply_rate_by_extra_column_nulls_last() -> None:
    rates = analysis.reply_rate(_results(), "var_Plan")
    assert rates["var_Plan"].to_list() == ["Basic", "Green", None]
    green = rates.row(1, named=True)
    assert (green["sent"], green["replied"], green["reply_rate"]) == (1, 0, 0.0)


def test_reply_rate_null_when_nothing_sent() -> None:
    results = _results().filter(pl.col("messages_sent") == 0)
    rates = analysis.reply_rate(results, "batch")
    assert rates["reply_rate"].to_list() == [None, None]


def test_reply_rate_needs_a_column() -> None:
    with pytest.raises(InvalidInputError, match="column to group by"):
        analysis.reply_rate(_results(), [])


def test_time_to_first_reply_per_task() -> None:
    first = analysis.time_to_first_reply(_messages())
    assert first["task_id"].to_list() == [1, 5]
    assert first["seconds"].to_list() == [150.0, 600.0]


def test_time_to_first_reply_without_sent_at() -> None:
    messages = _messages().with_columns(sent_at=pl.lit(None, dtype=pl.Datetime("us")))
    first = analysis.time_to_first_reply(messages)
    assert first["seconds"].to_list() == [150.0, 600.0]


def test_time_to_first_reply_ignores_unsent_greeting() -> None:
    messages = _messages().with_columns(
        status=pl.when(pl.col("task_id") == 1).then(pl.lit("pending")).otherwise("status")
    )
    first = analysis.time_to_first_reply(messages)
    assert first["task_id"].to_list() == [5]


def test_messages_per_conversation_counts_totals() -> None:
    counts = analysis.messages_per_conversation(_results())
    assert counts.to_dicts() == [
        {"messages": 1, "conversations": 1},
        {"messages": 2, "conversations": 2},
        {"messages": 4, "conversations": 1},
    ]


def test_field_distributions_counts_values() -> None:
    schema = {
        "properties": {"wants_renewal": {"type": "boolean"}, "satisfaction": {"type": "integer"}}
    }
    conversations = _results().filter(pl.col("messages_sent") > 0)
    fields = analysis.field_distributions(conversations, schema)
    renewal = {r["value"]: r["count"] for r in fields.filter(field="wants_renewal").to_dicts()}
    assert renewal == {"true": 2, "false": 1, "(not settled)": 1}
    satisfaction = fields.filter(field="satisfaction")
    assert satisfaction["value"].to_list() == ["5", "(not settled)", "3"]
    assert satisfaction["share"].sum() == pytest.approx(1.0)


def test_field_distributions_renamed_column() -> None:
    # "status" clashes with a results column, so results_frame stores it as field_status
    schema = {"properties": {"status": {"type": "string"}}}
    results = _results().rename({"status_note": "field_status"})
    fields = analysis.field_distributions(results, schema)
    assert set(fields["field"].to_list()) == {"status"}
    assert fields.filter(value="x")["count"].to_list() == [1]


def test_field_distributions_groups_rare_values() -> None:
    results = pl.DataFrame({"city": ["a", "a", "a", "b", "b", "c", "d"]})
    fields = analysis.field_distributions(results, {"properties": {"city": {}}}, top=2)
    assert fields["value"].to_list() == ["a", "b", "(other)"]
    assert fields["count"].to_list() == [3, 2, 2]


def test_field_distributions_without_schema() -> None:
    fields = analysis.field_distributions(_results(), None)
    assert fields.is_empty()
    assert fields.columns == ["field", "value", "count", "share"]


def test_field_distributions_missing_field_column() -> None:
    with pytest.raises(InvalidInputError, match="no column 'rating'"):
        analysis.field_distributions(_results(), {"properties": {"rating": {}}})


def test_task_states_one_column_per_state() -> None:
    states = analysis.task_states(_tasks())
    march = states.row(0, named=True)
    assert march["rows"] == 5
    assert march["done"] == 4
    assert march["in_session"] == 1
    assert march["queued"] == 0
    assert list(states.columns[3:]) == list(analysis.TASK_STATES)


def _chunk(header: str, *rows: str) -> str:
    return "\n".join([header, *rows]) + "\n"


def test_load_result_chunks_concatenates_in_order() -> None:
    attributes = {
        f"{RESULTS_CHUNK_PREFIX}2": _chunk("task_id,summary,score", "3,third,", "4,,"),
        f"{RESULTS_CHUNK_PREFIX}1": _chunk("task_id,summary,score", '1,"one, two",5', "2,x,"),
        "project_attributes_outbound_call_table_csv_result": _chunk("task_id", "1"),
        "project_attributes_setting_agent_name": "Alex",
    }
    frame = analysis.load_result_chunks(attributes)
    assert frame["task_id"].to_list() == [1, 2, 3, 4]
    assert frame["summary"].to_list() == ["one, two", "x", "third", None]
    # the score column is empty in chunk 2 but typed from all rows
    assert frame.schema["score"] == pl.Int64


def test_load_result_chunks_multiline_cell() -> None:
    text = _chunk("task_id,transcript", '1,"Agent: hi\nRecipient: yes"')
    frame = analysis.load_result_chunks({f"{RESULTS_CHUNK_PREFIX}1": text})
    assert frame["transcript"].to_list() == ["Agent: hi\nRecipient: yes"]


def test_load_result_chunks_none() -> None:
    assert analysis.load_result_chunks({"other": "x"}).is_empty()


def test_load_result_chunks_missing_chunk() -> None:
    attributes = {
        f"{RESULTS_CHUNK_PREFIX}1": _chunk("task_id", "1"),
        f"{RESULTS_CHUNK_PREFIX}3": _chunk("task_id", "3"),
    }
    with pytest.raises(InvalidInputError, match=r"_batch_2 is missing \(found chunks \[1, 3\]\)"):
        analysis.load_result_chunks(attributes)


def test_load_result_chunks_header_mismatch() -> None:
    attributes = {
        f"{RESULTS_CHUNK_PREFIX}1": _chunk("task_id,a", "1,x"),
        f"{RESULTS_CHUNK_PREFIX}2": _chunk("task_id,b", "2,y"),
    }
    with pytest.raises(InvalidInputError, match="_batch_2 has the columns"):
        analysis.load_result_chunks(attributes)


def test_load_result_chunks_round_trip_with_exporter() -> None:
    from smskit.results import csv_chunks

    results = _results().drop("status_note")
    chunks = csv_chunks(results, 3)
    attributes = {f"{RESULTS_CHUNK_PREFIX}{n}": text for n, text in enumerate(chunks, start=1)}
    loaded = analysis.load_result_chunks(attributes)
    assert len(chunks) == 3
    assert loaded.equals(results)
