"""The teaching page: the revolving door in a classroom, one model per browser session.

Start it with ``sim-app`` (``sim-app --port 8765``). Laid out like a NetLogo model: a **Model** tab with the
controls (Reset, Play, Step; scenario; levers with their values and units; seed; months), monitors, each
actor's decisions of the month in sentences (:mod:`sim.edge.page_decisions`), six live charts, a deal log
and the download of the run; an **Info** tab (What is it? ... Sources: :mod:`sim.edge.page_text`); and the
model description (``docs/ODD.md``).

Each browser session builds its own run (:class:`sim.edge.page_run.PageRun`) in Solara's per-session state,
so one student's steps never move another's. A run is replicate 0 of ``sim-run`` with the page's settings,
built by the same code (the calibration, the start state); ranges and units come from the schema
(:mod:`sim.edge.page_run`). Charts are ECharts options drawn in the
browser (a step costs the server about a millisecond); their legends are HTML beside the canvas, so they wrap
instead of paging, and colours and text follow the light or dark theme. Everything is served locally
(``solara-assets``): nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import ipyvuetify
import numpy as np
import solara
import solara.lab
import traitlets
from solara.components.echarts import EchartsWidget
from solara.components.title import TitleWidget
from solara.server import settings as solara_settings

from sim.core.params import ParamError
from sim.store.paths import ROOT

from . import data_dictionary
from .page_decisions import sentence
from .page_run import (
    LEVERS,
    MONTHS_MAX,
    RU_EXPLAINED,
    PageRun,
    SeedError,
    Settings,
    change_text,
    control,
    is_initial_condition,
    parse_seed,
    scenario,
    scenario_names,
    start_values,
)
from .page_text import info_markdown, to_html

PROJECT = "Bargaining chips"
PLAY_SECONDS = 0.2  # a month every 0.2 s while playing: five years in about 12 s
DEAL_LOG_ROWS = 40
# The page's own chrome: no "runs on Solara" banner over the controls, and the project's name in the tab
# before the page has loaded (the page then sets it with the month).
solara_settings.theme.show_banner = False
solara_settings.theme.title = PROJECT

# Colours in the order of a chart's series, one set per theme: each has at least 3:1 contrast with its theme's
# background and any two are far apart (tests/test_page_run.py checks both), so a chart of up to six series
# has distinct colours. Okabe & Ito's colour-blind-safe palette, darkened for a white background where it is
# too light.
PALETTES = {
    "light": ("#0072B2", "#D55E00", "#009E73", "#AA3377", "#A6761D", "#666666"),
    "dark": ("#56B4E9", "#FF8A4C", "#2ED3A0", "#E58FC4", "#F0C04A", "#B0B0B0"),
}
THEME_TEXT = {"light": ("#1f1f1f", "#9e9e9e", "#e4e4e4"), "dark": ("#e8e8e8", "#8a8a8a", "#3a3a3a")}

CSS = """
.bc-panel { padding: 12px 14px; }
.bc-lever { margin-top: 6px; }
.bc-lever-label { font-size: 0.9rem; line-height: 1.3; }
.bc-lever-value { font-weight: 600; white-space: nowrap; }
.bc-lever-note { font-size: 0.78rem; opacity: 0.75; }
.bc-caption { font-size: 0.8rem; opacity: 0.85; line-height: 1.35; }
.bc-question { font-size: 1rem; line-height: 1.4; }
.bc-monitors { display: grid; grid-template-columns: repeat(auto-fill, minmax(104px, 1fr)); gap: 8px;
  margin-top: 8px; }
