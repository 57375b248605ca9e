"""Launchers for sweeps that survive dead jobs: a local process pool, and SLURM through submitit.

Hydra finds launchers only inside the ``hydra_plugins`` package, so ``hydra_plugins/sim_launchers`` holds
thin subclasses of the classes here; the configs are ``conf/hydra/launcher/processes.yaml`` (the default,
one worker per core) and ``conf/hydra/launcher/slurm.yaml``.

**Local pool** (:class:`ProcessPoolLauncher`). Hydra's joblib launcher runs jobs through loky: one worker
killed (the out-of-memory killer sends SIGKILL) ends the whole sweep with ``TerminatedWorkerError``, and on
SIGTERM its workers and resource trackers live on. Here each worker is a process of our own, started with
``spawn`` and reused for many jobs; the parent waits on every worker's pipe and process sentinel at once:

* a worker that dies mid-job is replaced, and its job is recorded as failed (``error.json`` naming the
  signal), unless it had completed; the sweep goes on;
* SIGTERM or SIGINT (Ctrl-C) to ``sim-run`` stops the workers (SIGTERM, then SIGKILL after a grace period)
  and waits for them, so no worker or resource tracker outlives it; workers ignore SIGINT themselves, so a
  Ctrl-C on a terminal reaches only the parent, which ends in one line.

**SLURM** (:class:`SlurmLauncher`). submitit's ``job.results()`` raises ``UncompletedJobError`` for a job
SLURM ended (``scancel``, time limit, node failure), and without accounting (no ``sacct``) it waits forever.
Here the parent polls ``squeue`` (and ``sacct`` when it answers) itself: a job that leaves the queue without
a result is recorded as failed with its SLURM state, the others go on, and a job is never waited for
forever. The warning signal before the time limit is moved to at most a tenth of the limit, so a short
limit does not fire it at once.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
import traceback
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides, setup_globals
from hydra.plugins.launcher import Launcher
from omegaconf import OmegaConf, open_dict

from sim.store.paths import ROOT
from sim.store.tables import is_run_folder, write_json, write_text

log = logging.getLogger("sim-run")
GRACE_S = 5.0  # seconds a stopped worker gets to end before SIGKILL


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGINT to ``sim-run`` while it runs a sweep (the jobs were stopped, or left to SLURM)."""

    def __init__(self, signum: int, message: str = "") -> None:
        super().__init__(message)
        self.signum = signum
        self.message = message


def project_traceback(text: str) -> str:
    """A traceback with the project's paths relative to it (records carry no machine paths)."""
    return text.replace(str(ROOT) + os.sep, "")


def job_dir(hydra_context, config, overrides: list[str]) -> Path:
    """The folder a job of a sweep writes into (as Hydra's ``run_job`` computes it)."""
    sweep_config = hydra_context.config_loader.load_sweep_config(config, list(overrides))
    with open_dict(sweep_config):
        sweep_config.hydra.job.id = "precheck"
        sweep_config.hydra.job.num = 0
    return Path(str(sweep_config.hydra.sweep.dir)) / str(sweep_config.hydra.sweep.subdir)


def record_failure(
    folder: Path, job: str, error: str, message: str, overrides: list[str] | None = None, **extra: Any
) -> bool:
    """Write ``error.json`` for a job that ended without writing its own; False when the job had completed
    or already recorded its error. A job that died before Hydra set its folder up also gets Hydra's
    ``.hydra/overrides.yaml``, so that the sweep's report and summary count it."""
    folder = Path(folder)
    if _is_complete(folder) or (folder / "error.json").is_file():
        return False
    marker = folder / ".hydra" / "overrides.yaml"
    if overrides is not None and not marker.is_file():
        write_text(marker, yaml.safe_dump([str(o) for o in overrides], default_flow_style=False))
    write_json(
        folder / "error.json", {"job": job, "error": error, "message": message, "traceback": "", **extra}
    )
    return True


def _is_complete(folder: Path) -> bool:
    return (Path(folder) / "outcomes.parquet").is_file() and is_run_folder(folder)


def _completed(overrides) -> JobReturn:
    return JobReturn(overrides=list(overrides), status=JobStatus.COMPLETED, _return_value=None)


# ---------------------------------------------------------------------------------------- the local pool


