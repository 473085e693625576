"""Run every `benchmarks/bench_*.py` module and print one table of figures."""

import sys

from benchmarks.harness import main

sys.exit(main())
