"""Teaching notebooks: numbered, stripped of outputs in git, built on the package, and their figures shown.

Each notebook is executed in a Jupyter kernel (nbclient, as nbmake would) and must produce its figures as
``image/png`` outputs, once each: a figure that comes out as the text ``<Figure size ...>`` (what the Agg
backend forced at import gave) fails. A slow test opens a notebook in JupyterLab itself (the README's
``make notebooks``), in Chromium, runs it and looks for the rendered images.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ARTIFACTS = ROOT / "test-artifacts" / "notebooks"
BIN = Path(sys.executable).parent


def test_the_three_notebooks_exist_in_order():
    assert [p.name for p in NOTEBOOKS] == [
        "01-revolving-door.ipynb",
        "02-us-and-eu-levers.ipynb",
        "03-sweep-report.ipynb",
    ]


def test_outputs_are_stripped_and_the_model_is_imported_not_redefined():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path.name
        source = "\n".join(c.source for c in code)
        assert "from sim" in source, path.name
        assert not re.search(r"^\s*class\s+\w+.*(Model|Agent)", source, re.M), path.name
        assert sum(c.cell_type == "markdown" for c in nb.cells) >= 4, path.name  # a narrative, not just code


def test_notebook_texts_match_the_code():
    one = "\n".join(c.source for c in nbformat.read(NOTEBOOKS[0], as_version=4).cells)
    assert "separate step" not in one and "sim_run(" in one  # runs as sim-run does, calibration included
    assert "calibrated/belarus" in one and "saved state" in one  # and says so
    three = "\n".join(c.source for c in nbformat.read(NOTEBOOKS[2], as_version=4).cells)
    assert "<GRID>" not in three and "sim-report results/teaching/levers_grid --prim" in three
    assert 'GRID = ROOT / "results" / "teaching" / "levers_grid"' in three


def _backend(code: str, backend: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    if backend:
        env["MPLBACKEND"] = backend
    r = subprocess.run(
        [sys.executable, "-c", code + "; import matplotlib; print(matplotlib.get_backend())"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-1500:]
    return r.stdout.strip().splitlines()[-1].lower()


def test_plotting_leaves_the_backend_to_its_caller_and_the_command_line_draws_to_files():
    inline = "module://matplotlib_inline.backend_inline"
    assert _backend("import sim.views.plotting", inline) == inline  # a notebook keeps its inline backend
    run = "from sim.edge.page_run import sim_run; sim_run('seed=1', 'replicates=1', 'months=1')"
    assert _backend(run, inline) == inline  # what the notebooks run the model with
    for tool in ("sim.edge.cli", "sim.edge.calibrate", "sim.edge.forecast", "sim.edge.cases"):
        assert _backend(f"import {tool}", inline) == "agg", tool  # sim-run, sim-report, sim-calibrate, ...


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_runs_and_shows_its_figures(path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel chooses its backend, as in Jupyter
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, ARTIFACTS / path.name)  # executed copy, to look at
    images, figures_as_text = 0, []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        seen = set()
        for out in cell.outputs:
            assert out.output_type != "error", (
                f"{path.name} cell {i}: {out.get('ename')}: {out.get('evalue')}"
            )
            data = out.get("data", {})
            if "image/png" in data:
                images += 1
                assert data["image/png"] not in seen, f"{path.name} cell {i}: the same figure shown twice"
                seen.add(data["image/png"])
            elif str(data.get("text/plain", "")).startswith("<Figure size"):
                figures_as_text.append(i)
    assert figures_as_text == [], f"{path.name}: figures shown as text in cells {figures_as_text}"
    assert images >= 2, f"{path.name}: {images} image/png outputs"


# ------------------------------------------------------------------------------------------ JupyterLab
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# every code cell of the open notebook has run (from JupyterLab's model: cells out of view have no prompt)
ALL_RUN = """() => {
  const nb = window.jupyterapp.shell.currentWidget;
  const cells = nb && nb.content ? nb.content.widgets.filter(c => c.model.type === 'code') : [];
  return cells.length > 0 && cells.every(c => c.model.executionCount !== null);
}"""
KERNEL_IDLE = """() => {
  const e = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return !!(window.jupyterapp && e && e.dataset.status === 'idle');
}"""
# the MIME types of every output of the open notebook, cell by cell
OUTPUT_TYPES = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .filter(c => c.model.type === 'code')
  .map(c => c.model.outputs.toJSON().map(o => Object.keys(o.data || {}).join('+') || o.output_type))"""


def _run_all(page, seconds: float) -> None:
    """Run all cells as a user would (Run > Run All Cells), until every code cell has run.

    JupyterLab may ask which kernel to use (accepted: the notebook's Python 3), and starting the chosen kernel
    can drop a run already queued, so an idle kernel with cells not run gets Run All again.
    """
    run_all = "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); return 1; }"
    deadline, idle_since = time.time() + seconds, None
    while time.time() < deadline:
        if page.locator(".jp-Dialog .jp-mod-accept").count():
            page.locator(".jp-Dialog .jp-mod-accept").first.click()
            idle_since = None
        elif page.evaluate(ALL_RUN):
            return
        elif page.evaluate(KERNEL_IDLE):
            idle_since = idle_since or time.time()
            if time.time() - idle_since > 3:
                page.evaluate(run_all)
                idle_since = None
        else:
            idle_since = None
        page.wait_for_timeout(500)
    pytest.fail(f"JupyterLab: the notebook did not run in {seconds} s")


@pytest.mark.slow
def test_a_notebook_in_jupyterlab_shows_its_figures(tmp_path):
    """The README's route: JupyterLab from .venv (``make notebooks``), a notebook run in the browser."""
    if not (BIN / "jupyter-lab").exists():
        pytest.fail("JupyterLab is not installed in .venv: make notebooks (or pip install -e '.[notebooks]')")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it as root)")
    from playwright.sync_api import sync_playwright

    work = tmp_path / "notebooks"
    work.mkdir()
    shutil.copy(NOTEBOOKS[0], work)  # JupyterLab saves outputs: never into the repository's copy
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "config")
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    log = (tmp_path / "jupyterlab.log").open("w")  # a file, not a pipe: a full pipe would stall the server
    proc = subprocess.Popen(
        [
            str(BIN / "jupyter-lab"),
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            "--IdentityProvider.token=test",
            f"--ServerApp.root_dir={work}",
            "--LabApp.expose_app_in_browser=True",
            *(["--allow-root"] if os.geteuid() == 0 else []),
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{base}/api/status?token=test", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start: " + (tmp_path / "jupyterlab.log").read_text()[-3000:])
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 6000})  # tall: every cell is drawn
            page.goto(f"{base}/lab/tree/{NOTEBOOKS[0].name}?token=test", wait_until="domcontentloaded")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60000)
            try:
                _run_all(page, 300)
            finally:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "jupyterlab-01.png"))
            types = page.evaluate(OUTPUT_TYPES)
            imgs = page.locator(".jp-OutputArea-output img")
            n = imgs.count()
            sizes = [imgs.nth(i).evaluate("e => e.naturalWidth") for i in range(n)]
            text = page.inner_text(".jp-Notebook")
            browser.close()
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
        log.close()
    pngs = sum("image/png" in t for cell in types for t in cell)
    assert pngs >= 3 and not any("error" in t for cell in types for t in cell), types
    assert n == pngs and all(w > 300 for w in sizes), (n, pngs, sizes)  # each drawn as an image
    assert "<Figure size" not in text and "Traceback" not in text
