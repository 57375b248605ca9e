"""The run behind the teaching page, without a browser: levers from the schema, scenarios as sim-run composes
them, seeds, readouts, the question line, the export and its data dictionary, the Info panel, the colours."""

from __future__ import annotations

import io
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.core.model import OUTPUTS
from sim.core.params import ParamError, describe, flatten
from sim.core.run import COUNT_COLUMNS, DEAL_COLUMNS, run_replicates
from sim.edge import app, data_dictionary, page_run, page_text
from sim.edge.config import load_scenario
from sim.edge.page_run import (
    LEVERS,
    SEED_MAX,
    PageRun,
    SeedError,
    Settings,
    control,
    get,
    parse_seed,
    scenario,
    scenario_names,
)

EDGE = Path(__file__).resolve().parents[1] / "sim" / "edge"


# ------------------------------------------------------------------------------------------------ levers
def test_levers_are_parameters_of_the_schema_and_controls_come_from_it():
    schema = {r["name"]: r for r in describe()}
    assert len({lv.key for lv in LEVERS}) == len({lv.name for lv in LEVERS}) == len(LEVERS)
    for lv in LEVERS:
        row = schema[lv.name]
        c = control(lv, row["default"])
        assert c.unit == row["unit"] and c.source == row["source"]
        if row["choices"]:
            assert c.choices == tuple(row["choices"])
        else:  # floor of the schema, up to twice the plausible top (capped at the schema's ceiling)
            assert c.lo == row["lo"]
            assert c.hi >= min(2 * row["plausible"][1], row["hi"]) - 1e-9 and c.hi <= row["hi"] + c.step
            assert 1 <= (c.hi - c.lo) / c.step <= 101


def test_a_slider_follows_the_schema_when_the_schema_changes(monkeypatch):
    lv = next(lv for lv in LEVERS if control(lv, get(scenario("baseline").params, lv.name)).choices is None)
    row = dict(page_run.SCHEMA[lv.name], plausible=(0.0, 40.0), unit="widgets", lo=0.0, hi=1e9)
    monkeypatch.setitem(page_run.SCHEMA, lv.name, row)
    c = control(lv, 1.0)
    assert (c.lo, c.hi, c.unit) == (0.0, 80.0, "widgets") and c.text(1.0).endswith("widgets")


def test_a_lever_outside_the_schema_is_refused():
    with pytest.raises(ParamError, match="not a parameter of the schema"):
        control(page_run.Lever("x", "us.no_such_parameter", "X", "x"), 1.0)


def test_every_scenario_value_fits_its_slider():
    for name in scenario_names():
        params = scenario(name).params
        for lv in LEVERS:
            v = get(params, lv.name)
            c = control(lv, v)
            assert (v in c.choices) if c.choices else c.lo <= v <= c.hi, (name, lv.name, v)


def test_only_the_levers_list_names_parameters():
    """Parameter names will change (issue 8): no page module but page_run's LEVERS may spell one out."""
    names = [r["name"] for r in describe()]
    for path in (EDGE / "app.py", EDGE / "page_text.py", EDGE / "data_dictionary.py"):
        text = path.read_text()
        found = [n for n in names if re.search(rf"['\"`]{re.escape(n)}['\"`]", text)]
        assert not found, f"{path.name} names parameters {found}: read them from page_run.LEVERS"
    source = (EDGE / "page_run.py").read_text()
    lever_block = source[source.index("LEVERS: tuple") : source.index("LEVER_BY_KEY")]
    outside = [n for n in names if f'"{n}"' in source.replace(lever_block, "")]
    assert not outside, outside


# --------------------------------------------------------------------------------------------- scenarios
@pytest.mark.parametrize("name", scenario_names())
def test_scenarios_are_composed_as_sim_run_composes_them(name):
    params, question = load_scenario(name)
    sc = scenario(name)
    assert flatten(sc.params) == flatten(params) and sc.question == question
    assert sc.calibration == "default" and "regime.arrests_ref" in sc.calibrated


def test_page_defaults_are_sim_runs_not_retyped():
    sc = scenario("baseline")
    s = Settings.default()
    assert (s.seed, s.months, s.changes) == (sc.seed, sc.months, ())
    run = PageRun(s)
    # the calibrated reference arrest rate, not the schema's sourced 33 nor a number typed in the page
    cal = next(lv for lv in LEVERS if lv.name in sc.calibrated)
    assert get(run.params, cal.name) == get(sc.params, cal.name) != describe_default(cal.name)


def describe_default(name):
    return next(r["default"] for r in describe() if r["name"] == name)


