"""The run behind the teaching page, without a browser: it is replicate 0 of sim-run (same calibration, same
start state, same months), levers from the schema, seeds, readouts, the question line, the decisions in
sentences, the export and its data dictionary, the Info panel, the colours."""

from __future__ import annotations

import io
import json
import math
import re
import subprocess
import zipfile
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.core.handoff import INITIAL_CONDITIONS
from sim.core.model import BASE_OUTPUTS, COUNT_OUTPUTS
from sim.core.params import ParamError, describe, flatten
from sim.core.run import DEAL_COLUMNS, DECISION_COLUMNS, spawn_seeds
from sim.edge import app, data_dictionary, page_decisions, page_run, page_text
from sim.edge.page_run import (
    LEVER_BY_KEY,
    LEVERS,
    SEED_MAX,
    PageRun,
    SeedError,
    Settings,
    control,
    parse_seed,
    run_config,
    scenario,
    scenario_names,
    start_values,
)
from sim.store.cases import scenarios_for

ROOT = Path(__file__).resolve().parents[1]
EDGE = ROOT / "sim" / "edge"


def sim_run(command: str):
    """What ``sim-run`` computes for a command line (its composition, forward set-up and replicates)."""
    return page_run.sim_run(*command.split()[1:])


def stepped_run(settings: Settings, months: int) -> PageRun:
    run = PageRun(settings)
    for _ in range(months):
        run.step()
    return run


# ------------------------------------------------------------------------------------- same run as sim-run
@pytest.mark.parametrize(
    "settings,months",
    [
        (None, 30),  # the page's first run: sim-run's default scenario and seed
        (Settings("baseline", (("us.policy", "conditional"), ("regime.arrests_ref", 20.0)), 7, 40), 25),
        (Settings("us_snapback", (("lithuania.instruments.transit.level", 0.0),), 123, 12), 12),
        (Settings("backtest_2024", (), 5, 18), 9),
    ],
)
def test_a_page_run_is_replicate_0_of_sim_run_month_for_month(settings, months):
    """The page's run with seed N, stepped a month at a time, is replicate 0 of the sim-run command the page
    shows: timeseries, deals and decisions identical for the months stepped (the calibration's particle and
    start state included; a lever the page sets is an explicit value the calibration never replaces)."""
    settings = settings or Settings.default()
    run = stepped_run(settings, months)
    res, fw = sim_run(run.command())
    ts, deals, decisions = run.tables()
    assert len(ts) == months and f"months={months}" in run.command()
    pd.testing.assert_frame_equal(ts, res.timeseries)
    pd.testing.assert_frame_equal(deals, res.deals)
    pd.testing.assert_frame_equal(decisions, res.decisions)
    assert run.replicate_seed == spawn_seeds(settings.seed, 1)[0]
    assert {k: run.record()[k] for k in fw.record()} == fw.record()
    assert run.forward.replicates[0].particle == fw.replicates[0].particle


def test_the_default_run_is_sim_runs_default_with_the_installed_calibration():
    """Settings.default() is sim-run's scenario, seed and months; with parameter uncertainty (sim-run's
    default) the run draws a posterior particle and starts from its saved state, so its calibrated values are
    the particle's, not the case file's nor a number typed in the page."""
    rc = run_config(("scenario=baseline",))
    s = Settings.default()
    assert (s.scenario, s.seed, s.months, s.changes) == ("baseline", rc.seed, rc.months, ())
    run = PageRun(s)
    rec = run.record()
    assert rec["calibration"] and rec["parameter_uncertainty"] and rec["particle"] >= 0
    assert run.forward.replicates[0].state is not None  # a saved state, not the case's synthetic stock
    particle = run.forward.calibration.state_particles.iloc[rec["particle"]]
    case = {r["name"]: r["default"] for r in describe(run.forward.case)}
    calibrated = [lv for lv in LEVERS if lv.name in run.forward.calibration.free]
    assert calibrated
    for lv in calibrated:
        assert run.start[lv.name] == pytest.approx(particle[lv.name]) and run.start[lv.name] != case[lv.name]


