"""``sim-calibrate``: fit a case to its monitoring record by ABC-SMC (pyabc), and save what forward runs need.

    sim-calibrate [CASE_OR_CONFIG] [--out DIR] [--workers N] [--quick] [--dask-scheduler ADDRESS] [--install]

Everything the command line and the config say is checked first (one line, exit 2, nothing written); the
output folder is claimed before any work. The folder then holds ``fit.md`` and ``figures/``, ``fit.json``,
``posterior.parquet``, ``generations.parquet``, ``abc.db`` (pyabc's history), ``calibrated.yaml`` and the
saved
states (``states.parquet``, ``states.json``). ``--install`` copies the calibration to
``conf/calibration/calibrated/<case>/``, where ``sim-run`` and the page take it by default.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from sim.analysis import identifiability as ident
from sim.analysis.abc import run_abc
from sim.analysis.backtest import ReplaySimulator, replay_state, spawn
from sim.analysis.observed import monthly_series
from sim.analysis.summaries import SummarySet
from sim.core.calendar import month_index
from sim.core.params import flatten
from sim.store.calibrations import CalibrationError, load_config, next_month, write_calibrated, write_states
from sim.store.paths import CONF_DIR, relative
from sim.store.sources import SeedsError, load_monitoring
from sim.store.tables import RunFolderError, provenance, write_json, write_table
from sim.store.timelines import load_timeline
from sim.store.untrusted import UntrustedFileError, check_writable
from sim.views.fit_report import draw_figures, fit_text, write_fit

QUICK = {"population": [60, 60], "max_populations": 2, "max_walltime_s": 120.0}


class UserError(ValueError):
    """Bad command-line input (one line)."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line (no usage block)."""

    def error(self, message: str) -> None:
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def _claim(out: Path) -> None:
    """Create ``out`` for this fit alone; refuse a folder that holds anything."""
    try:
        check_writable(out)
    except UntrustedFileError as exc:
        raise UserError(f"--out {exc}") from None
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {relative(out)}: is a file, not a folder")
    if out.exists() and any(out.iterdir()):
        raise UserError(f"--out {relative(out)}: already holds files; choose a new folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".claim"
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.close(fd)
    except FileExistsError:
        raise UserError(f"--out {relative(out)}: another calibration is writing there") from None
    except OSError as exc:
        raise UserError(f"--out {relative(out)}: cannot write there ({exc.strerror})") from None


def prepare(cfg: dict):
    """The observed record's monthly series, the summaries on it, the timeline, and the replay the fit
    calls."""
    record = load_monitoring(cfg["case"])
    observed = monthly_series(record, cfg["record_through"], start=cfg["base"].start)
    summaries = SummarySet(cfg["statistics"], observed)
    events = load_timeline(cfg["case"])
    sim = ReplaySimulator(cfg["base"], events, cfg["end"], cfg["replay_until"], summaries)
    return observed, summaries, events, sim


def problem(case: str = "belarus"):
    """The case's calibration as a :class:`sim.analysis.abc.CalibrationProblem` (``make bench-calibrate``
    times it): the same priors, replay and summaries ``sim-calibrate`` fits."""
    from sim.analysis.abc import CalibrationProblem

    cfg = load_config(case)
    observed, summaries, _, sim = prepare(cfg)
    return CalibrationProblem(
        priors=list(cfg["priors"]), simulate=sim, observed=summaries.observed, kinds=summaries.kinds(),
        describe=summaries.describe(), series=sim.series, observed_series=observed,
    )  # fmt: skip


def abc_settings(case: str = "belarus") -> dict:
    """The case's ABC-SMC settings (its calibration config's ``abc`` block): one source for sim-calibrate and
    the benchmark."""
    return dict(load_config(case)["abc"])


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-calibrate``."""
    ap = _Parser(prog="sim-calibrate", description=__doc__.splitlines()[0])
    ap.add_argument(
        "config", nargs="?", default="belarus", help="a case (conf/calibration/CASE.yaml) or a YAML path"
    )
    ap.add_argument(
        "--out", type=Path, default=None, help="output folder (default results/calibration/CASE/DATE)"
    )
    ap.add_argument(
        "--workers", type=int, default=None, help="processes for the multicore sampler (default: cores)"
    )
    ap.add_argument(
        "--quick", action="store_true", help="tiny populations for a first look (a minute or two)"
    )
    ap.add_argument(
        "--dask-scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the simulations on a Dask cluster (tcp://host:8786) instead of local processes",
    )
    ap.add_argument(
        "--install",
        action="store_true",
        help="install the result as the case's default calibration (conf/calibration/calibrated/CASE/)",
    )
    args = ap.parse_args(argv)
    try:
        if args.workers is not None and not 1 <= args.workers <= 1024:
            raise UserError(f"--workers {args.workers}: must be in [1, 1024]")
        cfg = load_config(args.config)
        if args.quick:
            cfg["abc"].update(QUICK)
        stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        out = args.out or Path("results") / "calibration" / cfg["case"] / stamp
        observed, summaries, events, sim = prepare(cfg)
        _claim(out)
    except (CalibrationError, SeedsError, UserError, ValueError) as exc:
        print(f"sim-calibrate: error: {str(exc)[:300]}", file=sys.stderr)
        sys.exit(2)
    command = "sim-calibrate " + " ".join(argv if argv is not None else sys.argv[1:])
    workers = args.workers or os.cpu_count() or 1
    a = cfg["abc"]
    started = time.perf_counter()
    try:
        result = run_abc(
            cfg["priors"], sim, summaries.observed, db=f"sqlite:///{(out / 'abc.db').resolve()}",
            kinds=summaries.kinds(), population_size=a["population"], max_populations=a["max_populations"],
            max_walltime_s=a["max_walltime_s"], min_acceptance_rate=a["min_acceptance_rate"],
            max_total_simulations=a["max_total_simulations"],
            sampler="dask" if args.dask_scheduler else "multicore", n_procs=workers,
            scheduler_address=args.dask_scheduler, seed=a["seed"],
        )  # fmt: skip
    except KeyboardInterrupt:
        print("sim-calibrate: interrupted; the folder holds no finished calibration", file=sys.stderr)
        sys.exit(130)
    write_outputs(out, cfg, result, observed, summaries, events, sim, command, workers)
    seconds = time.perf_counter() - started
    print(
        f"fit: {relative(out / 'fit.md')}  ({result.total_simulations:,} simulations, {seconds:.0f} s, "
        f"final population {result.final_population_size:,})"
    )
    if args.install:
        dest = install(out, cfg["case"])
        print(f"installed: {relative(dest)}")


def write_outputs(
    out: Path,
    cfg: dict,
    result,
    observed,
    summaries: SummarySet,
    events: list,
    sim: ReplaySimulator,
    command: str,
    workers: int,
) -> None:
    """Every file of a calibration folder."""
    import pandas as pd

    priors = cfg["priors"]
    post = result.posterior
    write_table(out / "posterior.parquet", post)
    write_table(out / "generations.parquet", result.generations)
    table = ident.interval_table(post, priors)
    corr = ident.posterior_correlations(post, priors)
    pairs = ident.strong_pairs(corr)
    unidentified = ident.not_identified(table)
    # predictive check: posterior draws replayed, bands against the record
    draws = result.draws(100, seed=cfg["abc"]["seed"] + 1)
    seeds = spawn(cfg["abc"]["seed"] + 2, len(draws))
    frames = [sim.series(d, s).assign(draw=i) for i, (d, s) in enumerate(zip(draws, seeds))]
    long = pd.concat(frames, ignore_index=True)
    bands = ident.predictive_bands(long)
    coverage = {c: ident.band_coverage(bands, observed, c)[0] for c in ("prisoners_held", "arrests")}
    post_sums = {}
    stats = [summaries(f.drop(columns="draw")) for f in frames]
    for key in summaries.keys:
        vals = np.array([s[key] for s in stats], dtype=float)
        vals = vals[np.isfinite(vals)]
        if len(vals):
            post_sums[key] = tuple(float(x) for x in np.percentile(vals, [5, 50, 95]))
    draw_figures(out, bands, observed, table, post, priors, corr, result.generations, cfg["record_through"])
    # the states forward runs start from: particles resampled by weight, the record replayed to the end
    n_states = cfg["states"]
    particles = result.draws(n_states, seed=cfg["abc"]["seed"] + 3) if n_states else []
    state_seeds = spawn(cfg["abc"]["seed"] + 4, len(particles))
    states = [
        replay_state(cfg["base"], p, events, cfg["end"], cfg["end"], s)
        for p, s in zip(particles, state_seeds)
    ]
    if states:
        write_states(out, states, pd.DataFrame(particles))
    medians = {r.parameter: float(r.posterior_median) for r in table.itertuples()}
    point = {}
    for p in priors:
        v = p.model_value(medians[p.name])
        point[p.name] = int(v) if isinstance(v, (int, np.integer)) else float(v)
    prov = provenance(cfg["abc"]["seed"], command.split())
    info = {
        "case": cfg["case"],
        "config": relative(cfg["path"]),
        "command": command,
        "commit": prov.get("commit"),
        "time": prov.get("time"),
        "record_through": cfg["record_through"],
        "replay_until": cfg["replay_until"],
        "end": cfg["end"],
        "start": next_month(cfg["end"]),
        "data_vintage": data_vintage(cfg),
        "particles": int(len(post)),
        "states": len(states),
        "simulations": int(result.total_simulations),
    }
    header = (
        f"# Written by {command}; the posterior medians, used where parameter uncertainty is off.\n"
        f"# Forward runs start in {info['start']} from the saved states (one per replicate).\n"
    )
    write_calibrated(out, point, info, header, cfg["base_mapping"])
    write_json(out / "fit.json", {
        **info, "seconds": result.wall_seconds, "generations": result.generations.to_dict(orient="records"),
        "stop_reasons": result.stop_reasons, "sampler": result.sampler, "workers": workers,
        "reproducible": result.reproducible, "observed": summaries.observed, "dropped": summaries.dropped,
        "intervals": table.to_dict(orient="records"), "not_identified": unidentified,
        "correlated_pairs": pairs.to_dict(orient="records"), "coverage": coverage, "provenance": prov,
        "base": flatten(cfg["base"]),
    })  # fmt: skip
    write_fit(
        out,
        fit_text(
            cfg,
            result,
            table,
            pairs,
            unidentified,
            summaries.describe(),
            summaries.dropped,
            summaries.observed,
            post_sums,
            coverage,
            command,
            len(states),
        ),
    )
    (out / ".claim").unlink(missing_ok=True)


def data_vintage(cfg: dict) -> str:
    """The last month of data a calibration used: the record's end, or a later figure's month."""
    months = [cfg["record_through"]]
    for spec in cfg["statistics"]:
        if spec.statistic == "figure":
            months.append(spec.end)
    return max(months, key=month_index)


def install(folder: Path, case: str) -> Path:
    """Copy a calibration folder's forward-run files to ``conf/calibration/calibrated/<case>/``."""
    dest = CONF_DIR / "calibration" / "calibrated" / case
    tmp = dest.with_name(f".{case}.installing")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    for name in (
        "calibrated.yaml",
        "posterior.parquet",
        "states.parquet",
        "states.json",
        "fit.md",
        "fit.json",
    ):
        if (folder / name).is_file():
            shutil.copy2(folder / name, tmp / name)
    if (folder / "figures").is_dir():
        shutil.copytree(folder / "figures", tmp / "figures")
    if dest.exists():
        old = dest.with_name(f".{case}.old")
        if old.exists():
            shutil.rmtree(old)
        dest.rename(old)
        tmp.rename(dest)
        shutil.rmtree(old)
    else:
        tmp.rename(dest)
    return dest


__all__ = ["main", "install", "prepare", "RunFolderError"]
