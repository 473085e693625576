"""A project folder with finished conversations, shared by the notebook and browser tests.

`prepared_folder` adds the fixture batch (tests/data/notebook_batch.csv) and a payload schema
to a fresh folder and runs the runner until every task is done, with simulated recipients and
a fast clock. The folder is prepared once per test session and copied by tests that change it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BATCH = REPO / "tests" / "data" / "notebook_batch.csv"
BATCH_TITLE = "Notebook fixture"
SCHEMA = {
    "type": "object",
    "properties": {
        "wants_renewal": {"type": "boolean", "description": "whether they agreed to renew"},
        "preferred_day": {"type": "string", "description": "the day they chose, if any"},
        "satisfaction": {"type": "integer", "description": "rating from 1 to 5, if given"},
    },
}
CLOCK_START = "2026-03-02T17:00:00Z"
RUNNER_TIMEOUT_SECONDS = 120
_MARK = ".notebook-data-ready"


def runner_command(folder: Path, *extra: str) -> list[str]:
    """Return the command line of a runner on `folder` with the test clock."""
    return [
        sys.executable,
        str(REPO / "runner.py"),
        "--data",
        str(folder),
        "--clock-start",
        CLOCK_START,
        "--port",
        "0",
        *extra,
    ]


def prepared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the session's prepared project folder, preparing it on first use."""
    folder = tmp_path_factory.getbasetemp() / "notebook-data"
    if (folder / _MARK).exists():
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    _prepare(folder)
    (folder / _MARK).write_text("ready\n")
    return folder


def _prepare(folder: Path) -> None:
    import smskit

    project = smskit.open(folder)
    project.set("project_attributes_setting_default_region", "US")
    project.set("project_attributes_setting_outbound_sms_session_duration", "10")
    project.set("project_attributes_setting_outbound_payload_schema", json.dumps(SCHEMA))
    project.add_batch(BATCH_TITLE, BATCH.read_text(encoding="utf-8"))
    command = runner_command(
        folder, "--until-idle", "--simulate", "--time-scale", "120", "--log-level", "WARNING"
    )
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=RUNNER_TIMEOUT_SECONDS,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, f"runner exited with {done.returncode}:\n{done.stderr[-3000:]}"
    states = project.status()["tasks"]
    assert states["done"] == len(project.tasks()), f"tasks not all done: {states}"


def copy_folder(source: Path, target: Path) -> Path:
    """Copy a project folder that no process is using, without its lock owner files."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock", "*.owner", _MARK))
    return target


@contextmanager
def running_runner(folder: Path, *extra: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run a runner on `folder` for the body of the `with` block, then stop it with SIGTERM."""
    with open(log, "wb") as output:
        process = subprocess.Popen(
            runner_command(folder, *extra),
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env={**os.environ, "SMSKIT_DATA": str(folder)},
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def wait_for(condition: object, timeout: float, what: str, interval: float = 0.2) -> None:
    """Call `condition` until it returns a true value; fail naming `what` after `timeout` s."""
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
