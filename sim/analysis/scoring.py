"""Scores of ensemble forecasts against observations (scoringrules underneath). Pure: no files.

An ensemble forecast is an array ``members x horizon`` (one row per member, e.g. a replicate of the model
or a draw of a baseline; one column per month ahead) and the observations an array ``horizon`` (NaN where
the month is not observed). Every per-month function returns an array ``horizon`` with NaN where the
observation is NaN; :func:`mean_score` averages over the observed months.

* CRPS, by default the *fair* ensemble estimator (Ferro 2014): unbiased for the CRPS of the distribution the
  members are drawn from, so ensembles of different sizes (the model's replicates, a baseline's draws)
  compare fairly. ``estimator="nrg"`` gives the CRPS of the ensemble's own empirical distribution.
* Central prediction intervals from the ensemble's quantiles (numpy's default linear interpolation);
  coverage is whether the observation falls in ``[lower, upper]``; interval and weighted interval scores
  (Gneiting and Raftery 2007; Bracher et al. 2021).
* PIT values, randomised within the jump of the ensemble's CDF at the observation (ties and discrete
  counts: Czado, Gneiting and Held 2009), and their histogram.
* Brier score of a binary event, and the event "a release batch of at least 20 within 3 months".
* Skill against a baseline, ``1 - score_model / score_baseline``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scoringrules as sr

LEVELS = (0.5, 0.9)
"""Central interval levels reported (50 % and 90 %)."""
BATCH_THRESHOLD = 20
"""Persons: a month's batch releases (pardons and deals) at least this large make a "release batch"."""
BATCH_WINDOW = 3
"""Months: the window of the release-batch event."""