def test_a_lever_the_page_sets_is_never_replaced_by_the_calibration():
    lv = LEVER_BY_KEY["arrests"]
    run = PageRun(Settings("baseline", ((lv.name, 20.0),), 7, 6))
    assert run.params.regime.arrests_ref == 20.0 == run.start[lv.name]
    table = run.settings_table().set_index("setting")
    assert table.loc[lv.name, "origin"].startswith("changed on the page")
    other = next(n for n in run.forward.calibration.free if n != lv.name)
    assert table.loc[other, "origin"] == f"calibration: posterior particle {run.record()['particle']}"


def test_an_initial_condition_lever_starts_from_the_saved_state_unless_the_page_sets_it():
    """Transit's level is an initial condition: untouched, the run starts with the saved state's level (not
    the case file's); set on the page, with the page's."""
    lv = LEVER_BY_KEY["transit"]
    assert page_run.is_initial_condition(lv.name, {"lithuania": None})
    run = PageRun(Settings("baseline", (), 11, 6))
    state = run.forward.replicates[0].state
    cs = state["counterparts"]["lithuania"]
    assert run.start[lv.name] == cs["level"][cs["instruments"].index("transit")]
    opened = PageRun(Settings("baseline", ((lv.name, 0.0),), 11, 6))
    assert opened.start[lv.name] == 0.0 and lv.name in opened.record()["initial_conditions_from_scenario"]
    assert opened.settings_table().set_index("setting").loc[f"start.{lv.name}", "origin"] == (
        "changed on the page"
    )


def test_start_values_cover_every_initial_condition_of_the_core():
    """Every pattern of sim.core.handoff.INITIAL_CONDITIONS is read from the model's start by start_value."""
    run = PageRun(Settings("baseline", (), 3, 1))
    m = run.model
    got = run.initial_conditions()
    for pattern in INITIAL_CONDITIONS:
        regex = re.escape(pattern).replace("<counterpart>", "[a-z_]+").replace("<instrument>", "[a-z_0-9]+")
        names = [n for n in got if re.fullmatch(regex, n)]
        assert names, pattern
    for n, c in m.counterparts.items():
        assert got[f"{n}.engaged"] == c.engaged
        for j, inst in enumerate(c.inst):
            assert got[f"{n}.instruments.{inst}.level"] == c.level[j]


# ------------------------------------------------------------------------------------------------ levers
def test_levers_are_parameters_of_the_schema_and_controls_come_from_it():
    schema = page_run.SCHEMA
    assert schema == {r["name"]: r for r in describe(page_run.case_params(page_run.CASE, scenario=None))}
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
    lv = next(lv for lv in LEVERS if page_run.SCHEMA[lv.name]["choices"] is None)
    row = dict(page_run.SCHEMA[lv.name], plausible=(0.0, 40.0), unit="widgets", lo=0.0, hi=1e9)
    monkeypatch.setitem(page_run.SCHEMA, lv.name, row)
    c = control(lv, 1.0)
    assert (c.lo, c.hi, c.unit) == (0.0, 80.0, "widgets") and c.text(1.0).endswith("widgets")


def test_a_lever_outside_the_schema_is_refused():
    with pytest.raises(ParamError, match="not a parameter of the schema"):
        control(page_run.Lever("x", "us.no_such_parameter", "X", "x"), 1.0)


@pytest.mark.parametrize("name", scenario_names())
def test_every_scenarios_start_fits_its_sliders(name):
    values = start_values(name, 1)
    for lv in LEVERS:
        v = values[lv.name]
        c = control(lv, v)
        assert (v in c.choices) if c.choices else c.lo <= v <= c.hi, (name, lv.name, v)


def test_the_page_offers_its_cases_scenarios():
    assert list(scenario_names()) == scenarios_for(page_run.CASE) and "baseline" in scenario_names()
    with pytest.raises(ParamError, match="not a scenario of case belarus; allowed: .*baseline"):
        scenario("nicaragua_us_engages")
    with pytest.raises(ParamError, match="allowed"):
        scenario("nope")


