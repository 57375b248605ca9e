"""Hydra edge, part 2: the command-line tools ``sim-run`` and ``sim-report``.

``sim-run`` validates the whole command line first (every value of every swept key, composed and
range-checked, and the output folder), so bad input gets one line naming the field and the allowed values,
exits non-zero, and writes nothing. Only then does Hydra start the run(s).
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
import traceback
from pathlib import Path

import hydra
import matplotlib
import pandas as pd
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Glob
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.analysis import design
from sim.core.metrics import outcomes, summarise
from sim.core.params import ParamError, flatten
from sim.core.prisoners import month_index, month_text
from sim.core.run import run_replicates, spawn_seeds
from sim.store.tables import (
    RunFolderError,
    find_runs,
    holds_results,
    is_run_folder,
    multirun_overrides,
    provenance,
    write_json,
    write_run,
    write_table,
)
from sim.views.report import build_comparison, build_run_report

from .config import CONF_DIR, RunConfig, calibrated_params, register, to_run_config

register()
matplotlib.use("Agg")  # the command-line tools draw figures to files; notebooks keep Jupyter's inline backend
log = logging.getLogger("sim-run")
_FLAGS_WITH_VALUE = {
    "--config-path",
    "-cp",
    "--config-name",
    "-cn",
    "--config-dir",
    "-cd",
    "--experimental-rerun",
}


class UserError(ValueError):
    """Bad input from the command line: reported in one line, before any work starts."""


def scenarios() -> list[str]:
    """Names of the scenarios in ``conf/scenario/``."""
    return sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))


def _one_line(exc: Exception) -> str:
    """Turn a Hydra/OmegaConf/parameter error into one line naming the field and what is allowed."""
    if isinstance(exc, ParamError):
        return str(exc)
    text = str(exc) + ("\n" + str(exc.__cause__) if exc.__cause__ is not None else "")
    m = re.search(r"Could not find '(\w+)/([^']*)'", text)
    if m:
        group, name = m.groups()
        options = scenarios() if group == "scenario" else []
        return f"{group}={name}: unknown {group}; allowed: {', '.join(options)}"
    m = re.search(r"Key '([^']+)' not in '(\w+)'", text)
    full = re.search(r"full_key: ([\w.]+)", text)
    if m:
        return (
            f"{full.group(1) if full else m.group(1)}: unknown key; allowed: "
            f"{', '.join(_fields_of(m.group(2)))}"
        )
    m = re.search(r"Value '([^']*)' of type '\w+' could not be converted to (\w+)", text)
    if m:
        return f"{full.group(1) if full else 'value'} = {m.group(1)!r}: must be of type {m.group(2)}"
    m = re.search(r"Could not override '([^']+)'", text)
    if m:
        return f"{m.group(1)}: unknown key; see `sim-run --cfg job` for the keys"
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(exc).__name__)
    return first + (f" (field {full.group(1)})" if full else "")


def _fields_of(class_name: str) -> list[str]:
    """Field names of a schema dataclass, by class name (for error messages)."""
    import dataclasses

    from sim.core import params

    cls = RunConfig if class_name == "RunConfig" else getattr(params, class_name, None)
    return [f.name for f in dataclasses.fields(cls)] if cls is not None else []


def _split_argv(argv: list[str]) -> tuple[list[str], bool, bool]:
    """(overrides, multirun, other_flags): separate Hydra's flags from key=value overrides."""
    overrides, multirun, other, skip = [], False, False, False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("-m", "--multirun"):
            multirun = True
        elif a.startswith("-"):
            other = True
            skip = a in _FLAGS_WITH_VALUE
        else:
            overrides.append(a)
    return overrides, multirun, other


def _sweep_values(o) -> list[str]:
    """The values of a parsed sweep override, as text; ``glob(...)`` is expanded against the scenarios."""
    glob = o.value()
    if not isinstance(glob, Glob):
        return [str(v) for v in o.sweep_string_iterator()]
    if o.get_key_element() != "scenario":  # glob(...) selects files of a config group: only scenario is one
        raise UserError(f"{o.get_key_element()}: glob() sweeps only work over scenario")
    values = glob.filter(scenarios())
    if not values:
        raise UserError(
            f"scenario={o.input_line.split('=', 1)[1]}: matches no scenario; allowed: "
            f"{', '.join(scenarios())}"
        )
    return values