.bc-monitor { min-width: 0; border: 1px solid rgba(128,128,128,0.45); border-radius: 6px; padding: 4px 8px; }
.bc-monitor .l { font-size: 0.75rem; opacity: 0.8; }
.bc-monitor .v { font-size: 1.3rem; font-weight: 600; line-height: 1.3; }
.bc-monitor .u { font-size: 0.72rem; opacity: 0.75; }
.bc-chart-title { font-weight: 600; font-size: 0.95rem; }
.bc-legend { display: flex; flex-wrap: wrap; gap: 2px 14px; font-size: 0.8rem; margin: 2px 0 2px; }
.bc-legend-item { white-space: nowrap; }
.bc-swatch { display: inline-block; width: 24px; margin-right: 5px; vertical-align: middle; }
.bc-swatch-bar { height: 10px; border-radius: 2px; }
.bc-info { max-width: 62em; line-height: 1.5; }
.bc-info h2 { margin-top: 1.1em; font-size: 1.25rem; }
.bc-info code, .bc-odd code { font-size: 0.85em; }
.bc-odd { max-width: 62em; line-height: 1.5; overflow-x: auto; }
.bc-odd table { border-collapse: collapse; }
.bc-odd td, .bc-odd th { border: 1px solid rgba(128,128,128,0.5); padding: 2px 6px; vertical-align: top; }
.deal-log ul { padding-left: 1.1em; }
.log .v-btn { max-width: 100%; height: auto !important; min-height: 36px; padding: 6px 12px !important; }
.log .v-btn__content { white-space: normal; flex: 1 1 auto; line-height: 1.3; }
.bc-buttons { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 8px;
  padding-bottom: 16px; }
.bc-buttons .v-btn { min-width: 0 !important; padding: 0 8px !important; }
.deal-log { font-size: 0.88rem; overflow-wrap: anywhere; }
.bc-decisions { font-size: 0.88rem; overflow-wrap: anywhere; }
.bc-decisions ul { padding-left: 1.1em; margin-bottom: 0; }
.bc-decisions p { margin-bottom: 4px; }
"""


# ------------------------------------------------------------------------------------------------ charts
@dataclass(frozen=True)
class Series:
    """One series of a chart: its legend name, values and style (its colour is its place in the chart)."""

    name: str
    data: np.ndarray
    dash: str = "solid"
    kind: str = "line"
    width: int = 2
    axis: int = 0


@dataclass(frozen=True)
class Chart:
    """A chart: a CSS class name, a title, the y axes' units (from the data dictionary) and its series."""

    key: str
    title: str
    units: tuple[str, ...]
    series: list[Series]


NEIGHBOURS = {"lithuania": "Lithuania", "poland": "Poland"}


def charts(run: PageRun) -> list[Chart]:
    """The page's charts for the run so far. Instruments are the case's (its counterparts' own)."""
    unit = data_dictionary.unit
    released = sum(run.series(c) for c in ("released_deal", "released_pardon", "released_served"))
    us = run.counterpart_outputs("us")
    near = [
        (col, f"{NEIGHBOURS[n]}: {inst} closed")
        for n in NEIGHBOURS
        for col, inst in run.counterpart_outputs(n)
    ]
    return [
        Chart(
            "prisoners",
            "Political prisoners held",
            (unit("prisoners_held"),),
            [Series("held at the end of the month", run.series("prisoners_held"), width=3)],
        ),
        Chart(
            "door",
            "The revolving door: arrests and releases, added up",
            (unit("arrests"),),
            [
                Series("arrests since the start", np.cumsum(run.series("arrests")), width=3),
                Series("releases since the start (all channels)", np.cumsum(released), width=3),
                Series("released in deals that month", run.series("released_deal"), kind="bar"),
            ],
        ),
        Chart(
            "sanctions",
            "US sanctions in force",
            (unit("us_sanctions"),),
            [
                Series("US, all instruments (weighted by value)", run.series("us_sanctions"), width=3),
                *(Series(f"US {inst}", run.series(col), dash="dashed") for col, inst in us),
            ],
        ),
        Chart(
            "decision",
            "The regime's arrest decision: what an arrest is worth",
            (unit("control_value"), unit("arrest_rate")),
            [
                Series("control at home (left)", run.series("control_value"), width=3),
                Series("bargaining chip (left)", run.series("chip_value"), width=3),
                Series("sanctions it expects (left)", run.series("external_cost")),
                Series("arrest rate chosen (right)", run.series("arrest_rate"), dash="dashed", axis=1),
            ],
        ),
        Chart(
            "europe",
            "Europe and the neighbours: sanctions, transit, borders",
            (unit("eu_sanctions"),),
            [
                Series("EU sanctions in force", run.series("eu_sanctions"), width=3),
                *(Series(label, run.series(col), dash="dashed") for col, label in near),
            ],
        ),
        Chart(
            "opposition",
            "The opposition",
            (unit("mobilisation"),),
            [
                Series("mobilisation at home", run.series("mobilisation"), width=3),
                Series("exiles' lobbying of the EU", run.series("lobbying")),
                Series("fragmentation", run.series("fragmentation"), dash="dashed"),
            ],
        ),
    ]


