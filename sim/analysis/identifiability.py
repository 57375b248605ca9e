"""What the data say about each parameter: prior against posterior width, posterior correlations, the
parameters the data do not identify, and posterior predictive bands. Pure (no files, no drawing).

* **Intervals.** Every interval is the central ``level`` (default 90 %) interval. A prior's comes from its
  distribution (:meth:`~sim.analysis.priors.Prior.interval`); a posterior's from the weighted particles by
  :func:`weighted_quantile`. Widths are measured on the scale on which the prior is flat or symmetric:
  the log scale for a ``loguniform`` prior, the parameter's own scale otherwise (integer parameters on
  their latent continuous scale).
* **The rule.** A parameter is **not identified** when ``posterior width / prior width >``
  :data:`NOT_IDENTIFIED_RATIO` (0.7): the record narrows its 90 % interval by less than 30 %. The
  threshold is a convention, stated so that it can be argued with, not a test.
* **Correlations.** Weighted Pearson correlations of the posterior particles (numpy's ``cov`` with the
  importance weights as ``aweights``), on the same scales as the widths. Strong correlations (``|r| > 0.7``)
  name combinations the data pin down when the single parameters are not.
* **Predictive checks.** Parameter draws resampled from the posterior by weight, each simulated with its own
  seed; per month and series, quantiles over draws (:func:`predictive_bands`) to draw against the record, and
  the share of observed months inside a band (:func:`band_coverage`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from .abc import resample
from .priors import Prior

NOT_IDENTIFIED_RATIO = 0.7
STRONG_CORRELATION = 0.7
BAND_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SERIES = ("prisoners_held", "arrests", "released_pardon", "released_deal")


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q) -> np.ndarray:
    """Quantiles ``q`` (in [0, 1]) of weighted values.

    The sorted values are placed at the midpoints of their cumulative weight,
    ``F_i = (sum_{j<=i} w_j - w_i / 2) / sum w`` (values of zero weight left out), and ``q`` is
    interpolated linearly between them (clamped to the smallest and largest value). With equal weights
    this is the "Hazen" plotting position.
    """
    v = np.asarray(values, float)
    w = np.asarray(weights, float)
    if v.shape != w.shape or v.size == 0:
        raise ValueError("weighted_quantile: values and weights of the same, non-zero length")
    if np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weighted_quantile: weights must be >= 0 with a positive sum")
    keep = w > 0  # a particle without weight carries no mass
    order = np.argsort(v[keep])
    v, w = v[keep][order], w[keep][order]
    cdf = (np.cumsum(w) - w / 2) / w.sum()
    return np.interp(np.asarray(q, float), cdf, v)


def _scale(prior: Prior, x):
    return np.log(x) if prior.kind == "loguniform" else np.asarray(x, float)


def interval_table(
    posterior: pd.DataFrame,
    priors: Sequence[Prior],
    level: float = 0.9,
    threshold: float = NOT_IDENTIFIED_RATIO,
) -> pd.DataFrame:
    """Prior against posterior, one row per parameter.

    Columns: ``parameter``, ``prior`` (kind), ``scale`` (``log`` or ``linear``), ``prior_low``,
    ``prior_high``, ``posterior_low``, ``posterior_median``, ``posterior_high`` (parameter units),
    ``width_ratio`` (posterior over prior width on ``scale``), ``identified`` (``width_ratio <= threshold``).
    """
    w = posterior["weight"].to_numpy(float)
    a = (1 - level) / 2
    rows = []
    for p in priors:
        lo, hi = p.interval(level)
        x = posterior[p.name].to_numpy(float)
        plo, pmed, phi = weighted_quantile(x, w, [a, 0.5, 1 - a])
        prior_w = float(np.diff(_scale(p, [lo, hi]))[0])
        post_w = float(np.diff(_scale(p, [plo, phi]))[0])
        ratio = post_w / prior_w
        rows.append(
            {
                "parameter": p.name,
                "prior": p.kind,
                "scale": "log" if p.kind == "loguniform" else "linear",
                "prior_low": lo,
                "prior_high": hi,
                "posterior_low": float(plo),
                "posterior_median": float(pmed),
                "posterior_high": float(phi),
                "width_ratio": ratio,
                "identified": bool(ratio <= threshold),
            }
        )
    return pd.DataFrame(rows)


def not_identified(table: pd.DataFrame) -> list[str]:
    """The parameters the data do not identify (rows of :func:`interval_table` with ``identified`` false)."""
    return [str(p) for p in table.loc[~table["identified"], "parameter"]]


def posterior_correlations(posterior: pd.DataFrame, priors: Sequence[Prior]) -> pd.DataFrame:
    """Weighted pairwise correlations of the posterior (a parameter x parameter frame; module notes)."""
    names = [p.name for p in priors]
    x = np.column_stack([_scale(p, posterior[p.name].to_numpy(float)) for p in priors])
    w = posterior["weight"].to_numpy(float)
    cov = np.atleast_2d(np.cov(x, rowvar=False, aweights=w))
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    corr[~np.isfinite(corr)] = 0.0
    np.fill_diagonal(corr, 1.0)
    return pd.DataFrame(corr, index=names, columns=names)


def strong_pairs(corr: pd.DataFrame, threshold: float = STRONG_CORRELATION) -> pd.DataFrame:
    """Pairs with ``|r| > threshold``: columns ``a``, ``b``, ``r``, strongest first."""
    names = list(corr.columns)
    rows = [
        {"a": names[i], "b": names[j], "r": float(corr.iloc[i, j])}
        for i in range(len(names))
        for j in range(i + 1, len(names))
        if abs(corr.iloc[i, j]) > threshold
    ]
    out = pd.DataFrame(rows, columns=["a", "b", "r"])
    return out.reindex(out["r"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def predictive_draws(
    posterior: pd.DataFrame,
    priors: Sequence[Prior],
    series: Callable[[dict, int], pd.DataFrame],
    n_draws: int = 200,
    seed: int = 0,
    map_fn: Callable[[Callable, Iterable], Iterable] = map,
) -> pd.DataFrame:
    """Simulated series at ``n_draws`` posterior draws: the long table of ``series(params, seed)`` outputs
    with a ``draw`` column. ``map_fn`` may be a pool's ``map`` (``series`` must then be picklable)."""
    params = resample(posterior, priors, n_draws, seed)
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n_draws)]
    frames = list(map_fn(_Call(series), zip(params, seeds)))
    return pd.concat([f.assign(draw=i) for i, f in enumerate(frames)], ignore_index=True)