def _variants(overrides: list[str]) -> list[list[str]]:
    """Override lists to check: every swept value of each key once (others at their first value)."""
    parsed = OverridesParser.create().parse_overrides(overrides)
    base, sweeps = [], []
    for o in parsed:
        if o.is_sweep_override():
            values = _sweep_values(o)
            base.append(f"{o.get_key_element()}={values[0]}")
            sweeps.append((len(base) - 1, o.get_key_element(), values))
        else:
            base.append(o.input_line)
    out = [base]
    for pos, key, values in sweeps:
        for v in values[1:]:
            variant = list(base)
            variant[pos] = f"{key}={v}"
            out.append(variant)
    return out


def expand_overrides(overrides: list[str]) -> list[dict[str, str]]:
    """Every combination of the values of the (sweep) overrides, as key -> value text; hydra.* keys
    dropped."""
    import itertools

    axes = []
    for o in OverridesParser.create().parse_overrides(overrides):
        key = o.get_key_element()
        if key.startswith(("hydra.", "hydra/")):
            continue
        values = _sweep_values(o) if o.is_sweep_override() else [o.get_value_element_as_str()]
        axes.append([(key, v) for v in values])
    return [dict(c) for c in itertools.product(*axes)]


def precheck(argv: list[str]) -> None:
    """Validate a ``sim-run`` command line without writing anything (raises :class:`UserError`)."""
    overrides, multirun, other = _split_argv(argv)
    if other:
        return  # --help, --cfg, --info ...: Hydra's own business
    try:
        variants = _variants(overrides)
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - Hydra's parser errors have several types
        raise UserError(_one_line(exc)) from None
    run_dir = None
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="sim-run"):
        for variant in variants:
            app = [o for o in variant if not o.lstrip("+~").startswith("hydra.")]
            for o in variant:
                if o.startswith("hydra.run.dir="):
                    run_dir = o.split("=", 1)[1]
            try:
                cfg = compose(config_name="config", overrides=app)
                rc = to_run_config(cfg)
                if rc.calibrated:
                    calibrated_params(rc, {o.split("=", 1)[0] for o in app})
            except Exception as exc:  # noqa: BLE001 - composition and range errors alike become one line
                raise UserError(_one_line(exc)) from None
            if not multirun and run_dir and holds_results(Path(run_dir)) and not rc.overwrite:
                raise UserError(
                    f"hydra.run.dir={run_dir}: already holds a run; choose a new folder or add overwrite=true"
                )
    GlobalHydra.instance().clear()


def _points(rc: RunConfig, explicit: set[str]) -> tuple[list[tuple[int, object]], dict | None, str]:
    """The parameter points this job runs (the configuration, or its chunk of a design), each as one
    scenario per replicate, and the sentence saying what uncertainty the replicates carry."""
    per_rep, uncertainty = calibrated_params(rc, explicit)
    base = per_rep[0]
    d = rc.design
    if d.method == "none":
        return [(-1, per_rep)], None, uncertainty
    fs = design.factors(d.include_levers, list(d.factors) or None)
    x = design.sample(d.method, fs, d.samples, d.seed, d.levels)
    idx = design.chunk_points(len(x), d.chunks, d.chunk)
    info = {
        "method": d.method,
        "samples": d.samples,
        "seed": d.seed,
        "levels": d.levels,
        "chunks": d.chunks,
        "include_levers": d.include_levers,
        "n_points": int(len(x)),
        "problem": design.problem(fs),
        "integer": [f.integer for f in fs],
    }
    return (
        [(int(i), design.apply_point(base, fs, x[i])) for i in idx],
        info,
        "variation over the design's points and their replicates",
    )


