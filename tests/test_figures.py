"""Reports that read right: the figures' ticks, colourbars, lines and labels, and the numbers in the text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import BoundaryNorm

from sim.core.metrics import HEADLINES, outcomes
from sim.core.params import describe
from sim.views import plotting
from sim.views.numbers import fmt, fmt_value, num
from sim.views.report import band
from sim.views.sweep_report import KEY_OUTCOMES, best_and_worst

UNITS = {h.name: h for h in HEADLINES}
SCHEMA = {r["name"]: r for r in describe()}
# two levers with units, read from the schema (names change as the model grows)
LEVER, LEVER2 = [
    n for n, r in SCHEMA.items() if r["role"] == "lever" and type(r["default"]) is float and r["plausible"]
][:2]


def _integral(labels) -> bool:
    values = [float(t.get_text().replace("−", "-")) for t in labels if t.get_text()]
    return bool(values) and all(v.is_integer() for v in values)


def test_deal_timeline_counts_are_whole_numbers(baseline_run):
    ts, deals = baseline_run.timeseries, baseline_run.deals
    fig = plotting.deal_timeline(ts[ts["replicate"] < 6], deals[deals["replicate"] < 6], "baseline")
    fig.canvas.draw()
    deals_ax = fig.axes[1]
    assert _integral(deals_ax.get_yticklabels())  # replicates: 0, 1, 2 ... never 2.5
    colorbar_ax = fig.axes[-1]
    assert _integral(colorbar_ax.get_yticklabels())  # high-profile prisoners: whole numbers
    scatter = deals_ax.collections[0]
    assert isinstance(scatter.norm, BoundaryNorm)  # one colour per whole number


def test_calibration_and_prim_counts_are_whole_numbers():
    rng = np.random.default_rng(1)
    traj = pd.DataFrame(
        {"coverage": rng.random(12), "density": rng.random(12), "res_dim": rng.integers(0, 5, 12)}
    )
    fig = plotting.prim_trajectory(traj)
    fig.canvas.draw()
    assert _integral(fig.axes[-1].get_yticklabels())

    class Free:
        name, low, high = "regime.arrests_ref", 20.0, 50.0

    post = pd.DataFrame({"regime.arrests_ref": rng.uniform(20, 50, 7)})
    fig = plotting.posterior_marginals(post, [Free], {"regime.arrests_ref": 30.0})
    fig.canvas.draw()
    assert _integral(fig.axes[0].get_yticklabels())


@pytest.fixture
def sweep_table(baseline_run):
    table = outcomes(baseline_run.timeseries, baseline_run.deals)
    reps = len(table)
    parts = []
    for i, (name, price) in enumerate((("baseline", 0.5), ("us_conditional", 1.0), ("us_snapback", 2.0))):
        t = table.copy()
        t["scenario"] = name
        t[LEVER] = price
        t[LEVER2] = [0.1, 0.3][i % 2] if reps else 0.1
        t["final_stock"] = t["final_stock"] + 100 * i
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


def test_scenarios_are_not_joined_by_a_line(sweep_table):
    fig = plotting.outcome_vs_param(sweep_table, "scenario", KEY_OUTCOMES, UNITS)
    for ax in fig.axes:
        assert not any(isinstance(c, PolyCollection) for c in ax.collections)  # no band between categories
        for line in ax.get_lines():
            if line.get_linestyle() not in ("None", "", " ") and len(line.get_xdata()) > 2:
                raise AssertionError("a line joins the scenarios")


def test_numeric_levers_keep_their_line_and_show_their_unit(sweep_table):
    fig = plotting.outcome_vs_param(sweep_table, LEVER, KEY_OUTCOMES, UNITS)
    unit = SCHEMA[LEVER]["unit"]
    for ax in fig.axes:
        assert ax.get_xlabel() == f"{LEVER} ({unit})"
        assert any(len(line.get_xdata()) == 3 for line in ax.get_lines())


def test_units_are_said_once():
    assert plotting.with_unit("revolving-door ratio (arrests per release)", "arrests/release") == (
        "revolving-door ratio (arrests per release)"
    )
    assert plotting.with_unit("political prisoners held at the end", "persons") == (
        "political prisoners held at the end (persons)"
    )


def test_heatmap_has_a_legend_for_the_line_and_readable_labels(sweep_table):
    parts = []
    for price in (0.5, 1.0, 2.0):
        for relief in (0.1, 0.3):
            t = sweep_table.head(4).copy()
            t[LEVER], t[LEVER2] = price, relief
            t["revolving_door_ratio"] = 0.4 * price + relief
            parts.append(t)
    df = pd.concat(parts, ignore_index=True)
    fig = plotting.heatmaps(df, LEVER, LEVER2, KEY_OUTCOMES, UNITS)
    ratio_ax = fig.axes[KEY_OUTCOMES.index("revolving_door_ratio")]
    legend = ratio_ax.get_legend()
    assert legend is not None and "1 arrest per release" in [t.get_text() for t in legend.get_texts()]
    image = ratio_ax.images[0]
    for text in ratio_ax.texts:
        x, y = text.get_position()
        value = image.get_array()[int(round(y)), int(round(x))]
        r, g, b, _ = image.cmap(image.norm(value))
        light = 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5
        assert text.get_color() == ("black" if light else "white")


def test_morris_intervals_never_go_below_zero():
    idx = pd.DataFrame(
        {
            "factor": ["a", "b"],
            "mu_star": [0.5, 3.0],
            "mu_star_conf": [2.0, 1.0],
            "sigma": [1, 1],
            "mu": [0, 0],
        }
    )
    fig = plotting.sensitivity_bars(idx, "morris", "x")
    ax = fig.axes[0]
    segments = [seg for c in ax.collections for seg in c.get_segments()]
    assert segments and min(min(p[0] for p in seg) for seg in segments) >= 0
    assert ax.get_xlim()[0] >= 0


def test_best_and_worst_never_name_one_tied_point_twice():
    df = pd.DataFrame(
        {
            "p": [1, 1, 2, 2, 3, 3],
            **{h.name: [5.0] * 6 for h in HEADLINES},
        }
    )
    df["final_stock"] = [1.0, 1.0, 1.0, 1.0, 2.0, 2.0]
    rows = {r[0]: r for r in best_and_worst(df, ["p"])}
    flat = rows[UNITS["total_arrests"].label]
    assert flat[2] == "every point (no difference)" and flat[1] == flat[3]
    lo = rows[UNITS["final_stock"].label]
    assert lo[2].startswith("2 points tie") and lo[4] == "p=3"


def test_numbers_read_the_same_everywhere():
    assert fmt(1077.0, "persons") == "1,077"
    assert fmt(850.0, "RU") == "850" and fmt(1140.0, "RU") == "1,140"
    assert num(28.41) == "28.4" and num(1.234) == "1.23" and num(0.3012) == "0.301"
    assert fmt_value("population.initial_stock", 1077.0) == "1,077"  # an integer parameter, never 1077.0
    assert fmt_value(LEVER, 1.5) == "1.5"  # a float lever
    assert fmt(0.25, "share") == "25 %" and fmt(None) == "n/a"
    assert band({"median": 1.03, "p5": 0.914, "p95": 1.08}, "arrests/release") == "1.03 (0.91 to 1.08)"
    assert band({"median": 1077.0, "p5": 998.0, "p95": 1140.0}, "persons") == "1,077 (998 to 1,140)"
