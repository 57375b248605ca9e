"""``sim-forecast`` and ``sim-validate``: forecasts registered for later scoring; rolling-origin backtests.

    sim-forecast origin=YYYY-MM horizon=N [case=NAME] [scenario=NAME] [replicates=R] [seed=S] [out=DIR]
                 [calibration=auto|none|PATH] [parameter_uncertainty=true|false] [workers=N] [quick=true]
                 [overwrite=true] [PARAMETER=VALUE ...]
    sim-validate [case=NAME] [out=DIR] [replicates=R] [seed=S] [origins=YYYY-MM,...] [horizons=3,6,12]
                 [workers=N] [quick=true]

Both read ``key=value`` arguments; every one is checked before any work (one line naming the key and what it
allows, exit 2, nothing written), and the output folder is claimed before the work starts.

A forecast uses nothing after its origin: the record and the timeline are cut there, and a calibration fitted
on later data is not used; the case's calibration config is refitted on the data through the origin instead
(``conf/calibration/<case>.yaml``, its ``forecast.abc`` settings). ``forecast.json`` registers the origin,
the data vintage, the configuration, the calibration, the commit and the sha256 of ``forecast.parquet``.
"""

from __future__ import annotations

import os
import re
import sys
import time
from datetime import datetime
from pathlib import Path

import matplotlib
import pandas as pd

from sim.analysis.forecasting import fit_to_origin, forecast
from sim.analysis.observed import monthly_series
from sim.analysis.validation import score_origin, summarise
from sim.core.calendar import MONTH_RE, month_index
from sim.core.params import ParamError
from sim.core.timeline import TimelineError
from sim.store.calibrations import CalibrationError, load_config
from sim.store.cases import case_params, cases, scenarios
from sim.store.forecasts import FORECAST_FILE, RECORD_FILE, write_forecast
from sim.store.paths import relative
from sim.store.sources import SeedsError, load_monitoring
from sim.store.tables import provenance, write_json, write_table
from sim.store.timelines import load_timeline

from .config import register, resolve_calibration, scenario_params, to_run_config

matplotlib.use("Agg")  # a command-line tool draws figures to files (sim.views.plotting leaves the backend)
QUICK_ABC = {"population": [40, 40], "max_populations": 2, "max_walltime_s": 60.0}
FORECAST_COLUMNS = (
    "month", "replicate", "seed", "particle", "prisoners_held", "in_prison", "arrests", "released_deal",
    "released_pardon", "released_served", "died",
)  # fmt: skip
_BOOL = {"true": True, "false": False}
_KEY = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z0-9_]+)*$")


class UserError(ValueError):
    """Bad input (one line)."""


def parse(argv: list[str], allowed: dict[str, str], params: bool) -> tuple[dict[str, str], list[str]]:
    """``key=value`` arguments: the tool's own keys, and (if ``params``) dotted parameter overrides."""
    own, overrides = {}, []
    for a in argv:
        if a in ("-h", "--help"):
            raise SystemExit(print(__doc__) or 0)
        if "=" not in a:
            raise UserError(f"{a[:60]!r}: arguments are key=value; keys: {', '.join(allowed)}")
        key, value = a.split("=", 1)
        if not _KEY.match(key):
            raise UserError(f"{key[:60]!r}: not a key; keys: {', '.join(allowed)}")
        if key in own:
            raise UserError(f"{key}: given twice")
        if key in allowed:
            own[key] = value
        elif params and "." in key:
            overrides.append(a)
        else:
            raise UserError(
                f"{key}: unknown key; allowed: {', '.join(allowed)}" + (", or a parameter" * params)
            )
    return own, overrides


def _int(key: str, text: str, lo: int, hi: int) -> int:
    if not re.fullmatch(r"\d{1,12}", text or "") or not lo <= int(text) <= hi:
        raise UserError(f"{key} = {text[:40]!r}: must be an integer in [{lo}, {hi}]")
    return int(text)


def _bool(key: str, text: str) -> bool:
    if text.lower() not in _BOOL:
        raise UserError(f"{key} = {text[:40]!r}: must be true or false")
    return _BOOL[text.lower()]