def echarts_option(chart: Chart, months: list[str], theme: str) -> dict:
    """An ECharts option (a plain dict) for a chart; the title and legend are HTML beside it."""
    colours = PALETTES[theme]
    text, axis, grid = THEME_TEXT[theme]
    one = len(months) == 1
    series = []
    for i, s in enumerate(chart.series):
        colour = colours[i]
        item: dict[str, Any] = {
            "name": s.name,
            "type": s.kind,
            "data": np.round(np.asarray(s.data, dtype=float), 4).tolist(),
            "yAxisIndex": s.axis,
            "itemStyle": {"color": colour},
        }
        if s.kind == "line":
            item.update(showSymbol=one, lineStyle={"color": colour, "width": s.width, "type": s.dash})
        else:
            item.update(barMaxWidth=14)
        series.append(item)
    y_axes = [
        {
            "type": "value",
            "name": u,
            "nameTextStyle": {"color": text, "align": "left" if i == 0 else "right"},
            "axisLabel": {"color": text},
            "axisLine": {"show": True, "lineStyle": {"color": axis}},
            "splitLine": {"show": i == 0, "lineStyle": {"color": grid}},
            **({"min": 0, "max": 1} if u.startswith("share") or u == "0-1" else {}),
        }
        for i, u in enumerate(chart.units)
    ]
    return {
        "animation": False,
        "backgroundColor": "transparent",
        "textStyle": {"color": text},
        "grid": {"top": 30, "left": 8, "right": 12, "bottom": 4, "containLabel": True},
        "tooltip": {"trigger": "axis"},
        "xAxis": {
            "type": "category",
            "data": months,
            "axisLabel": {"color": text},
            "axisLine": {"lineStyle": {"color": axis}},
        },
        "yAxis": y_axes,
        "series": series,
    }


def legend_html(chart: Chart, theme: str) -> str:
    """The chart's legend: every series, wrapping over as many lines as the width needs."""
    colours = PALETTES[theme]
    items = []
    for i, s in enumerate(chart.series):
        c = colours[i]
        if s.kind == "bar":
            sw = f"<span class='bc-swatch bc-swatch-bar' style='background:{c}'></span>"
        else:
            sw = f"<span class='bc-swatch' style='border-top:{s.width}px {s.dash} {c}'></span>"
        items.append(f"<span class='bc-legend-item' data-colour='{c}'>{sw}{escape(s.name)}</span>")
    return f"<div class='bc-legend legend-{chart.key}'>{''.join(items)}</div>"


class ThemeWatcher(ipyvuetify.VuetifyTemplate):
    """Tells the server whether the page is drawn light or dark (``dark``), and when that changes.

    The charts' text and colours are chosen on the server. Solara's own ``dark_effective`` is not updated when
    the theme follows the browser's preference (the "auto" setting, the default), so a dark system showed
    dark chart text on a dark page; this reads the theme Vuetify actually applies.
    """

    dark = traitlets.Bool(False).tag(sync=True)
    template = traitlets.Unicode(
        """<template><span style="display: none"></span></template>
<script>
module.exports = {
  mounted() {
    this.dark = !!this.$vuetify.theme.dark;
    this.$watch(() => this.$vuetify.theme.dark, value => { this.dark = !!value; });
  },
};
</script>"""
    ).tag(sync=True)


def use_theme() -> tuple[str, ThemeWatcher]:
    """The page's theme, ``"light"`` or ``"dark"``, followed as it changes; and the watcher to place on the
    page."""
    watcher = solara.use_memo(ThemeWatcher, [])
    dark = solara.use_reactive(False)

    def connect():
        def changed(change):
            dark.set(bool(change["new"]))

        watcher.observe(changed, "dark")
        dark.set(bool(watcher.dark))
        return lambda: watcher.unobserve(changed, "dark")

    solara.use_effect(connect, [watcher])
    return ("dark" if dark.value else "light"), watcher


