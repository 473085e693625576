"""Export frames from a notebook into the data folder's `exports/` folder."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from smskit.errors import InvalidInputError

if TYPE_CHECKING:
    import polars as pl

    from smskit.project import Project

FORMATS = ("csv", "parquet")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def exports_folder(project: Project) -> Path:
    """Return the project's `exports/` folder, created if needed."""
    folder = project.path / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def export_frames(
    project: Project,
    frames: Mapping[str, pl.DataFrame],
    *,
    formats: Iterable[str] = FORMATS,
) -> dict[str, list[Path]]:
    """Write each frame as `exports/<name>.csv` and `exports/<name>.parquet`; return the paths.

    CSV text cells that a spreadsheet would read as a formula get a leading `'`, as in the
    results attributes; Parquet keeps the values as they are. Existing files are replaced.
    """
    from smskit.results import to_csv

    chosen = list(formats)
    unknown = [fmt for fmt in chosen if fmt not in FORMATS]
    if unknown:
        raise InvalidInputError(
            f"unknown export format {unknown[0]!r}; use {' or '.join(FORMATS)}", value=unknown[0]
        )
    for name in frames:
        if not _NAME.match(name):
            raise InvalidInputError(
                f"export name {name!r} is not a plain file name; use letters, digits, '_', "
                "'-' and '.'",
                value=name,
            )
    folder = exports_folder(project)
    written: dict[str, list[Path]] = {}
    for name, frame in frames.items():
        paths = []
        if "csv" in chosen:
            path = folder / f"{name}.csv"
            path.write_text(to_csv(frame), encoding="utf-8")
            paths.append(path)
        if "parquet" in chosen:
            path = folder / f"{name}.parquet"
            frame.write_parquet(path)
            paths.append(path)
        written[name] = paths
    return written
