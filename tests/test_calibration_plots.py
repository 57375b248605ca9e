"""The calibration figures draw what they say: predictive bands with the observed months, prior against
posterior intervals (non-identified parameters in red), weighted marginals, correlations, generations."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from sim.analysis.identifiability import interval_table, posterior_correlations, posterior_predictive
from sim.analysis.toy_stockflow import PRIORS, TRUTH, ToySeries, observe, simulate_series
from sim.views import calibration_plots as cp


@pytest.fixture(scope="module")
def posterior():
    """A made-up posterior of the toy's parameters: four pinned near the truth, ``toy.unused`` flat."""
    rng = np.random.default_rng(0)
    n = 500
    post = pd.DataFrame(
        {
            "toy.arrests_mean": rng.normal(40, 2, n),
            "toy.release_rate": 0.02 * np.exp(rng.normal(0, 0.1, n)),
            "toy.batch_rate": rng.uniform(0.15, 0.25, n),
            "toy.batch_size": rng.normal(30, 2, n),
            "toy.unused": rng.uniform(0, 1, n),
            "weight": 1.0 / n,
        }
    )
    yield post
    plt.close("all")


def test_predictive_check_draws_bands_and_the_record(posterior):
    bands = posterior_predictive(
        posterior, PRIORS, ToySeries(), n_draws=30, columns=["prisoners_held", "arrests"]
    )
    record = observe(simulate_series(TRUTH, 1))
    fig = cp.predictive_check(bands, record, record_end="2024-12")
    axes = [a for a in fig.axes if a.get_visible()]
    assert len(axes) == 2
    held = axes[0]
    observed = [ln for ln in held.get_lines() if ln.get_label() == "observed"][0]
    assert len(observed.get_xdata()) == record["prisoners_held"].notna().sum()
    labels = {t.get_text() for t in held.get_legend().get_texts()}
    assert {
        "90 % predictive band",
        "50 % predictive band",
        "predictive median",
        "end of the record",
    } <= labels


def test_interval_figure_marks_the_parameters_not_identified(posterior):
    table = interval_table(posterior, PRIORS)
    fig = cp.prior_posterior_intervals(table)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(table["parameter"])
    red = [t.get_text() for t in ax.texts if t.get_color() == "tab:red"]
    assert len(red) == 1 and float(red[0]) == pytest.approx(
        table.set_index("parameter").loc["toy.unused", "width_ratio"], abs=0.01
    )


def test_marginals_correlations_and_generations(posterior):
    fig = cp.posterior_marginals(posterior, PRIORS, truth=TRUTH)
    assert [a.get_title() for a in fig.axes if a.get_visible()] == [p.name for p in PRIORS]
    assert fig.axes[1].get_xscale() == "log"  # the log-uniform release rate
    fig = cp.correlation_matrix(posterior_correlations(posterior, PRIORS))
    assert len(fig.axes[0].texts) == len(PRIORS) ** 2
    gens = pd.DataFrame(
        {"t": [0, 1], "epsilon": [5.0, 3.0], "simulations": [100, 200], "acceptance_rate": [0.5, 0.3]}
    )
    fig = cp.generations(gens)
    assert "300 simulations over 2 generations" in fig._suptitle.get_text()
