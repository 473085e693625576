"""The store: DuckDB file, lock, schema versions and bulk helpers."""

from smskit.store.db import (
    Store,
    insert_frame,
    query_frame,
    query_rows,
    query_value,
    update_frame,
    utcnow,
)

__all__ = [
    "Store",
    "insert_frame",
    "query_frame",
    "query_rows",
    "query_value",
    "update_frame",
    "utcnow",
]
