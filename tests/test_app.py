"""The teaching page in a real browser: Debian's Chromium driven by Playwright (slow, run in CI).

Starts ``sim-app``, checks the charts render with no page error and no request leaving the machine, moves a
lever, steps the model and checks the chart and the deal log change, exports the run's tables, and saves a
screenshot and the step-to-chart timings under ``test-artifacts/``.
"""

from __future__ import annotations

import io
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from sim.edge.app import TeachingModel

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
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
CANVAS = (
    "() => { const c = document.querySelector('.chart-prisoners canvas'); return c ? c.toDataURL() : ''; }"
)


def test_teaching_model_takes_flat_parameters():
    m = TeachingModel(
        scenario_name="us_maximum_pressure", price_per_prisoner=2.0, eu_stance="relaxed", seed="7"
    )
    assert m.params.us.policy == "maximum_pressure" and m.params.us.price_per_prisoner == 2.0
    assert m.params.eu.stance == "relaxed" and m.params.us.potash.level == 1.0 and m.seed_used == 7
    for _ in range(3):
        m.step()
    ts, deals = m.tables()
    assert len(ts) == 3 and ts["month"].tolist() == ["2026-01", "2026-02", "2026-03"] and deals.empty


@pytest.fixture(scope="module")
def app_url():
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed (make test installs it as root: apt-get install chromium)"
        )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "sim-app"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("sim-app did not answer: " + (proc.stdout.read() if proc.stdout else ""))
    yield url
    os.killpg(proc.pid, 15)
    proc.wait(timeout=20)


def test_page_in_chromium(app_url):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
        errors, failed, outside = [], [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.on(
            "request",
            lambda r: (
                outside.append(r.url)
                if not r.url.startswith(("http://127.0.0.1", "blob:", "data:", "ws://127.0.0.1"))
                else None
            ),
        )
        page.goto(app_url, wait_until="networkidle")
        for chart in ("prisoners", "door", "sanctions"):
            page.wait_for_selector(f".chart-{chart} canvas", timeout=30000)
        assert "Deal log" in page.inner_text(".deal-log") and "No deal yet." in page.inner_text(".deal-log")

        # move a lever: the US policy, then reset to apply it
        page.locator(".v-select", has_text="US policy").click()
        page.locator(".v-list-item", has_text="snapback").click()
        page.get_by_role("button", name="Reset").click()
        page.wait_for_function(
            "() => document.querySelector('.deal-log').innerText.includes('US policy: snapback')"
        )

        # step: the chart changes every month; a deal appears within two years
        timings = []
        for _ in range(24):
            before = page.evaluate(CANVAS)
            t = time.perf_counter()
            page.get_by_role("button", name="Step").click()
            page.wait_for_function(f"s => ({CANVAS})() !== s", arg=before, polling="raf", timeout=10000)
            timings.append(time.perf_counter() - t)
            if page.locator("li.deal").count():
                break
        assert page.locator("li.deal").count() >= 1, page.inner_text(".deal-log")
        assert "released" in page.locator("li.deal").first.inner_text()

        with page.expect_download() as dl:
            page.get_by_role("button", name="Export this run's tables (CSV)").click()
        with zipfile.ZipFile(io.BytesIO(Path(dl.value.path()).read_bytes())) as z:
            rows = z.read("timeseries.csv").decode().strip().splitlines()
            assert len(rows) - 1 == len(timings) and "deals.csv" in z.namelist()

        page.screenshot(path=str(ARTIFACTS / "sim-app.png"), full_page=True)
        (ARTIFACTS / "sim-app-step-timing.json").write_text(
            json.dumps(
                {
                    "step_to_chart_ms": [round(1000 * t, 1) for t in timings],
                    "median_ms": round(1000 * statistics.median(timings), 1),
                },
                indent=2,
            )
        )
        browser.close()
    assert errors == [], errors
    assert failed == [], failed
    assert outside == [], outside  # offline: every asset is served by the app itself
