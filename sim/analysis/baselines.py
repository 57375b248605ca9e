"""Baseline forecasts the model must beat, fitted only on observations up to the forecast origin. Pure.

Each baseline takes the observed monthly series of a case (:func:`sim.analysis.observed.monthly_series`:
``month, prisoners_held, arrests, released_pardon, released_deal``), an origin month and a horizon, and
returns ensembles ``members x horizon`` for the held stock (``prisoners_held``) and for monthly new
political prisoners (``arrests``), for the months ``origin + 1 .. origin + horizon``. Rows after the origin
are dropped first, whatever the caller passes; ``window`` (months, default all) limits the fit to the
months ``origin - window + 1 .. origin``. Forecasts are floats clipped at 0 (counts cannot be negative).

* :func:`persistence` -- the last observed value, spread by a random walk whose monthly steps are drawn
  (bootstrap, with replacement) from the series' own past changes, demeaned so the forecast's mean stays
  at the last value. Months between observations are gaps: a change over ``g`` months enters as
  ``change / sqrt(g)`` (a random walk's change over ``g`` months has ``sqrt(g)`` times the spread of a
  one-month step). The spread keeps the CRPS from being degenerate (a point forecast's CRPS is its
  absolute error, which rewards no honest statement of uncertainty); a series with fewer than two
  observations cannot be spread and raises :class:`BaselineError`.
* :func:`linear_trend` -- ordinary least squares ``y = a + b t`` on the window's observed months, with the
  OLS predictive distribution: Student t with ``n - 2`` degrees of freedom, centred on the line, scale
  ``s sqrt(1 + 1/n + (t - t_mean)^2 / S_tt)``. Needs three observations.
* :func:`negbin_stock_flow` -- a stock-flow model. Inflow ``A_t ~ NegBin(mean mu, dispersion k)``, fitted by
  maximum likelihood (scipy) to the window's monthly new prisoners (``mu`` is the sample mean, the MLE for
  any ``k``; ``k`` maximises the profile likelihood; Poisson when the counts are not over-dispersed).
  Outflow ``O_t ~ Binomial(S_{t-1}, q)``: every channel at once (pardons, deals, terms served), with
  ``q`` = total outflow / prisoner-months of exposure over the window's pairs of consecutive stock
  observations, the outflow between two of them being ``S_0 + inflow - S_1`` (inflow observed where
  recorded, ``mu`` a month where not) and the exposure the gap in months times the mean of the two stocks.
  Members are simulated from the last stock observation (so a stock last seen before the origin is
  carried through the gap by the model) with ``S_t = S_{t-1} + A_t - O_t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

TARGETS = ("prisoners_held", "arrests")
"""The series every baseline forecasts."""


class BaselineError(ValueError):
    """Too few observations up to the origin to fit a baseline."""


def _index(month: str) -> int:
    if not isinstance(month, str) or len(month) != 7 or month[4] != "-":
        raise ValueError(f"month {month!r} must be YYYY-MM")
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def forecast_months(origin: str, horizon: int) -> list[str]:
    """The months a forecast from ``origin`` covers: ``origin + 1 .. origin + horizon`` (``YYYY-MM``)."""
    if horizon < 1:
        raise ValueError(f"horizon {horizon} must be >= 1 month")
    o = _index(origin)
    return [f"{(o + h) // 12:04d}-{(o + h) % 12 + 1:02d}" for h in range(1, horizon + 1)]


def fit_window(observed: pd.DataFrame, origin: str, window: int | None = None) -> pd.DataFrame:
    """The rows a baseline may use: months ``<= origin`` and, with ``window``, the last ``window`` of them.

    Returns:
        The rows, with an integer month index column ``t``.
    """
    o = _index(origin)
    t = observed["month"].astype(str).map(_index)
    keep = t <= o
    if window is not None:
        if window < 1:
            raise ValueError(f"window {window} must be >= 1 month")
        keep &= t > o - window
    out = observed.loc[keep].copy()
    out["t"] = t[keep].to_numpy()
    return out.sort_values("t")


def _observed(rows: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    s = rows[["t", column]].dropna()
    return s["t"].to_numpy(dtype=float), s[column].to_numpy(dtype=float)


def _spread_steps(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    gaps = np.diff(t)
    return np.diff(y) / np.sqrt(gaps)


def _each_target(rows: pd.DataFrame, origin: str, name: str, need: int, forecast) -> dict[str, np.ndarray]:
    """``forecast(t, y)`` for each target with at least ``need`` observations by the origin, in the order of
    :data:`TARGETS` (so the random draws keep their order); a target with fewer is left out, and
    :class:`BaselineError` names why when none is left."""
    out, why = {}, []
    for column in TARGETS:
        t, y = _observed(rows, column)
        if len(y) < need:  # this target cannot be forecast; the others still can
            why.append(f"{name} of {column}: {len(y)} observation(s) up to {origin}; need {need}")
            continue
        out[column] = forecast(t, y)
    if not out:
        raise BaselineError("; ".join(why))
    return out


def persistence(
    observed: pd.DataFrame,
    origin: str,
    horizon: int,
    members: int,
    rng: np.random.Generator,
    window: int | None = None,
) -> dict[str, np.ndarray]:
    """Persistence with a bootstrapped random-walk spread (see the module docstring).

    Args:
        observed: the monthly series (columns of :data:`TARGETS` and ``month``).
        origin: the last month whose observations may be used (``YYYY-MM``).
        horizon: months ahead.
        members: ensemble members.
        rng: the random generator.
        window: months of history used (default all).

    Returns:
        ``{target: members x horizon}``, persons (stock) and persons per month (arrests), for each target
        with enough observations by the origin (a record without monthly counts of new prisoners, e.g.
        Venezuela's, still gets a forecast of its stock).

    Raises:
        BaselineError: no target has enough observations.
    """
    rows = fit_window(observed, origin, window)
    o = _index(origin)

    def forecast(t: np.ndarray, y: np.ndarray) -> np.ndarray:
        steps = _spread_steps(t, y)
        steps = steps - steps.mean()
        lead = int(o - t[-1])  # months from the last observation to the origin
        draws = rng.choice(steps, size=(members, lead + horizon), replace=True)
        paths = y[-1] + np.cumsum(draws, axis=1)
        return np.clip(paths[:, lead:], 0.0, None)

    return _each_target(rows, origin, "persistence", 2, forecast)


def linear_trend(
    observed: pd.DataFrame,
    origin: str,
    horizon: int,
    members: int,
    rng: np.random.Generator,
    window: int | None = None,
) -> dict[str, np.ndarray]:
    """OLS trend with its Student-t predictive distribution (see the module docstring; same arguments as
    :func:`persistence`)."""
    rows = fit_window(observed, origin, window)
    future = np.arange(_index(origin) + 1, _index(origin) + horizon + 1, dtype=float)

    def forecast(t: np.ndarray, y: np.ndarray) -> np.ndarray:
        n = len(y)
        fit = stats.linregress(t, y)
        resid = y - (fit.intercept + fit.slope * t)
        s = np.sqrt(np.sum(resid**2) / (n - 2))
        stt = np.sum((t - t.mean()) ** 2)
        scale = s * np.sqrt(1 + 1 / n + (future - t.mean()) ** 2 / stt)
        centre = fit.intercept + fit.slope * future
        draws = stats.t.rvs(df=n - 2, size=(members, horizon), random_state=rng)
        return np.clip(centre + draws * scale, 0.0, None)

    return _each_target(rows, origin, "linear trend", 3, forecast)


@dataclass(frozen=True)
class StockFlowFit:
    """A fitted negative-binomial stock-flow model.

    Attributes:
        mu: mean monthly inflow (persons per month).
        k: NegBin dispersion (``inf`` = Poisson); variance ``mu + mu^2 / k``.
        q: monthly outflow share of the stock (all channels).
        stock: the last observed stock (persons) and ``t_stock`` its month index.
    """

    mu: float
    k: float
    q: float
    stock: float
    t_stock: int


def fit_negbin(counts) -> tuple[float, float]:
    """Maximum-likelihood ``(mu, k)`` of a negative binomial for monthly counts (``k = inf``: Poisson).

    ``mu`` is the sample mean (the MLE whatever ``k``); ``k`` maximises the profile log-likelihood over
    ``log k`` in [-5, 12] (scipy's bounded scalar minimiser). Counts whose variance does not exceed their
    mean are not over-dispersed: Poisson.
    """
    x = np.asarray(counts, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) < 2:
        raise BaselineError(f"negative binomial: {len(x)} monthly count(s); need 2")
    x = np.round(x)
    mu = float(x.mean())
    if mu == 0 or x.var(ddof=1) <= mu:
        return mu, float("inf")

    def nll(logk: float) -> float:
        k = np.exp(logk)
        return -float(stats.nbinom.logpmf(x, k, k / (k + mu)).sum())

    res = optimize.minimize_scalar(nll, bounds=(-5.0, 12.0), method="bounded")
    return mu, float(np.exp(res.x))


def fit_outflow_share(rows: pd.DataFrame, mu: float) -> float:
    """Monthly outflow share ``q`` of the stock, from pairs of consecutive stock observations (see the module
    docstring). ``rows`` has ``t``, ``prisoners_held`` and ``arrests``; clipped to [0, 1)."""
    stock = rows[["t", "prisoners_held"]].dropna()
    if len(stock) < 2:
        raise BaselineError(f"stock-flow outflow: {len(stock)} stock observation(s); need 2")
    arrests = dict(zip(rows["t"], rows["arrests"]))
    out_total = exposure = 0.0
    t = stock["t"].to_numpy()
    s = stock["prisoners_held"].to_numpy(dtype=float)
    for (t0, s0), (t1, s1) in zip(zip(t[:-1], s[:-1]), zip(t[1:], s[1:])):
        inflow = sum(
            mu if pd.isna(arrests.get(m)) else float(arrests[m]) for m in range(int(t0) + 1, int(t1) + 1)
        )
        out_total += s0 + inflow - s1
        exposure += (t1 - t0) * (s0 + s1) / 2
    if exposure <= 0:
        return 0.0
    return float(np.clip(out_total / exposure, 0.0, 0.999))


def fit_stock_flow(observed: pd.DataFrame, origin: str, window: int | None = None) -> StockFlowFit:
    """Fit the stock-flow model on the window up to ``origin``."""
    rows = fit_window(observed, origin, window)
    mu, k = fit_negbin(rows["arrests"])
    q = fit_outflow_share(rows, mu)
    stock = rows[["t", "prisoners_held"]].dropna()
    return StockFlowFit(mu, k, q, float(stock["prisoners_held"].iloc[-1]), int(stock["t"].iloc[-1]))


def simulate_stock_flow(
    fit: StockFlowFit, origin: str, horizon: int, members: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Members of the fitted stock-flow model for ``origin + 1 .. origin + horizon``."""
    lead = _index(origin) - fit.t_stock
    steps = lead + horizon
    if np.isinf(fit.k):
        inflow = rng.poisson(fit.mu, size=(members, steps))
    else:
        inflow = rng.negative_binomial(fit.k, fit.k / (fit.k + fit.mu), size=(members, steps))
    stock = np.empty((members, steps))
    s = np.full(members, int(round(fit.stock)), dtype=np.int64)
    for i in range(steps):
        s = s - rng.binomial(s, fit.q) + inflow[:, i]
        stock[:, i] = s
    return {"prisoners_held": stock[:, lead:], "arrests": inflow[:, lead:].astype(float)}


def negbin_stock_flow(
    observed: pd.DataFrame,
    origin: str,
    horizon: int,
    members: int,
    rng: np.random.Generator,
    window: int | None = None,
) -> dict[str, np.ndarray]:
    """The negative-binomial stock-flow baseline (module docstring; arguments as :func:`persistence`)."""
    return simulate_stock_flow(fit_stock_flow(observed, origin, window), origin, horizon, members, rng)


BASELINES = {"persistence": persistence, "linear_trend": linear_trend, "negbin_stock_flow": negbin_stock_flow}
"""The baselines by name, each ``f(observed, origin, horizon, members, rng, window=None)``."""