# ------------------------------------------------------------------------------------------ page state
@dataclass
class State:
    """The reactive state of one browser session (made by :func:`Page` with Solara's per-session hooks)."""

    run: solara.Reactive  # the PageRun shown
    views: dict  # name -> update(run): the widgets updated in place each month (see use_month_widget)
    ended: solara.Reactive  # the run has used all its months (the buttons re-render when this changes)
    deals: solara.Reactive  # deals so far (the deal log re-renders when this changes)
    playing: solara.Reactive
    name: solara.Reactive  # the scenario chosen (applied on Reset)
    changes: solara.Reactive  # dotted name -> value, where the levers differ from the scenario
    seed_text: solara.Reactive
    months: solara.Reactive
    error: solara.Reactive  # why the last Reset was refused

    def pending(self) -> Settings | None:
        """The settings the controls show (None while the seed is not valid)."""
        try:
            seed = parse_seed(self.seed_text.value)
        except SeedError:
            return None
        order = [lv.name for lv in LEVERS]
        changes = tuple(sorted(self.changes.value.items(), key=lambda kv: order.index(kv[0])))
        return Settings(self.name.value, changes, seed, int(self.months.value))

    def reset(self) -> None:
        """Build a new run from the controls, or say in one line why not (the current run stays)."""
        try:
            parse_seed(self.seed_text.value)
            new = PageRun(self.pending())
        except (SeedError, ParamError) as exc:
            self.error.set(f"Not reset: {exc}")
            return
        self.playing.set(False)
        self.error.set("")
        self.run.set(new)
        self._changed()

    def step(self) -> bool:
        """One month; False at the end of the run."""
        run = self.run.value
        if not run.step():
            return False
        for update in list(self.views.values()):  # charts, monitors and title, in place
            update(run)
        self._changed()
        return True

    def _changed(self) -> None:
        """Render what changes rarely: the buttons at the end of the run, the deal log after a deal."""
        run = self.run.value
        self.ended.set(run.finished)
        self.deals.set(len(run.model.deals))

    def choose_scenario(self, name: str) -> None:
        """A new scenario fills the levers and the months with its own values (applied on Reset)."""
        self.name.set(name)
        self.changes.set({})
        self.months.set(min(scenario(name).months, MONTHS_MAX))


def _months_text(n: int) -> str:
    return f"{n} month" if n == 1 else f"{n} months"


def shown_values(state: State) -> dict[str, Any]:
    """The value each lever shows when it is not moved: where the run of the chosen scenario starts, with the
    running seed (a calibrated value is that seed's posterior draw; an initial condition, the start state's).
    """
    run = state.run.value
    if state.name.value == run.settings.scenario:
        return run.start_values_without_changes()
    return start_values(state.name.value, run.settings.seed)


def waiting(state: State) -> list[str]:
    """What the controls would change on Reset, in words."""
    now = state.run.value.settings
    out = []
    if state.name.value != now.scenario:
        out.append(f"scenario {state.name.value} (running: {now.scenario})")
    pend = state.pending()
    if dict(state.changes.value) != dict(now.changes) and pend is not None:
        text = change_text(shown_values(state), pend)
        out.append(f"levers: {text}" if text else "levers back to the scenario's values")
    if pend is not None and pend.seed != now.seed:
        out.append(
            f"seed {pend.seed} (running: {now.seed}; calibrated levers you have not moved are drawn again)"
        )
    if int(state.months.value) != now.months:
        out.append(f"{_months_text(int(state.months.value))} (running: {now.months})")
    return out


# ------------------------------------------------------------------------------------------- components
@solara.component
def Buttons(state: State):
    """Reset, Play/Pause and Step (disabled at the end of the run); the play loop."""
    run, ended, playing = state.run.value, state.ended.value, state.playing.value

    def play_loop(cancel: threading.Event) -> None:
        while state.playing.value and not cancel.is_set():
            started = time.perf_counter()
            if not state.step():
                state.playing.set(False)
                return
            cancel.wait(max(0.0, PLAY_SECONDS - (time.perf_counter() - started)))

    solara.use_thread(play_loop, dependencies=[playing, run], intrusive_cancel=False)
    with solara.Div(classes=["buttons", "bc-buttons"]):
        solara.Button("Reset", color="primary", on_click=state.reset)
        solara.Button(
            "Pause" if playing else "Play",
            icon_name="mdi-pause" if playing else "mdi-play",
            color="primary",
            on_click=lambda: state.playing.set(not state.playing.value),
            disabled=ended,
        )
        solara.Button("Step", color="primary", on_click=state.step, disabled=playing or ended)
    if state.error.value:
        solara.Error(state.error.value, classes=["reset-error"], dense=True)


