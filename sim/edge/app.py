"""The teaching page: a Mesa SolaraViz page to demonstrate the revolving door in a classroom.

Start it with ``sim-app`` (``sim-app --port 8765``): a scenario selector, sliders for the main levers and
uncertainties, a seed box, play / step / reset, live charts of prisoners held, arrests against releases and
sanctions in force, a log of deals and notable releases, and an export of the current run's tables. All
assets are served locally (``solara-assets``), so it works offline.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import zipfile
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.core.calendar import month_text
from sim.core.model import OUTPUTS, RepressionBargaining
from sim.core.params import EU_STANCES, SECTORS, TRANSIT, US_POLICIES
from sim.store.paths import CONF_DIR

from .config import load_scenario

KEEP = "(as in the scenario)"
SCENARIOS = sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))


class TeachingModel(RepressionBargaining):
    """The model with flat keyword parameters, as SolaraViz needs them.

    Args:
        scenario_name: a scenario of ``conf/scenario/`` to start from.
        us_policy, eu_stance, transit: override the scenario's choice, or keep it.
        price_per_prisoner: ``us.price_per_prisoner`` (RU per ordinary prisoner).
        restraint: ``us.restraint``, the arrest restraint a conditional deal demands (share).
        arrest_elasticity_price: ``regime.arrest_elasticity_price`` (share per 100 % price change).
        arrests_ref: ``regime.arrests_ref`` (persons/month).
        seed: the random seed, as text (a seed box).
        months: months the run can last.
    """

    def __init__(
        self,
        scenario_name: str = "baseline",
        us_policy: str = KEEP,
        price_per_prisoner: float = 1.5,
        restraint: float = 0.8,
        eu_stance: str = KEEP,
        transit: str = KEEP,
        arrest_elasticity_price: float = 0.5,
        arrests_ref: float = 33.0,
        seed: str = "2025",
        months: int = 240,
    ) -> None:
        params, self.question = load_scenario(scenario_name)
        changes = {
            "us.price_per_prisoner": float(price_per_prisoner),
            "us.restraint": float(restraint),
            "regime.arrest_elasticity_price": float(arrest_elasticity_price),
            "regime.arrests_ref": float(arrests_ref),
        }
        for key, value in (("us.policy", us_policy), ("eu.stance", eu_stance), ("eu.transit", transit)):
            if value != KEEP:
                changes[key] = value
        try:
            rng = int(str(seed).strip())
        except ValueError:
            rng = abs(hash(str(seed))) % (2**32)  # any text works as a seed box entry
        super().__init__(params.replace(**changes), months=months, rng=rng)
        self.seed_used = rng
        self.running = True

    def step(self) -> None:
        """One month; the page stops when the run's months are used up."""
        super().step()
        self.running = self.recorded < self.months

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The current run's monthly table and deals, in the format of ``sim-run``'s tables."""
        n = self.recorded
        ts = pd.DataFrame(
            {
                "scenario": self.params.name,
                "replicate": 0,
                "seed": self.seed_used,
                "month": [month_text(self.t0 + i) for i in range(n)],
                **{k: self.out[k][:n] for k in OUTPUTS},
            }
        )
        deals = pd.DataFrame(
            [{"scenario": self.params.name, "replicate": 0, "seed": self.seed_used, **d} for d in self.deals]
        )
        return ts, deals


def _months(model: TeachingModel) -> list[str]:
    return [month_text(model.t0 + i) for i in range(max(model.recorded, 1))]


def _chart(
    title: str,
    ylabel: str,
    lines: dict[str, np.ndarray],
    months: list[str],
    *,
    y_max: float | None = None,
    bars: dict[str, np.ndarray] | None = None,
) -> dict:
    """An ECharts option (a plain dict), drawn in the browser: a step costs the server almost nothing.

    ECharts, not Vega-Lite: solara-assets ships ECharts under the exact version Solara requests, so the page
    stays offline; Solara asks for Vega by a version range that only a live CDN resolves.
    """
    series = [
        {"name": k, "type": "line", "showSymbol": len(months) == 1, "data": np.round(v, 4).tolist()}
        for k, v in lines.items()
    ]
    series += [
        {"name": k, "type": "bar", "data": np.round(v, 4).tolist(), "itemStyle": {"opacity": 0.6}}
        for k, v in (bars or {}).items()
    ]
    y_axis = {"type": "value", "name": ylabel, "nameLocation": "middle", "nameGap": 45}
    if y_max is not None:
        y_axis.update(min=0, max=y_max)
    return {
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "animation": False,
        "legend": {"top": 26, "type": "scroll"},
        "grid": {"top": 62, "left": 64, "right": 20, "bottom": 40},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": months},
        "yAxis": y_axis,
        "series": series,
    }


def _show(option: dict, name: str) -> None:
    solara.FigureEcharts(
        option=option, attributes={"style": "height: 320px; width: 100%", "class": f"chart-{name}"}
    )


@solara.component
def PrisonersChart(model: TeachingModel):
    """Prisoners held at the end of each month."""
    update_counter.get()
    n, months = model.recorded, _months(model)
    held = (
        model.out["prisoners_held"][:n] if n else np.array([model.registry.held])
    )  # before step 1: the start
    _show(_chart("Political prisoners held", "persons", {"held": held}, months), "prisoners")


@solara.component
def RevolvingDoorChart(model: TeachingModel):
    """Arrests against releases, cumulatively, with the releases of each deal as bars."""
    update_counter.get()
    n, months = model.recorded, _months(model)
    rel = sum(model.out[c][:n] for c in ("released_deal", "released_pardon", "released_served"))
    _show(
        _chart(
            "The revolving door: arrests against releases",
            "persons",
            {
                "arrests (cumulative)": np.cumsum(model.out["arrests"][:n]),
                "releases (cumulative)": np.cumsum(rel),
            },
            months,
            bars={"released in a deal": model.out["released_deal"][:n]},
        ),
        "door",
    )


@solara.component
def SanctionsChart(model: TeachingModel):
    """US sanctions in total and by sector, and the EU's, in force."""
    update_counter.get()
    n, months = model.recorded, _months(model)
    series = {
        "US (all sectors)": model.out["us_sanctions"][:n],
        "EU": model.out["eu_sanctions"][:n],
        **{f"US {s}": model.out[f"us_{s}"][:n] for s in SECTORS},
    }
    _show(_chart("Sanctions in force", "share in force", series, months, y_max=1.0), "sanctions")


