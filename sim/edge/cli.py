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
from sim.core.calendar import month_index, month_text
from sim.core.metrics import constant_outcomes, outcomes, summarise
from sim.core.params import ParamError, flatten
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

from .config import CONF_DIR, RunConfig, forward_setup, register, scenario_params, to_run_config

register()
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
                forward_setup(rc, explicit_keys(app))
            except Exception as exc:  # noqa: BLE001 - composition and range errors alike become one line
                raise UserError(_one_line(exc)) from None
            if not multirun and run_dir and holds_results(Path(run_dir)) and not rc.overwrite:
                raise UserError(
                    f"hydra.run.dir={run_dir}: already holds a run; choose a new folder or add overwrite=true"
                )
    GlobalHydra.instance().clear()


def explicit_keys(overrides: list[str]) -> set[str]:
    """The dotted names a command line sets (a calibration never replaces them)."""
    return {o.split("=", 1)[0].lstrip("+~") for o in overrides if "=" in o}


def _points(rc: RunConfig, explicit: set[str]):
    """The parameter points this job runs (the configuration, or its chunk of a design), each as one
    scenario per replicate; the design's description (None for an ordinary run); the forward set-up
    (calibration, starting states, timeline)."""
    fw = forward_setup(rc, explicit)
    d = rc.design
    if d.method == "none":
        return [(-1, fw.params)], None, fw
    # a design varies parameters around the calibration's point values, from the case's synthetic stock (so
    # that initial conditions are factors too); its replicates carry no parameter uncertainty
    base = scenario_params(rc)
    if fw.calibration is not None:
        base = base.replace(**{k: v for k, v in fw.calibration.point.items() if k not in explicit})
    fs = design.factors(d.include_levers, list(d.factors) or None, base)
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
    fw.uncertainty = (
        "variation over the design's points and their replicates (each from the case's synthetic stock"
        + (f", around the calibrated point values of {fw.calibration.source})" if fw.calibration else ")")
    )
    return [(int(i), design.apply_point(base, fs, x[i])) for i in idx], info, fw


def _used(per: list, name: str) -> tuple[object, dict | None]:
    """A parameter's value across replicates: the value, or its median and 5-95 % range when it varies."""
    import numpy as np

    values = [flatten(p)[name] for p in per]
    if all(v == values[0] for v in values):
        return values[0], None
    arr = np.asarray(values, dtype=float)
    q = np.percentile(arr, [5, 50, 95])
    return float(q[1]), {"median": float(q[1]), "p5": float(q[0]), "p95": float(q[2])}


def settings_used(fw, per: list, explicit: set[str]) -> list[dict]:
    """The parameters this run used that differ from its case file: name, the case's value, the value used
    (or its spread across replicates) and where the change came from (scenario, command line, calibration)."""
    case = flatten(fw.case)
    free = set(fw.calibration.free) if fw.calibration else set()
    used = flatten(per[0])
    rows = []
    for name, value in used.items():
        if name == "name":
            continue
        value, spread = _used(per, name) if name in free else (value, None)
        if spread is None and case.get(name) == value:
            continue
        origin = "command line" if name in explicit else "calibration" if name in free else "scenario"
        if name == "population.initial_stock" and any(
            r.state is not None or r.replay is not None for r in fw.replicates
        ):
            origin += " (not used: the run starts from the calibration's state)"
        rows.append({"name": name, "case": case.get(name), "used": value, "spread": spread, "origin": origin})
    return rows


def recorded_config(config_yaml: str, fw, per: list, explicit: set[str]) -> str:
    """``config.yaml``: the composed configuration with the values this run used in place of those the
    calibration replaced, and the calibration it resolved to."""
    import yaml

    cfg = yaml.safe_load(config_yaml) or {}
    cal = fw.calibration
    cfg["calibrated"] = cal.source if cal else "none"
    varying = []
    if cal is not None and per:
        for name in cal.free:
            if name in explicit:
                continue
            value, spread = _used(per, name)
            node = cfg
            *path, last = name.split(".")
            for part in path:
                node = node.setdefault(part, {})
            node[last] = value
            if spread is not None:
                varying.append(name)
    head = ["# The configuration this run used (sim-run's composition, with the calibration applied)."]
    if cal is not None:
        head.append(
            f"# Calibrated values come from {cal.source} (fitted to data through {cal.data_vintage})."
        )
    if varying:
        head.append(
            "# Drawn per replicate from the posterior (shown: the median across replicates; each replicate's "
            "own values are in outcomes.parquet, its particle and starting state in replicates.parquet): "
            + ", ".join(varying)
        )
    body = yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True)
    return "\n".join(head) + "\n" + body