@solara.component
def LeverControl(state: State, lever, shown: Any, note: str):
    """One lever: a choice, or a slider whose label shows the value and its unit."""
    c = control(lever, shown)
    value = state.changes.value.get(lever.name, shown)
    changed = lever.name in state.changes.value

    def set_value(v: Any) -> None:
        v = v if c.choices is not None else c.snap(v)
        same = v == shown if c.choices is not None else abs(float(v) - float(shown)) <= c.step / 2
        new = {k: x for k, x in state.changes.value.items() if k != lever.name}
        if not same:
            new[lever.name] = v
        state.changes.set(new)

    note = f"changed; otherwise {c.text(shown)}" if changed else note
    with solara.Div(classes=["bc-lever", f"lever-{lever.key}"]):
        if c.choices is not None:
            solara.Select(
                label=lever.label, values=list(c.choices), value=value, on_value=set_value, dense=True
            )
            if note:
                solara.HTML(tag="div", unsafe_innerHTML=escape(note), classes=["bc-lever-note"])
        else:
            solara.HTML(
                tag="div",
                unsafe_innerHTML=(
                    f"{escape(lever.label)}: <span class='bc-lever-value'>{escape(c.text(value))}</span>"
                    + (f" <span class='bc-lever-note'>({escape(note)})</span>" if note else "")
                ),
                classes=["bc-lever-label"],
            )
            slider = solara.SliderInt if c.integer else solara.SliderFloat
            slider(
                label="",
                value=value,
                min=c.lo,
                max=c.hi,
                step=c.step,
                on_value=set_value,
                thumb_label=False,
            )


def lever_note(run: PageRun, name: str) -> str:
    """Where an unmoved lever's value comes from, when not from the scenario: the calibration, or the state
    the run starts from."""
    cal = run.forward.calibration
    if cal is not None and name in cal.free:
        return f"calibrated: drawn for seed {run.settings.seed}"
    if is_initial_condition(name, run.model.counterparts) and run.forward.replicates[0].state is not None:
        return "from the start state"
    return ""


@solara.component
def SettingsPanel(state: State):
    """Scenario, the notice about Reset, the levers, seed and months."""
    names = solara.use_memo(lambda: list(scenario_names()), [])
    sc = scenario(state.name.value)
    run = state.run.value
    solara.Select(
        label="Scenario", values=names, value=state.name.value, on_value=state.choose_scenario, dense=True
    )
    wait = waiting(state)
    solara.Info("Changes apply when you press Reset.", dense=True, classes=["reset-notice"])
    if wait:
        solara.Warning("Waiting for Reset: " + "; ".join(wait) + ".", dense=True, classes=["reset-waiting"])
    shown = shown_values(state)
    for lever in LEVERS:
        LeverControl(state, lever, shown[lever.name], lever_note(run, lever.name))
    try:
        parse_seed(state.seed_text.value)
        seed_error: str | bool = False
    except SeedError as exc:
        seed_error = str(exc)
    solara.InputText(
        "Seed",
        value=state.seed_text,
        on_value=state.seed_text.set,
        continuous_update=True,
        error=seed_error,
        classes=["seed-box"],
        hide_details="auto",
    )
    with solara.Div(classes=["bc-lever", "lever-months"]):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                f"Months to run: <span class='bc-lever-value'>{_months_text(int(state.months.value))}</span>"
                f" <span class='bc-lever-note'>(from {escape(sc.start)}; scenario: {sc.months})</span>"
            ),
            classes=["bc-lever-label"],
        )
        solara.SliderInt(
            label="",
            value=state.months,
            on_value=state.months.set,
            min=1,
            max=MONTHS_MAX,
            step=1,
            thumb_label=False,
        )
    solara.HTML(
        tag="p", unsafe_innerHTML=f"<b>RU</b>: {escape(RU_EXPLAINED)}", classes=["bc-caption", "ru-note"]
    )


