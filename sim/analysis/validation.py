"""Rolling-origin validation: forecasts from several origins, scored against the record. Pure.

For every origin the caller fits the model on the data through the origin only and simulates the months
after it (:mod:`sim.analysis.forecasting`); the baselines of :mod:`sim.analysis.baselines` are fitted on the
same data. :func:`score_origin` then scores every forecaster against the record's observations in the
months after the origin, never reading an observation at or before the origin as a target.

Horizons: the score "within ``h`` months" pools the observed months at leads ``1 .. h``. The record's
monthly observations are sparse (the held stock is counted some months, new political prisoners monthly
only from 2023), so a score at the single lead ``h`` would often have no observation at all; the table
keeps each lead, so other poolings are a groupby away.

Rows of the score table (long format): ``origin, forecaster, target, lead, month, observed, crps, lower50,
upper50, covered50, lower90, upper90, covered90, pit``. Rows of the event table: ``origin, forecaster,
probability, outcome, brier`` for the event "a release batch of at least 20 within 3 months"
(:func:`sim.analysis.scoring.release_batch_event`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from . import scoring
from .baselines import BASELINES, TARGETS, BaselineError
from .forecasting import months_after

#: The model's name in the tables.
MODEL = "model"
#: Baselines of the event "a release batch within 3 months": the last window's outcome carried forward
#: (persistence) and the share of the fit window's 3-month windows holding one (climatology). The count
#: baselines (trend, stock-flow) forecast stocks and inflows, not batches.
EVENT_BASELINES = ("persistence", "climatology")


def observed_at(observed: pd.DataFrame, months: Sequence[str], column: str) -> np.ndarray:
    """The observed values of ``column`` in ``months`` (NaN where not observed or past the record)."""
    s = observed.set_index(observed["month"].astype(str))[column]
    return np.array([float(s.get(m, np.nan)) for m in months], dtype=float)


def score_table(
    origin: str,
    forecaster: str,
    ensembles: Mapping[str, np.ndarray],
    observed: pd.DataFrame,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Per-lead scores of one forecaster's ensembles (``members x horizon`` by target) at one origin."""
    rows = []
    for target, ens in ensembles.items():
        ens = np.asarray(ens, dtype=float)
        months = months_after(origin, ens.shape[1])
        y = observed_at(observed, months, target)
        crps = scoring.crps(y, ens)
        lo50, hi50 = scoring.central_interval(ens, 0.5)
        lo90, hi90 = scoring.central_interval(ens, 0.9)
        pit = scoring.pit(y, ens, rng)
        for i, m in enumerate(months):
            if np.isnan(y[i]):
                continue
            rows.append(
                {
                    "origin": origin,
                    "forecaster": forecaster,
                    "target": target,
                    "lead": i + 1,
                    "month": m,
                    "observed": y[i],
                    "median": float(np.median(ens[:, i])),
                    "crps": float(crps[i]),
                    "lower50": float(lo50[i]),
                    "upper50": float(hi50[i]),
                    "covered50": float(lo50[i] <= y[i] <= hi50[i]),
                    "lower90": float(lo90[i]),
                    "upper90": float(hi90[i]),
                    "covered90": float(lo90[i] <= y[i] <= hi90[i]),
                    "pit": float(pit[i]),
                }
            )
    return pd.DataFrame(rows)


def batch_releases(frame: pd.DataFrame) -> pd.Series:
    """A month's batch releases (pardons and deals), persons."""
    return frame["released_pardon"].astype(float) + frame["released_deal"].astype(float)


def event_outcome(observed: pd.DataFrame, origin: str, record_through: str) -> float | None:
    """Whether the record holds a release batch in the 3 months after ``origin`` (None when those months run
    past the record)."""
    months = months_after(origin, scoring.BATCH_WINDOW)
    if months[-1] > record_through:
        return None
    s = batch_releases(observed).set_axis(observed["month"].astype(str))
    return float(scoring.release_batch_event(np.array([float(s.get(m, 0.0)) for m in months])))


def event_baselines(observed: pd.DataFrame, origin: str, window: int | None) -> dict[str, float]:
    """The event baselines' probabilities from the record through ``origin`` (:data:`EVENT_BASELINES`)."""
    past = observed[observed["month"].astype(str) <= origin]
    if window:
        past = past.tail(window)
    x = batch_releases(past).to_numpy(float)
    w = scoring.BATCH_WINDOW
    if len(x) < w:
        return {}
    hits = np.array([(x[i : i + w] >= scoring.BATCH_THRESHOLD).any() for i in range(len(x) - w + 1)], float)
    return {"persistence": float(hits[-1]), "climatology": float(hits.mean())}