def execute(
    rc: RunConfig,
    out_dir: Path,
    config_yaml: str,
    command: list[str],
    job: str = "",
    explicit: set[str] = frozenset(),
) -> Path | None:
    """Run the replicates of a configuration (or its design chunk) into ``out_dir``.

    Returns:
        The report's path, or None when no report is written.
    """
    from tqdm import tqdm

    if rc.fail_on_purpose:
        raise RuntimeError("fail_on_purpose=true: this job fails on purpose (to test failure handling)")
    points, design_info, uncertainty = _points(rc, explicit)
    started = time.perf_counter()
    series, deal_tables, outcome_tables = [], [], []
    with tqdm(
        total=rc.replicates * len(points),
        desc=f"{rc.name}",
        unit="replicate",
        file=sys.stderr,
        disable=None if rc.progress else True,
    ) as bar:
        for point, params in points:
            res = run_replicates(params, rc.months, rc.replicates, rc.seed, progress=bar.update)
            table = outcomes(res.timeseries, res.deals)
            per = params if isinstance(params, list) else [params] * rc.replicates
            flat = pd.DataFrame([flatten(p) for p in per]).drop(
                columns="name"
            )  # a row per replicate: drawn values
            flat.insert(0, "point", point)
            flat.insert(0, "job", job)
            table = pd.concat([table, flat.set_index(table.index)], axis=1)
            if design_info is not None:
                res.timeseries.insert(1, "point", point)
                res.deals.insert(1, "point", point)
            series.append(res.timeseries)
            deal_tables.append(res.deals)
            outcome_tables.append(table)
    compute_s = time.perf_counter() - started
    ts = pd.concat(series, ignore_index=True)
    deals = pd.concat(deal_tables, ignore_index=True)
    table = pd.concat(outcome_tables, ignore_index=True)
    end = month_text(month_index(rc.start) + rc.months - 1)
    summary = {
        "scenario": rc.name,
        "description": rc.description,
        "replicates": rc.replicates,
        "months": rc.months,
        "start": rc.start,
        "end": end,
        "seed": rc.seed,
        "job": job,
        "uncertainty": uncertainty,
        "calibration": rc.calibrated,
        "parameter_uncertainty": rc.parameter_uncertainty,
        "share_with_deal": float((table["deals"] > 0).mean()),
        "compute_seconds": compute_s,
        "design": design_info,
        "outcomes": summarise(table),
    }
    write_table(out_dir / "outcomes.parquet", table)
    write_run(
        out_dir,
        ts,
        deals,
        summary,
        config_yaml,
        provenance(
            rc.seed, command, {"replicate_seeds": [int(s) for s in spawn_seeds(rc.seed, rc.replicates)]}
        ),
    )
    if not rc.report or design_info is not None:
        return None
    return build_run_report(out_dir)


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def _hydra_main(cfg: DictConfig) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    multirun = hc.mode == RunMode.MULTIRUN
    job = hc.sweep.subdir if multirun else ""
    if multirun and is_run_folder(out_dir) and (out_dir / "outcomes.parquet").is_file():
        log.info("skipping %s: its outputs are complete", job)  # re-running a sweep into the same folder
        return
    try:
        rc = to_run_config(cfg)
        if not multirun and holds_results(out_dir) and not rc.overwrite:
            raise UserError(f"{out_dir}: already holds a run; choose a new folder or add overwrite=true")
        (out_dir / "error.json").unlink(missing_ok=True)
        explicit = {o.split("=", 1)[0].lstrip("+~") for o in hc.overrides.task}
        report = execute(
            rc, out_dir, OmegaConf.to_yaml(cfg, resolve=True), ["sim-run", *sys.argv[1:]], job, explicit
        )
    except Exception as exc:
        if not multirun:
            raise
        # one failing job does not stop the sweep: its error is recorded for the sweep report
        write_json(
            out_dir / "error.json",
            {
                "job": job,
                "error": type(exc).__name__,
                "message": str(exc),
                "traceback": traceback.format_exc(),
            },
        )
        log.error("job %s failed: %s: %s", job, type(exc).__name__, exc)
        return
    print(f"report: {report.resolve()}" if report else f"outputs: {out_dir.resolve()}")


class SweepSummary(Callback):
    """At the end of a multirun: how many jobs completed or failed, and how to build the sweep report."""

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        root = Path(config.hydra.sweep.dir)
        done = len(find_runs(root))
        failed = sorted(str(p.parent.relative_to(root)) for p in root.rglob("error.json"))
        print(
            f"sweep: {done} job(s) complete, {len(failed)} failed{': ' + ', '.join(failed) if failed else ''}"
        )
        print(f"sweep report: sim-report {root}")


def user_argv(argv: list[str]) -> list[str]:
    """Map the user's ``calibration=X`` to the config field ``calibrated=X``.

    ``conf/calibration/`` is a folder of calibration setups, which Hydra would take ``calibration=`` to choose
    from.
    """
    return [re.sub(r"^([+~]?)calibration=", r"\1calibrated=", a) for a in argv]


def run() -> None:
    """Entry point of ``sim-run``: check the command line, then hand over to Hydra."""
    sys.argv = [sys.argv[0], *user_argv(sys.argv[1:])]
    try:
        precheck(sys.argv[1:])
    except UserError as exc:
        print(f"sim-run: error: {exc}", file=sys.stderr)
        sys.exit(2)
    _hydra_main()


