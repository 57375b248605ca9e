"""The report of a calibration: ``fit.md`` and its figures, from the ABC-SMC result and its diagnostics."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.store.paths import relative
from sim.store.tables import write_text

from . import calibration_plots as cp
from .plotting import save

FIGURES = {
    "predictive.png": "Posterior predictive check: the replayed record's bands against the observations.",
    "intervals.png": "Prior against posterior 90 % intervals, per parameter.",
    "marginals.png": "Posterior marginals.",
    "correlations.png": "Posterior correlations between parameters.",
    "generations.png": "ABC-SMC generations: acceptance threshold, acceptance rate, simulations.",
}


def draw_figures(
    folder: Path,
    bands: pd.DataFrame,
    observed: pd.DataFrame,
    table: pd.DataFrame,
    posterior: pd.DataFrame,
    priors,
    corr: pd.DataFrame,
    generations: pd.DataFrame,
    record_end: str,
) -> None:
    """Every figure of ``fit.md`` into ``folder/figures``."""
    fig_dir = Path(folder) / "figures"
    cols = [c for c in ("prisoners_held", "arrests", "released_deal") if c in set(bands["column"])]
    save(cp.predictive_check(bands, observed, cols, record_end), fig_dir / "predictive.png")
    save(cp.prior_posterior_intervals(table), fig_dir / "intervals.png")
    save(cp.posterior_marginals(posterior, priors), fig_dir / "marginals.png")
    save(cp.correlation_matrix(corr), fig_dir / "correlations.png")
    save(cp.generations(generations), fig_dir / "generations.png")


def fit_text(
    cfg: dict,
    result,
    table: pd.DataFrame,
    pairs: pd.DataFrame,
    unidentified: list[str],
    described: dict[str, str],
    dropped: dict[str, str],
    observed_summaries: dict[str, float],
    posterior_summaries: dict[str, tuple[float, float, float]],
    coverage: dict[str, float],
    command: str,
    states: int,
) -> str:
    """The text of ``fit.md``."""
    g = result.generations
    lines = [
        f"# Calibration of `{cfg['case']}`: ABC-SMC against the monitoring record",
        "",
        f"**Config** `{relative(cfg['path'])}`. **Command** `{command}`.",
        "",
        f"The simulation is a replay of the record from {cfg['base'].start} to {cfg['end']} "
        f"(`sim/analysis/backtest.py`): the timeline's deals, pardons and instrument changes are facts up to "
        f"{cfg['replay_until']}, the actors decide after it; arrests are always the regime's decision. One "
        "replicate per particle.",
        "",
        f"**Run.** {len(g)} generations, final population {result.final_population_size:,} particles, "
        f"{result.total_simulations:,} simulations ({result.calibration_simulations:,} to calibrate the "
        f"distance) in {result.wall_seconds:,.0f} s ({result.simulations_per_second:,.1f} simulations a "
        f"second), "
        f"sampler {result.sampler}, seed {result.seed} "
        f"({'reproducible' if result.reproducible else 'not bit-reproducible: pyabc reseeds its workers'}). "
        f"Stopped by: {', '.join(result.stop_reasons) or 'the last generation'}.",
        "",
        "## Summary statistics",
        "",
        "| statistic | meaning | observed | posterior median (5th to 95th pct) |",
        "|---|---|---:|---|",
    ]
    for key, meaning in described.items():
        post = posterior_summaries.get(key)
        cell = f"{post[1]:,.1f} ({post[0]:,.1f} to {post[2]:,.1f})" if post else "n/a"
        lines.append(f"| `{key}` | {meaning} | {observed_summaries.get(key, float('nan')):,.1f} | {cell} |")
    if dropped:
        lines += [
            "",
            "Dropped (the record cannot support them): "
            + "; ".join(f"`{k}`: {v}" for k, v in dropped.items())
            + ".",
        ]
    lines += [
        "",
        "## Posterior predictive check",
        "",
        "![predictive](figures/predictive.png)",
        "",
        "Share of observed months inside the 90 % predictive band: "
        + ", ".join(
            f"{c} {100 * v:.0f} %" if v == v else f"{c}: no observed month" for c, v in coverage.items()
        )
        + ".",
        "",
        "## Identifiability",
        "",
        "Prior against posterior: the width of the 90 % interval (log scale for log-uniform priors) and "
        "their "
        "ratio. A parameter whose posterior is more than 0.7 of its prior's width is not identified by these "
        "data.",
        "",
        "| parameter | prior | prior 90 % | posterior median | posterior 90 % | width ratio | identified |",
        "|---|---|---|---:|---|---:|---|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| `{r.parameter}` | {r.prior} | {r.prior_low:.4g} to "
            f"{r.prior_high:.4g} | {r.posterior_median:.4g} | "
            f"{r.posterior_low:.4g} to "
            f"{r.posterior_high:.4g} | {r.width_ratio:.2f} | {'yes' if r.identified else '**no**'} |"
        )
    lines += [
        "",
        "**Not identified by the data:** " + (", ".join(f"`{n}`" for n in unidentified) or "none") + ".",
        "",
        "![intervals](figures/intervals.png)",
        "",
        "![marginals](figures/marginals.png)",
        "",
        "### Pairwise posterior correlations",
        "",
        "![correlations](figures/correlations.png)",
        "",
    ]
    if len(pairs):
        lines += ["Strongly correlated pairs (|r| > 0.7): the data identify a combination, not each one:", ""]
        lines += [f"- `{r.a}` and `{r.b}`: r = {r.r:+.2f}" for r in pairs.itertuples()]
    else:
        lines.append("No pair is correlated beyond |r| = 0.7.")
    lines += [
        "",
        "## Generations",
        "",
        "![generations](figures/generations.png)",
        "",
        "| generation | epsilon | particles | simulations | acceptance | seconds |",
        "|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {int(r.t)} | {r.epsilon:.3g} | {int(r.particles):,} | {int(r.simulations):,} | "
            f"{100 * r.acceptance_rate:.1f} % | {r.seconds:.0f} |"
            for r in g.itertuples()
        ],
        "",
        "The adaptive distance re-weights the statistics every generation, so epsilons of different "
        "generations "
        "are in different units.",
        "",
        "## Use",
        "",
        f"`calibrated.yaml` holds the posterior medians; `posterior.parquet` the weighted particles; "
        f"{states} particles' states at the end of the replay ({cfg['end']}) are saved (`states.*`): forward "
        "runs start from them, one per replicate, with that particle's parameters (parameter uncertainty, "
        "the "
        "default). Install this calibration as the case's default with `sim-calibrate ... --install`.",
        "",
    ]
    return "\n".join(lines)


def write_fit(folder: Path, text: str) -> Path:
    """Write ``fit.md``."""
    path = Path(folder) / "fit.md"
    write_text(path, text)
    return path
