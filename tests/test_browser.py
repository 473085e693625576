"""Drive the notebooks in JupyterLab with headless Chromium, as a user would.

JupyterLab runs on 127.0.0.1 with its configuration, settings and runtime files in a temporary
folder, serving a copy of notebooks/. Its kernels use a copy of the prepared project, with a
runner (no simulated recipients, real-time clock) holding two open sessions. The test saves a
batch from the batches form, replies as a recipient in the conversations view, and checks that
the results charts render with data. Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from notebook_data import REPO, copy_folder, prepared_folder, running_runner, wait_for
from playwright.sync_api import expect, sync_playwright

import smskit

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists() and os.environ.get("CI", "").lower() in ("", "0", "false"):
    pytest.skip(
        f"Debian's Chromium is not installed at {CHROMIUM}; scripts/test installs it "
        "(apt-get install chromium). With CI set, this test runs and fails instead.",
        allow_module_level=True,
    )

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = REPO / "test-output" / "screenshots"
VIEWPORT = {"width": 1400, "height": 2400}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 60_000
START_TIMEOUT_SECONDS = 90
OPEN_SESSIONS_BATCH = (
    "Phone Number,Reason,First Name,Plan,Account\n"
    "+1 347 555 0191,Confirm the boiler service appointment on Tuesday,Iris,Basic,A-3001\n"
    "+1 919 555 0142,Ask for feedback on the new thermostat,Owen,Green,A-3002\n"
)
PASTED_BATCH = (
    "Phone Number,Reason,First Name\n"
    "+1 601 555 0117,Confirm the meter reading visit on Wednesday,Ada\n"
    "+1-601-FLOWERS,Offer a free home energy check,Bo\n"
    "+1 601 555 0135,Ask for feedback on the installation,Cy\n"
)
REPLY_TEXT = "Yes, Tuesday at 10am works for me"
# Bar charts in the results notebook: funnel, outcomes, reply rate, time to first reply,
# messages per conversation and payload-schema fields.
RESULTS_CHARTS = 6
NOTEBOOKS_USED = ("01_batches.ipynb", "03_conversations.ipynb", "04_results.ipynb")
TOKEN = secrets.token_hex(16)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def browser_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a copy of the prepared project with a batch whose sessions stay open."""
    folder = copy_folder(
        prepared_folder(tmp_path_factory), tmp_path_factory.mktemp("browser") / "data"
    )
    project = smskit.open(folder)
    project.set("project_attributes_setting_outbound_sms_session_duration", "120")
    project.add_batch("Open sessions", OPEN_SESSIONS_BATCH)
    return folder


@pytest.fixture(scope="module")
def runner(browser_data: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run a runner on the browser project, real-time and without simulated recipients."""
    log = browser_data.parent / "runner.log"
    with running_runner(browser_data, "--time-scale", "1", log=log) as process:
        yield process


def _write_jupyter_settings(home: Path) -> dict[str, str]:
    """Write JupyterLab's configuration into `home` and return the variables that point to it."""
    notification = home / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    # No news pop-up and no update check: they would cover the page and reach the internet.
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    config = home / "config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_lsp": False}}})
    )
    return {
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory, browser_data: Path) -> Iterator[str]:
    """Start JupyterLab on a copy of notebooks/ and a free port; yield its base URL at once.

    The server takes a random token, so that no other local process can use it while it runs.
    """
    home = tmp_path_factory.mktemp("jupyter")
    root = shutil.copytree(REPO / "notebooks", home / "notebooks")
    env = {**os.environ, **_write_jupyter_settings(home), "SMSKIT_DATA": str(browser_data)}
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--allow-root",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
    ]
    with open(home / "jupyterlab.log", "wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


@pytest.fixture(scope="module")
def jupyter_lab(jupyter_server: str, runner: subprocess.Popen[bytes], browser_data: Path) -> str:
    """Wait until JupyterLab responds and the runner has opened two sessions; return the URL."""
    # Both processes were started before this wait, so their start-up times overlap, and the
    # notebooks' kernels start while the runner opens its sessions.
    wait_for(lambda: _answers(f"{jupyter_server}/api/status"), START_TIMEOUT_SECONDS, "JupyterLab")
    for name in NOTEBOOKS_USED:
        _start_kernel(jupyter_server, name)
    project = smskit.open(browser_data)

    def sessions_open() -> bool:
        log = browser_data.parent / "runner.log"
        assert runner.poll() is None, f"the runner exited with {runner.returncode}; see {log}"
        return project.sessions().height >= 2

    wait_for(sessions_open, START_TIMEOUT_SECONDS, "the runner to open two sessions")
    return jupyter_server


def _request(url: str, body: dict[str, Any] | None = None) -> urllib.request.Request:
    return urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(_request(url), timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _start_kernel(base: str, name: str) -> None:
    """Start the kernel session of a notebook, which the page then connects to."""
    body = {"path": name, "name": name, "type": "notebook", "kernel": {"name": "python3"}}
    with urllib.request.urlopen(_request(f"{base}/api/sessions", body), timeout=30) as response:
        assert response.status == 201, f"starting the kernel of {name}: HTTP {response.status}"


@pytest.fixture(scope="module")
def page(jupyter_lab: str) -> Iterator[Any]:
    """Yield a Chromium page with a tall viewport."""
    expect.set_options(timeout=WAIT_MS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport=VIEWPORT)
            tab.set_default_timeout(WAIT_MS)
            yield tab
        finally:
            browser.close()


def _run_notebook(page: Any, base: str, name: str) -> None:
    """Open a notebook, wait for its kernel, and run all cells from the Run menu."""
    page.goto(f"{base}/lab/tree/{name}?reset&token={TOKEN}")
    page.locator(".jp-Notebook").first.wait_for()
    page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for()
    page.locator(".lm-MenuBar-itemLabel").get_by_text("Run", exact=True).click()
    page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()


def _screenshot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / name))