def _shapes(obs, ensemble) -> tuple[np.ndarray, np.ndarray]:
    y = np.atleast_1d(np.asarray(obs, dtype=float))
    x = np.asarray(ensemble, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != y.shape[0]:
        raise ValueError(f"ensemble must be members x horizon with horizon {y.shape[0]}; got shape {x.shape}")
    if x.shape[0] < 1 or np.isnan(x).any():
        raise ValueError("ensemble must have at least one member and no NaN")
    return y, x


def crps(obs, ensemble, estimator: str = "fair") -> np.ndarray:
    """CRPS of an ensemble per month (units of the observation, e.g. persons).

    Args:
        obs: observations, shape ``horizon`` (NaN where not observed).
        ensemble: forecast, shape ``members x horizon``.
        estimator: ``"fair"`` (default; needs >= 2 members) or ``"nrg"`` (the empirical ensemble's own CRPS),
            or any estimator scoringrules' ``crps_ensemble`` accepts.
    """
    y, x = _shapes(obs, ensemble)
    if estimator == "fair" and x.shape[0] < 2:
        raise ValueError("the fair CRPS needs at least 2 members")
    return np.asarray(sr.crps_ensemble(y, x, m_axis=0, estimator=estimator), dtype=float).reshape(y.shape)


def central_interval(ensemble, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper ends of the central ``level`` interval of each month's ensemble (its quantiles)."""
    if not 0 < level < 1:
        raise ValueError(f"level {level} must be in (0, 1)")
    x = np.asarray(ensemble, dtype=float)
    lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi


def covered(obs, ensemble, level: float) -> np.ndarray:
    """1.0 where the observation lies in the central ``level`` interval, 0.0 where not, NaN if unobserved."""
    y, x = _shapes(obs, ensemble)
    lo, hi = central_interval(x, level)
    return np.where(np.isnan(y), np.nan, ((y >= lo) & (y <= hi)).astype(float))


def interval_score(obs, ensemble, level: float) -> np.ndarray:
    """Interval (Winkler) score of the central ``level`` interval per month (scoringrules; alpha 1-level)."""
    y, x = _shapes(obs, ensemble)
    lo, hi = central_interval(x, level)
    return np.asarray(sr.interval_score(y, lo, hi, 1 - level), dtype=float).reshape(y.shape)


def weighted_interval_score(obs, ensemble, levels=LEVELS) -> np.ndarray:
    """Weighted interval score per month (Bracher et al. 2021): weights 1/2 on the median's absolute error
    and alpha/2 on each interval score, divided by K + 1/2.

    The interval scores come from scoringrules; the median term is added here because scoringrules 0.11.0's
    ``weighted_interval_score`` (numpy backend) adds ``w_median * median`` instead of
    ``w_median * |obs - median|`` (checked in ``tests/test_scoring.py``).
    """
    y, x = _shapes(obs, ensemble)
    med = np.median(x, axis=0)
    total = 0.5 * np.abs(y - med)
    for level in levels:
        total = total + (1 - level) / 2 * interval_score(y, x, level)
    return total / (len(levels) + 0.5)


def pit(obs, ensemble, rng: np.random.Generator) -> np.ndarray:
    """Randomised PIT per month: ``F(y-) + U (F(y) - F(y-))`` with ``F`` the ensemble's empirical CDF and
    ``U ~ Uniform(0, 1)``; uniform on [0, 1] for a calibrated forecast, ties and counts included.

    Args:
        obs: observations, shape ``horizon`` (NaN where not observed: PIT NaN).
        ensemble: forecast, shape ``members x horizon``.
        rng: the random generator (seeded by the caller, so the values are reproducible).
    """
    y, x = _shapes(obs, ensemble)
    below = (x < y).mean(axis=0)
    at_or_below = (x <= y).mean(axis=0)
    u = rng.uniform(size=y.shape)
    return np.where(np.isnan(y), np.nan, below + u * (at_or_below - below))


def pit_histogram(values, bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Counts of PIT values in ``bins`` equal bins of [0, 1] (NaN left out), and the bin edges."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    return np.histogram(v, bins=bins, range=(0.0, 1.0))


def brier(probability, outcome) -> np.ndarray:
    """Brier score ``(p - o)^2`` of forecast probabilities against 0/1 outcomes (scoringrules)."""
    p = np.asarray(probability, dtype=float)
    o = np.asarray(outcome, dtype=float)
    if ((p < 0) | (p > 1)).any() or not np.isin(o, (0.0, 1.0)).all():
        raise ValueError("probabilities must be in [0, 1] and outcomes 0 or 1")
    return np.asarray(sr.brier_score(o, p), dtype=float)


def release_batch_event(
    batch_releases, threshold: float = BATCH_THRESHOLD, window: int = BATCH_WINDOW
) -> np.ndarray:
    """Whether a release batch of at least ``threshold`` persons happens in the first ``window`` months.

    A month's batch releases are its pardon and deal releases (``released_pardon + released_deal``): the
    record dates batches, the model gives monthly totals, so "a batch" is read as a month whose batch
    releases reach the threshold.

    Args:
        batch_releases: persons per month, shape ``horizon`` (observed) or ``members x horizon`` (forecast).

    Returns:
        0/1 (float) per member, or a 0-d array for an observed series.
    """
    x = np.asarray(batch_releases, dtype=float)
    if x.shape[-1] < window:
        raise ValueError(f"need at least {window} months; got {x.shape[-1]}")
    return (x[..., :window] >= threshold).any(axis=-1).astype(float)


def event_probability(member_events) -> float:
    """The forecast probability of an event: the share of members in which it happens."""
    return float(np.mean(np.asarray(member_events, dtype=float)))


def mean_score(scores) -> float:
    """Mean of per-month scores over the observed months (NaN when none is observed)."""
    s = np.asarray(scores, dtype=float)
    return float(np.nanmean(s)) if np.isfinite(s).any() else float("nan")


def skill(score_model: float, score_baseline: float) -> float:
    """Skill score ``1 - score_model / score_baseline`` for negatively oriented scores (CRPS, Brier, WIS):
    1 is perfect, 0 no better than the baseline, negative worse. NaN when the baseline scores 0."""
    if score_baseline == 0 or np.isnan(score_baseline) or np.isnan(score_model):
        return float("nan")
    return 1.0 - score_model / score_baseline


def score_ensemble(obs, ensemble, rng: np.random.Generator, levels=LEVELS, estimator: str = "fair") -> dict:
    """The summary scores of one forecast: mean CRPS, WIS, coverage of each level, and the PIT values.

    Returns:
        ``{"crps": float, "wis": float, "coverage": {level: share}, "pit": array horizon}``.
    """
    return {
        "crps": mean_score(crps(obs, ensemble, estimator)),
        "wis": mean_score(weighted_interval_score(obs, ensemble, levels)),
        "coverage": {lv: mean_score(covered(obs, ensemble, lv)) for lv in levels},
        "pit": pit(obs, ensemble, rng),
    }


def ensemble_from_table(table: pd.DataFrame, column: str, months) -> np.ndarray:
    """A ``members x horizon`` array of one column from a long table (one row per ``replicate`` and
    ``month``, as the simulator's timeseries or ``forecast.parquet``), for the given months in order.

    Raises:
        ValueError: a month missing for some replicate, or a column absent.
    """
    if column not in table.columns:
        raise ValueError(f"table has no column {column!r}")
    wide = table.pivot(index="replicate", columns="month", values=column)
    months = [str(m) for m in months]
    wide.columns = [str(c) for c in wide.columns]
    missing = [m for m in months if m not in wide.columns]
    if missing or wide[months].isna().any().any():
        raise ValueError(f"table lacks {column} for month(s) {', '.join(missing) or 'of some replicates'}")
    return wide[months].to_numpy(dtype=float)


def table_from_ensembles(ensembles: dict, months, fill: dict | None = None) -> pd.DataFrame:
    """A long table (``replicate``, ``month`` and one column per ensemble) from ``members x horizon`` arrays;
    ``fill`` adds constant columns (e.g. ``{"released_served": 0.0}`` for a baseline that has none)."""
    months = [str(m) for m in months]
    shapes = {np.asarray(v).shape for v in ensembles.values()}
    if len(shapes) != 1 or next(iter(shapes))[1] != len(months):
        raise ValueError(f"ensembles must share one shape members x {len(months)}; got {sorted(shapes)}")
    members = next(iter(shapes))[0]
    out = pd.DataFrame(
        {
            "replicate": np.repeat(np.arange(members), len(months)),
            "month": pd.Series(months * members, dtype="string"),
        }
    )
    for name, arr in ensembles.items():
        out[name] = np.asarray(arr, dtype=float).reshape(-1)
    for name, value in (fill or {}).items():
        out[name] = value
    return out