def test_only_the_levers_list_names_parameters():
    """Parameter names change with the core: no page module but page_run's LEVERS may spell one out."""
    names = {r["name"] for r in describe()} | set(page_run.SCHEMA)
    for path in (EDGE / f for f in ("app.py", "page_text.py", "data_dictionary.py", "page_decisions.py")):
        text = path.read_text()
        found = [n for n in names if re.search(rf"['\"`]{re.escape(n)}['\"`]", text)]
        assert not found, f"{path.name} names parameters {found}: read them from page_run.LEVERS"
    source = (EDGE / "page_run.py").read_text()
    lever_block = source[source.index("LEVERS: tuple") : source.index("LEVER_BY_KEY")]
    outside = [n for n in names if f'"{n}"' in source.replace(lever_block, "")]
    assert not outside, outside


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


def test_settings_out_of_range_are_refused_in_one_line():
    with pytest.raises(ParamError, match="months"):
        PageRun(Settings(months=0))
    with pytest.raises(ParamError, match="seed"):
        PageRun(Settings(seed=-1))
    with pytest.raises(ParamError, match="us.policy") as e:
        PageRun(Settings(changes=(("us.policy", "bribery"),)))
    assert "\n" not in str(e.value)


# -------------------------------------------------------------------------------------- a run on the page
@pytest.fixture(scope="module")
def stepped():
    lv = LEVERS[0]
    base = start_values("baseline", 7)[lv.name]
    other = next(c for c in control(lv, base).choices if c not in (base, "maximum_pressure"))
    return stepped_run(Settings("baseline", ((lv.name, other),), 7, 24), 24)


def test_two_runs_do_not_share_state():
    a, b = PageRun(Settings.default()), PageRun(Settings.default())
    a.step()
    assert (a.recorded, b.recorded) == (1, 0) and a.model is not b.model
    assert a.model.registry is not b.model.registry


def test_readouts_and_end_of_run(stepped):
    assert stepped.finished and not stepped.step()  # the end: no more months, and no crash
    r = stepped.readouts()
    m = stepped.model
    assert r["Month"][0] == stepped.end_month() == "2027-12" and "24 of 24" in r["Month"][1]
    assert r["Arrests this month"][0] == f"{int(m.out['arrests'][23]):,}"
    released = sum(m.out[c][23] for c in ("released_deal", "released_pardon", "released_served"))
    assert r["Releases this month"][0] == f"{int(released):,}"
    ratio = m.out["arrests"].sum() / sum(
        m.out[c].sum() for c in ("released_deal", "released_pardon", "released_served")
    )
    assert r["Revolving-door ratio"][0] == f"{ratio:.2f}"
    assert r["Learned price"] == (f"{m.out['learned_price'][23]:.2f}", data_dictionary.unit("learned_price"))
    assert r["Prisoners held"][0] == f"{int(m.out['prisoners_held'][23]):,}"


def test_before_the_first_step_the_charts_show_the_start():
    run = PageRun(Settings("baseline", (), 5, 3))
    assert run.series("prisoners_held")[0] == run.model.registry.held > 0
    assert run.series("learned_price")[0] == run.model.regime.price["us"]
    assert run.series("arrests")[0] == 0 and run.readouts()["Arrests this month"][0] == "–"


def test_the_question_reflects_the_levers(stepped):
    q = stepped.question()
    lv = LEVERS[0]
    assert scenario("baseline").question.strip() in q and lv.label in q
    assert stepped.params.us.policy in q and "Changed on the page" in q and "otherwise transactional" in q
    assert "Changed" not in PageRun(Settings.default()).question()


def test_decisions_of_the_month_are_sentences_from_the_decisions_table(stepped):
    _, _, decisions = stepped.tables()
    last = decisions[decisions["month"] == stepped.month()]
    now = stepped.decisions_now()
    assert len(now) == len(last) >= 2 and [r[1] for r in now] == last["actor"].tolist()
    texts = [page_decisions.sentence(r) for r in now]
    assert any(t.startswith("The regime chose about") for t in texts)
    assert any(t.startswith("The opposition:") for t in texts)
    assert PageRun(Settings.default()).decisions_now() == []


