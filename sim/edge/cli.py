"""Hydra edge, part 2: the command-line tools ``sim-run``, ``sim-report`` and ``sim-calibrate``.

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
import os
import re
import signal
import sys
import time
import traceback
from pathlib import Path

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim.analysis import design
from sim.analysis.text import clip
from sim.core.metrics import outcomes, summarise
from sim.core.params import ParamError, flatten
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
from sim.store.untrusted import UntrustedFileError, check_writable
from sim.views.report import build_comparison, build_run_report

from .config import CONF_DIR, RunConfig, calibrated_params, end_month, register, to_run_config
from .launchers import Interrupted, interrupted_line, project_traceback
from .precheck import (  # noqa: F401 - re-exported: the tests and notebooks use them from here
    UserError,
    check,
    clip_quoted,
    count_jobs,
    expand_overrides,
    group_options,
)

register()
log = logging.getLogger("sim-run")
SWEEP_RESULT: dict[str, int] = {}  # filled by SweepSummary at the end of a multirun, read by run()


def scenarios() -> list[str]:
    """Names of the scenarios in ``conf/scenario/``."""
    return sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))


def user_argv(argv: list[str]) -> list[str]:
    """Map the user's ``calibration=X`` to the config field ``calibrated=X``.

    ``conf/calibration/`` is a folder of calibration setups, which Hydra would take ``calibration=`` to choose
    from.
    """
    return [re.sub(r"^([+~]?)calibration=", r"\1calibrated=", a) for a in argv]


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


def _points(
    rc: RunConfig, explicit: set[str], folder: Path | None = None
) -> tuple[list[tuple[int, object]], dict | None, str]:
    """The parameter points this job runs (the configuration, or its chunk of a design), each as one
    scenario per replicate, and the sentence saying what uncertainty the replicates carry."""
    per_rep, uncertainty = calibrated_params(rc, explicit, folder)
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
    if rc.fail_on_purpose:
        raise RuntimeError("fail_on_purpose=true: this job fails on purpose (to test failure handling)")
    points, design_info, uncertainty = _points(rc, explicit, out_dir)
    started = time.perf_counter()
    series, deal_tables, outcome_tables = [], [], []
    bar = Progress(rc.replicates * len(points), job or rc.name, rc.progress, rc.progress_every)
    try:
        for point, params in points:
            res = run_replicates(params, rc.months, rc.replicates, rc.seed, progress=bar.update)
            table = outcomes(res.timeseries, res.deals)
            per = params if isinstance(params, list) else [params] * rc.replicates
            flat = pd.DataFrame([flatten(p) for p in per]).drop(columns="name")  # a row per replicate
            flat.insert(0, "point", point)
            flat.insert(0, "job", job)
            table = pd.concat([table, flat.set_index(table.index)], axis=1)
            if design_info is not None:
                res.timeseries.insert(1, "point", point)
                res.deals.insert(1, "point", point)
            series.append(res.timeseries)
            deal_tables.append(res.deals)
            outcome_tables.append(table)
    finally:
        bar.close()
    compute_s = time.perf_counter() - started
    ts = pd.concat(series, ignore_index=True)
    deals = pd.concat(deal_tables, ignore_index=True)
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
        "uncertainty": uncertainty,
        "calibration": in_record(rc.calibrated, out_dir) if "/" in rc.calibrated else rc.calibrated,
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
            rc.seed,
            command,
            {"replicate_seeds": [int(s) for s in spawn_seeds(rc.seed, rc.replicates)]},
            folder=out_dir,
        ),
    )
    if not rc.report or design_info is not None:
        return None
    return build_run_report(out_dir)


def job_command(hc) -> list[str]:
    """The command that reproduces this run or job, built from Hydra's record of its overrides (under SLURM
    ``sys.argv`` is submitit's own)."""
    task = [re.sub(r"^([+~]?)calibrated=", r"\1calibration=", o) for o in hc.overrides.task]
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


# ----------------------------------------------------------------------------------------- sim-calibrate


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{clip(text)!r}: must be a whole number of at least 1") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: must be a whole number of at least 1")
    return value


class _OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line (no usage block)."""

    def error(self, message: str) -> None:
        fail(self.prog, message)


def calibrate(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-calibrate``: fit the backtest to the seed figures and write a calibration
    folder."""
    from datetime import datetime

    from sim.analysis.calibration import calibrate as run_calibration
    from sim.analysis.calibration import months_between
    from sim.store.sources import SeedsError, load_figures
    from sim.views.calibration_report import write_calibration

    from .config import load_calibration, load_scenario

    ap = _OneLineParser(
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
        "--workers", type=_positive_int, default=None, help="processes for the optimiser (default: all cores)"
    )
    ap.add_argument("--quick", action="store_true", help="small settings for a first look (a minute or less)")
    args = ap.parse_args(argv)
    command = ["sim-calibrate", *(argv if argv is not None else sys.argv[1:])]
    try:
        cfg = load_calibration(args.calibration, load_figures())
        base, _ = load_scenario(cfg["scenario"])
        out = args.out or Path("results") / "calibration" / cfg["path"].stem / datetime.now().strftime(
            "%Y-%m-%d_%H-%M-%S"
        )
        if holds_results(out) or (out / "fit.json").exists():
            raise UserError(f"--out {out}: already holds a calibration; choose a new folder")
        check_writable(out)
        months = months_between(base.start, max(t.end or t.start for t in cfg["targets"]))
        if months < 1:
            raise UserError(f"{cfg['path'].name}: the targets end before the scenario starts ({base.start})")
    except (ParamError, SeedsError, UserError, UntrustedFileError, ValueError) as exc:
        fail("sim-calibrate", str(exc))
    if args.quick:
        cfg.update(replicates=8, maxiter=4, popsize=4, abc_draws=120, abc_accept=0.1)
    workers = args.workers or os.cpu_count() or 1
    bars: dict[str, Progress] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = Progress(total, stage, True, 30.0)
        bar.update(done - bar.done)

    started = time.perf_counter()
    try:
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
    except KeyboardInterrupt:
        print("sim-calibrate: interrupted; nothing was written", file=sys.stderr)
        sys.exit(130)
    for bar in bars.values():
        bar.close()
    seconds = time.perf_counter() - started
    path = write_calibration(
        out, result, cfg["targets"], cfg, command, provenance(cfg["seed"], command, folder=out), seconds
    )
    print(
        f"fit: {shown(path)}  ({result.evaluations} evaluations, {seconds:.0f} s, mismatch "
        f"{result.evaluation.mismatch:.2f})"
    )


__all__ = ["UserError", "calibrate", "precheck", "report", "run", "scenarios", "user_argv"]
