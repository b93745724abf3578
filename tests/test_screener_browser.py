"""The screening notebook in a real JupyterLab, in a real headless Chromium: JupyterLab
served on 127.0.0.1, the notebook run from the Run menu, the Include button clicked, the
decision on disk. `make browser-test` runs it in a venv of its own (.venv-lab: JupyterLab
and Playwright, kept out of the test venv, where JupyterLab would slow every notebook
process); CI runs that target. Without JupyterLab, Playwright or Chromium it is skipped."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pandas as pd
import pytest

pytestmark = pytest.mark.slow
sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("jupyterlab")
CHROMIUM = shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def lab(tmp_path, cli):
    from test_screening import search_file

    code, _, err = cli("new", tmp_path / "rev", "--from", search_file(tmp_path),
                       "--date", "2026-01-01")
    assert code == 0, err
    review = tmp_path / "rev"
    port, token = free_port(), secrets.token_hex(16)
    home = tmp_path / "jupyter"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_DATA_DIR": str(home / "data"), "JUPYTER_RUNTIME_DIR": str(home / "run"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
         "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={review}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}",
                                       timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError("JupyterLab did not start")
                time.sleep(0.5)
        yield review, f"http://127.0.0.1:{port}/lab/tree/notebooks/screen.ipynb?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (CI installs it)")
def test_a_click_in_jupyterlab_writes_the_decision(lab):
    from test_screening import relevant

    review, url = lab
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                                            "--disable-background-networking",
                                            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                                   timeout=90_000)
            page.wait_for_timeout(2_000)  # the kernel's connection settles after it shows idle
            include = page.get_by_role("button", name="Include", exact=True)
            # a Run All made while the kernel's connection is still settling can be lost
            # (the cells stay unrun, the kernel idle): ask again, as a person would
            seen = []  # JupyterLab's dialogs met on the way (a kernel choice, a restart)
            for attempt in range(4):
                for dialog in page.locator(".jp-Dialog").all():
                    if dialog.is_visible():  # answered as a person would: its default button
                        seen.append(dialog.inner_text()[:200])
                        dialog.locator(".jp-mod-accept").first.click()
                page.get_by_role("menuitem", name="Run", exact=True).click()
                page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
                try:
                    include.wait_for(timeout=30_000)
                    break
                except sync_api.Error:
                    if attempt == 3:  # what the page showed, for whoever reads the failure
                        page.screenshot(path=str(review / "failed.png"))
                        raise AssertionError("no Include button; the page: "
                                             f"{review / 'failed.png'}; dialogs: {seen}\n"
                                             + page.inner_text("body")[:3000]) from None
            include.click()
            decisions = review / "corpus" / "decisions.csv"
            deadline = time.monotonic() + 60
            while not decisions.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            page.screenshot(path=str(review / "screener.png"))
        finally:
            browser.close()
    rows = pd.read_csv(decisions, dtype=str, keep_default_na=False)
    assert rows[["coder", "included", "sequence"]].values.tolist() == [["A", "yes", "1"]]
    assert relevant(rows["study_id"].iat[0])  # the scope's most relevant record
