"""Write journal: the runner's writes, grouped into one short transaction per tick.

Components record rows and changes here instead of opening the database themselves. The tick
applies everything recorded since the last tick in one transaction, with bulk Arrow inserts and
updates, and then resolves the futures of those who wait for their writes to be durable (for
example before a message is handed to the provider).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import polars as pl

from smskit.clock import naive_utc
from smskit.store import insert_frame, update_frame

Operation = Callable[[duckdb.DuckDBPyConnection], None]

_TIME_COLUMNS = {
    "not_before",
    "started_at",
    "session_ends_at",
    "ended_at",
    "updated_at",
    "created_at",
    "sent_at",
    "status_at",
}


@dataclass
class JournalBatch:
    """The writes taken out of the journal for one transaction."""

    message_inserts: list[dict[str, Any]] = field(default_factory=list)
    task_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    message_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    operations: list[Operation] = field(default_factory=list)
    waiters: list[asyncio.Future[None]] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (
            self.message_inserts or self.task_updates or self.message_updates or self.operations
        )


class Journal:
    """Collects writes until the next tick commits them."""

    def __init__(self) -> None:
        self._batch = JournalBatch()

    def insert_message(self, row: dict[str, Any]) -> None:
        """Insert a `messages` row (it must carry its `message_id`)."""
        self._batch.message_inserts.append(_storable(row))

    def update_task(self, task_id: int, **changes: Any) -> None:
        """Change columns of a task; later changes to the same column win."""
        self._batch.task_updates.setdefault(task_id, {}).update(_storable(changes))

    def update_message(self, message_id: int, **changes: Any) -> None:
        """Change columns of a message; later changes to the same column win."""
        self._batch.message_updates.setdefault(message_id, {}).update(_storable(changes))

    def run(self, operation: Operation) -> None:
        """Run `operation(conn)` in the next transaction, after the bulk writes."""
        self._batch.operations.append(operation)

    def committed(self) -> asyncio.Future[None]:
        """Return a future resolved once everything recorded so far is committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._batch.waiters.append(future)
        return future

    def take(self) -> JournalBatch:
        """Take the recorded writes out, for one transaction."""
        batch, self._batch = self._batch, JournalBatch()
        return batch

    def put_back(self, batch: JournalBatch) -> None:
        """Return a batch whose transaction failed, ahead of what was recorded since."""
        later, self._batch = self._batch, batch
        batch.message_inserts += later.message_inserts
        for task_id, changes in later.task_updates.items():
            batch.task_updates.setdefault(task_id, {}).update(changes)
        for message_id, changes in later.message_updates.items():
            batch.message_updates.setdefault(message_id, {}).update(changes)
        batch.operations += later.operations
        batch.waiters += later.waiters

    def pending(self) -> bool:
        """Tell whether writes are waiting for the next tick."""
        return not self._batch.is_empty() or bool(self._batch.waiters)


def apply_batch(conn: duckdb.DuckDBPyConnection, batch: JournalBatch) -> None:
    """Apply a journal batch on an open transaction: inserts, updates, then operations."""
    if batch.message_inserts:
        insert_frame(conn, "messages", _frame(batch.message_inserts))
    _apply_updates(conn, "tasks", "task_id", batch.task_updates)
    _apply_updates(conn, "messages", "message_id", batch.message_updates)
    for operation in batch.operations:
        operation(conn)


def _apply_updates(
    conn: duckdb.DuckDBPyConnection, table: str, key: str, updates: dict[int, dict[str, Any]]
) -> None:
    # Rows that change the same set of columns are updated together, one statement per set.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row_key, changes in updates.items():
        columns = tuple(sorted(changes))
        groups.setdefault(columns, []).append({key: row_key, **changes})
    for rows in groups.values():
        update_frame(conn, table, key, _frame(rows))


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    columns = {name for row in rows for name in row}
    schema = {name: pl.Datetime("us") for name in columns & _TIME_COLUMNS}
    return pl.DataFrame(rows, schema_overrides=schema, infer_schema_length=None)


def _storable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        name: naive_utc(value) if isinstance(value, datetime) else value
        for name, value in values.items()
    }