def report(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-report DIR``: rebuild a run's report, or compare the runs of a multirun folder."""
    ap = argparse.ArgumentParser(
        prog="sim-report",
        description="Rebuild the report of a sim-run folder, or "
        "write a side-by-side comparison of the runs below a multirun folder.",
    )
    ap.add_argument("dir", type=Path, help="a run folder (with summary.json) or a multirun folder")
    ap.add_argument(
        "--prim",
        metavar="CONDITION",
        default=None,
        help="scenario discovery: a yes/no condition on sweep.parquet's columns, e.g. "
        "'final_stock > initial_stock'; PRIM finds the parameter boxes where it holds",
    )
    args = ap.parse_args(argv)
    from sim.views.sweep_report import SweepError, build_sweep_report

    try:
        if not args.dir.is_dir():
            raise RunFolderError(f"{args.dir}: not a folder")
        if is_run_folder(args.dir):
            if args.prim:
                raise RunFolderError(f"{args.dir}: --prim needs a sweep folder, not a single run")
            path = build_run_report(args.dir)
        elif any(args.dir.rglob(".hydra/overrides.yaml")):
            overrides = multirun_overrides(args.dir)
            path = build_sweep_report(args.dir, args.prim, expand_overrides(overrides) if overrides else None)
        else:
            path = build_comparison(args.dir)
    except (RunFolderError, SweepError) as exc:
        print(f"sim-report: error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"report: {path.resolve()}")


def calibrate(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-calibrate``: fit the backtest to the seed figures and write a calibration
    folder."""
    from datetime import datetime

    from tqdm import tqdm

    from sim.analysis.calibration import calibrate as run_calibration
    from sim.analysis.calibration import months_between
    from sim.store.sources import SeedsError, load_figures
    from sim.views.calibration_report import write_calibration

    from .config import load_calibration, load_scenario

    ap = argparse.ArgumentParser(
        prog="sim-calibrate",
        description="Calibrate the model to the seed figures "
        "(simulated method of moments, then an ABC posterior).",
    )
    ap.add_argument(
        "calibration", nargs="?", default="default", help="a name in conf/calibration/ or a YAML path"
    )
    ap.add_argument(
        "--out", type=Path, default=None, help="output folder (default results/calibration/NAME/DATE)"
    )
    ap.add_argument(
        "--workers", type=int, default=None, help="processes for the optimiser (default: all cores)"
    )
    ap.add_argument("--quick", action="store_true", help="small settings for a first look (a minute or less)")
    args = ap.parse_args(argv)
    try:
        cfg = load_calibration(args.calibration, load_figures())
        base, _ = load_scenario(cfg["scenario"])
        out = args.out or Path("results") / "calibration" / cfg["path"].stem / datetime.now().strftime(
            "%Y-%m-%d_%H-%M-%S"
        )
        if holds_results(out) or (out / "fit.json").exists():
            raise UserError(f"--out {out}: already holds a calibration; choose a new folder")
    except (ParamError, SeedsError, UserError) as exc:
        print(f"sim-calibrate: error: {exc}", file=sys.stderr)
        sys.exit(2)
    if args.quick:
        cfg.update(replicates=8, maxiter=4, popsize=4, abc_draws=120, abc_accept=0.1)
    import os

    workers = args.workers or os.cpu_count() or 1
    months = months_between(base.start, max(t.end or t.start for t in cfg["targets"]))
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, file=sys.stderr, disable=None)
        bar.update(done - bar.n)

    started = time.perf_counter()
    result = run_calibration(
        base,
        cfg["free"],
        cfg["targets"],
        months,
        replicates=cfg["replicates"],
        seed=cfg["seed"],
        maxiter=cfg["maxiter"],
        popsize=cfg["popsize"],
        workers=workers,
        abc_draws=cfg["abc_draws"],
        abc_replicates=cfg["abc_replicates"],
        abc_accept=cfg["abc_accept"],
        progress=progress,
    )
    for bar in bars.values():
        bar.close()
    seconds = time.perf_counter() - started
    path = write_calibration(
        out,
        result,
        cfg["targets"],
        cfg,
        ["sim-calibrate", *(argv or sys.argv[1:])],
        provenance(cfg["seed"], ["sim-calibrate", *(argv or sys.argv[1:])]),
        seconds,
    )
    print(
        f"fit: {path.resolve()}  ({result.evaluations} evaluations, {seconds:.0f} s, mismatch "
        f"{result.evaluation.mismatch:.2f})"
    )
