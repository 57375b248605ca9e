"""The teaching page in a real browser: Debian's Chromium driven by Playwright (slow, run in CI).

Starts ``sim-app`` once and checks, as a class would use it: the page renders offline (no request leaves
127.0.0.1, no page error) with the defaults ``sim-run`` uses; a lever change waits for Reset and then shows in
the question line; Step updates the chart within 100 ms (median, written to ``test-artifacts/``); the
download is a zip of CSVs whose README command repeats the run with ``sim-run``; two browser sessions stay
independent; bad seeds get a message next to the box and crash nothing; the end of a run is announced;
nothing overlaps at 1366x768 or at phone width, in the light and the dark theme (screenshots in
``test-artifacts/``); the Info panel follows NetLogo's order.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from sim.edge.page_run import LEVERS, SEED_MAX, PageRun, Settings, control, scenario, scenario_names

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
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
# Click Step in the page and time until the prisoners chart's canvas changes (ms; -1 after 10 s).
STEP_TO_CHART = """async () => {
  const canvas = () => document.querySelector('.chart-prisoners canvas').toDataURL();
  const before = canvas();
  const button = [...document.querySelectorAll('.buttons button')].find(b => b.innerText.trim() === 'STEP');
  const t0 = performance.now();
  button.click();
  while (performance.now() - t0 < 10000) {
    await new Promise(r => requestAnimationFrame(r));
    if (canvas() !== before) return performance.now() - t0;
  }
  return -1;
}"""
DESKTOP, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def app_url():
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed (make test installs it as root: apt-get install chromium)"
        )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / "sim-app.log").open("w")  # a file, not a pipe: a full pipe would stall the server
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "sim-app"), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
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
        os.killpg(proc.pid, 9)
        pytest.fail("sim-app did not answer: " + (ARTIFACTS / "sim-app.log").read_text()[-3000:])
    yield url
    os.killpg(proc.pid, 15)
    proc.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def browser(app_url):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Tab:
    """One browser session on the page, recording page errors, failed requests and requests leaving the
    machine."""

    def __init__(self, browser, url, viewport=DESKTOP, color_scheme="light"):
        self.context = browser.new_context(
            viewport=viewport, accept_downloads=True, color_scheme=color_scheme
        )
        self.page = self.context.new_page()
        self.errors, self.failed, self.outside = [], [], []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        local = ("http://127.0.0.1", "blob:", "data:", "ws://127.0.0.1")
        self.page.on("request", lambda r: None if r.url.startswith(local) else self.outside.append(r.url))
        self.page.goto(url, wait_until="networkidle")
        for chart in ("prisoners", "door", "sanctions", "decision", "europe", "opposition"):
            self.page.wait_for_selector(f".chart-{chart} canvas", timeout=30000)

    def monitor(self, key: str) -> str:
        return self.page.inner_text(f".monitor-{key}")

    def step(self) -> None:
        before = self.monitor("month")
        self.page.get_by_role("button", name="Step").click()
        self.page.wait_for_function(
            "b => document.querySelector('.monitor-month').innerText !== b", arg=before, timeout=10000
        )

    def reset(self) -> None:
        self.page.get_by_role("button", name="Reset").click()

    def choose(self, label: str, option: str) -> None:
        select = self.page.locator(".v-select", has_text=label).first
        select.click()
        self.page.locator(".menuable__content__active .v-list-item", has_text=option).first.click()
        self.page.wait_for_selector(".menuable__content__active", state="detached", timeout=5000)
        select.locator(".v-select__selection", has_text=option).wait_for(timeout=5000)

    def slider(self, css: str, *keys: str) -> None:
        """Move a slider with the keyboard, a key at a time (each waits for the label to show the move)."""
        for k in keys:
            label = self.page.inner_text(f"{css} .bc-lever-label")
            self.page.locator(f"{css} [role=slider]").first.press(k)
            self.page.wait_for_function(
                "([c, l]) => { const e = document.querySelector(c + ' .bc-lever-label');"
                " return e && e.innerText !== l; }",
                arg=[css, label],
                timeout=5000,
            )

    def close(self) -> None:
        assert self.errors == [], self.errors
        assert self.failed == [], self.failed
        assert self.outside == [], self.outside  # offline: every asset is served by the app itself
        self.context.close()


def test_page_offline_with_sim_runs_defaults_and_the_info_panel(browser, app_url):
    t = Tab(browser, app_url)
    page, sc = t.page, scenario("baseline")
    first = PageRun(Settings.default())  # sim-run's default scenario and seed, replicate 0
    assert page.title() == f"Bargaining chips · {sc.start}"
    assert "This website runs on Solara" not in page.inner_text("body")
    controls = page.inner_text(".controls")
    for lv in LEVERS:  # every lever shows the value sim-run's replicate 0 starts with, with its unit
        value = first.start[lv.name]
        assert lv.label in controls and control(lv, value).text(value) in controls, lv.name
    assert f"calibrated: drawn for seed {sc.seed}" in controls  # a posterior draw is marked as such
    assert "from the start state" in controls  # an initial condition comes from the saved state
    assert page.input_value(".seed-box input") == str(sc.seed)
    assert "Changes apply when you press Reset" in controls and "RU (relief unit)" in controls
    assert "No deal yet." in page.inner_text(".deal-log")

    page.get_by_role("tab", name="Info").click()
    info = page.locator(".info-panel")
    info.locator("h2").first.wait_for()
    heads = [h.strip() for h in info.locator("h2").all_inner_texts()]
    assert heads == [
        "What is it?",
        "How it works",
        "How to use it",
        "Things to notice",
        "Things to try",
        "Assumptions and limits",
        "Extending the model",
        "Sources",
    ]
    assert info.locator("h2:has-text('Things to try') + ol > li").count() >= 5
    page.get_by_role("button", name="Open the model description (docs/ODD.md)").click()
    page.wait_for_selector(".bc-odd h1")
    assert "ODD protocol" in page.inner_text(".bc-odd")

    # another scenario fills the levers and the months with its own values, applied on Reset
    page.get_by_role("tab", name="Model").click()
    other = next(n for n in scenario_names() if scenario(n).start != sc.start)
    osc = scenario(other)
    t.choose("Scenario", other)
    page.wait_for_function(
        "m => document.querySelector('.lever-months').innerText.includes(m)", arg=f"{osc.months} month"
    )
    assert f"scenario {other}" in page.inner_text(".reset-waiting")
    t.reset()
    page.wait_for_selector(".reset-waiting", state="detached")
    assert osc.start in t.monitor("month") and osc.question.strip()[:40] in page.inner_text(".bc-question")
    t.close()


def test_levers_wait_for_reset_steps_are_fast_and_the_export_repeats_the_run(browser, app_url, tmp_path):
    t = Tab(browser, app_url)
    page = t.page
    policy = next(lv for lv in LEVERS if lv.name.endswith(".policy"))
    t.choose(policy.label, "snapback")
    page.wait_for_selector(".reset-waiting:has-text('snapback')", timeout=10000)  # the page has re-rendered
    t.slider(".lever-us_value", "ArrowRight")
    waiting = page.inner_text(".reset-waiting")
    assert "Waiting for Reset" in waiting and "snapback" in waiting
    assert "snapback" not in page.inner_text(".bc-question")  # not applied before Reset
    t.reset()
    page.wait_for_selector(".reset-waiting", state="detached")
    question = page.inner_text(".bc-question")
    assert (
        "Changed on the page" in question and "snapback" in question and "US value of a release" in question
    )

    timings, driven = (
        [],
        [],
    )  # ms: in the page (click to redrawn chart); as seen by Playwright (with its overhead)
    for _ in range(36):
        if len(timings) % 2:
            timings.append(page.evaluate(STEP_TO_CHART))
        else:
            before = page.evaluate(CANVAS)
            started = time.perf_counter()
            page.get_by_role("button", name="Step").click()
            page.wait_for_function(f"s => ({CANVAS})() !== s", arg=before, polling="raf", timeout=10000)
            driven.append(1000 * (time.perf_counter() - started))
            timings.append(None)
        if page.locator("li.deal").count() >= 2 and len(timings) >= 24:
            break
    assert page.locator("li.deal").count() >= 1, page.inner_text(".deal-log")
    in_page = [x for x in timings if x is not None]
    median = statistics.median(in_page)
    (ARTIFACTS / "sim-app-step-timing.json").write_text(
        json.dumps(
            {
                "step_to_chart_ms": [round(x, 1) for x in in_page],
                "median_ms": round(median, 1),
                "measured": "in the page: from the Step button's click to the prisoners chart redrawn",
                "playwright_click_to_chart_ms": [round(x, 1) for x in driven],
                "playwright_median_ms": round(statistics.median(driven), 1),
            },
            indent=2,
        )
    )
    assert min(in_page) > 0 and median <= 100, f"median step-to-chart {median:.0f} ms"
    assert page.title().endswith(page.inner_text(".monitor-month .v"))
    decisions = page.inner_text(".bc-decisions")  # each actor's decision of the month, in a sentence
    assert f"Decisions in {page.inner_text('.monitor-month .v')}" in decisions
    assert "The regime chose about" in decisions and page.locator(".bc-decisions li").count() >= 2

    with page.expect_download() as dl:
        page.get_by_role("button", name="Download this run (zip of CSV tables)").click()
    assert dl.value.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(Path(dl.value.path()).read_bytes())) as z:
        files = {Path(n).name: z.read(n) for n in z.namelist()}
    ts = pd.read_csv(io.BytesIO(files["timeseries.csv"]))
    assert len(ts) == len(timings) and ts["arrests"].dtype.kind == "i"
    readme = files["README.txt"].decode()
    command = next(line.strip() for line in readme.splitlines() if "sim-run scenario=" in line)
    assert "us.policy=snapback" in command and "us.value_per_prisoner=" in command
    args = shlex.split(command)
    out = tmp_path / "again"
    r = subprocess.run(
        [str(Path(sys.executable).parent / "sim-run"), *args[1:], f"hydra.run.dir={out}", "report=false"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    again = pd.read_parquet(out / "timeseries.parquet")
    pd.testing.assert_frame_equal(
        ts.reset_index(drop=True),
        again.reset_index(drop=True),
        check_dtype=False,
        check_exact=False,
        rtol=1e-4,
    )
    for table in ("deals", "decisions"):  # the same deals and decisions, in the same order
        mine = pd.read_csv(io.BytesIO(files[f"{table}.csv"]))
        theirs = pd.read_parquet(out / f"{table}.parquet")
        assert len(mine) == len(theirs) and mine["month"].tolist() == theirs["month"].tolist(), table
    t.close()


def test_two_sessions_stay_independent(browser, app_url):
    a = Tab(browser, app_url)
    for _ in range(5):
        a.step()
    b = Tab(browser, app_url)
    assert "start" in b.monitor("month") and "month 5 of" in a.monitor("month")
    b.step()
    a.page.wait_for_timeout(300)
    assert "month 1 of" in b.monitor("month") and "month 5 of" in a.monitor("month")
    a.step()
    b.page.wait_for_timeout(300)
    assert "month 6 of" in a.monitor("month") and "month 1 of" in b.monitor("month")
    a.close()
    b.close()


@pytest.mark.parametrize("seed", ["-5", "abc", "", "1e30"])
def test_a_bad_seed_gets_a_message_next_to_the_box_and_crashes_nothing(browser, app_url, seed):
    t = Tab(browser, app_url)
    page = t.page
    box = page.locator(".seed-box")
    page.fill(".seed-box input", seed)
    message = box.locator(".v-messages__message")
    message.wait_for(timeout=5000)
    text = message.inner_text()
    assert f"0 to {SEED_MAX}" in text and "\n" not in text.strip()
    below, field = message.bounding_box(), box.locator("input").bounding_box()
    assert 0 <= below["y"] - (field["y"] + field["height"]) < 40  # right under the box
    t.reset()
    page.wait_for_selector(".reset-error")
    assert "Not reset" in page.inner_text(".reset-error")
    t.step()  # the page still works, on the run it had
    assert "month 1 of" in t.monitor("month")
    assert "Traceback" not in page.inner_text("body") and "Error" not in page.title()
    page.fill(".seed-box input", "7")
    message.wait_for(state="detached", timeout=5000)
    t.reset()
    page.wait_for_function("() => document.querySelector('.bc-question').innerText.includes('Seed 7')")
    page.wait_for_selector(".reset-error", state="detached", timeout=5000)
    t.close()


def test_the_end_of_the_run_is_announced(browser, app_url):
    t = Tab(browser, app_url)
    page = t.page
    t.slider(".lever-months", "Home", "ArrowRight", "ArrowRight")  # 3 months
    assert "3 months" in page.inner_text(".lever-months")
    t.reset()
    page.wait_for_function(
        "() => document.querySelector('.monitor-month').innerText.includes('3 months to run')"
    )
    page.get_by_role("button", name="Play").click()
    page.wait_for_selector(".end-of-run", timeout=15000)
    end = page.inner_text(".end-of-run")
    assert "End of the run" in end and "3 months" in end and "Reset" in end
    assert page.get_by_role("button", name="Step").is_disabled()
    assert page.get_by_role("button", name="Play").is_disabled()
    assert "month 3 of 3" in t.monitor("month")
    t.close()


LEAVES = (
    ".buttons button, .controls .v-select, .bc-lever-label, .controls .v-slider, .seed-box, .reset-notice, "
    ".ru-note, .bc-question, .bc-monitor, .bc-decisions, .bc-chart-title, .bc-legend, .bc-charts canvas, "
    ".deal-log, "
    ".log .v-btn, .export-note"
)
BOXES = f"""() => [...document.querySelectorAll('{LEAVES}')].map(e => {{
  const r = e.getBoundingClientRect();
  const name = e.className.toString().slice(0, 40) + ':' + (e.innerText || '').slice(0, 20);
  return [name, r.x, r.y, r.width, r.height];
}}).filter(b => b[3] > 0 && b[4] > 0)"""


def _overlaps(boxes):
    out = []
    for i, (n1, x1, y1, w1, h1) in enumerate(boxes):
        for n2, x2, y2, w2, h2 in boxes[i + 1 :]:
            dx = min(x1 + w1, x2 + w2) - max(x1, x2)
            dy = min(y1 + h1, y2 + h2) - max(y1, y2)
            if dx > 1 and dy > 1:
                out.append((n1, n2, round(dx), round(dy)))
    return out


def _text_pixels(png: bytes, rgb: tuple[int, int, int]) -> int:
    """Pixels within 40 of a text colour in the left strip of a chart, where only the y axis's labels are."""
    im = Image.open(io.BytesIO(png)).convert("RGB")
    strip = im.crop((0, 0, 40, im.height))
    strip.save(ARTIFACTS / "chart-axis-strip.png")  # the last one checked, for a person to look at
    return sum(1 for px in strip.get_flattened_data() if max(abs(c - t) for c, t in zip(px, rgb)) < 40)


