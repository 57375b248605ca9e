"""``sim-cases``: the cross-case report, ``docs/cases.md``, made from each case's calibration and validation.

    sim-cases [--out docs/cases.md] [--replicates 100] [--months 24] [--seed 1] [--validation CASE=DIR ...]

For every case with an installed calibration (``conf/calibration/calibrated/<case>/``) it reads the posterior
(the fitted parameters against their priors), runs the case's baseline forward from the calibration (the same
set-up as ``sim-run case=<case>``) to measure which mechanism moves its stock
(:mod:`sim.analysis.mechanisms`), and reads the case's latest validation (``results/validation/<case>/*/``,
written by ``sim-validate case=<case>``, or the folder given) for its skill against persistence. A case
without
a calibration or a validation is listed with what is missing; nothing is made up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.analysis import identifiability as ident
from sim.analysis.mechanisms import dominant, flows
from sim.core.run import run_replicates
from sim.store.calibrations import CalibrationError, installed, load_config, read_posterior
from sim.store.cases import cases
from sim.store.paths import ROOT, relative
from sim.store.untrusted import UntrustedFileError, load_json

from .config import forward_setup
from .forecast import UserError, compose


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def latest_validation(case: str) -> Path | None:
    """The newest ``results/validation/<case>/<stamp>/`` holding a validation.json."""
    root = ROOT / "results" / "validation" / case
    found = sorted(p.parent for p in root.glob("*/validation.json")) if root.is_dir() else []
    return found[-1] if found else None


def case_entry(case: str, replicates: int, months: int, seed: int, validation: Path | None) -> dict:
    """Everything the report says of one case."""
    entry: dict = {"case": case, "missing": []}
    cfg = load_config(case)
    entry["monitor"] = cfg["base"].case.monitor
    if installed(case):
        from sim.store.calibrations import load_calibrated

        cal = load_calibrated(case)
        post = read_posterior(cal["posterior"])
        priors = [p for p in cfg["priors"] if p.name in post.columns]
        entry["parameters"] = ident.interval_table(post, priors).to_dict(orient="records")
        entry["calibration"] = relative(cal["path"])
        _, rc = compose(case, "baseline", [], replicates, seed, months)
        fw = forward_setup(rc)
        res = run_replicates(
            fw.params, months, replicates, seed, events=fw.events, replay_until=fw.replay_until,
            starts=fw.starts,
        )  # fmt: skip
        entry["flows"] = flows(res.timeseries)
        entry["dominant"] = dominant(entry["flows"])
        entry["start"] = rc.start
    else:
        entry["missing"].append(f"no installed calibration (sim-calibrate {case} --install)")
    folder = validation or latest_validation(case)
    if folder is not None and (Path(folder) / "validation.json").is_file():
        try:
            body = load_json(Path(folder) / "validation.json")
        except UntrustedFileError as exc:
            raise UserError(str(exc)) from None
        entry["validation"] = relative(folder)
        entry["skill"] = [r for r in body.get("skill", []) if r.get("baseline") == "persistence"]
        entry["origins"] = body.get("origins", [])
    else:
        entry["missing"].append(f"no validation (sim-validate case={case})")
    return entry


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-cases``."""
    ap = _Parser(prog="sim-cases", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "cases.md")
    ap.add_argument("--replicates", type=int, default=100)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--validation", action="append", default=[], metavar="CASE=DIR")
    args = ap.parse_args(argv)
    try:
        if not 2 <= args.replicates <= 10_000:
            raise UserError(f"--replicates {args.replicates}: must be in [2, 10000]")
        if not 1 <= args.months <= 240:
            raise UserError(f"--months {args.months}: must be in [1, 240]")
        given = {}
        for item in args.validation:
            case, _, folder = item.partition("=")
            if case not in cases() or not (Path(folder) / "validation.json").is_file():
                raise UserError(f"--validation {item[:80]}: must be CASE=DIR with a validation.json in DIR")
            given[case] = Path(folder)
        entries = [
            case_entry(c, args.replicates, args.months, args.seed, given.get(c))
            for c in cases()
            if (ROOT / "conf" / "calibration" / f"{c}.yaml").is_file()
        ]
    except (UserError, CalibrationError) as exc:
        print(f"sim-cases: error: {exc}", file=sys.stderr)
        sys.exit(2)
    from sim.views.cases_report import write_cases

    path = write_cases(args.out, entries, args)
    print(f"cases: {relative(path)}")