def test_unknown_scenario_is_one_line():
    with pytest.raises(ParamError, match="unknown scenario; allowed: .*baseline"):
        scenario("nope")


# ------------------------------------------------------------------------------------------------- seeds
@pytest.mark.parametrize(
    "text,why",
    [("-5", "negative"), ("abc", "text is not accepted"), ("", "type a whole number"), ("1e30", "whole")],
)
def test_bad_seeds_get_one_line(text, why):
    with pytest.raises(SeedError, match=why) as e:
        parse_seed(text)
    assert "\n" not in str(e.value) and f"0 to {SEED_MAX}" in str(e.value)


@pytest.mark.parametrize("text", ["1.5", "+5", "1_000", "٣", str(SEED_MAX + 1), "9" * 400, " ", None])
def test_more_bad_seeds(text):
    with pytest.raises(SeedError):
        parse_seed(text)


def test_good_seeds():
    assert parse_seed(" 42 ") == 42 and parse_seed("0") == 0 and parse_seed(str(SEED_MAX)) == SEED_MAX


def test_settings_out_of_range_are_refused():
    with pytest.raises(ParamError, match="months"):
        PageRun(Settings(months=0))
    with pytest.raises(ParamError, match="seed"):
        PageRun(Settings(seed=-1))
    with pytest.raises(ParamError, match="us.policy"):
        PageRun(Settings(changes=(("us.policy", "bribery"),)))


# -------------------------------------------------------------------------------------- a run on the page
@pytest.fixture(scope="module")
def stepped():
    lv = LEVERS[0]
    other = next(c for c in control(lv, "").choices if c != get(scenario("baseline").params, lv.name))
    run = PageRun(Settings("baseline", ((lv.name, other),), 7, 24))
    for _ in range(24):
        run.step()
    return run


def test_two_runs_do_not_share_state():
    a, b = PageRun(Settings.default()), PageRun(Settings.default())
    a.step()
    assert (a.recorded, b.recorded) == (1, 0) and a.model is not b.model and a.params is not b.params


def test_readouts_and_end_of_run(stepped):
    assert stepped.finished and not stepped.step()  # the end: no more months, and no crash
    r = stepped.readouts()
    m = stepped.model
    assert r["Month"][0] == stepped.end_month() == "2027-11" and "24 of 24" in r["Month"][1]
    assert r["Arrests this month"][0] == f"{int(m.out['arrests'][23]):,}"
    released = sum(m.out[c][23] for c in ("released_deal", "released_pardon", "released_served"))
    assert r["Releases this month"][0] == f"{int(released):,}"
    ratio = m.out["arrests"].sum() / sum(
        m.out[c].sum() for c in ("released_deal", "released_pardon", "released_served")
    )
    assert r["Revolving-door ratio"][0] == f"{ratio:.2f}"
    assert r["Learned price"] == (f"{m.regime.price:.2f}", data_dictionary.unit("learned_price"))


def test_the_question_reflects_the_levers(stepped):
    q = stepped.question()
    lv = LEVERS[0]
    assert scenario("baseline").question.strip() in q and lv.label in q
    assert get(stepped.params, lv.name) in q and "Changed on the page" in q
    assert "Changed" not in PageRun(Settings.default()).question()


def test_tables_have_integer_counts_and_the_dictionary_covers_every_column(stepped):
    ts, deals = stepped.tables()
    assert len(ts) == 24 and list(deals.columns) == DEAL_COLUMNS and len(deals) >= 1
    for c in COUNT_COLUMNS & set(ts.columns):
        assert ts[c].dtype == np.int64, c
    assert (
        set(data_dictionary.TIMESERIES)
        == set(ts.columns)
        == {"scenario", "replicate", "seed", "month", *OUTPUTS}
    )
    assert set(data_dictionary.DEALS) == set(DEAL_COLUMNS)
    assert all(u for _, u in data_dictionary.TIMESERIES.values())


def test_the_export_reproduces_with_sim_runs_seed(stepped):
    """The page run is replicate 0 of sim-run with the export's seed and settings (in-process here; the
    browser test runs the export's command in a shell)."""
    ts, deals = stepped.tables()
    s = stepped.settings
    params = scenario(s.scenario).params.replace(**dict(s.changes))
    again = run_replicates(params, months=len(ts), replicates=1, seed=s.seed)
    pd.testing.assert_frame_equal(ts, again.timeseries, check_dtype=False)
    assert len(again.deals) == len(deals)
    assert f"seed={s.seed}" in stepped.command() and all(f"{k}=" in stepped.command() for k, _ in s.changes)