def _odd_decisions() -> set[tuple[str, str]]:
    """Every (decision, choice) of the decisions table in docs/ODD.md (7.26)."""
    text = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    table = text[text.index("| actor | decision | choice |") :].split("\n\n")[0]
    kinds = set()
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        decision = cells[1].strip("`")
        for choice in re.findall(r"`([a-z_]+)`", cells[2]):
            kinds.add((decision, choice))
    return kinds


def test_every_decision_the_odd_lists_has_a_sentence():
    kinds = _odd_decisions()
    assert len(kinds) >= 15 and ("arrests", "arrest") in kinds
    assert kinds <= set(page_decisions.SENTENCES), kinds - set(page_decisions.SENTENCES)
    for decision, choice in kinds:
        for compared in ("arrest_ratio", "releases_it_buys"):
            text = page_decisions.sentence(
                ("2026-01", "us", decision, choice, 1.0, compared, 2.0, "b", 700, "n")
            )
            assert text.startswith("The US") and "{" not in text and text.endswith((".", ")"))
    unknown = page_decisions.sentence(("2026-01", "mars", "invade", "yes", 1, "a", 2, "b", 3, ""))
    assert unknown.startswith("mars: invade - yes")


def test_tables_have_integer_counts_and_the_dictionary_covers_every_column(stepped):
    ts, deals, decisions = stepped.tables()
    assert len(ts) == 24 and list(deals.columns)[: len(DEAL_COLUMNS)] == DEAL_COLUMNS and len(deals) >= 1
    assert list(decisions.columns) == DECISION_COLUMNS
    for c in COUNT_OUTPUTS & set(ts.columns):
        assert ts[c].dtype == np.int64, c
    dd = data_dictionary
    # every column of every table is described, and nothing is described that the core no longer writes
    for table, frame in (("timeseries.csv", ts), ("deals.csv", deals), ("decisions.csv", decisions)):
        for c in frame.columns:
            meaning, unit = dd.describe(c, table)
            assert meaning and unit, (table, c)
    assert set(dd.TIMESERIES) == {*dd.KEYS, *BASE_OUTPUTS}
    assert set(dd.DEALS) == set(DEAL_COLUMNS) and set(dd.DECISIONS) == set(DECISION_COLUMNS)
    assert any(c.startswith("level_") for c in ts.columns) and any(c.startswith("to_") for c in deals.columns)
    with pytest.raises(KeyError, match="not in the data dictionary"):
        dd.describe("no_such_output")


