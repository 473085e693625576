"""Saving a batch: what `Project.add_batch` adds on top of validating the same body.

`add_batch` validates the body, then stores it verbatim with one task per row and a user id per
new number, in one transaction. The figure is the time it adds to `validate_batch` alone, as a
share of the validation time (goal: at most 50%). Both are wall-clock medians of three runs in
the same process, alternately, each save into a fresh data folder.
"""

from __future__ import annotations

import functools
import statistics
import tempfile
import time
from collections.abc import Callable

from benchmarks.data import generate_batch_csv
from benchmarks.harness import Figure, meets_goal
from smskit.datafolder import resolve_data_folder
from smskit.phones import clear_cache
from smskit.project import Project
from smskit.validation import validate_batch

SEED = 20260302
REGION = "US"
GOAL = "<= 0.5"
RUNS = 3


def run(quick: bool) -> list[Figure]:
    """Measure add_batch against validate_batch on a generated batch."""
    rows = 10_000 if quick else 100_000
    body = generate_batch_csv(rows, SEED)
    validate_batch("\n".join(body.splitlines()[:2001]), region=REGION)
    validate_times, add_times = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for run_index in range(RUNS):
            validate_times.append(_wall(lambda: validate_batch(body, region=REGION)))
            project = Project(resolve_data_folder(f"{scratch}/run{run_index}"))
            project.settings()
            save = functools.partial(project.add_batch, f"bench {run_index}", body, region=REGION)
            add_times.append(_wall(save))
    validate = statistics.median(validate_times)
    add = statistics.median(add_times)
    added = (add - validate) / validate
    return [
        Figure(
            f"save {rows // 1000}k batch: added time / validation time",
            added,
            "x",
            goal=GOAL,
            baseline=f"validate {validate:.2f} s, add_batch {add:.2f} s",
            passed=meets_goal(added, GOAL),
        )
    ]


def _wall(work: Callable[[], object]) -> float:
    clear_cache()
    start = time.perf_counter()
    work()
    return time.perf_counter() - start
