"""Tests for the benchmark harness and the generated validation batch."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import phonenumbers
import pytest

from smskit.validation import validate_batch

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(REPO))
    import benchmarks.harness

    return benchmarks.harness


@pytest.fixture
def data(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(REPO))
    import benchmarks.data

    return benchmarks.data


@pytest.mark.parametrize(
    ("value", "goal", "expected"),
    [
        (1.2, "<= 1.3", True),
        (1.3, "<= 1.3", True),
        (1.31, "<= 1.3", False),
        (1.3, "< 1.3", False),
        (2000, ">= 1000", True),
        (999, "> 1000", False),
    ],
)
def test_meets_goal_comparisons(
    harness: ModuleType, value: float, goal: str, expected: bool
) -> None:
    assert harness.meets_goal(value, goal) is expected


def test_meets_goal_rejects_unknown_form(harness: ModuleType) -> None:
    with pytest.raises(ValueError, match="must start with <="):
        harness.meets_goal(1.0, "about 1.3")


def test_format_figures_table(harness: ModuleType) -> None:
    figures = [
        harness.Figure("ratio", 1.234, "x", "<= 1.3", "bare 2.00 s", True),
        harness.Figure("rate", 34409.4, "rows/s", baseline=43693.0),
        harness.Figure("broken", math.nan, "", baseline="raised", passed=False),
    ]
    lines = harness.format_figures(figures).splitlines()
    assert lines[0].split() == ["figure", "measured", "goal", "baseline", "result"]
    assert lines[1].split() == ["ratio", "1.23", "x", "<=", "1.3", "bare", "2.00", "s", "pass"]
    assert lines[2].split() == ["rate", "34,409", "rows/s", "43,693"]
    assert lines[3].split() == ["broken", "error", "raised", "FAIL"]


def test_discover_finds_validation(harness: ModuleType) -> None:
    assert "validation" in harness.discover()


def test_generate_batch_csv_deterministic(data: ModuleType) -> None:
    assert data.generate_batch_csv(300, 1) == data.generate_batch_csv(300, 1)
    assert data.generate_batch_csv(300, 1) != data.generate_batch_csv(300, 2)


def test_generate_batch_csv_counts(data: ModuleType) -> None:
    body = data.generate_batch_csv(2000, 5)
    validation = validate_batch(body, region="US")
    assert validation.counts == data.expected_counts(2000)
    assert validation.counts == {"valid": 1800, "invalid": 100, "duplicate": 100}
    assert validation.columns == ["first_name", "city"]
    assert body.startswith("Phone Number,Reason,first_name,city\r\n")


def test_generate_batch_csv_several_countries(data: ModuleType) -> None:
    validation = validate_batch(data.generate_batch_csv(2000, 5), region="US")
    codes = {
        phonenumbers.parse(verdict.phone).country_code
        for verdict in validation.rows
        if verdict.phone
    }
    assert {1, 33, 34, 39, 44, 49, 52, 55, 61, 91} <= codes


def test_benchmarks_command_quick() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "validation"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # 1 means a goal was missed, which a loaded machine can cause; 2 means an error
    assert result.returncode in (0, 1), result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["figure", "measured"]
    assert lines[1].startswith("validate 10k rows / bare phonenumbers")
    assert "<= 1.3" in lines[1]
    assert lines[-1].startswith("machine: ")


def test_benchmarks_command_unknown_name() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "nothing"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown benchmark nothing" in result.stderr