@solara.component
def Question(state: State):
    """The question of the run shown, with the page's changes to it."""
    run = state.run.value
    s = run.settings
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<b>Question</b> ({escape(s.scenario)}): {escape(run.question())} "
            f"<span class='bc-lever-note'>Seed {s.seed}; {s.months} months from {escape(run.params.start)}."
            "</span>"
        ),
        classes=["bc-question"],
    )


def monitors_html(run: PageRun) -> str:
    """The monitors' boxes: label, value, unit."""
    boxes = []
    for label, (value, unit) in run.readouts().items():
        key = label.lower().replace(" ", "-")
        boxes.append(
            f"<div class='bc-monitor monitor-{key}'><div class='l'>{escape(label)}</div>"
            f"<div class='v'>{escape(value)}</div><div class='u'>{escape(unit)}</div></div>"
        )
    return "".join(boxes)


def _tab_title(run: PageRun) -> str:
    return f"{PROJECT} · {run.month()}"


def use_month_widget(state: State, name: str, make, update, dependencies: list):
    """A widget the page updates in place: ``make()`` builds it once, ``update(widget, run)`` refreshes it
    after each month and whenever ``dependencies`` change (a Reset, the theme). Returns the widget, to place
    in the layout.

    A month changes only the charts' data, the monitors and the tab's title. Setting those widgets' values
    directly sends just the new values to the browser, where a render of the page would first walk all of
    its elements (Solara's renderer), several times the cost of the step itself. The widget is made here,
    not declared as an element, so the renderer places it but never sets its values back to a stale render's.
    """
    widget = solara.use_memo(make, [])

    def attach():
        state.views[name] = lambda r: update(widget, r)
        update(widget, state.run.value)

    solara.use_effect(attach, dependencies)
    solara.use_effect(lambda: widget.close, [])  # closed when the page goes
    return widget


@solara.component
def Monitors(state: State):
    """NetLogo's monitors: the month, prisoners held, this month's arrests and releases, ratio, price; and the
    month in the browser tab's title (both updated in place each month)."""
    run = state.run.value
    # The tab's title is set in the browser by Solara's title widget. Not solara.Title: it keeps the title in
    # the app layout's state, which would render the whole page again every month.
    title = use_month_widget(
        state,
        "title",
        lambda: TitleWidget(title=_tab_title(run), level=1000),
        lambda w, r: setattr(w, "title", _tab_title(r)),
        [run],
    )
    html = use_month_widget(
        state,
        "monitors",
        lambda: solara.widgets.HTML(
            tag="div", unsafe_innerHTML=monitors_html(run), attributes={"class": "bc-monitors"}
        ),
        lambda w, r: setattr(w, "unsafe_innerHTML", monitors_html(r)),
        [run],
    )
    solara.Div(children=[title, html])


@solara.component
def EndOfRun(state: State):
    """Says so when the run has used all its months."""
    run = state.run.value
    if state.ended.value:
        solara.Success(
            f"End of the run: all {_months_text(run.model.months)} simulated ({run.months()[0]} to "
            f"{run.end_month()}). Press Reset to run again, or set more months to run and press Reset.",
            dense=True,
            classes=["end-of-run"],
        )


@solara.component
def ChartPlot(state: State, index: int, theme: str):
    """The plot of one chart, drawn by ECharts in the browser; its data are updated in place each month."""
    run = state.run.value

    def option(r: PageRun) -> dict:
        return echarts_option(charts(r)[index], r.months(), theme)

    plot = use_month_widget(
        state,
        f"chart-{index}",
        lambda: EchartsWidget(
            option=option(run),
            attributes={"style": "height: 240px; width: 100%", "class": f"chart-{charts(run)[index].key}"},
            responsive=True,
        ),
        lambda w, r: setattr(w, "option", option(r)),
        [run, theme],
    )
    solara.Div(children=[plot])


