"""The teaching page: a Mesa SolaraViz page to demonstrate the revolving door in a classroom.

Start it with ``sim-app`` (``sim-app --port 8765``): a scenario selector, sliders for the main levers and
uncertainties, a seed box, play / step / reset, live charts of prisoners held, arrests against releases and
sanctions in force, a log of deals and notable releases, and an export of the current run's tables. All
assets are served locally (``solara-assets``), so it works offline.
"""

from __future__ import annotations

import argparse
import io
from html import escape
import os
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from .config import load_scenario
from .model import OUTPUTS, RepressionBargaining
from .params import EU_STANCES, SECTORS, TRANSIT, US_POLICIES
from .prisoners import month_index, month_text

KEEP = "(as in the scenario)"
SCENARIOS = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "conf" / "scenario").glob("*.yaml"))


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

    def __init__(self, scenario_name: str = "baseline", us_policy: str = KEEP, price_per_prisoner: float = 1.5,
                 restraint: float = 0.8, eu_stance: str = KEEP, transit: str = KEEP,
                 arrest_elasticity_price: float = 0.5, arrests_ref: float = 33.0, seed: str = "2025",
                 months: int = 240) -> None:
        params, self.question = load_scenario(scenario_name)
        changes = {"us.price_per_prisoner": float(price_per_prisoner), "us.restraint": float(restraint),
                   "regime.arrest_elasticity_price": float(arrest_elasticity_price),
                   "regime.arrests_ref": float(arrests_ref)}
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
        ts = pd.DataFrame({"scenario": self.params.name, "replicate": 0, "seed": self.seed_used,
                           "month": [month_text(self.t0 + i) for i in range(n)],
                           **{k: self.out[k][:n] for k in OUTPUTS}})
        deals = pd.DataFrame([{"scenario": self.params.name, "replicate": 0, "seed": self.seed_used, **d}
                              for d in self.deals])
        return ts, deals


def _axis_dates(model: TeachingModel) -> np.ndarray:
    return np.array([np.datetime64(month_text(model.t0 + i)) for i in range(model.recorded)])


def _figure() -> tuple[Figure, object]:
    fig = Figure(figsize=(6.4, 3.4), layout="constrained")
    return fig, fig.subplots()


@solara.component
def PrisonersChart(model: TeachingModel):
    """Prisoners held at the end of each month."""
    update_counter.get()
    fig, ax = _figure()
    if model.recorded:
        ax.plot(_axis_dates(model), model.out["prisoners_held"][: model.recorded], color="C0", lw=2)
    else:  # before the first step: the stock at the start
        ax.plot([np.datetime64(month_text(model.t0))], [model.registry.held], "o", color="C0")
    ax.set_title("Political prisoners held")
    ax.set_ylabel("persons")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def RevolvingDoorChart(model: TeachingModel):
    """Arrests against releases each month, and cumulatively."""
    update_counter.get()
    fig, ax = _figure()
    n = model.recorded
    if n:
        x = _axis_dates(model)
        rel = sum(model.out[c][:n] for c in ("released_deal", "released_pardon", "released_served"))
        ax.plot(x, np.cumsum(model.out["arrests"][:n]), color="C3", lw=2, label="arrests (cumulative)")
        ax.plot(x, np.cumsum(rel), color="C2", lw=2, label="releases (cumulative)")
        ax.bar(x, model.out["released_deal"][:n], width=20, color="C1", alpha=0.6, label="released in a deal")
        ax.legend(fontsize=8, loc="upper left")
    ax.set_title("The revolving door: arrests against releases")
    ax.set_ylabel("persons")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def SanctionsChart(model: TeachingModel):
    """US sanctions by sector and in total, and the EU's, in force."""
    update_counter.get()
    fig, ax = _figure()
    n = model.recorded
    if n:
        x = _axis_dates(model)
        ax.plot(x, model.out["us_sanctions"][:n], color="C0", lw=2.5, label="US (all sectors)")
        ax.plot(x, model.out["eu_sanctions"][:n], color="C4", lw=2.5, label="EU")
        for i, s in enumerate(SECTORS):
            ax.plot(x, model.out[f"us_{s}"][:n], lw=1, ls="--", color=f"C{i + 5}", label=f"US {s}")
        ax.legend(fontsize=7, ncol=2)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Sanctions in force")
    ax.set_ylabel("share in force")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def DealLog(model: TeachingModel):
    """Deals and notable releases as they happen, newest first; and the export of the run's tables."""
    update_counter.get()
    n = model.recorded
    now = month_text(model.t0 + n - 1) if n else month_text(model.t0)
    held = int(model.out["prisoners_held"][n - 1]) if n else model.registry.held
    # plain HTML, not solara.Markdown: Markdown loads KaTeX from a CDN, which an offline classroom cannot reach
    parts = [f"<p><b>{now}</b> — {held:,} held; learned price {model.regime.price:.2f} RU per prisoner "
             f"equivalent.</p><p><i>{escape(model.question)}</i></p><h3>Deal log</h3>"]
    if not model.deals:
        parts.append("<p class='deal-log-empty'>No deal yet.</p>")
    items = []
    for d in reversed(model.deals):
        where = ", ".join(f"{d[k]} to {k[3:].upper()}" for k in ("to_ua", "to_lt", "to_pl") if d[k])
        notable = f" — notable: {d['released_high_profile']} high-profile" if d["released_high_profile"] else ""
        items.append(f"<li class='deal'><b>{d['month']}</b>: {d['released']} released{notable}; {d['expelled']} "
                     f"expelled{' (' + where + ')' if where else ''}; relief {d['relief']:.0f} RU for "
                     f"{escape(d['sectors_lifted'] or 'nothing')}{'; <b>snapped back</b>' if d['snapped_back'] else ''}"
                     "</li>")
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

    solara.FileDownload(export, filename=f"bargaining-chips-{model.params.name}-seed{model.seed_used}.zip",
                        label="Export this run's tables (CSV)")


