"""Resolve the project data folder and the files inside it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from smskit.errors import InvalidInputError

ENV_VAR = "SMSKIT_DATA"


@dataclass(frozen=True)
class DataFolder:
    """Paths of one project folder: database, locks, spool, ledger and logs."""

    path: Path

    @property
    def database(self) -> Path:
        return self.path / "smskit.duckdb"

    @property
    def store_lock(self) -> Path:
        return self.path / "smskit.duckdb.lock"

    @property
    def store_lock_owner(self) -> Path:
        return self.path / "smskit.duckdb.lock.owner"

    @property
    def runner_lock(self) -> Path:
        return self.path / "runner.lock"

    @property
    def spool(self) -> Path:
        return self.path / "spool" / "events.jsonl"

    @property
    def spool_lock(self) -> Path:
        return self.path / "spool" / "events.jsonl.lock"

    @property
    def local_ledger(self) -> Path:
        return self.path / "local-provider" / "ledger.jsonl"

    @property
    def logs(self) -> Path:
        return self.path / "logs"


def resolve_data_folder(data: str | os.PathLike[str] | None = None) -> DataFolder:
    """Find the data folder and create it if needed.

    Order: the `data` argument; else the SMSKIT_DATA environment variable; else the nearest
    `data/` folder in the current directory or a parent; else `./data`.
    """
    if data is not None and str(data) != "":
        path = Path(data)
    elif os.environ.get(ENV_VAR):
        path = Path(os.environ[ENV_VAR])
    else:
        path = _nearest_data_folder(Path.cwd()) or Path.cwd() / "data"
    path = path.expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InvalidInputError(
            f"data folder {str(path)!r} is a file or lies under one; pass a folder to --data",
            value=str(path),
        ) from None
    except PermissionError:
        raise InvalidInputError(
            f"data folder {str(path)!r} cannot be created (permission denied); "
            "pass a folder you can write to --data",
            value=str(path),
        ) from None
    return DataFolder(path)


def _nearest_data_folder(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "data"
        if candidate.is_dir():
            return candidate
    return None