def replicate_table(fw, per: list, seeds: list[int]) -> pd.DataFrame:
    """``replicates.parquet``: each replicate's seed, particle and starting state, and the values of the
    calibrated parameters it used."""
    table = fw.replicate_table(seeds)
    for name in fw.calibration.free if fw.calibration else []:
        table[name] = [flatten(p)[name] for p in per]
    return table


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
    points, design_info, fw = _points(rc, explicit)
    starts = fw.starts if design_info is None else None
    started = time.perf_counter()
    series, deal_tables, outcome_tables, decision_tables = [], [], [], []
    with tqdm(
        total=rc.replicates * len(points),
        desc=f"{rc.name}",
        unit="replicate",
        file=sys.stderr,
        disable=None if rc.progress else True,
    ) as bar:
        for point, params in points:
            res = run_replicates(
                params, rc.months, rc.replicates, rc.seed, progress=bar.update, events=fw.events,
                replay_until=fw.replay_until, starts=starts,
            )  # fmt: skip
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
                res.decisions.insert(1, "point", point)
            series.append(res.timeseries)
            deal_tables.append(res.deals)
            decision_tables.append(res.decisions)
            outcome_tables.append(table)
    compute_s = time.perf_counter() - started
    ts = pd.concat(series, ignore_index=True)
    deals = pd.concat(deal_tables, ignore_index=True)
    decisions = pd.concat(decision_tables, ignore_index=True)
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
        "case": rc.case.name,
        "uncertainty": fw.uncertainty,
        "parameter_uncertainty": bool(rc.parameter_uncertainty and fw.calibration is not None),
        **fw.record(),
        "settings": settings_used(fw, per, explicit) if design_info is None else [],
        "share_with_deal": float((table["deals"] > 0).mean()),
        "compute_seconds": compute_s,
        "design": design_info,
        "outcomes": summarise(table),
        "constant_outcomes": constant_outcomes(table),
    }
    seeds = spawn_seeds(rc.seed, rc.replicates)
    write_table(out_dir / "outcomes.parquet", table)
    if design_info is None:
        write_table(out_dir / "replicates.parquet", replicate_table(fw, per, seeds))
    write_run(
        out_dir,
        ts,
        deals,
        summary,
        recorded_config(config_yaml, fw, per if design_info is None else [], explicit),
        provenance(rc.seed, command, {"replicate_seeds": [int(s) for s in seeds]}),
        decisions=decisions,
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


#: Keys the user types that name config fields by another name: ``conf/calibration/`` and ``conf/timeline/``
#: are folders of calibration set-ups and timelines, which Hydra would take ``calibration=`` and ``timeline=``
#: to choose from.
USER_KEYS = {"calibration": "calibrated", "timeline": "timeline_mode"}


def user_argv(argv: list[str]) -> list[str]:
    """Map the user's ``calibration=X`` and ``timeline=X`` to the config fields ``calibrated`` and
    ``timeline_mode``."""
    out = []
    for a in argv:
        for key, field_name in USER_KEYS.items():
            a = re.sub(rf"^([+~]?){key}=", rf"\g<1>{field_name}=", a)
        out.append(a)
    return out


def job_config(argv: list[str]) -> str | None:
    """What ``sim-run ... --cfg job`` prints: the configuration the run would use, calibration applied
    (Hydra's
    own printout would show the case file's values where the calibration replaces them). None when the
    command line asks Hydra for something else."""
    if "--cfg" not in argv and "-c" not in argv:
        return None
    flag = argv.index("--cfg") if "--cfg" in argv else argv.index("-c")
    if flag + 1 >= len(argv) or argv[flag + 1] != "job" or any(a in ("-m", "--multirun") for a in argv):
        return None
    overrides = [a for i, a in enumerate(argv) if i not in (flag, flag + 1) and not a.startswith("-")]
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="sim-run"):
        cfg = compose(config_name="config", overrides=[o for o in overrides if not o.startswith("hydra.")])
    GlobalHydra.instance().clear()
    rc = to_run_config(cfg)
    explicit = explicit_keys(overrides)
    fw = forward_setup(rc, explicit)
    return recorded_config(OmegaConf.to_yaml(cfg, resolve=True), fw, fw.params, explicit)


def run() -> None:
    """Entry point of ``sim-run``: check the command line, then hand over to Hydra."""
    sys.argv = [sys.argv[0], *user_argv(sys.argv[1:])]
    try:
        precheck(sys.argv[1:])
        shown = job_config(sys.argv[1:])
    except UserError as exc:
        print(f"sim-run: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - composition and range errors alike become one line
        print(f"sim-run: error: {_one_line(exc)}", file=sys.stderr)
        sys.exit(2)
    if shown is not None:
        print(shown, end="")
        return
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