@pytest.mark.parametrize(
    "name,viewport,scheme",
    [
        ("desktop-light", DESKTOP, "light"),
        ("desktop-dark", DESKTOP, "dark"),
        ("phone-light", PHONE, "light"),
        ("phone-dark", PHONE, "dark"),
    ],
)
def test_nothing_overlaps_and_both_themes_are_readable(browser, app_url, name, viewport, scheme):
    from sim.edge.app import PALETTES, THEME_TEXT

    t = Tab(browser, app_url, viewport=viewport, color_scheme=scheme)
    page = t.page
    for _ in range(14):  # a few deals, so the log and the legends have their full content
        t.step()
    dark = page.locator(".v-application.theme--dark").count() > 0
    assert dark == (scheme == "dark")
    page.screenshot(path=str(ARTIFACTS / f"sim-app-{name}.png"))
    boxes = page.evaluate(BOXES)
    assert len(boxes) > 40
    assert _overlaps(boxes) == []
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert all(x >= -1 and x + w <= width + 1 for _, x, _, w, _ in boxes), "something sticks out sideways"
    # the axis labels are drawn in the theme's text colour: visible on its background
    text = THEME_TEXT["dark" if dark else "light"][0]
    rgb = tuple(int(text[i : i + 2], 16) for i in (1, 3, 5))
    shot = page.locator(".chart-prisoners canvas").screenshot()
    assert _text_pixels(shot, rgb) > 30
    if viewport is DESKTOP:  # the whole page, for a person to look at
        page.set_viewport_size({"width": viewport["width"], "height": 2400})
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / f"sim-app-{name}-full.png"))
        page.set_viewport_size(viewport)
    if not dark and viewport is DESKTOP:  # the theme toggle switches to dark by hand too
        for _ in range(3):
            page.locator("header button").last.click()
            page.wait_for_timeout(200)
            if page.locator(".v-application.theme--dark").count():
                break
        assert page.locator(".v-application.theme--dark").count() == 1
        light_text = tuple(int(THEME_TEXT["dark"][0][i : i + 2], 16) for i in (1, 3, 5))
        page.wait_for_function(
            "c => document.querySelector('.legend-prisoners [data-colour]').dataset.colour === c",
            arg=PALETTES["dark"][0],
        )
        page.wait_for_timeout(300)
        assert _text_pixels(page.locator(".chart-prisoners canvas").screenshot(), light_text) > 30
    t.close()