def test_the_export_zip_says_what_it_is_and_how_the_run_started(stepped):
    with zipfile.ZipFile(io.BytesIO(stepped.export_zip())) as z:
        names = {Path(n).name: n for n in z.namelist()}
        assert set(names) == {
            "README.txt",
            "timeseries.csv",
            "deals.csv",
            "decisions.csv",
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
    rec = stepped.record()
    assert "CSV" in readme and stepped.command() in readme and "seed" in readme.lower()
    for key in ("calibration", "data_vintage", "start_state", "replicate_start", "uncertainty"):
        assert str(rec[key]) in readme, key  # what sim-run's run folder says about calibration and start
    assert f"posterior particle: {rec['particle']}" in readme
    header = raw[0].split(",")
    for c in COUNT_OUTPUTS & set(header):  # counts are written as 12, never 12.0
        i = header.index(c)
        assert all(re.fullmatch(r"-?\d+", line.split(",")[i]) for line in raw[1:]), c
    s = dict(zip(settings["setting"], settings["value"].astype(str)))
    assert s["run.seed"] == str(stepped.settings.seed) and s["run.scenario"] == "baseline"
    assert s["run.calibration"] == rec["calibration"] and s["run.particle"] == str(rec["particle"])
    assert set(flatten(stepped.params)) <= set(s)
    changed = settings[settings["origin"].str.startswith("changed on the page")]["setting"].tolist()
    assert changed == [k for k, _ in stepped.settings.changes]
    assert settings["origin"].str.startswith("calibration: posterior particle").sum() == len(
        rec["free_parameters"]
    )
    assert "start.lithuania.instruments.transit.level" in s
    for f, frame in (("timeseries.csv", ts), ("outcomes.csv", out)):
        assert set(dd[dd["file"] == f]["column"]) == set(frame.columns), f
    assert dd["unit"].notna().all() and len(out) == 1


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
    default = PageRun(Settings.default())
    for lv in LEVERS:  # each lever with its value (and unit) in the page's first run
        value = default.start[lv.name]
        assert lv.label in md and control(lv, value).text(value) in md, lv.name
    assert "RU" in md and "docs/ODD.md" in md and "Brandt" in md and "Nash" in md
    assert default.record()["calibration"] in md and "Viasna" in md
    for f in page_text.load_sources(page_run.CASE):
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
    palette = app.PALETTES[theme]
    for c in palette:
        assert _contrast(c, background) >= 3.0, (theme, c)
    for i in range(len(palette)):
        for j in range(i + 1, len(palette)):
            delta = math.dist(_lab(palette[i])[0], _lab(palette[j])[0])
            assert delta >= 25, (theme, palette[i], palette[j], delta)
    text = app.THEME_TEXT[theme][0]
    assert _contrast(text, background) >= 7
    for chart in app.charts(stepped):
        assert len(chart.series) <= len(palette), chart.key  # every series its own colour
        option = app.echarts_option(chart, stepped.months(), theme)
        assert [s["itemStyle"]["color"] for s in option["series"]] == list(palette[: len(chart.series)])
        assert option["textStyle"]["color"] == text and all(
            a["axisLabel"]["color"] == text for a in option["yAxis"]
        )
        legend = app.legend_html(chart, theme)
        assert all(escape(s.name) in legend for s in chart.series)  # the full legend, every series
        assert "legend" not in option and "title" not in option  # not ECharts' paged legend


def test_the_charts_show_the_cases_instruments(stepped):
    by_key = {c.key: c for c in app.charts(stepped)}
    us = [s.name for s in by_key["sanctions"].series]
    for inst in stepped.model.counterparts["us"].inst:
        assert f"US {inst}" in us
    assert any("transit" in s.name for s in by_key["europe"].series)
    for s in by_key["sanctions"].series[1:]:
        col = f"level_us_{s.name.split()[-1]}"
        assert np.array_equal(s.data, stepped.model.out[col][: stepped.recorded])


@pytest.mark.slow
def test_the_exports_command_repeats_the_run_with_sim_run(tmp_path):
    """End to end: the export's README command, run by the real ``sim-run``, writes the page's months, deals
    and decisions, and records the same particle and start state."""
    settings = Settings(
        "baseline", (("us.policy", "conditional"), ("lithuania.instruments.transit.level", 0.0)), 9, 12
    )
    run = stepped_run(settings, 10)
    with zipfile.ZipFile(io.BytesIO(run.export_zip())) as z:
        readme = z.read(next(n for n in z.namelist() if n.endswith("README.txt"))).decode()
    command = next(line.strip() for line in readme.splitlines() if "sim-run scenario=" in line)
    out = tmp_path / "again"
    r = subprocess.run(
        [str(ROOT / command.split()[0]), *command.split()[1:], f"hydra.run.dir={out}", "report=false"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    ts, deals, decisions = run.tables()
    for mine, theirs in ((ts, "timeseries"), (deals, "deals"), (decisions, "decisions")):
        again = pd.read_parquet(out / f"{theirs}.parquet")
        pd.testing.assert_frame_equal(mine, again, check_dtype=False, check_categorical=False)
    reps = pd.read_parquet(out / "replicates.parquet")
    assert reps["particle"].tolist() == [run.record()["particle"]]
    assert reps["start_state"].tolist() == [run.record()["replicate_start"]]
    summary = json.loads((out / "summary.json").read_text())
    for key in (
        "start_state",
        "data_vintage",
        "free_parameters",
        "initial_conditions_from_scenario",
        "timeline",
    ):
        assert summary[key] == run.record()[key], key
