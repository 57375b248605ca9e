"""A small calibration written through the store, without running ABC: particles drawn from the priors of
conf/calibration/belarus.yaml, each replayed to the end of 2025 for its saved state. For tests of forward runs
(the hand-off, parameter uncertainty, the run record), which need a calibration's shape, not a good fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.backtest import replay_state, spawn
from sim.analysis.forecasting import point_values
from sim.store.calibrations import load_config, write_calibrated, write_states
from sim.store.tables import write_table
from sim.store.timelines import load_timeline


def make_calibration(folder: Path, particles: int = 6, seed: int = 0, end: str = "2025-12") -> Path:
    """Write a calibration folder (calibrated.yaml, posterior.parquet, saved states) and return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = load_config("belarus")
    rng = np.random.default_rng(seed)
    rows = [
        {p.name: p.model_value(float(p.frozen().rvs(random_state=rng))) for p in cfg["priors"]}
        for _ in range(particles)
    ]
    post = pd.DataFrame(rows)
    post["weight"] = 1.0 / particles
    write_table(folder / "posterior.parquet", post)
    events = load_timeline("belarus")
    states = [replay_state(cfg["base"], r, events, end, end, s) for r, s in zip(rows, spawn(seed, particles))]
    write_states(folder, states, pd.DataFrame(rows))
    info = {
        "case": "belarus",
        "end": end,
        "data_vintage": end,
        "start": states[0]["month"],
        "states": particles,
    }
    write_calibrated(
        folder, point_values(post, cfg["priors"]), info, "# a test calibration\n", cfg["base_mapping"]
    )
    return folder