@solara.component
def ChartCard(state: State, index: int, theme: str):
    """One chart: its title and full legend in HTML (they follow the theme, not the steps), and the plot."""
    chart = charts(state.run.value)[index]
    with solara.Card(classes=["bc-panel", f"card-{chart.key}"], margin=0):
        solara.HTML(tag="div", unsafe_innerHTML=escape(chart.title), classes=["bc-chart-title"])
        solara.HTML(tag="div", unsafe_innerHTML=legend_html(chart, theme))
        ChartPlot(state, index, theme)


def _lifted(text: str) -> str:
    """``potash:0.50,aviation:0.25`` as ``potash 50 %, aviation 25 %``."""
    parts = []
    for item in filter(None, text.split(",")):
        name, _, share = item.partition(":")
        parts.append(f"{name} {100 * float(share):.0f} %" if share else name)
    return ", ".join(parts) or "nothing"


def deal_html(d: dict) -> str:
    """One deal of the log, in words (names from the deals table; destinations are the case's)."""
    who = d["counterpart"]
    who = {"us": "US", "eu": "EU"}.get(who, who.replace("_", " ").capitalize())
    where = ", ".join(
        f"{n} to {k[3:].upper()}" for k, n in d.items() if k.startswith("to_") and k != "to_stayed" and n
    )
    notable = f" ({d['released_high_profile']} high-profile)" if d["released_high_profile"] else ""
    terms = "; with an arrest-restraint clause" if d["restraint_clause"] else ""
    return (
        f"<li class='deal'><b>{escape(d['month'])}</b>, {escape(who)}: {d['released']} released{notable}; "
        f"{d['expelled']} expelled{' (' + escape(where) + ')' if where else ''}; relief worth "
        f"{d['relief']:.0f} RU to the regime ({escape(_lifted(d['instruments_lifted']))}){terms}"
        f"{'; <b>taken back</b>' if d['snapped_back'] else ''}</li>"
    )


@solara.component
def DealLog(state: State):
    """Deals, newest first, and the download of the run (re-rendered after a deal)."""
    state.deals.value  # noqa: B018 - re-render when a deal is made
    run = state.run.value
    m = run.model
    parts = ["<h3>Deal log</h3>"]
    if not m.deals:
        parts.append("<p class='deal-log-empty'>No deal yet.</p>")
    items = [deal_html(d) for d in list(reversed(m.deals))[:DEAL_LOG_ROWS]]
    if items:
        parts.append("<ul>" + "".join(items) + "</ul>")
    if len(m.deals) > DEAL_LOG_ROWS:
        parts.append(f"<p>... and {len(m.deals) - DEAL_LOG_ROWS} earlier deals (in the download).</p>")
    solara.HTML(tag="div", unsafe_innerHTML="".join(parts), classes=["deal-log"])
    solara.FileDownload(
        run.export_zip,
        filename=f"{run.export_stem()}.zip",  # scenario and seed; the months are in its README
        label="Download this run (zip of CSV tables)",
        mime_type="application/zip",
    )
    solara.HTML(
        tag="p",
        unsafe_innerHTML=(
            "A zip of CSV files: the months, deals and decisions so far, the headline outcomes, every "
            "setting with the seed, the calibration and the state the run started from, and a data "
            "dictionary with units. Its README gives the sim-run command that repeats the run."
        ),
        classes=["bc-caption", "export-note"],
    )


def decisions_html(run: PageRun) -> str:
    """Each actor's decisions of the last month, a sentence each."""
    rows = run.decisions_now()
    if not rows:
        return "<p class='decisions-empty'>No month simulated yet: press Step or Play.</p>"
    items = "".join(f"<li>{escape(sentence(r))}</li>" for r in rows)
    return f"<p><b>Decisions in {escape(run.month())}</b></p><ul>{items}</ul>"


@solara.component
def Decisions(state: State):
    """The decisions of the month, updated in place each month (from the run's decisions table)."""
    run = state.run.value
    html = use_month_widget(
        state,
        "decisions",
        lambda: solara.widgets.HTML(
            tag="div", unsafe_innerHTML=decisions_html(run), attributes={"class": "bc-decisions"}
        ),
        lambda w, r: setattr(w, "unsafe_innerHTML", decisions_html(r)),
        [run],
    )
    solara.Div(children=[html])