@solara.component
def DealLog(model: TeachingModel):
    """Deals and notable releases as they happen, newest first; and the export of the run's tables."""
    update_counter.get()
    n = model.recorded
    now = month_text(model.t0 + n - 1) if n else month_text(model.t0)
    held = int(model.out["prisoners_held"][n - 1]) if n else model.registry.held
    # plain HTML, not solara.Markdown: Markdown loads KaTeX from a CDN, which an offline classroom cannot
    # reach
    parts = [
        f"<p><b>{now}</b> — {held:,} held; learned price {model.regime.price:.2f} RU per prisoner "
        f"equivalent.</p><p class='settings'>Scenario <b>{escape(model.params.name)}</b>; US policy: "
        f"<b>{model.us.policy}</b>; EU: <b>{model.params.eu.stance}</b>; transit: "
        f"<b>{'open' if model.eu.transit_open else 'closed'}</b>; seed {model.seed_used}.</p>"
        f"<p><i>{escape(model.question)}</i></p><h3>Deal log</h3>"
    ]
    if not model.deals:
        parts.append("<p class='deal-log-empty'>No deal yet.</p>")
    items = []
    for d in reversed(model.deals):
        where = ", ".join(f"{d[k]} to {k[3:].upper()}" for k in ("to_ua", "to_lt", "to_pl") if d[k])
        notable = (
            f" — notable: {d['released_high_profile']} high-profile" if d["released_high_profile"] else ""
        )
        items.append(
            f"<li class='deal'><b>{d['month']}</b>: {d['released']} released{notable}; {d['expelled']} "
            f"expelled{' (' + where + ')' if where else ''}; relief {d['relief']:.0f} RU for "
            f"{escape(d['sectors_lifted'].replace(',', ', ') or 'nothing')}"
            f"{'; <b>snapped back</b>' if d['snapped_back'] else ''}"
            "</li>"
        )
    if items:
        parts.append("<ul>" + "".join(items) + "</ul>")
    solara.HTML(tag="div", unsafe_innerHTML="".join(parts), classes=["deal-log"])

    def export() -> bytes:
        ts, deals = model.tables()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("timeseries.csv", ts.to_csv(index=False))
            z.writestr("deals.csv", deals.to_csv(index=False))
        return buf.getvalue()

    solara.FileDownload(
        export,
        filename=f"bargaining-chips-{model.params.name}-seed{model.seed_used}.zip",
        label="Export this run's tables (CSV)",
    )


