"""Writing a calibration folder: fit.md, fit.json, posterior.parquet, calibrated.yaml, figures (edge)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from sim.analysis.calibration import CalibrationResult, Target, fit_table
from sim.store.paths import in_record
from sim.store.tables import write_json, write_table, write_text

from . import plotting
from .numbers import fmt_value, num


def write_calibration(
    out: Path,
    result: CalibrationResult,
    targets: list[Target],
    cfg: dict,
    command: list[str],
    provenance: dict,
    seconds: float,
) -> Path:
    """Write every output of a calibration into ``out``; returns the path of ``fit.md``."""
    out = Path(out)
    fit = fit_table(targets, result.evaluation)
    missed = fit[~fit["met"]]
    write_table(out / "posterior.parquet", result.posterior)
    write_table(out / "history.parquet", result.history)
    forward = {k: v for k, v in result.best.items() if k not in cfg["backtest_only"]}
    calibrated = {
        "calibration": {
            "config": str(cfg["path"].name),
            "command": " ".join(command),
            "commit": provenance.get("commit"),
            "time": provenance.get("time"),
            "mismatch": result.evaluation.mismatch,
            "targets_met": int(fit["met"].sum()),
            "targets": len(fit),
        },
        "parameters": {
            k: (int(v) if float(v).is_integer() and isinstance(v, int) else float(v))
            for k, v in forward.items()
        },
        "backtest_only": {k: result.best[k] for k in cfg["backtest_only"] if k in result.best},
        "posterior": "posterior.parquet",
    }
    write_text(
        out / "calibrated.yaml",
        "# Written by sim-calibrate; use with: sim-run calibration="
        + in_record(out, out)
        + "\n"
        + yaml.safe_dump(calibrated, sort_keys=False),
    )
    plotting.save(
        plotting.calibration_targets(fit, result.evaluation.samples), out / "figures" / "targets.png"
    )
    if len(result.posterior):
        plotting.save(
            plotting.posterior_marginals(result.posterior, cfg["free"], result.best),
            out / "figures" / "posterior.png",
        )
    summary = {
        "config": in_record(cfg["path"], out),
        "scenario": cfg["scenario"],
        "seconds": seconds,
        "evaluations": result.evaluations,
        "abc_draws": result.prior_draws,
        "mismatch": result.evaluation.mismatch,
        "best": result.best,
        "threshold": result.threshold,
        "posterior_size": len(result.posterior),
        "targets": fit.to_dict(orient="records"),
        "history": result.history.to_dict(orient="records"),
        "provenance": provenance,
    }
    write_json(out / "fit.json", summary)
    lines = [
        f"# Calibration fit: `{cfg['path'].name}` on scenario `{cfg['scenario']}`",
        "",
        f"Simulated method of moments: differential evolution (scipy) over {len(cfg['free'])} free "
        f"parameters, "
        f"{cfg['replicates']} replicates per evaluation with common random numbers; "
        f"{result.evaluations:,} model "
        f"evaluations; then ABC rejection: {result.prior_draws:,} draws from the bounds, "
        f"{cfg['abc_replicates']} "
        f"fresh replicates each, the best {100 * cfg['abc_accept']:.0f} % accepted (mismatch at most "
        f"{result.threshold:.2f}): {len(result.posterior)} posterior draws. Took {seconds:.0f} s.",
        "",
        f"**Final mismatch {result.evaluation.mismatch:.2f}; {int(fit['met'].sum())} of {len(fit)} targets "
        f"met.**",
        "",
    ]
    if len(missed):
        lines += [
            "**Not met:** "
            + ", ".join(f"`{m}`" for m in missed["target"])
            + ". The optimiser found no point "
            "where these are met together with the others (within its budget); they are reported, not "
            "dropped, "
            "and their tolerances are those of the config.",
            "",
        ]
    lines += [
        "## Targets",
        "",
        "| target | statistic | months | kind | observed | tolerance | simulated median | "
        "90 % band | loss | met |",
        "|---|---|---|---|---:|---:|---:|---|---:|---|",
    ]
    for r in fit.itertuples():
        lines.append(
            f"| `{r.target}` | {r.statistic} | {r.window} | {r.kind.replace('_', ' ')} | {r.observed:g} | "
            f"{100 * r.tolerance:.0f} % | {num(r.simulated_median)} | {num(r.simulated_p5)} to "
            f"{num(r.simulated_p95)} | "
            f"{r.loss:.2f} | {'yes' if r.met else '**no**'} |"
        )
    lines += [
        "",
        "A bound (lower or upper) costs nothing while it holds; a point or approximate figure costs the "
        "squared "
        "miss in units of its tolerance; a bound is met when it holds, a point or approximate figure when "
        "it is within one tolerance.",
        "",
        "![Targets against the simulated distributions](figures/targets.png)",
        "",
        "## Parameters",
        "",
        "| parameter | best guess | bounds | fitted | posterior median | posterior 90 % |",
        "|---|---:|---|---:|---:|---|",
    ]
    for f in cfg["free"]:
        col = result.posterior[f.name] if len(result.posterior) else pd.Series(dtype=float)
        lines.append(
            f"| `{f.name}` | {fmt_value(f.name, f.best)} | {fmt_value(f.name, f.low)} to "
            f"{fmt_value(f.name, f.high)} | {fmt_value(f.name, result.best[f.name])} | "
            + (
                f"{fmt_value(f.name, col.median())} | {fmt_value(f.name, col.quantile(0.05))} to "
                f"{fmt_value(f.name, col.quantile(0.95))} |"
                if len(col)
                else "n/a | n/a |"
            )
        )
    lines += [
        "",
        "![Posterior marginals](figures/posterior.png)",
        "",
        "## Optimiser history",
        "",
        "| generation | evaluations | best mismatch |",
        "|---:|---:|---:|",
    ]
    lines += [
        f"| {int(h.generation)} | {int(h.evaluations)} | {h.best_mismatch:.3f} |"
        for h in result.history.itertuples()
    ]
    lines += [
        "",
        f"Use it: `sim-run calibration={in_record(out, out)}` (fitted values) or add "
        "`parameter_uncertainty=true` (each "
        "replicate draws its parameters from the posterior). `backtest_only` parameters (the July 2024 "
        "stock) "
        "are not carried into forward runs.",
        "",
    ]
    path = out / "fit.md"
    write_text(path, "\n".join(lines))
    return path


__all__ = ["write_calibration"]