def _worker_main(conn) -> None:  # runs in a worker process
    import cloudpickle
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import run_job

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when the pool stops
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        payload = conn.recv_bytes()  # the sweep's context, sent once (workers start in parallel)
    except (EOFError, OSError):
        return
    hydra_context, config, task_function, singleton_state = cloudpickle.loads(payload)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        idx, overrides = msg
        try:
            setup_globals()
            Singleton.set_state(singleton_state)
            sweep_config = hydra_context.config_loader.load_sweep_config(config, list(overrides))
            with open_dict(sweep_config):
                sweep_config.hydra.job.id = f"{sweep_config.hydra.job.name}_{idx}"
                sweep_config.hydra.job.num = idx
            HydraConfig.instance().set_config(sweep_config)
            folder = Path(str(sweep_config.hydra.sweep.dir)) / str(sweep_config.hydra.sweep.subdir)
            conn.send(("started", idx, str(folder)))
            run_job(
                hydra_context=hydra_context,
                task_function=task_function,
                config=sweep_config,
                job_dir_key="hydra.sweep.dir",
                job_subdir_key="hydra.sweep.subdir",
            )
            conn.send(("done", idx, None))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which records it
            conn.send(
                ("error", idx, (type(exc).__name__, str(exc), project_traceback(traceback.format_exc())))
            )


@dataclass
class _Worker:
    process: Any
    conn: Any
    job: tuple | None = None  # (idx, overrides, folder or None)
    ran: bool = False  # whether it ever took a job (a worker that dies before any is a start failure)


def _send(w: _Worker, obj: Any = None, raw: bytes | None = None) -> bool:
    """Send to a worker; False when it has died (its pipe is closed)."""
    try:
        if raw is not None:
            w.conn.send_bytes(raw)
        else:
            w.conn.send(obj)
        return True
    except (BrokenPipeError, ConnectionResetError, EOFError, OSError):
        return False


