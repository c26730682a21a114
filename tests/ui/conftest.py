"""Browser tests of the FedChain ledger sidebar in a real JupyterLab.

Fixtures: ``jupyter_lab`` (a JupyterLab server on 127.0.0.1, a free port, a token, a temporary
root directory and Jupyter config), ``browser`` (Debian's Chromium driven by PyPI ``playwright``,
never a downloaded browser) and ``lab`` (a fresh page with helpers to open notebooks, run cells
and read the sidebar). Without Chromium, Playwright or the installed labextension the tests skip
with the reason, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "build" / "screenshots"
CHROMIUM = os.environ.get("FEDCHAIN_CHROMIUM", "/usr/bin/chromium")
# Flags that let Debian's Chromium run headless here without reaching the network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LABEXTENSION = "fedchain-labextension"
SIDEBAR_ID = "fedchain-ledger"
SERVER_START_TIMEOUT_S = 90


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ui: drives JupyterLab in headless Chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.ui)
            item.add_marker(pytest.mark.slow)


def _skip_or_fail(reason: str) -> None:
    """A missing prerequisite skips the test locally and fails it in CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run)")
    pytest.skip(reason)


def _labextension_installed() -> bool:
    from jupyter_core.paths import jupyter_path

    return any(
        (Path(root) / LABEXTENSION / "package.json").is_file()
        for root in jupyter_path("labextensions")
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class JupyterLabServer:
    """A running ``jupyter lab``: its URL, token, root directory and log."""

    def __init__(self, base_dir: Path) -> None:
        self.root_dir = base_dir / "root"
        self.config_dir = base_dir / "config"
        self.log_path = base_dir / "jupyter-lab.log"
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._base_dir = base_dir

    def start(self) -> None:
        for directory in (self.root_dir, self.config_dir / "labconfig"):
            directory.mkdir(parents=True, exist_ok=True)
        # No "get Jupyter news?" toast in the screenshots, no checks against the web.
        (self.config_dir / "labconfig" / "page_config.json").write_text(
            json.dumps(
                {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
            )
        )
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(self.config_dir),
            "JUPYTER_RUNTIME_DIR": str(self._base_dir / "runtime"),
            "IPYTHONDIR": str(self._base_dir / "ipython"),
        }
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            # Tests reach the app through window.jupyterapp (as galata does).
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.workspaces_dir={self._base_dir / 'workspaces'}",
            f"--LabApp.user_settings_dir={self._base_dir / 'settings'}",
        ]
        self._log = self.log_path.open("wb")
        self._process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=self.root_dir
        )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        status_url = f"{self.url}/api/status?token={self.token}"
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(status_url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise RuntimeError(
            f"jupyter lab did not answer within {SERVER_START_TIMEOUT_S} s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None


class LabPage:
    """One browser page on JupyterLab, with the steps a test takes."""

    def __init__(self, page: Any, server: JupyterLabServer) -> None:
        self.page = page
        self.server = server
        self.page_errors: list[str] = []
        self.console_errors: list[str] = []
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on(
            "console",
            lambda message: (
                self.console_errors.append(message.text) if message.type == "error" else None
            ),
        )

    # -- JupyterLab -------------------------------------------------------------------------
    def open(self) -> None:
        self.page.goto(f"{self.server.url}/lab?token={self.server.token}")
        self.page.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)
        self.page.evaluate("async () => { await window.jupyterapp.restored; }")
        self.page.wait_for_selector("#jp-main-dock-panel", state="visible")

    def execute_command(self, command: str, args: dict[str, Any] | None = None) -> None:
        """Run a JupyterLab command and wait for it (its result stays in the page)."""
        self.page.evaluate(
            "async ([command, args]) => {"
            " await window.jupyterapp.commands.execute(command, args); }",
            [command, args or {}],
        )

    def set_theme(self, theme: str) -> None:
        """'JupyterLab Light' or 'JupyterLab Dark'."""
        self.execute_command("apputils:change-theme", {"theme": theme})
        self.page.wait_for_selector(f'body[data-jp-theme-name="{theme}"]', state="attached")
        # Let the theme's CSS apply before anyone takes a picture.
        self.page.wait_for_timeout(500)

    # -- Notebooks --------------------------------------------------------------------------
    def new_notebook(self, path: str, kernel: str = "python3") -> None:
        """Create an empty notebook at `path`, open it, and wait for an idle kernel."""
        content = {
            "cells": [],
            "metadata": {
                "kernelspec": {"name": kernel, "display_name": kernel, "language": "python"}
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        self.page.evaluate(
            "async ([path, content]) => {"
            " await window.jupyterapp.serviceManager.contents.save(path,"
            " {type: 'notebook', format: 'json', content}); }",
            [path, content],
        )
        self.open_notebook(path, kernel)

    def open_notebook(self, path: str, kernel: str = "python3") -> None:
        self.execute_command(
            "docmanager:open", {"path": path, "factory": "Notebook", "kernel": {"name": kernel}}
        )
        self.page.wait_for_function(
            "(path) => { const w = window.jupyterapp.shell.currentWidget;"
            " return !!w && !!w.context && w.context.path === path"
            " && w.sessionContext.session?.kernel?.status === 'idle'; }",
            arg=path,
            timeout=60_000,
        )

    def run_cell(self, code: str, timeout_s: float = 120) -> list[dict[str, Any]]:
        """Append `code` as a cell of the current notebook, run it, return its outputs."""
        outputs: list[dict[str, Any]] = self.page.evaluate(
            """async (code) => {
              const app = window.jupyterapp;
              const notebook = app.shell.currentWidget.content;
              notebook.activeCellIndex = notebook.widgets.length - 1;
              if (notebook.activeCell.model.sharedModel.getSource().trim() !== '') {
                await app.commands.execute('notebook:insert-cell-below');
              }
              const cell = notebook.activeCell;
              cell.model.sharedModel.setSource(code);
              await app.commands.execute('notebook:run-cell');
              return cell.model.outputs.toJSON();
            }""",
            code,
        )
        self.wait_for_kernel_idle(timeout_s)
        errors = [output for output in outputs if output.get("output_type") == "error"]
        if errors:
            raise AssertionError(
                f"cell raised {errors[0].get('ename')}: {errors[0].get('evalue')}\n{code}"
            )
        return outputs

    def wait_for_kernel_idle(self, timeout_s: float = 60) -> None:
        self.page.wait_for_function(
            "() => window.jupyterapp.shell.currentWidget"
            ".sessionContext.session?.kernel?.status === 'idle'",
            timeout=timeout_s * 1000,
        )

    def restart_kernel(self) -> None:
        """Restart the current notebook's kernel without the confirmation dialog."""
        self.page.evaluate(
            "async () => { await window.jupyterapp.shell.currentWidget"
            ".sessionContext.session.kernel.restart(); }"
        )
        self.wait_for_kernel_idle()

    # -- The sidebar ------------------------------------------------------------------------
    @property
    def sidebar(self) -> Any:
        return self.page.locator(f"#{SIDEBAR_ID}")

    def open_sidebar(self) -> None:
        """Click the sidebar's tab in the left bar, as a user would."""
        if not self.sidebar.is_visible():
            self.page.locator(f'.jp-SideBar .lm-TabBar-tab[data-id="{SIDEBAR_ID}"]').click()
        self.sidebar.wait_for(state="visible")

    def wait_for_sidebar_status(self, status: str, timeout_s: float = 30) -> None:
        self.page.wait_for_selector(
            f'#{SIDEBAR_ID} .fc-status[data-status="{status}"]', timeout=timeout_s * 1000
        )

    def sidebar_state(self) -> dict[str, Any]:
        """What the sidebar shows, read from its stable classes and data attributes."""
        return self.page.evaluate(
            """(id) => {
              const root = document.getElementById(id);
              const all = (selector) => Array.from(root.querySelectorAll(selector));
              const one = (selector) => root.querySelector(selector);
              const int = (value) => (value === undefined ? null : Number(value));
              const block = one('.fc-block-number');
              return {
                status: one('.fc-status')?.dataset.status ?? null,
                text: root.innerText,
                command: one('.fc-command-text')?.textContent ?? null,
                block_number: block ? int(block.dataset.blockNumber) : null,
                network: one('.fc-network-name')?.textContent ?? null,
                stale: one('.fc-mod-stale') !== null,
                rounds: all('.fc-round').map((r) => ({
                  task_id: int(r.dataset.taskId),
                  round: int(r.dataset.round),
                  phase: r.dataset.phase,
                  commit_count: int(r.dataset.commitCount),
                  total_samples: int(r.dataset.totalSamples),
                  accept_votes: int(r.dataset.acceptVotes),
                  reject_votes: int(r.dataset.rejectVotes),
                  verified: r.dataset.verified,
                })),
                contributions: all('.fc-contribution').map((c) => ({
                  task_id: int(c.dataset.taskId),
                  participant: c.dataset.participant,
                  rounds: int(c.dataset.rounds),
                  samples: int(c.dataset.samples),
                  reward: c.dataset.reward,
                })),
                balances: all('.fc-balance').map((b) => ({
                  account: b.dataset.account,
                  balance: b.dataset.balance,
                })),
                events: all('.fc-event').map((e) => ({
                  kind: e.dataset.kind,
                  block_number: int(e.dataset.blockNumber),
                  latest: e.classList.contains('fc-mod-latest'),
                })),
              };
            }""",
            SIDEBAR_ID,
        )

    def resize_sidebar(self, width_px: int, window_height_px: int | None = None) -> None:
        """Drag the left area's split handle until the sidebar is `width_px` wide, as a user
        would; `window_height_px` also makes the browser window taller (for screenshots)."""
        if window_height_px is not None:
            viewport = self.page.viewport_size or {"width": 1280}
            self.page.set_viewport_size({"width": viewport["width"], "height": window_height_px})
        handle = self.page.locator(
            "#jp-main-split-panel > .lm-SplitPanel-handle:not(.lm-mod-hidden)"
        ).first
        handle_box = handle.bounding_box()
        sidebar_box = self.sidebar.bounding_box()
        assert handle_box is not None and sidebar_box is not None
        x = handle_box["x"] + handle_box["width"] / 2
        y = handle_box["y"] + handle_box["height"] / 2
        self.page.mouse.move(x, y)
        self.page.mouse.down()
        self.page.mouse.move(x + width_px - sidebar_box["width"], y, steps=5)
        self.page.mouse.up()
        self.page.wait_for_function(
            "([id, width]) => Math.abs(document.getElementById(id)"
            ".getBoundingClientRect().width - width) <= 2",
            arg=[SIDEBAR_ID, width_px],
        )

    def click_retry(self) -> None:
        self.sidebar.locator(".fc-retry").click()

    def screenshot_sidebar(self, name: str) -> Path:
        """Save a PNG of the sidebar under build/screenshots/ and return its path."""
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / name
        self.sidebar.screenshot(path=str(path))
        return path


@pytest.fixture(scope="session")
def jupyter_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLabServer]:
    if not _labextension_installed():
        _skip_or_fail(
            f"{LABEXTENSION} is not installed: cd labextension && jlpm install && "
            "jlpm build:prod && pip install ."
        )
    server = JupyterLabServer(tmp_path_factory.mktemp("jupyter-lab"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        _skip_or_fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium chromium-driver")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("the PyPI package playwright is not installed: pip install playwright")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def lab(browser: Any, jupyter_lab: JupyterLabServer) -> Iterator[LabPage]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = LabPage(context.new_page(), jupyter_lab)
        page.open()
        yield page
    finally:
        context.close()
