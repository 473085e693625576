"""Run the four notebooks with nbval on a project with finished conversations.

The results notebook exports the frames it shows into the data folder's `exports/`. The tests
check those figures against counts made here, in plain Python, from the project's tasks,
messages and results.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import polars as pl
import pytest
from notebook_data import REPO, prepared_folder

NOTEBOOKS = REPO / "notebooks"
NOTEBOOK_NAMES = (
    "01_batches.ipynb",
    "02_settings.ipynb",
    "03_conversations.ipynb",
    "04_results.ipynb",
)
OPENING_CELL = "import smskit\n\nproject = smskit.open()\nproject"
NBVAL_TIMEOUT_SECONDS = 240
FUNNEL_STEPS = ("rows", "valid", "sent", "replied", "finished")


@pytest.fixture(scope="module")
def notebook_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepared_folder(tmp_path_factory)


@pytest.fixture(scope="module")
def nbval_run(notebook_data: Path) -> subprocess.CompletedProcess[str]:
    shutil.rmtree(notebook_data / "exports", ignore_errors=True)
    env = {**os.environ, "SMSKIT_DATA": str(notebook_data)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            # The suite's addopts turn the nbval plugin off; this run needs it.
            "-o",
            "addopts=--strict-markers",
            "-p",
            "nbval",
            "--nbval-lax",
            "--nbval-current-env",
            "-p",
            "no:cacheprovider",
            "-q",
            str(NOTEBOOKS),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=NBVAL_TIMEOUT_SECONDS,
        check=False,
    )


def _read_notebook(name: str) -> dict[str, object]:
    notebook: dict[str, object] = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    return notebook


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_committed_without_outputs(name: str) -> None:
    cells = _read_notebook(name)["cells"]
    assert isinstance(cells, list)
    for cell in cells:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{name}: cell {cell['id']} has outputs"
            assert cell["execution_count"] is None, f"{name}: cell {cell['id']} was run"


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_opens_with_title_and_project(name: str) -> None:
    cells = _read_notebook(name)["cells"]
    assert isinstance(cells, list)
    title = "".join(cells[0]["source"])
    assert cells[0]["cell_type"] == "markdown"
    assert title.startswith("# ")
    assert len(title.split("\n\n")) == 2, "the title is followed by one paragraph of purpose"
    assert "".join(cells[1]["source"]) == OPENING_CELL


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_code_cells_are_short(name: str) -> None:
    cells = _read_notebook(name)["cells"]
    assert isinstance(cells, list)
    for cell in cells:
        if cell["cell_type"] == "code":
            lines = "".join(cell["source"]).splitlines()
            assert len(lines) <= 10, f"{name}: cell {cell['id']} has {len(lines)} lines"


@pytest.mark.timeout(NBVAL_TIMEOUT_SECONDS + 120)
def test_notebooks_run_under_nbval(nbval_run: subprocess.CompletedProcess[str]) -> None:
    output = nbval_run.stdout[-5000:] + nbval_run.stderr[-2000:]
    assert nbval_run.returncode == 0, output
    assert "passed" in nbval_run.stdout


def _sent_and_replied(messages: pl.DataFrame) -> tuple[set[int], set[int]]:
    sent: set[int] = set()
    replied: set[int] = set()
    for message in messages.iter_rows(named=True):
        if message["direction"] == "outbound" and message["status"] not in ("pending", "failed"):
            sent.add(message["task_id"])
        if message["direction"] == "inbound" and not message["after_session"]:
            replied.add(message["task_id"])
    return sent, replied & sent


@pytest.mark.timeout(NBVAL_TIMEOUT_SECONDS + 120)
def test_results_notebook_funnel_matches_tasks(
    nbval_run: subprocess.CompletedProcess[str], notebook_data: Path
) -> None:
    import smskit

    assert nbval_run.returncode == 0, nbval_run.stdout[-3000:]
    project = smskit.open(notebook_data)
    sent, replied = _sent_and_replied(project.messages())
    expected: dict[int, Counter[str]] = defaultdict(Counter)
    titles: dict[int, str] = {}
    for task in project.tasks().iter_rows(named=True):
        counts = expected[task["batch_id"]]
        titles[task["batch_id"]] = task["batch"]
        counts["rows"] += 1
        counts["valid"] += task["verdict"] == "valid"
        counts["sent"] += task["task_id"] in sent
        counts["replied"] += task["task_id"] in replied
        counts["finished"] += task["status"] == "finished"
    shown = pl.read_csv(notebook_data / "exports" / "funnel.csv")
    assert sorted(shown["batch_id"].to_list()) == sorted(expected)
    for row in shown.iter_rows(named=True):
        batch_id = row["batch_id"]
        assert row["batch"] == titles[batch_id]
        assert {step: row[step] for step in FUNNEL_STEPS} == {
            step: expected[batch_id][step] for step in FUNNEL_STEPS
        }
    fixture = expected[1]
    assert fixture["rows"] == 30
    assert fixture["valid"] == 25
    assert 0 < fixture["finished"] <= fixture["replied"] <= fixture["sent"] <= fixture["valid"]


@pytest.mark.timeout(NBVAL_TIMEOUT_SECONDS + 120)
def test_results_notebook_outcomes_match_results(
    nbval_run: subprocess.CompletedProcess[str], notebook_data: Path
) -> None:
    import smskit

    assert nbval_run.returncode == 0, nbval_run.stdout[-3000:]
    results = smskit.open(notebook_data).results()
    expected = Counter((row["status"], row["outcome"]) for row in results.iter_rows(named=True))
    shown = pl.read_csv(notebook_data / "exports" / "outcomes.csv")
    counted = {(row["status"], row["outcome"]): row["tasks"] for row in shown.iter_rows(named=True)}
    assert counted == dict(expected)
    assert abs(shown["share"].sum() - 1.0) < 1e-9
    assert counted[("failed", "invalid-phone-number")] == 4
    assert counted[("failed", "duplicate-phone-number")] == 1


@pytest.mark.timeout(NBVAL_TIMEOUT_SECONDS + 120)
def test_results_notebook_exports_results(
    nbval_run: subprocess.CompletedProcess[str], notebook_data: Path
) -> None:
    import smskit

    assert nbval_run.returncode == 0, nbval_run.stdout[-3000:]
    results = smskit.open(notebook_data).results()
    exported = pl.read_parquet(notebook_data / "exports" / "results.parquet")
    assert exported.equals(results)
    from_csv = pl.read_csv(notebook_data / "exports" / "results.csv", infer_schema=False)
    assert from_csv.columns == results.columns
    assert from_csv["task_id"].cast(pl.Int64).to_list() == results["task_id"].to_list()
    assert "var_Plan" in results.columns
    assert "satisfaction" in results.columns