@solara.component
def Charts(state: State):
    """The four charts, drawn for the page's theme (light or dark, as the browser shows it)."""
    theme, watcher = use_theme()
    solara.Div(children=[watcher])
    with solara.ColumnsResponsive(default=12, large=6, classes=["bc-charts"]):
        for i in range(len(charts(state.run.value))):
            ChartCard(state, i, theme)


@solara.component
def ModelTab(state: State):
    """Controls on the left (on top on a narrow screen), the run on the right."""
    with solara.ColumnsResponsive(default=12, medium=[4, 8], xlarge=[3, 9], classes=["bc-columns"]):
        with solara.Card(classes=["bc-panel", "controls"], margin=0):
            Buttons(state)
            SettingsPanel(state)
        with solara.Column(gap="10px", classes=["bc-main"]):
            with solara.Card(classes=["bc-panel", "question"], margin=0):
                Question(state)
                EndOfRun(state)
                Monitors(state)
            with solara.Card(classes=["bc-panel", "decisions"], margin=0):
                Decisions(state)
            Charts(state)
            with solara.Card(classes=["bc-panel", "log"], margin=0):
                DealLog(state)


@solara.component
def InfoTab(on_open_odd):
    """The Info panel, NetLogo's order."""
    html = solara.use_memo(lambda: to_html(info_markdown(scenario_names())), [])
    solara.HTML(tag="div", unsafe_innerHTML=html, classes=["bc-info", "info-panel"])
    solara.Button("Open the model description (docs/ODD.md)", on_click=on_open_odd, outlined=True)


@solara.component
def OddTab():
    """``docs/ODD.md``, rendered on the server."""

    def load() -> str:
        path = ROOT / "docs" / "ODD.md"
        if not path.is_file():
            return "<p>docs/ODD.md is in the project's folder (not found beside this installation).</p>"
        return to_html(path.read_text(encoding="utf-8"))

    html = solara.use_memo(load, [])
    solara.HTML(tag="div", unsafe_innerHTML=html, classes=["bc-odd"])


@solara.component
def Page():
    """The page of one browser session: its own run, its own controls."""
    first = solara.use_memo(lambda: PageRun(Settings.default()), [])
    state = State(
        run=solara.use_reactive(first),
        views=solara.use_memo(dict, []),
        ended=solara.use_reactive(False),
        deals=solara.use_reactive(0),
        playing=solara.use_reactive(False),
        name=solara.use_reactive(first.settings.scenario),
        changes=solara.use_reactive({}),
        seed_text=solara.use_reactive(str(first.settings.seed)),
        months=solara.use_reactive(first.settings.months),
        error=solara.use_reactive(""),
    )
    tab = solara.use_reactive(0)
    solara.Style(CSS)
    with solara.AppBar():
        solara.lab.ThemeToggle()
    solara.AppBarTitle(f"{PROJECT}: the revolving door")
    with solara.lab.Tabs(value=tab, on_value=tab.set, lazy=True):
        with solara.lab.Tab("Model", classes=["tab-model"]):
            ModelTab(state)
        with solara.lab.Tab("Info", classes=["tab-info"]):
            InfoTab(lambda: tab.set(2))
        with solara.lab.Tab("ODD", classes=["tab-odd"]):
            OddTab()


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-app``: serve the page on 127.0.0.1."""
    ap = argparse.ArgumentParser(prog="sim-app", description="Serve the teaching page locally.")
    ap.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    args = ap.parse_args(argv)
    if not 1 <= args.port <= 65535:
        print(f"sim-app: error: --port {args.port}: must be in [1, 65535]", file=sys.stderr)
        sys.exit(2)
    env = {
        **os.environ,
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_THEME_SHOW_BANNER": "False",
        "SOLARA_THEME_TITLE": PROJECT,
    }
    exe = str(Path(sys.executable).parent / "solara")
    cmd = [
        exe,
        "run",
        "sim.edge.app",
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--production",
        "--no-check-version",
        "--no-open",
    ]
    print(f"sim-app: serving on http://{args.host}:{args.port}", flush=True)
    os.execve(exe, cmd, env)


__all__ = ["Page", "charts", "echarts_option", "legend_html", "main", "PALETTES"]