class ProcessPoolLauncher(Launcher):
    """Runs a sweep's jobs on ``n_jobs`` worker processes of its own (see the module's docstring).

    Args:
        n_jobs: workers at once; -1 for one per core.
    """

    def __init__(self, n_jobs: int = -1, **_: Any) -> None:
        self.n_jobs = int(n_jobs)
        self.config = self.task_function = self.hydra_context = None

    def setup(self, *, hydra_context, task_function, config) -> None:
        self.config, self.task_function, self.hydra_context = config, task_function, hydra_context

    def launch(self, job_overrides, initial_job_idx: int):
        import cloudpickle
        from hydra.core.utils import configure_log

        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        n = self.n_jobs if self.n_jobs > 0 else (os.cpu_count() or 1)
        n = max(1, min(n, len(job_overrides)))
        log.info("launching %d job(s) on %d worker process(es) into %s", len(job_overrides), n, sweep_dir)
        for i, o in enumerate(job_overrides):
            log.info("\t#%d : %s", initial_job_idx + i, " ".join(filter_overrides(o)))
        payload = cloudpickle.dumps(
            (self.hydra_context, self.config, self.task_function, Singleton.get_state())
        )
        ctx = mp.get_context("spawn")
        pending = deque((initial_job_idx + i, list(o)) for i, o in enumerate(job_overrides))
        results = {idx: _completed(o) for idx, o in pending}
        workers: list[_Worker] = []
        start_failures = 0
        self._ended, self._total, self._said = 0, len(job_overrides), time.monotonic()

        def start() -> _Worker:
            parent, child = ctx.Pipe()
            p = ctx.Process(target=_worker_main, args=(child,), name="sim-run-worker", daemon=True)
            p.start()
            child.close()
            return _Worker(p, parent)

        previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

        def on_signal(signum, _frame):
            raise Interrupted(signum)

        for s in previous:
            signal.signal(s, on_signal)
        try:
            workers = [start() for _ in range(n)]  # they import in parallel; the context follows
            for w in workers:
                _send(w, raw=payload)
            while pending or any(w.job for w in workers):
                for w in workers:
                    if w.job is None and pending:
                        idx, overrides = pending.popleft()
                        if _send(w, (idx, overrides)):
                            w.job, w.ran = (idx, overrides, None), True
                        else:  # the worker died before it took the job: the job waits for another
                            pending.appendleft((idx, overrides))
                busy = [w for w in workers if w.job is not None]
                waits = [w.conn for w in busy] + [w.process.sentinel for w in workers]
                mp.connection.wait(waits, timeout=5)
                for i, w in enumerate(workers):
                    self._drain(w)
                    if w.process.is_alive():
                        continue
                    w.process.join()
                    if w.job is not None:
                        self._dead(w)
                    elif not w.ran:
                        start_failures += 1
                        if start_failures > 3 * n:
                            raise RuntimeError(
                                f"worker processes keep dying before they take a job (exit code "
                                f"{w.process.exitcode}); see the messages above"
                            )
                    w.conn.close()
                    workers[i] = start()
                    _send(workers[i], raw=payload)
        except BaseException:
            self._stop(workers)
            raise
        finally:
            for s, h in previous.items():
                signal.signal(s, h)
        for w in workers:
            try:
                w.conn.send(None)
            except OSError:
                pass
        for w in workers:
            w.process.join(timeout=GRACE_S)
        self._stop(workers)
        return [results[i] for i in sorted(results)]

    def _drain(self, w: _Worker) -> None:
        """Handle every message a worker has sent."""
        while w.job is not None:
            try:
                if not w.conn.poll():
                    return
                kind, idx, data = w.conn.recv()
            except (EOFError, OSError):
                return
            if kind == "started":
                w.job = (idx, w.job[1], Path(data))
            elif kind == "done":
                w.job = None
                self._progress()
            elif kind == "error":  # Hydra could not even set the job up: record it where it would write
                error, message, trace = data
                folder = w.job[2] or job_dir(self.hydra_context, self.config, w.job[1])
                record_failure(folder, self._name(folder), error, message, w.job[1], traceback=trace)
                log.error("job #%d failed before it started: %s: %s", idx, error, message)
                w.job = None
                self._progress()

    def _name(self, folder: Path) -> str:
        try:
            return Path(folder).relative_to(Path(str(self.config.hydra.sweep.dir))).as_posix()
        except ValueError:
            return Path(folder).name

    def _dead(self, w: _Worker) -> None:
        """A worker died mid-job: record the job as failed, naming the signal."""
        idx, overrides, folder = w.job
        folder = folder or job_dir(self.hydra_context, self.config, overrides)
        code = w.process.exitcode
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            why = " (the out-of-memory killer sends it)" if name == "SIGKILL" else ""
            message = f"the job's worker process was killed by {name}{why}; the sweep went on without it"
        else:
            name, message = None, f"the job's worker process exited with code {code}; the sweep went on"
        if record_failure(
            folder, self._name(folder), "WorkerDied", message, overrides, signal=name, exit_code=code
        ):
            log.error("job #%d (%s) failed: %s", idx, self._name(folder), message)
        w.job = None
        self._progress()

    def _progress(self, every: float | None = None) -> None:
        """A line on the sweep's progress at most every ``progress_every`` seconds (and at the last job)."""
        self._ended += 1
        every = every or float(OmegaConf.select(self.config, "progress_every") or 30.0)
        if self._ended == self._total or time.monotonic() - self._said >= every:
            self._said = time.monotonic()
            log.info("sweep: %s of %s jobs ended", f"{self._ended:,}", f"{self._total:,}")

    @staticmethod
    def _stop(workers: list[_Worker]) -> None:
        """Stop every worker still alive: SIGTERM, then SIGKILL after the grace period; wait for them."""
        alive = [w for w in workers if w.process.is_alive()]
        for w in alive:
            w.process.terminate()
        deadline = time.monotonic() + GRACE_S
        for w in alive:
            w.process.join(timeout=max(0.0, deadline - time.monotonic()))
        for w in alive:
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
        for w in workers:
            try:
                w.conn.close()
            except OSError:
                pass


# ----------------------------------------------------------------------------------------------- SLURM


def _run(cmd: list[str], timeout: float = 30.0) -> str | None:
    """A scheduler command's output, or None when it fails or is absent."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout if r.returncode == 0 else None


def queue_states(job_ids: list[str]) -> dict[str, str] | None:
    """States of the jobs still in SLURM's queue (``squeue``), by job id; None when squeue does not answer."""
    arrays = sorted({j.split("_")[0] for j in job_ids})
    out = _run(["squeue", "-h", "-r", "-o", "%i|%T", "-j", ",".join(arrays)])
    if out is None:
        # squeue exits non-zero once every listed job has left the queue ("Invalid job id specified")
        probe = _run(["squeue", "-h", "-o", "%i", "-u", str(os.getuid())])
        return {} if probe is not None else None
    states = {}
    for line in out.splitlines():
        jid, _, state = line.strip().partition("|")
        if jid:
            states[jid] = state
    return states


