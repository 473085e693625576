"""Shared fixtures: a fresh data folder per test, and the environment tests run in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# litellm must never fetch its cost map from the internet.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Return an empty data folder, also set as SMSKIT_DATA."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("SMSKIT_DATA", str(folder))
    yield folder


@pytest.fixture
def project(data_dir: Path):  # type: ignore[no-untyped-def]
    """Return a Project on a fresh data folder."""
    import smskit

    return smskit.open(data_dir)
