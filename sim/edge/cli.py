"""Hydra edge, part 2: the command-line tools ``sim-run`` and ``sim-report``.

``sim-run`` checks the whole command line first (:mod:`sim.edge.precheck`: every value of every swept key,
every combination, the calibration, the output folder, the size), so bad input gets one line naming the field
and the allowed values, exits with code 2, and writes nothing. It then claims the output folder
(:mod:`sim.store.claims`), so two commands never write into one folder, pins the folder on Hydra's command
line, and hands over to Hydra. A sweep's jobs run through :mod:`sim.edge.launchers`: a dead job is recorded
and the sweep goes on; a sweep with failed jobs exits with code 1 and says how many; SIGTERM or Ctrl-C ends
in one line (exit code 130 or 143) without leaving workers behind.
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
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
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.analysis import design
from sim.analysis.text import clip
from sim.core.metrics import case_actors, constant_outcomes, outcomes, summarise
from sim.core.params import flatten
from sim.core.run import run_replicates, spawn_seeds
from sim.store.claims import FolderBusy, claim
from sim.store.paths import in_record
from sim.store.tables import (
    RunFolderError,
    clean_stray_tmp,
    holds_results,
    holds_sweep,
    is_run_folder,
    job_status,
    multirun_overrides,
    provenance,
    remove_outputs,
    write_json,
    write_run,
    write_table,
)
from sim.store.untrusted import UntrustedFileError
from sim.views.report import build_comparison, build_run_report

from .config import (
    CONF_DIR,
    RunConfig,
    end_month,
    explicit_keys,
    forward_setup,
    register,
    scenario_params,
    to_run_config,
)
from .launchers import Interrupted, interrupted_line, project_traceback
from .precheck import (  # noqa: F401 - re-exported: the tests and notebooks use them from here
    UserError,
    check,
    clip_quoted,
    count_jobs,
    expand_overrides,
    group_options,
    one_line,
)

register()
matplotlib.use("Agg")  # the command-line tools draw figures to files; notebooks keep Jupyter's inline backend
log = logging.getLogger("sim-run")
SWEEP_RESULT: dict[str, int] = {}  # filled by SweepSummary at the end of a multirun, read by run()


def scenarios() -> list[str]:
    """Names of the scenarios in ``conf/scenario/``."""
    return sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))


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


def precheck(argv: list[str], progress=None):
    """Check a ``sim-run`` command line without writing anything (raises :class:`UserError`); returns the
    :class:`~sim.edge.precheck.Plan`."""
    return check(user_argv(argv), progress)


# ----------------------------------------------------------------------------------------------- progress


class Progress:
    """Progress over replicates: a bar on a terminal, else a log line every ``every`` seconds (under nohup,
    in a log file, in CI), and a last line at the end."""

    def __init__(self, total: int, name: str, enabled: bool, every: float) -> None:
        self.total, self.name, self.every = total, name, every
        self.done, self.started, self.last = 0, time.monotonic(), time.monotonic()
        self.bar = None
        self.lines = enabled and not sys.stderr.isatty()
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=name, unit="replicate", file=sys.stderr)

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.lines and time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            self._line()

    def _line(self) -> None:
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        log.info(
            "%s: %s of %s replicates (%d %%), %.0f s elapsed, about %.0f s left",
            self.name,
            f"{self.done:,}",
            f"{self.total:,}",
            100 * self.done // max(self.total, 1),
            elapsed,
            left,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.lines and time.monotonic() - self.started >= self.every:
            self._line()


# ------------------------------------------------------------------------------------------------ the run


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
    if rc.fail_on_purpose:
        raise RuntimeError("fail_on_purpose=true: this job fails on purpose (to test failure handling)")
    points, design_info, fw = _points(rc, explicit)
    starts = fw.starts if design_info is None else None
    started = time.perf_counter()
    series, deal_tables, outcome_tables, decision_tables = [], [], [], []
    per: list = []
    bar = Progress(rc.replicates * len(points), job or rc.name, rc.progress, rc.progress_every)
    try:
        for point, params in points:
            res = run_replicates(
                params, rc.months, rc.replicates, rc.seed, progress=bar.update, events=fw.events,
                replay_until=fw.replay_until, starts=starts,
            )  # fmt: skip
            table = outcomes(res.timeseries, res.deals)
            per = params if isinstance(params, list) else [params] * rc.replicates
            flat = pd.DataFrame([flatten(p) for p in per]).drop(columns="name")  # a row per replicate
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
    finally:
        bar.close()
    compute_s = time.perf_counter() - started
    ts = pd.concat(series, ignore_index=True)
    deals = pd.concat(deal_tables, ignore_index=True)
    decisions = pd.concat(decision_tables, ignore_index=True)
    table = pd.concat(outcome_tables, ignore_index=True)
    summary = {
        "scenario": rc.name,
        "description": rc.description,
        "replicates": rc.replicates,
        "months": rc.months,
        "start": rc.start,
        "end": end_month(rc, rc.months),
        "seed": rc.seed,
        "job": job,
        "case": rc.case.name,
        "actors": case_actors(rc),
        "relief_unit": rc.case.relief_unit,
        "uncertainty": fw.uncertainty,
        "parameter_uncertainty": bool(rc.parameter_uncertainty and fw.calibration is not None),
        **fw.record(),
        "settings": settings_used(fw, per, explicit) if design_info is None else [],
        "share_with_deal": float((table["deals"] > 0).mean()),
        "compute_seconds": compute_s,
        "design": design_info,
        "outcomes": summarise(table),
        "constant_outcomes": constant_outcomes(table, case_actors(rc)),
    }
    source = summary["calibration"]
    if source:  # the calibration as the records name it: never an absolute path of this machine
        summary["calibration"] = in_record(source, out_dir)
        summary["uncertainty"] = summary["uncertainty"].replace(source, summary["calibration"])
    seeds = spawn_seeds(rc.seed, rc.replicates)
    write_table(out_dir / "outcomes.parquet", table)
    if design_info is None:
        reps = replicate_table(fw, per, seeds)
        if source:
            reps["start_state"] = reps["start_state"].str.replace(source, summary["calibration"], regex=False)
        write_table(out_dir / "replicates.parquet", reps)
    write_run(
        out_dir,
        ts,
        deals,
        summary,
        recorded_config(config_yaml, fw, per if design_info is None else [], explicit),
        provenance(rc.seed, command, {"replicate_seeds": [int(s) for s in seeds]}, folder=out_dir),
        decisions=decisions,
    )
    if not rc.report or design_info is not None:
        return None
    return build_run_report(out_dir)


def job_command(hc) -> list[str]:
    """The command that reproduces this run or job, built from Hydra's record of its overrides (under SLURM
    ``sys.argv`` is submitit's own)."""
    task = list(hc.overrides.task)
    for key, field_name in USER_KEYS.items():
        task = [re.sub(rf"^([+~]?){field_name}=", rf"\g<1>{key}=", o) for o in task]
    return ["sim-run", *task]


