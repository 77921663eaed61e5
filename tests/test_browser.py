"""JupyterLab end to end in a real browser: headless Debian Chromium driven by Playwright.

JupyterLab serves a scratch copy of notebooks/ on 127.0.0.1 with a token. The test opens the
tour and the caching notebooks on the installed "Rust (cellar)" kernelspec, runs them all and
checks what a person would see: each output's text and the renderer JupyterLab chose for it. It
re-runs a cached cell and sees the replayed output come back faster than the miss, uses Tab
completion and the Shift+Tab tooltip, interrupts an endless loop from the toolbar and restarts
the kernel. Screenshots of each notebook land in build/screenshots/.
"""
import json
import os
import re
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

playwright = pytest.importorskip("playwright.sync_api")

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "build" / "screenshots"
TOKEN = "cellar-browser-test"
RUN_TIMEOUT_MS = 600_000

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server over a scratch copy of notebooks/; yields its base URL."""
    work = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", work / "notebooks")
    settings = work / "settings"
    # Record execution times in cell metadata, to compare a miss with a hit.
    (settings / "overrides").mkdir(parents=True)
    # Render every cell (no windowing) so each output is in the page; no news pop-up. The first
    # completion after a cell can take rust-analyzer a little over JupyterLab's default 1 s.
    (settings / "overrides" / "overrides.json").write_text(json.dumps({
        "@jupyterlab/notebook-extension:tracker": {"recordTiming": True, "windowingMode": "none"},
        "@jupyterlab/apputils-extension:notification": {"fetchNews": "false"},
        "@jupyterlab/completer-extension:manager": {"providerTimeout": 5000},
    }))
    port = free_port()
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings / "user"))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={TOKEN}", f"--notebook-dir={work / 'notebooks'}",
         f"--LabApp.user_settings_dir={settings / 'user'}",
         f"--LabServerApp.app_settings_dir={settings / 'overrides'}"]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        env=env, stdout=subprocess.DEVNULL, stderr=(work / "lab.log").open("w"))
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            if time.time() > deadline or server.poll() is not None:
                raise RuntimeError((work / "lab.log").read_text())
            time.sleep(0.5)
    try:
        yield base, work / "notebooks"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--no-first-run", "--disable-component-update",
                  "--disable-sync"])
        yield chromium
        chromium.close()


def open_notebook(browser, base, name):
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.set_default_timeout(120_000)
    page.goto(f"{base}/lab/tree/{name}?reset&token={TOKEN}")
    page.locator(".jp-NotebookPanel").first.wait_for(state="visible")
    page.locator(".jp-KernelName", has_text="Rust (cellar)").first.wait_for()
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
    return page


def wait_until_idle(page):
    page.wait_for_function(
        """() => ![...document.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'))
               && document.querySelector(".jp-Notebook-ExecutionIndicator")?.dataset.status === 'idle'""",
        timeout=RUN_TIMEOUT_MS)


def menu(page, *path):
    for item in path:
        page.get_by_role("menuitem", name=item, exact=True).first.click()


def run_all(page):
    menu(page, "Run", "Run All Cells")
    page.wait_for_timeout(500)
    wait_until_idle(page)


def cell_with(page, source_text):
    """The notebook cell whose source contains `source_text`."""
    return page.locator(".jp-Notebook .jp-CodeCell").filter(has=page.locator(".jp-InputArea", has_text=source_text)).first


def outputs(cell):
    return cell.locator(".jp-OutputArea-output")


def mime_types(cell):
    return [o.get_attribute("data-mime-type") for o in outputs(cell).all()]


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def delete_sessions(base):
    sessions = json.load(urllib.request.urlopen(f"{base}/api/sessions?token={TOKEN}"))
    for s in sessions:
        req = urllib.request.Request(f"{base}/api/sessions/{s['id']}?token={TOKEN}", method="DELETE")
        urllib.request.urlopen(req)


def write_notebook(path, sources):
    """A notebook of code cells on the cellar kernelspec, not yet run."""
    path.write_text(json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}
                  for source in sources],
        "metadata": {"kernelspec": {"name": "cellar", "display_name": "Rust (cellar)", "language": "rust"}},
        "nbformat": 4, "nbformat_minor": 5}))


def test_tour_runs_and_renders_each_output(lab, browser):
    base, _ = lab
    page = open_notebook(browser, base, "tour.ipynb")
    run_all(page)
    shot(page, "tour")

    printed = cell_with(page, 'println!("{greeting}!")')
    # stdout and stderr are separate pipes, so the two outputs may come in either order.
    assert sorted(mime_types(printed)) == ["application/vnd.jupyter.stderr", "application/vnd.jupyter.stdout"]
    assert "Hello from Rust!" in printed.locator(".jp-OutputArea").inner_text()

    value = cell_with(page, "(0..10).map(fib)")
    assert outputs(value).first.inner_text().strip() == "[0, 1, 1, 2, 3, 5, 8, 13, 21, 34]"

    swatch = cell_with(page, "struct Swatch")
    assert mime_types(swatch) == ["text/html"]
    assert swatch.locator(".jp-OutputArea-output div[style*='background']").count() == 1

    displays = cell_with(page, "cellar::display::html")
    assert mime_types(displays) == ["text/html", "text/markdown", "image/svg+xml"]
    assert displays.locator(".jp-OutputArea-output h3").inner_text() == "HTML from a cell"
    assert displays.locator(".jp-OutputArea-output img, .jp-OutputArea-output svg").count() >= 1

    error = cell_with(page, 'let count: u32 = "three"')
    assert mime_types(error) == ["application/vnd.jupyter.stderr"]
    assert "mismatched types" in outputs(error).first.inner_text()

    after = cell_with(page, "still here")
    assert "Hello from Rust, still here" in outputs(after).first.inner_text()
    page.close()
    delete_sessions(base)


def cell_timing(notebook_path, tag):
    nb = json.loads(notebook_path.read_text())
    cell = next(c for c in nb["cells"] if tag in c["metadata"].get("tags", []))
    timing = cell["metadata"]["execution"]
    start = timing["iopub.status.busy"]
    end = timing["iopub.status.idle"]
    from datetime import datetime
    return (datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


def save(page):
    page.keyboard.press("Control+s")
    page.wait_for_timeout(1500)


def test_caching_notebook_replays_outputs_and_hits_fast(lab, browser):
    base, folder = lab
    page = open_notebook(browser, base, "caching.ipynb")
    run_all(page)
    save(page)
    miss = cell_timing(folder / "caching.ipynb", "spinner")
    crunch = cell_with(page, "fn crunch")
    assert "crunched 1..=1000" in crunch.inner_text()
    assert "500500" in crunch.inner_text()

    # Run the cached cell again: a hit, with the same output replayed.
    crunch.locator(".jp-InputArea").click()
    page.keyboard.press("Control+Enter")
    page.wait_for_timeout(300)
    wait_until_idle(page)
    save(page)
    hit = cell_timing(folder / "caching.ipynb", "spinner")
    assert "crunched 1..=1000" in crunch.inner_text()
    assert miss > 1.5 and hit < miss, (miss, hit)

    report = cell_with(page, ":cellar")
    assert "text/html" in mime_types(report)
    assert report.locator("table td", has_text="crunch").count() >= 1
    shot(page, "caching")
    page.close()
    delete_sessions(base)


def test_completion_tooltip_interrupt_and_restart(lab, browser):
    base, folder = lab
    write_notebook(folder / "scratch.ipynb", [
        "let numbers = vec![1, 2, 3];",
        "numbers.ite",
        "String::from",
        "loop { std::hint::spin_loop(); }",
        "numbers.len()",
    ])
    page = open_notebook(browser, base, "scratch.ipynb")
    first = cell_with(page, "let numbers")
    first.locator(".jp-InputArea").click()
    page.keyboard.press("Control+Enter")
    wait_until_idle(page)

    # Tab completion: a popup with the iterator methods.
    cell_with(page, "numbers.ite").locator(".cm-content").click()
    page.keyboard.press("End")
    page.keyboard.press("Tab")
    completer = page.locator(".jp-Completer")
    completer.wait_for(state="visible")
    assert "iter" in completer.inner_text()
    page.keyboard.press("Escape")

    # Shift+Tab: the tooltip with the documentation.
    cell_with(page, "String::from").locator(".cm-content").click()
    page.keyboard.press("End")
    page.keyboard.press("Shift+Tab")
    tooltip = page.locator(".jp-Tooltip")
    tooltip.wait_for(state="visible")
    assert "From" in tooltip.inner_text()
    page.keyboard.press("Escape")

    # Interrupt an endless loop from the toolbar.
    looping = cell_with(page, "spin_loop")
    looping.locator(".jp-InputArea").click()
    page.keyboard.press("Control+Enter")
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='busy']").wait_for()
    page.wait_for_timeout(2000)
    page.locator("jp-button[data-command='notebook:interrupt-kernel'], button[data-command='notebook:interrupt-kernel']").first.click()
    wait_until_idle(page)
    assert "Interrupted" in looping.inner_text()
    shot(page, "interrupt")

    # Restart: the kernel comes back and runs cells again (Kernel menu → Restart Kernel…).
    page.get_by_role("menuitem", name="Kernel", exact=True).first.click()
    page.get_by_role("menuitem", name=re.compile(r"^Restart Kernel")).first.click()
    page.locator(".jp-Dialog .jp-mod-accept").first.click()
    page.wait_for_timeout(1000)
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
    first.locator(".jp-InputArea").click()
    page.keyboard.press("Control+Enter")
    wait_until_idle(page)
    length = cell_with(page, "numbers.len()")
    length.locator(".jp-InputArea").click()
    page.keyboard.press("Control+Enter")
    wait_until_idle(page)
    assert outputs(length).first.inner_text().strip() == "3"
    shot(page, "restart")
    page.close()
    delete_sessions(base)


def run_cell_in_page(page, cell):
    cell.locator(".jp-InputArea").click()
    page.keyboard.press("Control+Enter")
    page.wait_for_timeout(300)
    wait_until_idle(page)


def replace_source(page, cell, text):
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)


def test_an_edited_impl_cell_runs_again_and_can_be_moved(lab, browser):
    base, folder = lab
    write_notebook(folder / "editing.ipynb", [
        "struct Q { x: i32 }",
        "impl Q {\n    fn get(&self) -> i32 { self.x }\n}",
        "Q { x: 5 }.get()",
    ])
    page = open_notebook(browser, base, "editing.ipynb")
    run_all(page)
    check = cell_with(page, "Q { x: 5 }.get()")
    assert outputs(check).first.inner_text().strip() == "5"

    # Edit the method's body and run the impl cell twice: no duplicate definitions.
    impl_cell = cell_with(page, "impl Q")
    replace_source(page, impl_cell, "impl Q {\n    fn get(&self) -> i32 { self.x * 2 }\n}")
    run_cell_in_page(page, impl_cell)
    run_cell_in_page(page, impl_cell)
    assert outputs(impl_cell).count() == 0, impl_cell.inner_text()
    run_cell_in_page(page, check)
    assert outputs(check).first.inner_text().strip() == "10"

    # Cut the impl cell, paste it at the end, edit and run it there: JupyterLab reports the cut
    # cell as deleted, so the moved impl does not conflict with its old copy.
    impl_cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("x")
    check.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("v")
    moved = cell_with(page, "impl Q")
    replace_source(page, moved, "impl Q {\n    fn get(&self) -> i32 { self.x * 3 }\n}")
    run_cell_in_page(page, moved)
    assert outputs(moved).count() == 0, moved.inner_text()
    run_cell_in_page(page, check)
    assert outputs(check).first.inner_text().strip() == "15"
    shot(page, "editing")
    page.close()
    delete_sessions(base)