def test_the_export_zip_says_what_it_is(stepped):
    with zipfile.ZipFile(io.BytesIO(stepped.export_zip())) as z:
        names = {Path(n).name: n for n in z.namelist()}
        assert set(names) == {
            "README.txt",
            "timeseries.csv",
            "deals.csv",
            "outcomes.csv",
            "settings.csv",
            "data_dictionary.csv",
            "provenance.json",
        }
        read = lambda f: pd.read_csv(io.BytesIO(z.read(names[f])))  # noqa: E731
        readme = z.read(names["README.txt"]).decode()
        ts, settings, dd, out = (
            read("timeseries.csv"),
            read("settings.csv"),
            read("data_dictionary.csv"),
            read("outcomes.csv"),
        )
        raw = z.read(names["timeseries.csv"]).decode().splitlines()
    assert "CSV" in readme and stepped.command() in readme and "seed" in readme.lower()
    header = raw[0].split(",")
    for c in COUNT_COLUMNS & set(header):  # counts are written as 12, never 12.0
        i = header.index(c)
        assert all(re.fullmatch(r"-?\d+", line.split(",")[i]) for line in raw[1:]), c
    s = dict(zip(settings["setting"], settings["value"].astype(str)))
    assert s["run.seed"] == str(stepped.settings.seed) and s["run.scenario"] == "baseline"
    assert set(flatten(stepped.params)) <= set(s)
    changed = settings[settings["origin"] == "changed on the page"]["setting"].tolist()
    assert changed == [k for k, _ in stepped.settings.changes]
    assert "calibrated" in set(settings["origin"])
    for f in ("timeseries.csv", "deals.csv", "outcomes.csv"):
        cols = set(dd[dd["file"] == f]["column"])
        assert cols >= set(ts.columns if f == "timeseries.csv" else cols), f
    assert dd["unit"].notna().all() and len(out) == 1
    assert set(out.columns) <= set(data_dictionary.OUTCOMES)


def test_an_export_before_the_first_step_is_empty_but_valid():
    with zipfile.ZipFile(io.BytesIO(PageRun(Settings.default()).export_zip())) as z:
        assert any(n.endswith("timeseries.csv") for n in z.namelist())


# ------------------------------------------------------------------------------------------------ the page
def test_info_panel_in_netlogos_order():
    md = page_text.info_markdown(scenario_names())
    heads = re.findall(r"^## (.+)$", md, re.M)
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
    tries = md.split("## Things to try")[1].split("## ")[0]
    assert len(re.findall(r"^\d+\. ", tries, re.M)) >= 5 and tries.count("Look for:") >= 5
    for who in page_text.ACTORS:
        assert f"**{who}**" in md
    for lv in LEVERS:
        assert lv.label in md and control(lv, get(scenario("baseline").params, lv.name)).unit in md
    assert "RU" in md and "docs/ODD.md" in md and "Brandt" in md and "Nash" in md
    for f in page_text.load_sources():
        assert f in md
    html = page_text.to_html(md)
    assert "<h2>Things to try</h2>" in html and "<script" not in html


def test_an_experiment_naming_a_missing_lever_fails_at_import():
    with pytest.raises(KeyError, match="no page lever"):
        page_text.Experiment("x", ("no_such_lever",), "{no_such_lever}", "?")


def _lab(hex_colour):
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    x = (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047
    y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    z = (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
    return (116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])), y


def _contrast(a, b):
    la, lb = _lab(a)[1], _lab(b)[1]
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


@pytest.mark.parametrize("theme,background", [("light", "#ffffff"), ("dark", "#1e1e1e")])
def test_chart_colours_are_distinct_and_visible_in_both_themes(stepped, theme, background):
    for chart in app.charts(stepped):
        colours = [app.PALETTES[theme][s.role] for s in chart.series]
        for c in colours:
            assert _contrast(c, background) >= 3.0, (theme, chart.key, c)
        for i in range(len(colours)):
            for j in range(i + 1, len(colours)):
                (l1, a1, b1), (l2, a2, b2) = _lab(colours[i])[0], _lab(colours[j])[0]
                delta = math.dist((l1, a1, b1), (l2, a2, b2))
                assert delta >= 25, (theme, chart.key, chart.series[i].name, chart.series[j].name, delta)
        text = app.THEME_TEXT[theme][0]
        assert _contrast(text, background) >= 7
        option = app.echarts_option(chart, stepped.months(), theme)
        assert option["textStyle"]["color"] == text and all(
            a["axisLabel"]["color"] == text for a in option["yAxis"]
        )
        legend = app.legend_html(chart, theme)
        assert all(s.name in legend for s in chart.series)  # the full legend, every series
        assert "legend" not in option and "title" not in option  # not ECharts' paged legend