def final_states(job_ids: list[str]) -> dict[str, str]:
    """Final states from SLURM's accounting (``sacct``), by job id; empty when accounting is absent."""
    arrays = sorted({j.split("_")[0] for j in job_ids})
    out = _run(["sacct", "-n", "-P", "-X", "-o", "JobID,State", "-j", ",".join(arrays)])
    states = {}
    for line in (out or "").splitlines():
        jid, _, state = line.strip().partition("|")
        if jid and "." not in jid:
            states[jid] = state.strip()
    return states


def warning_delay(timeout_min: float | None, delay_s: int) -> int:
    """Seconds before the time limit at which SLURM warns the job: ``delay_s``, but at most a tenth of the
    limit (and at least 5 s), so that with ``timeout_min=1`` the warning does not come at once."""
    limit_s = 60 * float(timeout_min or 60)
    return int(delay_s) if delay_s <= limit_s / 10 else max(5, int(limit_s / 10))


class SlurmLauncherMixin:
    """``launch`` for submitit's SLURM launcher that never crashes on, nor waits forever for, a job SLURM
    ended. Mixed into a subclass of hydra-submitit-launcher's ``SlurmLauncher``."""

    poll_s = 2.0  # seconds between queue checks
    vanish_grace_s = 60.0  # a job gone from the queue without a result is failed after this long
    blind_limit_s = 900.0  # give up when the scheduler does not answer at all for this long

    def launch(self, job_overrides, initial_job_idx: int):
        import submitit

        params = dict(self.params)
        delay = params.get("signal_delay_s")
        if delay is not None and warning_delay(params.get("timeout_min"), delay) != delay:
            params["signal_delay_s"] = warning_delay(params.get("timeout_min"), delay)
            log.info(
                "signal_delay_s %s is long for timeout_min=%s: the warning signal now comes %s s before "
                "the limit",
                delay,
                params.get("timeout_min"),
                params["signal_delay_s"],
            )
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        init = {"folder": params["submitit_folder"]}
        if "max_num_timeout" in params:
            init["slurm_max_num_timeout"] = params["max_num_timeout"]
        executor = submitit.AutoExecutor(cluster="slurm", **init)
        from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf

        base = set(OmegaConf.structured(BaseQueueConf).keys())
        executor.update_parameters(
            **{
                (k if k in base else f"slurm_{k}"): v
                for k, v in params.items()
                if k not in ("submitit_folder", "max_num_timeout", "_target_")
            }
        )
        complete = [o for o in job_overrides if _is_complete(self._folder(o))]
        if complete:  # a re-run: complete jobs are not submitted again
            log.info("skipping %d complete job(s)", len(complete))
            print(f"sim-run: {len(complete)} job(s) already complete; not submitted again", flush=True)
        todo = [(i, o) for i, o in enumerate(job_overrides) if not _is_complete(self._folder(o))]
        if not todo:
            return [_completed(o) for o in job_overrides]
        for _, o in todo:  # an old error is replaced by what this attempt records
            (self._folder(o) / "error.json").unlink(missing_ok=True)
        job_params = [
            (
                list(o),
                "hydra.sweep.dir",
                initial_job_idx + i,
                f"job_id_for_{initial_job_idx + i}",
                Singleton.get_state(),
            )
            for i, o in todo
        ]
        for i, o in todo:
            log.info("\t#%d : %s", initial_job_idx + i, " ".join(filter_overrides(o)))
        jobs = executor.map_array(self, *zip(*job_params))
        ids = [j.job_id for j in jobs]
        array = ids[0].split("_")[0] if ids else "?"
        print(
            f"sim-run: submitted {len(jobs)} SLURM job(s) (array {array}); waiting for them. Ctrl-C stops "
            f"waiting and leaves them running: `scancel {array}` stops them",
            flush=True,
        )
        try:
            self._wait(jobs, [o for _, o in todo])
        except KeyboardInterrupt as exc:
            raise Interrupted(
                signal.SIGINT,
                f"stopped waiting; the SLURM jobs of array {array} go on (`scancel {array}` or "
                f"`scancel -n {params.get('name', 'sim-run')}` stops them); re-run the same command to "
                "collect or resume them",
            ) from exc
        return [_completed(o) for o in job_overrides]

    def _wait(self, jobs, job_overrides) -> None:
        """Wait for every job to end (result file, or gone from the queue); record those SLURM ended."""
        open_jobs = dict(enumerate(jobs))
        gone_since: dict[int, float] = {}
        blind_since = None
        while open_jobs:
            for i, job in list(open_jobs.items()):
                if job.paths.result_pickle.exists():
                    self._collect(job, job_overrides[i])
                    del open_jobs[i]
            if not open_jobs:
                break
            states = queue_states([j.job_id for j in open_jobs.values()])
            now = time.monotonic()
            if states is None:
                blind_since = blind_since or now
                if now - blind_since > self.blind_limit_s:
                    for i, job in open_jobs.items():
                        self._record(job, job_overrides[i], "UNKNOWN (squeue does not answer)")
                    log.error("squeue did not answer for %.0f s: stopped waiting", now - blind_since)
                    return
            else:
                blind_since = None
                finals = None
                for i, job in list(open_jobs.items()):
                    if job.job_id in states:
                        gone_since.pop(i, None)
                        continue
                    gone_since.setdefault(i, now)
                    finals = (
                        final_states([j.job_id for j in open_jobs.values()]) if finals is None else finals
                    )
                    state = finals.get(job.job_id)
                    ended = state and state.split()[0] not in ("PENDING", "RUNNING", "REQUEUED", "COMPLETING")
                    # the result file may lag behind on a shared file system: wait a little for it
                    if (ended and now - gone_since[i] > 5) or now - gone_since[i] > self.vanish_grace_s:
                        if job.paths.result_pickle.exists():
                            continue
                        self._record(job, job_overrides[i], state or "ENDED (no accounting: state unknown)")
                        del open_jobs[i]
            time.sleep(self.poll_s)

    def _folder(self, overrides) -> Path:
        return job_dir(self.hydra_context, self.config, list(overrides))

    def _collect(self, job, overrides) -> None:
        """A job with a result file: record it if it ended in an error outside the task."""
        try:
            outcome, value = job._get_outcome_and_result()
        except Exception as exc:  # noqa: BLE001 - an unreadable result is a failed job
            outcome, value = "error", f"{type(exc).__name__}: {exc}"
        if outcome == "error":
            text = str(value)
            timed_out = "timed-out" in text or "timeout" in text.lower()
            self._record(job, overrides, "TIMEOUT" if timed_out else "FAILED", detail=text)

    def _record(self, job, overrides, state: str, detail: str = "") -> None:
        folder = self._folder(overrides)
        name = self._name(folder)
        if state.split()[0] == "TIMEOUT":
            message = (
                f"SLURM's time limit (hydra.launcher.timeout_min={self.params.get('timeout_min')}) ended the "
                "job before it finished; raise timeout_min or split the job"
            )
            error = "Timeout"
        else:
            message = f"SLURM ended the job without a result (state {state})"
            error = "SlurmJobEnded"
        if detail:
            message += f": {detail.strip().splitlines()[-1][:300]}"
        if record_failure(
            folder,
            name,
            error,
            message,
            list(overrides),
            slurm_state=state,
            slurm_job_id=job.job_id,
            traceback=project_traceback(detail),
        ):
            log.error("job %s (SLURM %s) failed: %s", name, job.job_id, message)

    def _name(self, folder: Path) -> str:
        try:
            return Path(folder).relative_to(Path(str(self.config.hydra.sweep.dir))).as_posix()
        except ValueError:
            return Path(folder).name


def interrupted_line(exc: Interrupted) -> str:
    """The one line ``sim-run`` prints when a sweep is interrupted."""
    name = signal.Signals(exc.signum).name if exc.signum else "interrupt"
    return f"sim-run: interrupted ({name}): {exc.message or 'stopped the running jobs'}"


__all__ = [
    "Interrupted",
    "ProcessPoolLauncher",
    "SlurmLauncherMixin",
    "interrupted_line",
    "job_dir",
    "project_traceback",
    "queue_states",
    "final_states",
    "record_failure",
    "sys",
]
