"""Run the smskit runner: `python runner.py --help`."""

import sys

from smskit.runner.main import main

if __name__ == "__main__":
    sys.exit(main())