def _month(key: str, text: str) -> str:
    if not MONTH_RE.match(text or ""):
        raise UserError(f"{key} = {text[:40]!r}: must be a month YYYY-MM")
    return text


def _choice(key: str, text: str, options: list[str]) -> str:
    if text not in options:
        raise UserError(f"{key} = {text[:40]!r}: must be one of {', '.join(options)}")
    return text


def claim(out: Path, overwrite: bool = False, marker: str = RECORD_FILE) -> None:
    """Create ``out`` for this command alone: refuse a folder holding results (unless ``overwrite`` and it
    holds a finished one) or another command's claim."""
    if out.exists() and not out.is_dir():
        raise UserError(f"out = {relative(out)}: not a folder")
    if out.is_dir() and any(out.iterdir()) and not (overwrite and (out / marker).is_file()):
        raise UserError(
            f"out = {relative(out)}: already holds files; choose a new folder (or overwrite=true)"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out / ".claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.close(fd)
    except FileExistsError:
        raise UserError(f"out = {relative(out)}: another command is writing there") from None
    except OSError as exc:
        raise UserError(f"out = {relative(out)}: cannot write there ({exc.strerror})") from None


def compose(case: str, scenario: str, overrides: list[str], replicates: int, seed: int, months: int):
    """The run configuration ``sim-run`` would compose for the case, scenario and overrides."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from .config import CONF_DIR
    from .precheck import one_line

    register()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = hydra_compose(
                config_name="config",
                overrides=[
                    f"case={case}", f"scenario={scenario}", f"replicates={replicates}", f"seed={seed}",
                    f"months={months}", *overrides,
                ],
            )  # fmt: skip
            return cfg, to_run_config(cfg)
    except Exception as exc:  # noqa: BLE001 - composition and range errors alike become one line
        raise UserError(one_line(exc)) from None
    finally:
        GlobalHydra.instance().clear()


def forecast_table(res, fw) -> pd.DataFrame:
    """``forecast.parquet``'s rows: one per replicate and month."""
    ts = res.timeseries.copy()
    ts["particle"] = ts["replicate"].map({i: r.particle for i, r in enumerate(fw.replicates)}).astype("int64")
    cols = [c for c in FORECAST_COLUMNS if c in ts.columns]
    return ts[cols]


def _calibration_for(rc, origin: str, given: str, cfg: dict | None, abc: dict, out: Path, workers: int):
    """The calibration a forecast at ``origin`` may use, and how it was chosen."""
    if given == "none":
        return None, "none: the case file's parameters", None
    cal = resolve_calibration(rc)
    if cal is not None and month_index(cal.data_vintage) <= month_index(origin):
        return cal, f"{cal.source} (data through {cal.data_vintage})", None
    if given not in ("auto", "") and cal is not None:
        raise UserError(
            f"calibration = {given}: it used data through {cal.data_vintage}, after the origin {origin}; "
            f"leave calibration out to refit on the data through {origin}"
        )
    if cfg is None:
        return None, "none: the case has no calibration config", None
    record = load_monitoring(cfg["case"])
    events = load_timeline(cfg["case"])
    (out / "fit").mkdir(exist_ok=True)
    refit, result, _ = fit_to_origin(
        cfg,
        record,
        events,
        origin,
        abc,
        db=f"sqlite:///{(out / 'fit' / 'abc.db').resolve()}",
        n_procs=workers,
    )
    write_table(out / "fit" / "posterior.parquet", result.posterior)
    write_table(out / "fit" / "generations.parquet", result.generations)
    why = (
        f"refitted on the data through {origin} ({result.total_simulations:,} simulations, final population "
        f"{result.final_population_size:,})"
        + (f": the installed calibration used data through {cal.data_vintage}" if cal is not None else "")
    )
    return refit, why, result


def forecast_main(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-forecast``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    allowed = {
        "origin": "", "horizon": "", "case": "", "scenario": "", "replicates": "", "seed": "", "out": "",
        "calibration": "", "parameter_uncertainty": "", "workers": "", "quick": "", "overwrite": "",
    }  # fmt: skip
    try:
        own, overrides = parse(argv, allowed, params=True)
        for key in ("origin", "horizon"):
            if key not in own:
                raise UserError(f"{key}: required (sim-forecast origin=YYYY-MM horizon=N ...)")
        origin = _month("origin", own["origin"])
        horizon = _int("horizon", own["horizon"], 1, 120)
        case = _choice("case", own.get("case", "belarus"), cases())
        scenario = _choice("scenario", own.get("scenario", "baseline"), scenarios())
        replicates = _int("replicates", own.get("replicates", "100"), 1, 100_000)
        seed = _int("seed", own.get("seed", "1"), 0, 2**32 - 1)
        workers = _int("workers", own.get("workers", str(os.cpu_count() or 1)), 1, 1024)
        quick = _bool("quick", own.get("quick", "false"))
        overwrite = _bool("overwrite", own.get("overwrite", "false"))
        uncertainty = _bool("parameter_uncertainty", own.get("parameter_uncertainty", "true"))
        given = own.get("calibration", "auto")
        cal_override = [f"calibrated={given}"] if given not in ("auto", "none") else []
        cfg_h, rc = compose(case, scenario, [*overrides, *cal_override], replicates, seed, horizon)
        try:
            ccfg = load_config(case)
        except CalibrationError as exc:
            if "no such file" not in str(exc):
                raise UserError(str(exc)) from None
            ccfg = None
        if ccfg is not None and month_index(origin) <= month_index(ccfg["base"].start):
            raise UserError(f"origin = {origin}: must be after the record's start {ccfg['base'].start}")
        stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        out = Path(own.get("out") or Path("results") / "forecasts" / case / f"{origin}_{stamp}")
        resolve_calibration(rc)  # a named calibration is checked before the folder is claimed
        events = load_timeline(case)
        claim(out, overwrite)
    except (UserError, ParamError, CalibrationError, SeedsError, TimelineError) as exc:
        print(f"sim-forecast: error: {str(exc)[:400]}", file=sys.stderr)
        sys.exit(2)
    started = time.perf_counter()
    abc = dict((ccfg or {}).get("forecast", {}).get("abc", {}))
    if quick:
        abc.update(QUICK_ABC)
    try:
        cal, how, _ = _calibration_for(rc, origin, given, ccfg, abc, out, workers)
        explicit = {o.split("=", 1)[0] for o in overrides}
        res, fw = forecast(
            scenario_params(rc), case_params(case, scenario=None), cal, events, origin, horizon, replicates,
            seed, uncertainty, explicit,
        )  # fmt: skip
    except UserError as exc:
        (out / ".claim").unlink(missing_ok=True)
        print(f"sim-forecast: error: {exc}", file=sys.stderr)
        sys.exit(2)
    table = forecast_table(res, fw)
    vintage = cal.data_vintage if cal is not None else origin
    from omegaconf import OmegaConf

    config = OmegaConf.to_container(cfg_h, resolve=True)
    config["calibrated"] = how
    record = write_forecast(
        out, table, origin=origin, data_vintage=vintage, config=config, case=case, seed=seed,
        command=["sim-forecast", *argv], overwrite=overwrite,
        extra={
            "horizon": horizon, "scenario": scenario, "calibration": how, "uncertainty": fw.uncertainty,
            "start_state": fw.record()["start_state"], "timeline_through": origin,
            "seconds": round(time.perf_counter() - started, 1),
        },
    )  # fmt: skip
    from sim.views.forecast_report import write_forecast_report

    report = write_forecast_report(out, table, record)
    (out / ".claim").unlink(missing_ok=True)
    print(f"forecast: {relative(out / FORECAST_FILE)}  report: {relative(report)}  (data through {vintage})")


def validate_main(argv: list[str] | None = None) -> None:
    """Entry point of ``sim-validate``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    allowed = {
        k: ""
        for k in ("case", "out", "replicates", "seed", "origins", "horizons", "workers", "quick", "scenario")
    }
    try:
        own, _ = parse(argv, allowed, params=False)
        case = _choice("case", own.get("case", "belarus"), cases())
        scenario = _choice("scenario", own.get("scenario", "baseline"), scenarios())
        try:
            ccfg = load_config(case)
        except CalibrationError as exc:
            raise UserError(str(exc)) from None
        v = dict(ccfg["validation"])
        if "origins" in own:
            v["origins"] = [_month("origins", o.strip()) for o in own["origins"].split(",") if o.strip()]
        if not v["origins"]:
            raise UserError(f"origins: none given, and conf/calibration/{case}.yaml lists none")
        first, last = month_index(ccfg["base"].start), month_index(ccfg["record_through"])
        for o in v["origins"]:
            if not first < month_index(o) < last:
                raise UserError(
                    f"origins = {o}: must be after {ccfg['base'].start} and before {ccfg['record_through']}"
                )
        if "horizons" in own:
            v["horizons"] = sorted({_int("horizons", h.strip(), 1, 120) for h in own["horizons"].split(",")})
        v["replicates"] = _int("replicates", own.get("replicates", str(v["replicates"])), 2, 100_000)
        seed = _int("seed", own.get("seed", "1"), 0, 2**32 - 1)
        workers = _int("workers", own.get("workers", str(os.cpu_count() or 1)), 1, 1024)
        if _bool("quick", own.get("quick", "false")):
            v["abc"] = {**v["abc"], **QUICK_ABC}
        horizon = max(v["horizons"])
        _, rc = compose(case, scenario, ["calibrated=none"], v["replicates"], seed, horizon)
        record = load_monitoring(case)
        events = load_timeline(case)
        stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        out = Path(own.get("out") or Path("results") / "validation" / case / stamp)
        claim(out, marker="validation.json")
    except (UserError, ParamError, CalibrationError, SeedsError, TimelineError) as exc:
        print(f"sim-validate: error: {str(exc)[:400]}", file=sys.stderr)
        sys.exit(2)
    started = time.perf_counter()
    truth = monthly_series(record, ccfg["record_through"], start=ccfg["base"].start)
    scores, events_t, skipped, fits = [], [], [], []
    forecasts = []
    case_p = case_params(case, scenario=None)
    for i, origin in enumerate(v["origins"]):
        t0 = time.perf_counter()
        (out / "fits").mkdir(exist_ok=True)
        cal, result, summaries = fit_to_origin(
            ccfg, record, events, origin, {**v["abc"], "seed": v["abc"]["seed"] + i},
            db=f"sqlite:///{(out / 'fits' / f'{origin}.db').resolve()}", n_procs=workers,
        )  # fmt: skip
        res, fw = forecast(
            scenario_params(rc), case_p, cal, events, origin, horizon, v["replicates"], seed + i, True
        )
        s, e, skip = score_origin(
            origin, res.timeseries, truth, ccfg["record_through"], horizon, v["replicates"], seed + 1000 + i,
            window=v["baseline_window"],
        )  # fmt: skip
        scores.append(s)
        events_t.append(e)
        skipped += skip
        forecasts.append(forecast_table(res, fw).assign(origin=origin))
        fits.append(
            {
                "origin": origin, "data_vintage": cal.data_vintage, "statistics": list(summaries.keys),
                "simulations": int(result.total_simulations), "particles": int(result.final_population_size),
                "point": cal.point, "seconds": round(time.perf_counter() - t0, 1),
            }
        )  # fmt: skip
        print(f"origin {origin}: fitted on data through {cal.data_vintage}, scored", file=sys.stderr)
    score_t = pd.concat(scores, ignore_index=True)
    event_t = pd.concat(events_t, ignore_index=True)
    summary = summarise(score_t, event_t, v["horizons"])
    write_table(out / "scores.parquet", score_t)
    write_table(out / "events.parquet", event_t)
    write_table(out / "forecasts.parquet", pd.concat(forecasts, ignore_index=True))
    prov = provenance(seed, ["sim-validate", *argv])
    body = {
        "case": case,
        "scenario": scenario,
        "record_through": ccfg["record_through"],
        "origins": v["origins"],
        "horizons": v["horizons"],
        "replicates": v["replicates"],
        "baseline_window": v["baseline_window"],
        "abc": v["abc"],
        "fits": fits,
        "skipped_baselines": skipped,
        **summary,
        "seconds": round(time.perf_counter() - started, 1),
        "provenance": prov,
    }
    from sim.views.validation_report import write_validation

    report = write_validation(out, body, score_t, truth)
    write_json(out / "validation.json", body)
    (out / ".claim").unlink(missing_ok=True)
    print(f"validation: {relative(report)}")