class _Call:
    """``(params, seed) -> series(params, seed)`` as a picklable one-argument function."""

    def __init__(self, series):
        self.series = series

    def __call__(self, args):
        return self.series(*args)


def predictive_bands(
    draws: pd.DataFrame,
    columns: Sequence[str] = SERIES,
    quantiles: Sequence[float] = BAND_QUANTILES,
) -> pd.DataFrame:
    """Per month and column, quantiles over draws: columns ``month``, ``column``, ``q05``, ``q25``, ...
    (labels are ``q`` and the quantile in per cent), in month order."""
    cols = [c for c in columns if c in draws.columns]
    out = []
    for c in cols:
        q = draws.groupby("month", sort=True)[c].quantile(list(quantiles)).unstack()
        q.columns = [f"q{round(100 * x):02d}" for x in q.columns]
        out.append(q.reset_index().assign(column=c))
    return pd.concat(out, ignore_index=True)[
        ["month", "column", *[f"q{round(100 * x):02d}" for x in quantiles]]
    ]


def band_coverage(bands: pd.DataFrame, observed: pd.DataFrame, column: str, lo: str = "q05", hi: str = "q95"):
    """Share of the observed (non-NaN) months of ``column`` inside ``[lo, hi]``, and how many there are."""
    b = bands[bands["column"] == column].set_index("month")
    o = observed.set_index("month")[column].dropna()
    o = o[o.index.isin(b.index)]
    if o.empty:
        return float("nan"), 0
    inside = (o >= b.loc[o.index, lo]) & (o <= b.loc[o.index, hi])
    return float(inside.mean()), int(len(o))


def posterior_predictive(
    posterior: pd.DataFrame,
    priors: Sequence[Prior],
    series: Callable[[dict, int], pd.DataFrame],
    n_draws: int = 200,
    seed: int = 0,
    columns: Sequence[str] = SERIES,
    quantiles: Sequence[float] = BAND_QUANTILES,
    map_fn: Callable[[Callable, Iterable], Iterable] = map,
) -> pd.DataFrame:
    """:func:`predictive_bands` of :func:`predictive_draws`."""
    return predictive_bands(
        predictive_draws(posterior, priors, series, n_draws, seed, map_fn), columns, quantiles
    )
