"""Run the benchmark modules and print their figures as one table.

Every `benchmarks/bench_*.py` module exposes `run(quick: bool) -> list[Figure]`. A figure
carries its goal as text (`"<= 1.3"`) and a baseline measured in the same run, so a figure
compares two things measured on the same machine at the same time rather than against a
number written down elsewhere.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import math
import operator
import os
import pkgutil
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

_PACKAGE = "benchmarks"
_PREFIX = "bench_"
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}


@dataclass
class Figure:
    """One measured figure, its goal and the baseline it is compared with."""

    name: str
    value: float
    unit: str
    goal: str | None = None
    baseline: str | float | None = None
    passed: bool | None = None


def meets_goal(value: float, goal: str) -> bool:
    """Return whether `value` meets a goal written as `"<= 1.3"`, `"> 1000"` and the like."""
    text = goal.strip()
    for symbol in sorted(_COMPARISONS, key=len, reverse=True):
        if text.startswith(symbol):
            limit = float(text[len(symbol) :])
            return _COMPARISONS[symbol](value, limit)
    raise ValueError(f"goal {goal!r} must start with <=, >=, < or >, e.g. '<= 1.3'")


def median_seconds(
    work: Callable[[], object], *, repeat: int = 3, setup: Callable[[], object] | None = None
) -> float:
    """Run `work` `repeat` times and return the median CPU seconds of one run.

    `setup` runs untimed before every run. The time is `time.process_time`, the CPU time of
    this process, so other programs on the machine do not count against the figure. A full
    garbage collection runs before each run, so one run's garbage is not collected in the
    next run's time.
    """
    return statistics.median(timed_seconds(work, setup=setup)[0] for _ in range(max(repeat, 1)))


def timed_seconds(
    work: Callable[[], object], *, setup: Callable[[], object] | None = None
) -> tuple[float, object]:
    """Run `work` once after `setup` and return its CPU seconds and its result."""
    if setup is not None:
        setup()
    gc.collect()
    start = time.process_time()
    result = work()
    return time.process_time() - start, result


def discover() -> list[str]:
    """Return the names of the `bench_*` modules in this package, sorted."""
    folder = Path(__file__).parent
    return sorted(
        info.name[len(_PREFIX) :]
        for info in pkgutil.iter_modules([str(folder)])
        if info.name.startswith(_PREFIX)
    )


def run_module(name: str, quick: bool) -> list[Figure]:
    """Import `benchmarks.bench_<name>` and return the figures its `run` measures."""
    module = importlib.import_module(f"{_PACKAGE}.{_PREFIX}{name}")
    figures: list[Figure] = module.run(quick)
    return figures


def format_figures(figures: Sequence[Figure]) -> str:
    """Return the figures as a plain-text table with a result column."""
    header = ("figure", "measured", "goal", "baseline", "result")
    lines = [header]
    for figure in figures:
        lines.append(
            (
                figure.name,
                f"{_number(figure.value)} {figure.unit}".strip(),
                figure.goal or "",
                _number(figure.baseline),
                {True: "pass", False: "FAIL", None: ""}[figure.passed],
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _number(value: str | float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if math.isnan(value):
        return "error"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected benchmarks and print the table.

    Exit status: 0 when every goal is met, 1 when a goal is missed, 2 when a benchmark
    raised an error or `--only` names no benchmark.
    """
    names = discover()
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="use smaller sizes for a quick check")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only this benchmark; may be repeated (available: {', '.join(names)})",
    )
    args = parser.parse_args(argv)
    selected = names
    if args.only:
        requested = [name.removeprefix(_PREFIX).removesuffix(".py") for name in args.only]
        unknown = [name for name in requested if name not in names]
        if unknown:
            print(
                f"unknown benchmark {', '.join(unknown)}; available: {', '.join(names)}",
                file=sys.stderr,
            )
            return 2
        selected = requested

    figures: list[Figure] = []
    failed = False
    load_before = os.getloadavg()[0]
    for name in selected:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            figures.extend(run_module(name, args.quick))
        except Exception:
            traceback.print_exc()
            figures.append(Figure(name, math.nan, "", baseline="raised, see above", passed=False))
            failed = True
    print(format_figures(figures))
    # other programs on a shared machine slow both sides of a ratio, but not equally
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} before and "
        f"{os.getloadavg()[0]:.1f} after"
    )
    if failed:
        return 2
    return 1 if any(figure.passed is False for figure in figures) else 0