# Levers: scenario, US policy, price per prisoner, conditionality (the arrest restraint a conditional deal
# demands), EU stance, transit. Uncertainties: the price effect on arrests (regime.arrest_elasticity_price)
# and the reference arrest rate (regime.arrests_ref, 33 in November 2025). Labels are short so that
# SolaraViz's sidebar sliders keep their width.
MODEL_PARAMS = {
    "scenario_name": {"type": "Select", "value": "baseline", "values": SCENARIOS, "label": "Scenario"},
    "us_policy": {"type": "Select", "value": KEEP, "values": [KEEP, *US_POLICIES], "label": "US policy"},
    "price_per_prisoner": {
        "type": "SliderFloat",
        "value": 1.5,
        "min": 0.25,
        "max": 4.0,
        "step": 0.25,
        "label": "US price/prisoner",
    },
    "restraint": {
        "type": "SliderFloat",
        "value": 0.8,
        "min": 0.0,
        "max": 1.0,
        "step": 0.1,
        "label": "Restraint",
    },
    "eu_stance": {"type": "Select", "value": KEEP, "values": [KEEP, *EU_STANCES], "label": "EU stance"},
    "transit": {"type": "Select", "value": KEEP, "values": [KEEP, *TRANSIT], "label": "Baltic transit"},
    "arrest_elasticity_price": {
        "type": "SliderFloat",
        "value": 0.5,
        "min": 0.0,
        "max": 1.5,
        "step": 0.05,
        "label": "Price effect",
    },
    "arrests_ref": {
        "type": "SliderFloat",
        "value": 33.0,
        "min": 5.0,
        "max": 80.0,
        "step": 1.0,
        "label": "Arrests/month",
    },
    "seed": {"type": "InputText", "value": "2025", "label": "Seed"},
}

model = TeachingModel()
page = SolaraViz(
    model,
    components=[(PrisonersChart, 0), (RevolvingDoorChart, 0), (SanctionsChart, 0), (DealLog, 0)],
    model_params=MODEL_PARAMS,
    name="Bargaining chips: the revolving door",
    play_interval=150,
)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-app``: serve the page on 127.0.0.1."""
    ap = argparse.ArgumentParser(
        prog="sim-app", description="Serve the teaching page (Mesa SolaraViz) locally."
    )
    ap.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    args = ap.parse_args(argv)
    if not 1 <= args.port <= 65535:
        print(f"sim-app: error: --port {args.port}: must be in [1, 65535]", file=sys.stderr)
        sys.exit(2)
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    solara = str(Path(sys.executable).parent / "solara")
    cmd = [
        solara,
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
    os.execve(solara, cmd, env)


__all__ = ["TeachingModel", "page", "main"]
