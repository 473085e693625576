"""The store: migrations, transactions, the lock and its holder, bulk writes."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path

import polars as pl
import pytest

from smskit.datafolder import DataFolder, resolve_data_folder
from smskit.errors import StoreBusyError
from smskit.store import (
    Store,
    insert_frame,
    query_frame,
    query_rows,
    query_value,
    update_frame,
    utcnow,
)
from smskit.store.migrations import LATEST_VERSION

# DuckDB's worker threads do not survive fork(), so child processes are spawned.
SPAWN = multiprocessing.get_context("spawn")


def test_store_migrates_once(data_dir: Path) -> None:
    store = Store(DataFolder(data_dir))
    with store.transaction() as conn:
        versions = query_rows(conn, "SELECT version FROM schema_migrations")
    assert versions == [(LATEST_VERSION,)]
    with Store(DataFolder(data_dir)).transaction() as conn:
        assert query_value(conn, "SELECT count(*) FROM schema_migrations") == LATEST_VERSION


def test_store_rolls_back_on_error(data_dir: Path) -> None:
    store = Store(DataFolder(data_dir))
    with pytest.raises(RuntimeError, match="boom"), store.transaction() as conn:
        conn.execute("INSERT INTO runtime VALUES ('k', 'v')")
        raise RuntimeError("boom")
    assert store.read("SELECT * FROM runtime").is_empty()


def test_store_bulk_insert_and_update(data_dir: Path) -> None:
    store = Store(DataFolder(data_dir))
    now = utcnow()
    tasks = pl.DataFrame(
        {
            "task_id": [1, 2, 3],
            "batch_id": [1, 1, 1],
            "row": [1, 2, 3],
            "variables": ["{}"] * 3,
            "verdict": ["valid"] * 3,
            "state": ["queued"] * 3,
            "updated_at": [now] * 3,
        }
    )
    with store.transaction() as conn:
        insert_frame(conn, "tasks", tasks)
        update_frame(
            conn,
            "tasks",
            "task_id",
            pl.DataFrame({"task_id": [2, 3], "state": ["sending", "done"]}),
        )
        frame = query_frame(conn, "SELECT task_id, state FROM tasks ORDER BY task_id")
    assert frame["state"].to_list() == ["queued", "sending", "done"]


def _hold_lock(folder: str, seconds: float, ready: object) -> None:
    store = Store(DataFolder(Path(folder)), program="holder-test")
    with store.transaction():
        ready.set()  # type: ignore[attr-defined]
        time.sleep(seconds)


def test_store_busy_names_holder(data_dir: Path) -> None:
    ready = SPAWN.Event()
    holder = SPAWN.Process(target=_hold_lock, args=(str(data_dir), 3.0, ready))
    holder.start()
    try:
        assert ready.wait(10)
        store = Store(DataFolder(data_dir), lock_timeout=0.3)
        with pytest.raises(StoreBusyError, match=rf"pid {holder.pid} \(holder-test\)"):
            with store.transaction():
                pass
    finally:
        holder.join(10)


def _add_batches(folder: str, prefix: str, count: int) -> None:
    import smskit

    project = smskit.open(folder)
    for index in range(count):
        project.add_batch(f"{prefix} {index}", f"Phone Number,Reason\n+1202555{index:04d},Hello\n")


def test_store_two_processes_lose_no_write(data_dir: Path) -> None:
    workers = [
        SPAWN.Process(target=_add_batches, args=(str(data_dir), name, 15))
        for name in ("left", "right")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    store = Store(DataFolder(data_dir))
    assert store.read("SELECT count(*) AS n FROM batches")["n"][0] == 30
    assert store.read("SELECT count(*) AS n FROM tasks")["n"][0] == 30


def test_data_folder_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nested = tmp_path / "repo" / "notebooks"
    nested.mkdir(parents=True)
    (tmp_path / "repo" / "data").mkdir()
    monkeypatch.chdir(nested)
    monkeypatch.delenv("SMSKIT_DATA", raising=False)
    assert resolve_data_folder().path == (tmp_path / "repo" / "data").resolve()
    monkeypatch.setenv("SMSKIT_DATA", str(tmp_path / "env"))
    assert resolve_data_folder().path == (tmp_path / "env").resolve()
    assert resolve_data_folder(tmp_path / "arg").path == (tmp_path / "arg").resolve()


def test_store_lock_owner_file_written(data_dir: Path) -> None:
    folder = DataFolder(data_dir)
    with Store(folder, program="owner-test").transaction():
        owner = json.loads(folder.store_lock_owner.read_text())
    assert owner["pid"] == os.getpid()
    assert owner["program"] == "owner-test"
    assert folder.store_lock_owner.read_text() == ""
