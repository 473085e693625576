"""smskit: AI-driven outbound SMS campaigns run from Jupyter.

`smskit.open()` returns a `Project` for the resolved data folder. Heavy modules (Polars, DuckDB,
the runner, litellm) load on first use, so `import smskit` stays fast.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from smskit.errors import (
    AgentError,
    DeliveryError,
    InvalidInputError,
    ProviderError,
    RunnerLockedError,
    SmskitError,
    StoreBusyError,
)

if TYPE_CHECKING:
    from smskit.project import Project

__version__ = "0.1.0"

__all__ = [
    "AgentError",
    "DeliveryError",
    "InvalidInputError",
    "Project",
    "ProviderError",
    "RunnerLockedError",
    "SmskitError",
    "StoreBusyError",
    "open",
]


def open(data: str | os.PathLike[str] | None = None) -> Project:  # noqa: A001 - public API name
    """Open the project in a data folder.

    The folder is `data`; else the SMSKIT_DATA environment variable; else the nearest `data/`
    folder in the current directory or a parent; else `./data`, created.
    """
    from smskit.datafolder import resolve_data_folder
    from smskit.project import Project

    return Project(resolve_data_folder(data))


def __getattr__(name: str) -> Any:
    if name == "Project":
        from smskit.project import Project

        return Project
    raise AttributeError(f"module 'smskit' has no attribute {name!r}")