# Levers: scenario, US policy, price per prisoner, conditionality (the arrest restraint a conditional deal
# demands), EU stance, transit. Uncertainties: the price effect on arrests (regime.arrest_elasticity_price)
# and the reference arrest rate (regime.arrests_ref, 33 in November 2025). Labels are short so that
# SolaraViz's sidebar sliders keep their width.
MODEL_PARAMS = {
    "scenario_name": {"type": "Select", "value": "baseline", "values": SCENARIOS, "label": "Scenario"},
    "us_policy": {"type": "Select", "value": KEEP, "values": [KEEP, *US_POLICIES], "label": "US policy"},
    "price_per_prisoner": {"type": "SliderFloat", "value": 1.5, "min": 0.25, "max": 4.0, "step": 0.25,
                           "label": "US price/prisoner"},
    "restraint": {"type": "SliderFloat", "value": 0.8, "min": 0.0, "max": 1.0, "step": 0.1,
                  "label": "Restraint"},
    "eu_stance": {"type": "Select", "value": KEEP, "values": [KEEP, *EU_STANCES], "label": "EU stance"},
    "transit": {"type": "Select", "value": KEEP, "values": [KEEP, *TRANSIT], "label": "Baltic transit"},
    "arrest_elasticity_price": {"type": "SliderFloat", "value": 0.5, "min": 0.0, "max": 1.5, "step": 0.05,
                                "label": "Price effect"},
    "arrests_ref": {"type": "SliderFloat", "value": 33.0, "min": 5.0, "max": 80.0, "step": 1.0,
                    "label": "Arrests/month"},
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
    ap = argparse.ArgumentParser(prog="sim-app", description="Serve the teaching page (Mesa SolaraViz) locally.")
    ap.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    args = ap.parse_args(argv)
    if not 1 <= args.port <= 65535:
        print(f"sim-app: error: --port {args.port}: must be in [1, 65535]", file=sys.stderr)
        sys.exit(2)
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    solara = str(Path(sys.executable).parent / "solara")
    cmd = [solara, "run", "sim.app", "--host", args.host, "--port", str(args.port),
           "--production", "--no-check-version", "--no-open"]
    print(f"sim-app: serving on http://{args.host}:{args.port}", flush=True)
    os.execve(solara, cmd, env)


__all__ = ["TeachingModel", "page", "main", "month_index"]
