"""Analyses of tasks, messages and results: pure functions from Polars frames to Polars frames.

The frames are the ones `Project` returns: `project.tasks()`, `project.messages()` and
`project.results()`. Each function checks that the columns it reads are present and raises
InvalidInputError naming the missing ones otherwise. Nothing here reads the database.

Example::

    from smskit import analysis
    analysis.funnel(project.tasks(), project.messages())
    analysis.reply_rate(project.results(), "var_Plan")
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl

from smskit.attributes import RESULTS_CHUNK_PREFIX
from smskit.errors import InvalidInputError
from smskit.results import BASE_COLUMNS, COST_COLUMNS, UNSENT_STATUSES

__all__ = [
    "TASK_STATES",
    "field_columns",
    "field_distributions",
    "funnel",
    "load_result_chunks",
    "messages_per_conversation",
    "outcomes",
    "reply_rate",
    "task_states",
    "time_to_first_reply",
]

# Task states in the order a task passes through them; `paused` follows the waiting states.
TASK_STATES = ("queued", "waiting", "paused", "sending", "in_session", "closing", "done")
# Label of a payload-schema field that the conversation did not settle.
NOT_SETTLED = "(not settled)"
# Label of the values past `top` in `field_distributions`, counted together.
OTHER_VALUES = "(other)"

_CHUNK_NAME = re.compile(re.escape(RESULTS_CHUNK_PREFIX) + r"(\d+)$")


def _require(frame: pl.DataFrame, columns: Iterable[str], source: str) -> None:
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"the frame has no column {', '.join(repr(name) for name in missing)}; "
            f"pass the frame that {source} returns",
            column=missing[0],
        )


def _sent_tasks(messages: pl.DataFrame) -> pl.Series:
    """Return the ids of tasks with at least one outbound message that left the provider."""
    sent = messages.filter(
        (pl.col("direction") == "outbound") & ~pl.col("status").is_in(UNSENT_STATUSES)
    )
    return sent.get_column("task_id").drop_nulls().unique()


def _replied_tasks(messages: pl.DataFrame) -> pl.Series:
    """Return the ids of tasks with an inbound message written while the session was open."""
    replied = messages.filter(
        (pl.col("direction") == "inbound") & ~pl.col("after_session").fill_null(False)
    )
    return replied.get_column("task_id").drop_nulls().unique()


def funnel(tasks: pl.DataFrame, messages: pl.DataFrame) -> pl.DataFrame:
    """Count each batch's tasks at every step: rows, valid, sent, replied, finished.

    `rows` counts every CSV row (one task each) and `valid` the rows with the verdict valid.
    `sent` counts tasks with an outbound message that was not left pending or failed, so a
    greeting reported undelivered still counts as sent. `replied` counts sent tasks with an
    inbound message during the session, including tasks whose session is still open.
    `finished` counts tasks that ended with the status finished. One row per batch, by id.
    """
    _require(tasks, ("task_id", "batch_id", "batch", "verdict", "status"), "project.tasks()")
    _require(messages, ("task_id", "direction", "status", "after_session"), "project.messages()")
    sent = _sent_tasks(messages)
    replied = _replied_tasks(messages)
    flags = tasks.select(
        "batch_id",
        "batch",
        valid=pl.col("verdict") == "valid",
        sent=pl.col("task_id").is_in(sent.implode()),
        replied=pl.col("task_id").is_in(sent.implode())
        & pl.col("task_id").is_in(replied.implode()),
        finished=pl.col("status") == "finished",
    )
    counts = flags.group_by("batch_id", "batch").agg(
        rows=pl.len().cast(pl.Int64),
        valid=pl.col("valid").sum().cast(pl.Int64),
        sent=pl.col("sent").sum().cast(pl.Int64),
        replied=pl.col("replied").sum().cast(pl.Int64),
        finished=pl.col("finished").sum().cast(pl.Int64),
    )
    return counts.sort("batch_id")


def outcomes(results: pl.DataFrame, by: str | Sequence[str] | None = None) -> pl.DataFrame:
    """Count the results by status and outcome, most frequent first, with each share.

    With `by` (a column name such as "batch", or several), the counts are per group, and
    `share` is the fraction of the group's rows. Without it, `share` is the fraction of all
    rows.
    """
    groups = _group_columns(by)
    _require(results, [*groups, "status", "outcome"], "project.results()")
    counts = results.group_by(*groups, "status", "outcome").agg(tasks=pl.len().cast(pl.Int64))
    total = pl.col("tasks").sum()
    share = total.over(groups) if groups else total
    counts = counts.with_columns(share=pl.col("tasks") / share)
    return counts.sort(
        [*groups, "tasks", "outcome"], descending=[*[False] * len(groups), True, False]
    )


def _group_columns(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def reply_rate(results: pl.DataFrame, by: str | Sequence[str]) -> pl.DataFrame:
    """Return per group of `by` the rows sent a greeting, those that replied, and the rate.

    `sent` counts rows with at least one message sent. `replied` counts those with the
    status finished, which smskit gives exactly when the recipient replied at least once.
    `reply_rate` is replied / sent, null for a group with nothing sent. Groups are sorted by
    their values, nulls last.
    """
    groups = _group_columns(by)
    if not groups:
        raise InvalidInputError("reply_rate needs a column to group by, such as 'batch'")
    _require(results, [*groups, "messages_sent", "status"], "project.results()")
    sent = pl.col("messages_sent") > 0
    rates = results.group_by(groups).agg(
        rows=pl.len().cast(pl.Int64),
        sent=sent.sum().cast(pl.Int64),
        replied=(sent & (pl.col("status") == "finished")).sum().cast(pl.Int64),
    )
    rates = rates.with_columns(
        reply_rate=pl.when(pl.col("sent") > 0).then(pl.col("replied") / pl.col("sent"))
    )
    return rates.sort(groups, nulls_last=True)


def time_to_first_reply(messages: pl.DataFrame) -> pl.DataFrame:
    """Return per task the time from its first sent message to the recipient's first reply.

    The first sent message is the earliest outbound message that was not left pending or
    failed, timed by `sent_at` (`created_at` when unknown). The first reply is the earliest
    inbound message during the session. Tasks without a reply are left out. `seconds` is
    project time, which runs faster than real time when the runner has a time scale.
    """
    _require(
        messages,
        ("task_id", "direction", "status", "after_session", "created_at", "sent_at"),
        "project.messages()",
    )
    outbound = messages.filter(
        (pl.col("direction") == "outbound") & ~pl.col("status").is_in(UNSENT_STATUSES)
    )
    first_sent = outbound.group_by("task_id").agg(
        first_sent_at=pl.coalesce("sent_at", "created_at").min()
    )
    inbound = messages.filter(
        (pl.col("direction") == "inbound") & ~pl.col("after_session").fill_null(False)
    )
    first_reply = inbound.group_by("task_id").agg(first_reply_at=pl.col("created_at").min())
    joined = first_sent.join(first_reply, on="task_id", how="inner")
    seconds = (pl.col("first_reply_at") - pl.col("first_sent_at")).dt.total_microseconds() / 1e6
    return joined.with_columns(seconds=seconds).sort("task_id")


def messages_per_conversation(results: pl.DataFrame) -> pl.DataFrame:
    """Count conversations by their number of messages, sent and received together.

    A conversation is a result row with at least one message sent. Returns one row per
    total: `messages` (sent plus received) and `conversations` (how many rows have it).
    """
    _require(results, ("messages_sent", "messages_received"), "project.results()")
    conversations = results.filter(pl.col("messages_sent") > 0)
    totals = conversations.select(
        messages=(pl.col("messages_sent") + pl.col("messages_received")).cast(pl.Int64)
    )
    counts = totals.group_by("messages").agg(conversations=pl.len().cast(pl.Int64))
    return counts.sort("messages")


def field_columns(results: pl.DataFrame, schema: Mapping[str, Any] | None) -> dict[str, str]:
    """Map each payload-schema property to its results column.

    A property whose name is already a results column (a base column, a cost column or a
    `var_` column) is stored as `field_<name>`, the rule `smskit.results.results_frame` uses.
    """
    properties = (schema or {}).get("properties") or {}
    used = set(BASE_COLUMNS) | set(COST_COLUMNS)
    used |= {name for name in results.columns if name.startswith("var_")}
    columns: dict[str, str] = {}
    for name in properties:
        column = name
        while column in used:
            column = "field_" + column
        used.add(column)
        columns[name] = column
    return columns


def field_distributions(
    results: pl.DataFrame, schema: Mapping[str, Any] | None, *, top: int = 20
) -> pl.DataFrame:
    """Count the values of every payload-schema field over the given result rows.

    Returns columns `field`, `value` (as text: `true`/`false` for booleans, JSON text for
    lists and objects), `count` and `share` of the field's rows. A null is shown as
    "(not settled)". Per field, the `top` most frequent values are kept and the rest are
    counted together as "(other)". Pass only the rows to describe, for example those with a
    conversation (`results.filter(pl.col("messages_sent") > 0)`).
    """
    if top < 1:
        raise InvalidInputError(f"top must be at least 1, got {top!r}", value=top)
    columns = field_columns(results, schema)
    _require(results, columns.values(), "project.results() with the same payload schema")
    parts = [_value_counts(results, name, column, top) for name, column in columns.items()]
    if not parts:
        return pl.DataFrame(
            schema={"field": pl.String, "value": pl.String, "count": pl.Int64, "share": pl.Float64}
        )
    return pl.concat(parts, how="vertical")


def _value_counts(results: pl.DataFrame, name: str, column: str, top: int) -> pl.DataFrame:
    values = results.get_column(column)
    if values.dtype == pl.Boolean:
        text = values.cast(pl.String).str.to_lowercase()
    else:
        text = values.cast(pl.String)
    counts = (
        pl.DataFrame({"value": text.fill_null(NOT_SETTLED)})
        .group_by("value")
        .agg(count=pl.len().cast(pl.Int64))
        .sort(["count", "value"], descending=[True, False])
    )
    if counts.height > top:
        rest = counts.slice(top).get_column("count").sum()
        counts = pl.concat(
            [counts.head(top), pl.DataFrame({"value": [OTHER_VALUES], "count": [rest]})],
            how="vertical_relaxed",
        )
    total = max(results.height, 1)
    return counts.select(
        pl.lit(name).alias("field"), "value", "count", share=pl.col("count") / total
    )


def task_states(tasks: pl.DataFrame) -> pl.DataFrame:
    """Count each batch's tasks by state: one row per batch, one column per task state.

    Columns: `batch_id`, `batch`, `rows`, then every state of `TASK_STATES` (0 when none).
    """
    _require(tasks, ("batch_id", "batch", "state"), "project.tasks()")
    counts = tasks.group_by("batch_id", "batch").agg(
        rows=pl.len().cast(pl.Int64),
        **{state: (pl.col("state") == state).sum().cast(pl.Int64) for state in TASK_STATES},
    )
    return counts.sort("batch_id")


def load_result_chunks(attributes: Mapping[str, str]) -> pl.DataFrame:
    """Read the results CSV chunks (`..._csv_result_batch_N` attributes) into one frame.

    `attributes` maps attribute names to their text, for example
    `dict(project.attributes().select("name", "value").iter_rows())`; other names are
    ignored. Chunks are read in the order of N, and column types are inferred over all rows
    together. Text cells that smskit neutralised for spreadsheets keep their leading `'`.
    Returns an empty frame when there are no chunks. Raises InvalidInputError when a chunk
    number is missing or a chunk's header differs from the first one's.
    """
    chunks = sorted(
        (int(match.group(1)), text)
        for name, text in attributes.items()
        if (match := _CHUNK_NAME.match(name))
    )
    if not chunks:
        return pl.DataFrame()
    numbers = [number for number, _ in chunks]
    expected = list(range(1, len(chunks) + 1))
    if numbers != expected:
        missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        raise InvalidInputError(
            f"results chunk {RESULTS_CHUNK_PREFIX}{missing[0]} is missing (found chunks "
            f"{numbers}); let the runner refresh the results attributes and read them again",
            name=f"{RESULTS_CHUNK_PREFIX}{missing[0]}",
        )
    frames = [_read_chunk(number, text) for number, text in chunks]
    header = frames[0].columns
    for (number, _), frame in zip(chunks, frames, strict=True):
        if frame.columns != header:
            raise InvalidInputError(
                f"results chunk {RESULTS_CHUNK_PREFIX}{number} has the columns {frame.columns}, "
                f"but chunk 1 has {header}; read the attributes again after the runner's next "
                "results refresh",
                name=f"{RESULTS_CHUNK_PREFIX}{number}",
            )
    # Every cell is read as text first, so a column that is empty in one chunk does not get
    # another type there. One more read of the joined text infers the types over all rows.
    combined = pl.concat(frames, how="vertical")
    buffer = io.BytesIO()
    combined.write_csv(buffer)
    buffer.seek(0)
    return pl.read_csv(buffer, infer_schema_length=None)


def _read_chunk(number: int, text: str) -> pl.DataFrame:
    try:
        return pl.read_csv(io.StringIO(text), infer_schema=False)
    except pl.exceptions.PolarsError as error:
        raise InvalidInputError(
            f"results chunk {RESULTS_CHUNK_PREFIX}{number} is not readable CSV ({error}); "
            "read the attributes again after the runner's next results refresh",
            name=f"{RESULTS_CHUNK_PREFIX}{number}",
        ) from None
