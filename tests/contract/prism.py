"""Run Stoplight Prism as a validating mock of Twilio's Messages API, for contract tests.

Prism (`@stoplight/prism-cli` 5.x) serves `twilio_messages.json` and validates every request
against it. It responds with 422 and the violated rule when a request breaks the contract, and
with 401 when credentials are missing. It is installed once with `npm install` into
`.cache/prism` in the repository, a folder that `.gitignore` lists.

Prism runs without `--errors`: with that flag it also checks its own responses and returns 500
to valid Messages listings, because the examples in Twilio's description carry relative URIs
that break the description's own `format: uri`. Requests that break the contract are rejected
with 422 either way, and the log marks each one with "Request did not pass the validation
rules"; `Prism.request_violations` reads those lines.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import filelock
import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SPEC = HERE / "twilio_messages.json"
CACHE = REPO / ".cache"
PRISM_DIR = CACHE / "prism"
PRISM_PACKAGE = "@stoplight/prism-cli@^5.14"
# Prism 5 log lines for a rejected request: the verdict, each broken rule, the error response.
_REJECTED = re.compile(
    r"Request did not pass the validation rules|\[VALIDATOR\].*error\s+Request |"
    r"Request terminated with error"
)


def install_prism() -> Path:
    """Install Prism into `.cache/prism` unless it is there; return the folder."""
    binary = PRISM_DIR / "node_modules" / ".bin" / "prism"
    CACHE.mkdir(exist_ok=True)
    with filelock.FileLock(str(CACHE / "prism.lock"), timeout=600):
        if binary.exists():
            return PRISM_DIR
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm not found: install Node.js 18 or later for the contract tests")
        command = [npm, "install", "--prefix", str(PRISM_DIR), "--no-audit", "--no-fund"]
        subprocess.run([*command, PRISM_PACKAGE], check=True, timeout=600)
    return PRISM_DIR


class Prism:
    """A running `prism mock` process on a free port of 127.0.0.1."""

    def __init__(self, log_path: Path, spec: Path = SPEC) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.spec = spec
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Prism:
        npx = shutil.which("npx")
        if npx is None:
            raise RuntimeError("npx not found: install Node.js 18 or later for the contract tests")
        command = [npx, "--prefix", str(install_prism()), "--no-install", "prism", "mock"]
        command += ["-h", "127.0.0.1", "-p", str(self.port), str(self.spec)]
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True
            )
        self._wait_until_up(timeout)
        return self

    def _wait_until_up(self, timeout: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"prism exited with {self._process.returncode}:\n{self.log()}")
            try:
                httpx.get(self.url, timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"prism did not respond on {self.url} within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        """Stop Prism and the npx process that started it (one process group)."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        """Return the log written after byte `offset`."""
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", errors="replace")

    def request_violations(self, since: int = 0) -> list[str]:
        """Return the log lines after byte `since` that report a request breaking the contract."""
        return [line for line in self.log_since(since).splitlines() if _REJECTED.search(line)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
