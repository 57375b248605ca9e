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
from pathlib import Path

import hydra
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Glob
from omegaconf import DictConfig, OmegaConf

from .config import CONF_DIR, RunConfig, register, scenario_params, to_run_config
from .metrics import outcomes, summarise
from .params import ParamError
from .prisoners import month_index, month_text
from .report import build_comparison, build_run_report
from .run import run_replicates
from .tables import RunFolderError, holds_results, is_run_folder, provenance, write_run

register()
_FLAGS_WITH_VALUE = {"--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd", "--experimental-rerun"}


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
        return f"{full.group(1) if full else m.group(1)}: unknown key; allowed: {', '.join(_fields_of(m.group(2)))}"
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

    from . import params

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


def _variants(overrides: list[str]) -> list[list[str]]:
    """Override lists to check: every swept value of each key once (others at their first value)."""
    parsed = OverridesParser.create().parse_overrides(overrides)
    base, sweeps = [], []
    for o in parsed:
        if o.is_sweep_override():
            glob = o.value()
            if isinstance(glob, Glob):  # glob(...) over a config group: expand against the group's files
                if o.get_key_element() != "scenario":
                    raise UserError(f"{o.get_key_element()}: glob() sweeps only work over scenario")
                values = glob.filter(scenarios())
                if not values:
                    raise UserError(f"scenario={o.input_line.split('=', 1)[1]}: matches no scenario; allowed: "
                                    f"{', '.join(scenarios())}")
            else:
                values = [str(v) for v in o.sweep_string_iterator()]
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
            except Exception as exc:  # noqa: BLE001 - composition and range errors alike become one line
                raise UserError(_one_line(exc)) from None
            if not multirun and run_dir and holds_results(Path(run_dir)) and not rc.overwrite:
                raise UserError(f"hydra.run.dir={run_dir}: already holds a run; choose a new folder or add "
                                f"overwrite=true")
    GlobalHydra.instance().clear()


def execute(rc: RunConfig, out_dir: Path, config_yaml: str, command: list[str]) -> Path:
    """Run the replicates of a configuration into ``out_dir``; returns the report's path."""
    from tqdm import tqdm

    if holds_results(out_dir) and not rc.overwrite:
        raise UserError(f"{out_dir}: already holds a run; choose a new folder or add overwrite=true")
    params = scenario_params(rc)
    with tqdm(total=rc.replicates, desc=f"{rc.name}", unit="replicate", disable=None if rc.progress else True,
              file=sys.stderr) as bar:
        result = run_replicates(params, rc.months, rc.replicates, rc.seed, progress=bar.update)
    table = outcomes(result.timeseries, result.deals)
    end = month_text(month_index(rc.start) + rc.months - 1)
    summary = {
        "scenario": rc.name, "description": rc.description, "replicates": rc.replicates, "months": rc.months,
        "start": rc.start, "end": end, "seed": rc.seed,
        "uncertainty": "stochastic variation only (parameters fixed at the configuration's values)",
        "share_with_deal": float((table["deals"] > 0).mean()),
        "outcomes": summarise(table),
    }
    write_run(out_dir, result.timeseries, result.deals, summary, config_yaml,
              provenance(rc.seed, command, {"replicate_seeds": [int(s) for s in result.timeseries
                                                                    .drop_duplicates("replicate")["seed"]]}))
    return build_run_report(out_dir)


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def _hydra_main(cfg: DictConfig) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)
    rc = to_run_config(cfg)
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    report = execute(rc, out_dir, OmegaConf.to_yaml(cfg, resolve=True), ["sim-run", *sys.argv[1:]])
    print(f"report: {report.resolve()}")


def run() -> None:
    """Entry point of ``sim-run``: check the command line, then hand over to Hydra."""
    try:
        precheck(sys.argv[1:])
    except UserError as exc:
        print(f"sim-run: error: {exc}", file=sys.stderr)
        sys.exit(2)
    _hydra_main()


def report(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-report DIR``: rebuild a run's report, or compare the runs of a multirun folder."""
    ap = argparse.ArgumentParser(prog="sim-report", description="Rebuild the report of a sim-run folder, or "
                                 "write a side-by-side comparison of the runs below a multirun folder.")
    ap.add_argument("dir", type=Path, help="a run folder (with summary.json) or a multirun folder")
    args = ap.parse_args(argv)
    try:
        if not args.dir.is_dir():
            raise RunFolderError(f"{args.dir}: not a folder")
        path = build_run_report(args.dir) if is_run_folder(args.dir) else build_comparison(args.dir)
    except RunFolderError as exc:
        print(f"sim-report: error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"report: {path.resolve()}")
