"""The DuckDB store: one short transaction at a time, under the cross-process lock.

DuckDB lets only one process open a database file for writing, and while it is open no other
process can open it at all. The notebook kernel, the command line and the runner therefore open
the file for one transaction, under `StoreLock`, and close it again. Nothing slow (LLM or HTTP
calls) may happen inside a transaction.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import duckdb
import polars as pl

from smskit.datafolder import DataFolder
from smskit.store.lock import StoreLock
from smskit.store.migrations import MIGRATIONS

logger = logging.getLogger(__name__)

DEFAULT_LOCK_TIMEOUT = float(os.environ.get("SMSKIT_LOCK_TIMEOUT", "20"))

_migrated: set[str] = set()
_migrated_guard = threading.Lock()


def utcnow() -> datetime:
    """Return the current wall-clock time as naive UTC, the form stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


class Store:
    """Access to one data folder's DuckDB file."""

    def __init__(
        self,
        folder: DataFolder,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        program: str | None = None,
    ) -> None:
        self.folder = folder
        self.lock_timeout = lock_timeout
        self.lock = StoreLock(folder.store_lock, folder.store_lock_owner, program)
        self.transactions = 0

    @contextmanager
    def transaction(self, timeout: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the database, run the body in one transaction, commit and close.

        Raises StoreBusyError when the lock is not free within `timeout` seconds.
        """
        with self.lock.hold(self.lock_timeout if timeout is None else timeout):
            conn = duckdb.connect(str(self.folder.database))
            try:
                self._migrate(conn)
                conn.begin()
                try:
                    yield conn
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
                self.transactions += 1
            finally:
                conn.close()

    def read(self, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
        """Run one query in its own transaction and return the rows as a Polars frame."""
        with self.transaction() as conn:
            return query_frame(conn, sql, params)

    def _migrate(self, conn: duckdb.DuckDBPyConnection) -> None:
        key = str(self.folder.database)
        if key in _migrated:
            return
        with _migrated_guard:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
            )
            applied = {row[0] for row in query_rows(conn, "SELECT version FROM schema_migrations")}
            for version, sql in MIGRATIONS:
                if version in applied:
                    continue
                conn.begin()
                conn.execute(sql)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", [version, utcnow()])
                conn.commit()
                logger.info("store %s migrated to schema version %d", key, version)
            _migrated.add(key)


def query_frame(
    conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None
) -> pl.DataFrame:
    """Run a query on an open connection and return a Polars frame."""
    frame: pl.DataFrame = conn.sql(sql, params=list(params) if params else None).pl()
    return frame


def query_rows(
    conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None
) -> list[tuple[Any, ...]]:
    """Run a query on an open connection and return every row as a tuple.

    DuckDB 2 keeps a partly read `execute` result open on the connection and rejects the next
    statement, so results are always read to the end here.
    """
    return conn.execute(sql, list(params) if params else []).fetchall()


def query_value(
    conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None
) -> Any:
    """Run a query and return the first column of its first row, or None when it has no rows."""
    rows = query_rows(conn, sql, params)
    return rows[0][0] if rows else None


def insert_frame(conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Bulk-insert a Polars frame whose columns are a subset of the table's."""
    if frame.is_empty():
        return
    columns = ", ".join(f'"{name}"' for name in frame.columns)
    conn.register("_insert_frame", frame.to_arrow())
    try:
        conn.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _insert_frame")
    finally:
        conn.unregister("_insert_frame")


def update_frame(
    conn: duckdb.DuckDBPyConnection, table: str, key: str, frame: pl.DataFrame
) -> None:
    """Bulk-update rows of `table` matched on `key` with the other columns of `frame`."""
    if frame.is_empty():
        return
    assignments = ", ".join(f'"{name}" = u."{name}"' for name in frame.columns if name != key)
    conn.register("_update_frame", frame.to_arrow())
    try:
        conn.execute(
            f"UPDATE {table} SET {assignments} FROM _update_frame u "
            f'WHERE {table}."{key}" = u."{key}"'
        )
    finally:
        conn.unregister("_update_frame")