def _error_record(job: str, exc: BaseException) -> dict:
    """What ``error.json`` says about a job that raised (a SLURM time-limit warning is named as such)."""
    name, message = type(exc).__name__, str(exc)
    if name == "UncompletedJobError" and ("timed-out" in message or "timeout" in message.lower()):
        name = "Timeout"
        message = (
            "SLURM's time limit (hydra.launcher.timeout_min) was near: the job stopped before it finished; "
            "raise timeout_min or split the job"
        )
    elif name == "UncompletedJobError":
        name, message = "Preempted", "SLURM preempted the job before it finished; re-run to redo it"
    return {
        "job": job,
        "error": name,
        "message": message,
        "traceback": project_traceback(traceback.format_exc()),
    }


def _task(cfg: DictConfig) -> None:
    """One run, or one job of a sweep (Hydra's task function; module-level, so that it is pickled by
    reference and its tracebacks name this file)."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    multirun = hc.mode == RunMode.MULTIRUN
    job = hc.sweep.subdir if multirun else ""
    if multirun:
        clean_stray_tmp(out_dir)  # left by a job killed while writing
        if is_run_folder(out_dir) and (out_dir / "outcomes.parquet").is_file():
            log.info("skipping %s: its outputs are complete", job)  # re-running a sweep into the same folder
            return
    try:
        rc = to_run_config(cfg)
        (out_dir / "error.json").unlink(missing_ok=True)
        explicit = {o.split("=", 1)[0].lstrip("+~") for o in hc.overrides.task}
        report = execute(rc, out_dir, OmegaConf.to_yaml(cfg, resolve=True), job_command(hc), job, explicit)
    except Exception as exc:
        if not multirun:
            raise
        # one failing job does not stop the sweep: its error is recorded for the sweep report
        write_json(out_dir / "error.json", _error_record(job, exc))
        log.error("job %s failed: %s: %s", job, type(exc).__name__, clip(exc, 300))
        return
    if not multirun:
        print(f"report: {shown(report)}" if report else f"outputs: {shown(out_dir)}")


_hydra_main = hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")(_task)


def shown(path: Path) -> str:
    """A path as printed for the user: relative to the current folder when below it, else absolute."""
    p = Path(path).absolute()
    try:
        return p.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return p.as_posix()


class SweepSummary(Callback):
    """At the end of a multirun: how many jobs completed or failed, and how to build the sweep report."""

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        root = Path(config.hydra.sweep.dir)
        status = job_status(root)
        done = int((status["status"] == "complete").sum())
        failed = sorted(status.loc[status["status"] != "complete", "job"])
        SWEEP_RESULT.update(complete=done, failed=len(failed), jobs=len(status))
        listed = ", ".join(failed[:10]) + (f", ... ({len(failed) - 10} more)" if len(failed) > 10 else "")
        print(f"sweep: {done} job(s) complete, {len(failed)} failed{': ' + listed if failed else ''}")
        print(f"sweep report: sim-report {shown(root)}")


# ------------------------------------------------------------------------------------------------ sim-run


def _pin(argv: list[str], key: str, folder: Path) -> list[str]:
    """The command line with the output folder set explicitly (so that Hydra writes where it was claimed)."""
    value = "'" + str(folder).replace("\\", "\\\\").replace("'", "\\'") + "'"
    out = [a for a in argv if a.split("=", 1)[0] != key]
    return [*out, f"{key}={value}"]


def _fresh(folder: Path) -> Path:
    """``folder``, or ``folder_2``, ``folder_3``... : the first that does not exist (for the default folder
    pattern, which two runs started in the same second share)."""
    candidate, i = folder, 1
    while candidate.exists():
        i += 1
        candidate = folder.with_name(f"{folder.name}_{i}")
    return candidate


def _on_sigterm(signum, _frame) -> None:
    raise Interrupted(signum)


def fail(tool: str, message: str, code: int = 2) -> None:
    """Print one line ``tool: error: message`` (values cut to ~100 characters) and exit."""
    print(f"{tool}: error: {clip_quoted(message)}", file=sys.stderr)
    sys.exit(code)


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
    """Entry point of ``sim-run``: check the command line, claim the output folder, then hand over to
    Hydra. SIGTERM and Ctrl-C end in one line at any stage."""
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    state: dict = {}
    try:
        _run(state)
    except (Interrupted, KeyboardInterrupt) as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        plan, folder = state.get("plan"), state.get("folder")
        if folder is None:
            where = "nothing was written"
        elif plan.multirun:
            where = "re-run the same command to resume (complete jobs are skipped)"
        else:
            where = f"the run in {shown(folder)} is incomplete"
        if not isinstance(exc, Interrupted) or not exc.message:
            exc = Interrupted(signum, f"stopped; {where}")
        print(interrupted_line(exc), file=sys.stderr)
        sys.exit(128 + int(signum))
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(state: dict) -> None:
    argv = user_argv(sys.argv[1:])
    try:
        plan = state["plan"] = check(argv)
    except UserError as exc:
        fail("sim-run", str(exc))
    if plan.folder is None:  # --cfg, --help, --info: Hydra's business; nothing runs
        try:
            job = job_config(plan.argv)
        except Exception as exc:  # noqa: BLE001 - composition and range errors alike become one line
            fail("sim-run", one_line(exc))
        if job is not None:  # --cfg job: the values the run would use, calibration applied
            print(job, end="")
            return
        sys.argv = [sys.argv[0], *plan.argv]
        _hydra_main()
        return
    key = "hydra.sweep.dir" if plan.multirun else "hydra.run.dir"
    folder = plan.folder if plan.folder_given else _fresh(plan.folder)
    try:
        held = claim(folder)
    except FolderBusy as exc:
        fail("sim-run", str(exc))
    except OSError as exc:
        fail("sim-run", f"{key}={folder}: cannot be created ({exc.strerror or exc})")
    state["folder"] = folder
    try:
        # checked again under the claim: another command may have finished in the folder meanwhile
        if plan.multirun and (folder / "summary.json").exists():
            fail("sim-run", f"{key}={folder}: holds a single run, not a sweep; choose another folder")
        if not plan.multirun:
            if holds_sweep(folder):
                fail(
                    "sim-run", f"{key}={folder}: holds a sweep's jobs; a run never goes into a sweep's folder"
                )
            if holds_results(folder):
                if not plan.overwrite:
                    fail(
                        "sim-run",
                        f"{key}={folder}: already holds a run; choose a new folder or add overwrite=true",
                    )
                remove_outputs(folder)  # a stale report or figures never describe the new run
        if plan.estimate:
            print(f"sim-run: {plan.estimate}", file=sys.stderr)
        sys.argv = [sys.argv[0], *_pin(plan.argv, key, folder)]
        _hydra_main()
    finally:
        held.release()
    if plan.multirun and SWEEP_RESULT.get("failed"):
        print(
            f"sim-run: {SWEEP_RESULT['failed']} of {SWEEP_RESULT['jobs']} jobs did not complete (see their "
            "error.json, or the sweep report); re-run the same command to retry them",
            file=sys.stderr,
        )
        sys.exit(1)


# --------------------------------------------------------------------------------------------- sim-report


def describe_folder(folder: Path) -> str:
    """What a folder holds, for ``sim-report``: ``run``, ``incomplete run``, ``sweep`` or ``runs``."""
    if is_run_folder(folder):
        return "run"
    if any(folder.glob("*/**/.hydra/overrides.yaml")) or (folder / "multirun.yaml").is_file():
        return "sweep"
    if any((folder / f).exists() for f in ("timeseries.parquet", "config.yaml", ".hydra", "sim-run.log")):
        return "incomplete run"
    return "runs"


def report(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-report DIR``: rebuild a run's report, or report on a sweep or a set of runs."""
    ap = argparse.ArgumentParser(
        prog="sim-report",
        description="Rebuild the report of a sim-run folder, or write the report of a sweep (sweep.md) "
        "or a side-by-side comparison of the runs below a folder (comparison.md).",
    )
    ap.add_argument(
        "dir", type=Path, help="a run folder (with summary.json), a sweep folder, or a folder of runs"
    )
    ap.add_argument(
        "--prim",
        metavar="CONDITION",
        default=None,
        help="scenario discovery: a yes/no condition on sweep.parquet's columns, e.g. "
        "'final_stock > initial_stock' (column names, numbers, comparisons, & | ~, parentheses, + - * /); "
        "PRIM finds the parameter boxes where it holds",
    )
    args = ap.parse_args(argv)
    from sim.views.sweep_report import SweepError, build_sweep_report

    written: list[Path] = []
    try:
        if not args.dir.is_dir():
            raise RunFolderError(f"{args.dir}: not a folder")
        kind = describe_folder(args.dir)
        if args.prim and kind != "sweep":
            raise RunFolderError(f"{args.dir}: --prim needs a sweep folder (this is a {kind} folder)")
        if kind == "run":
            written = [build_run_report(args.dir)]
        elif kind == "incomplete run":
            raise RunFolderError(
                f"{args.dir}: an incomplete run (no summary.json: it was interrupted, failed, or is still "
                "running); run it again"
            )
        elif kind == "sweep":
            try:
                overrides, note = multirun_overrides(args.dir), ""
            except RunFolderError as exc:
                overrides, note = None, f"{clip(exc, 150)}: the jobs never started cannot be listed"
            expected = None
            if overrides:
                groups = group_options([CONF_DIR])
                expected = expand_overrides(overrides, groups)
                if expected is None:
                    note = (
                        f"the sweep was to run {count_jobs(overrides, groups):,} jobs: too many to list the "
                        "ones never started"
                    )
            written = build_sweep_report(args.dir, args.prim, expected, note=note)
        else:
            written = [build_comparison(args.dir)]
    except (RunFolderError, SweepError, UserError, UntrustedFileError) as exc:
        fail("sim-report", str(exc))
    except OSError as exc:
        fail("sim-report", f"{args.dir}: cannot write the report ({exc.strerror or exc})")
    for path in written:
        print(f"report: {shown(path)}")


__all__ = ["UserError", "precheck", "report", "run", "scenarios", "user_argv"]