@pytest.mark.timeout(240)
def test_batches_notebook_saves_pasted_batch(
    page: Any, jupyter_lab: str, browser_data: Path
) -> None:
    _run_notebook(page, jupyter_lab, "01_batches.ipynb")
    expect(page.locator(".smskit-batch-form")).to_be_visible()
    expect(page.locator(".smskit-region input")).to_have_value("US")
    page.locator(".smskit-title input").fill("Browser batch")
    page.locator(".smskit-body textarea").fill(PASTED_BATCH)

    invalid = page.locator(".smskit-verdicts tr.smskit-row-invalid")
    expect(invalid).to_have_count(1)
    expect(invalid).to_contain_text("+1-601-FLOWERS")
    expect(page.locator(".smskit-verdicts tr.smskit-row-valid")).to_have_count(2)
    expect(page.locator(".smskit-verdict-counts")).to_contain_text("1 invalid")

    page.locator("button.smskit-save").click()
    expect(page.locator(".smskit-save-message")).to_contain_text("Saved batch")
    expect(page.locator(".smskit-batches")).to_contain_text("Browser batch")
    _screenshot(page, "01_batches.png")

    saved = smskit.open(browser_data).batches().filter(title="Browser batch").to_dicts()
    assert len(saved) == 1
    assert (saved[0]["rows"], saved[0]["valid"], saved[0]["invalid"]) == (3, 2, 1)


@pytest.mark.timeout(240)
def test_conversations_notebook_shows_reply(
    page: Any, jupyter_lab: str, browser_data: Path
) -> None:
    _run_notebook(page, jupyter_lab, "03_conversations.ipynb")
    expect(page.locator(".smskit-sessions")).to_contain_text("Open sessions")
    expect(page.locator(".smskit-batch-row").first).to_be_visible()
    transcript = page.locator(".smskit-transcript")
    expect(transcript).to_contain_text("Agent:")

    page.locator(".smskit-reply-text input").fill(REPLY_TEXT)
    page.locator("button.smskit-reply-send").click()
    expect(page.locator(".smskit-conversations-message")).to_contain_text("written to the spool")
    expect(transcript.locator(".smskit-recipient")).to_contain_text(REPLY_TEXT)
    _screenshot(page, "03_conversations.png")

    messages = smskit.open(browser_data).messages()
    inbound = messages.filter(direction="inbound", body=REPLY_TEXT)
    assert inbound.height == 1


@pytest.mark.timeout(240)
def test_results_notebook_renders_charts(page: Any, jupyter_lab: str) -> None:
    _run_notebook(page, jupyter_lab, "04_results.ipynb")
    # JupyterLab 4 shows an image/svg+xml output as an <img> with a data: URL.
    charts = page.locator(".jp-RenderedSVG img")
    expect(charts).to_have_count(RESULTS_CHARTS)
    for index in range(RESULTS_CHARTS):
        chart = charts.nth(index)
        expect(chart).to_be_visible()
        svg = urllib.parse.unquote(chart.get_attribute("src") or "")
        assert svg.startswith("data:image/svg+xml"), f"chart {index + 1}: {svg[:80]!r}"
        bars = svg.split('class="mark-rect role-mark', 1)[-1]
        assert "<path" in bars, f"chart {index + 1} has no bars"
        assert chart.evaluate("image => image.naturalWidth") > 0, f"chart {index + 1} is blank"
    charts.nth(1).scroll_into_view_if_needed()
    _screenshot(page, "04_results.png")