def score_origin(
    origin: str,
    model: pd.DataFrame,
    observed: pd.DataFrame,
    record_through: str,
    horizon: int,
    members: int,
    seed: int,
    window: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Score the model's forecast from one origin and the baselines fitted on the same data.

    Args:
        origin: the forecast origin.
        model: the model's forecast (one row per replicate and month after the origin).
        observed: the record's monthly series through ``record_through`` (the truth; the baselines see only
            its rows through the origin).
        record_through: the record's last month.
        horizon: months scored after the origin.
        members: ensemble size of each baseline.
        seed: seeds the baselines' draws and the PIT's randomisation.
        window: the baselines' fit window in months (None: all the record through the origin).

    Returns:
        The score rows, the event rows, and the baselines that could not be fitted (with why).
    """
    rng = np.random.default_rng(seed)
    months = months_after(origin, horizon)
    ens = {t: scoring.ensemble_from_table(model, t, months) for t in TARGETS}
    tables = [score_table(origin, MODEL, ens, observed, rng)]
    skipped = []
    past = observed[observed["month"].astype(str) <= origin]
    for name, fn in BASELINES.items():
        try:
            b = fn(past, origin, horizon, members, rng, window=window)
        except BaselineError as exc:
            skipped.append(f"{name} at {origin}: {exc}")
            continue
        for t in TARGETS:
            if t not in b:
                skipped.append(f"{name} at {origin}: no forecast of {t} (too few observations of it by then)")
        tables.append(score_table(origin, name, {t: b[t] for t in TARGETS if t in b}, observed, rng))
    scores = pd.concat([t for t in tables if not t.empty], ignore_index=True) if tables else pd.DataFrame()
    events = []
    outcome = event_outcome(observed, origin, record_through)
    if outcome is not None:
        batch = scoring.ensemble_from_table(
            model.assign(batch=batch_releases(model)), "batch", months[: scoring.BATCH_WINDOW]
        )
        p = scoring.event_probability(scoring.release_batch_event(batch))
        events.append({"origin": origin, "forecaster": MODEL, "probability": p, "outcome": outcome})
        for name, q in event_baselines(observed, origin, window).items():
            events.append({"origin": origin, "forecaster": name, "probability": q, "outcome": outcome})
    ev = pd.DataFrame(events, columns=["origin", "forecaster", "probability", "outcome"])
    if len(ev):
        ev["brier"] = scoring.brier(ev["probability"], ev["outcome"])
    else:
        ev["brier"] = pd.Series(dtype=float)
    return scores, ev, skipped


def summarise(scores: pd.DataFrame, events: pd.DataFrame, horizons: Sequence[int]) -> dict:
    """The validation's summary: for each target, horizon and forecaster the mean CRPS and the coverage of
    the 50 % and 90 % intervals over the observed months at leads ``1 .. h`` (and how many there were); the
    model's skill against each baseline on the months both scored; the Brier scores; the PIT histogram."""
    out: dict = {"crps": [], "skill": [], "brier": [], "pit": {}}
    if scores.empty:
        return out
    for target in TARGETS:
        st = scores[scores["target"] == target]
        for h in horizons:
            sh = st[st["lead"] <= h]
            for name, g in sh.groupby("forecaster", sort=False):
                out["crps"].append(
                    {
                        "target": target,
                        "horizon": int(h),
                        "forecaster": str(name),
                        "n": int(len(g)),
                        "crps": float(g["crps"].mean()),
                        "coverage50": float(g["covered50"].mean()),
                        "coverage90": float(g["covered90"].mean()),
                    }
                )
            key = ["origin", "month"]
            mine = sh[sh["forecaster"] == MODEL].set_index(key)["crps"]
            for name in sh["forecaster"].unique():
                if name == MODEL:
                    continue
                theirs = sh[sh["forecaster"] == name].set_index(key)["crps"]
                both = mine.index.intersection(theirs.index)
                m, b = float(mine.loc[both].mean()), float(theirs.loc[both].mean())
                out["skill"].append(
                    {
                        "target": target,
                        "horizon": int(h),
                        "baseline": str(name),
                        "n": int(len(both)),
                        "crps_model": m,
                        "crps_baseline": b,
                        "skill": scoring.skill(m, b) if len(both) else float("nan"),
                    }
                )
        model_pit = st.loc[st["forecaster"] == MODEL, "pit"].to_numpy(float)
        counts, edges = scoring.pit_histogram(model_pit)
        out["pit"][target] = {"counts": counts.tolist(), "edges": edges.tolist()}
    if len(events):
        for name, g in events.groupby("forecaster", sort=False):
            out["brier"].append(
                {"forecaster": str(name), "n": int(len(g)), "brier": float(g["brier"].mean())}
            )
    return out
