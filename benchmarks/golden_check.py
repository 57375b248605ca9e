"""Golden outputs: proof that a change to ``sim/core`` made for speed changes no result.

A fixed set of configurations (every case's baseline and its own scenarios, several Belarus policies, stocks
ten and a hundred times larger, replays of each case's record with its timeline, forward runs from saved
states) is run for several seeds through :func:`sim.core.run.run_replicates`; the full ``timeseries``,
``deals`` and ``decisions`` tables (and the saved state at the end of a replay) are hashed byte for byte and
compared with the hashes recorded in ``benchmarks/golden.json``. The same random draws in the same order and
the same floating-point operations give the same bytes; anything else fails.

On another machine (another numpy, another CPU's vector maths) the last bit of a float may legitimately
differ, so there the tables are compared by fingerprint instead: integer and text columns exactly, float
columns by a position-weighted sum to 1e-9 of its scale (a draw taken in another order still changes them
far beyond that). The fast subset (``--fast``) is what ``tests/test_golden.py`` runs.

Usage::

    python benchmarks/golden_check.py             # compare every configuration with the recorded hashes
    python benchmarks/golden_check.py --fast      # only the fast subset
    python benchmarks/golden_check.py --record    # re-record, after a change of behaviour that is intended

Re-record only when results are *meant* to change (a new mechanism, a fixed bug), never to make a speed-up
pass.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.calendar import month_index, month_text
from sim.core.model import RepressionBargaining
from sim.core.params import ScenarioParams
from sim.core.run import RunResult, run_replicates
from sim.store.calibrations import load_config
from sim.store.cases import case_params
from sim.store.timelines import load_timeline

HERE = Path(__file__).resolve().parent
HASHES = HERE / "golden.json"
TABLES = ("timeseries", "deals", "decisions")
#: relative tolerance for floats when the machine differs from the one that recorded (last-bit differences)
RTOL = 1e-9


@dataclass
class Config:
    """One golden configuration: what :func:`run_replicates` is called with.

    Attributes:
        name: its key in the golden files.
        params: a function giving the scenario's parameters (called when the configuration runs).
        months, replicates, seed: as in :func:`run_replicates`.
        events, replay_until: the timeline (a function giving the events) and the month replay stops.
        state: a function giving the saved state each replicate starts from (None: a synthetic stock).
        snapshot: also hash the saved state of a replay (the hand-off to forward runs).
        fast: part of the fast subset (the test suite).
    """

    name: str
    params: Callable[[], ScenarioParams]
    months: int
    replicates: int
    seed: int
    events: Callable[[], tuple] | None = None
    replay_until: str | None = None
    state: Callable[[], dict] | None = None
    snapshot: bool = False
    fast: bool = False


def _case(case: str, scenario: str = "baseline", **changes) -> Callable[[], ScenarioParams]:
    return lambda: case_params(case, scenario, **changes)


def _larger(factor: int) -> Callable[[], ScenarioParams]:
    """The Belarus baseline with a stock ``factor`` times larger (as ``benchmarks/bench_core.py``)."""

    def make() -> ScenarioParams:
        base = case_params("belarus", "baseline")
        return base.replace(
            **{
                "population.initial_stock": base.population.initial_stock * factor,
                "regime.capacity_cost": base.regime.capacity_cost / factor,
            }
        )

    return make


def _replay_base(case: str) -> Callable[[], ScenarioParams]:
    return lambda: load_config(case)["base"]


def _replay_months(case: str, until: str) -> int:
    return month_index(until) - month_index(load_config(case)["base"].start) + 1


_STATES: dict[str, dict] = {}


def _saved_state(case: str, replay_until: str, until: str, seed: int) -> dict:
    """The state at the end of ``until`` of one replay of the case's record (cached)."""
    key = f"{case}:{replay_until}:{until}:{seed}"
    if key not in _STATES:
        base = load_config(case)["base"]
        model = RepressionBargaining(
            base,
            months=_replay_months(case, until),
            rng=seed,
            events=load_timeline(case),
            replay_until=replay_until,
        ).run()
        _STATES[key] = model.snapshot()
    return _STATES[key]


def _forward_params(case: str, scenario: str, until: str) -> Callable[[], ScenarioParams]:
    """The case's scenario starting the month after ``until`` (a forward run from a saved state)."""
    start = month_text(month_index(until) + 1)
    return lambda: case_params(case, scenario).replace(start=start)


def _belarus_mid_state() -> dict:
    """A state saved after 24 months of the Belarus baseline (a synthetic stock, no timeline)."""
    key = "belarus-mid"
    if key not in _STATES:
        p = case_params("belarus", "baseline")
        _STATES[key] = RepressionBargaining(p, months=24, rng=99).run().snapshot()
    return _STATES[key]


def _mid_params() -> ScenarioParams:
    p = case_params("belarus", "baseline")
    return p.replace(start=month_text(month_index(p.start) + 24))


STRESS = {
    "regime.rearrest_hazard": 0.02,
    "regime.pardon_probability": 0.6,
    "regime.capacity_cost": 0.05,
    "regime.death_hazard": 0.002,
}


def configs() -> list[Config]:
    """Every golden configuration (the fast subset has ``fast=True``)."""
    out = [
        Config("belarus_baseline", _case("belarus"), 120, 6, 1, fast=True),
        Config("belarus_us_conditional", _case("belarus", "us_conditional"), 120, 4, 2, fast=True),
        Config("belarus_us_snapback", _case("belarus", "us_snapback"), 120, 4, 3, fast=True),
        Config("belarus_us_grand_bargain", _case("belarus", "us_grand_bargain"), 120, 8, 4),
        Config("belarus_us_maximum_pressure", _case("belarus", "us_maximum_pressure"), 120, 6, 5),
        Config("belarus_eu_relaxes", _case("belarus", "eu_relaxes"), 120, 8, 6),
        Config("belarus_eu_transit_reopens", _case("belarus", "eu_transit_reopens"), 120, 8, 7),
        Config("belarus_opposition_surge", _case("belarus", "opposition_surge"), 120, 6, 8),
        Config("belarus_russia_support_rises", _case("belarus", "russia_support_rises"), 120, 6, 9),
        Config("belarus_economic_squeeze", _case("belarus", "economic_squeeze"), 120, 6, 10),
        Config("belarus_no_external_deals", _case("belarus", "no_external_deals"), 60, 4, 11),
        Config("belarus_x10", _larger(10), 120, 4, 12),
        Config("belarus_x100", _larger(100), 60, 2, 13),
        Config("nicaragua_baseline", _case("nicaragua"), 120, 4, 21, fast=True),
        Config("nicaragua_us_engages", _case("nicaragua", "nicaragua_us_engages"), 120, 6, 22),
        Config("cuba_baseline", _case("cuba"), 120, 4, 31, fast=True),
        Config("cuba_us_engages", _case("cuba", "cuba_us_engages"), 120, 6, 32),
        Config("cuba_us_snapback", _case("cuba", "cuba_us_snapback"), 120, 6, 33),
        Config("venezuela_baseline", _case("venezuela"), 120, 4, 41, fast=True),
        Config("venezuela_swap", _case("venezuela", "venezuela_swap"), 120, 6, 42),
        Config("venezuela_licence_revoked", _case("venezuela", "venezuela_licence_revoked"), 120, 6, 43),
        Config("belarus_baseline_many", _case("belarus"), 120, 20, 101),
        Config("belarus_us_conditional_many", _case("belarus", "us_conditional"), 120, 10, 102),
        Config("belarus_us_snapback_many", _case("belarus", "us_snapback"), 120, 10, 103),
        # rarely used paths: re-arrests of the released, frequent pardons, decompression, deaths
        Config("belarus_stress", _case("belarus", **STRESS), 120, 4, 105),
        Config("belarus_stress_small", _case("belarus", **STRESS), 36, 2, 106, fast=True),
        Config("belarus_grand_bargain_small", _case("belarus", "us_grand_bargain"), 36, 3, 44, fast=True),
        Config(
            "belarus_replay",
            _replay_base("belarus"),
            _replay_months("belarus", "2026-12"),
            4,
            51,
            events=lambda: load_timeline("belarus"),
            replay_until="2025-12",
            snapshot=True,
            fast=True,
        ),
        Config(
            "belarus_replay_many",
            _replay_base("belarus"),
            _replay_months("belarus", "2026-12"),
            12,
            104,
            events=lambda: load_timeline("belarus"),
            replay_until="2025-12",
            snapshot=True,
        ),
        Config(
            "belarus_from_replay_state",
            _forward_params("belarus", "baseline", "2025-12"),
            60,
            3,
            52,
            state=lambda: _saved_state("belarus", "2025-12", "2025-12", 7),
            fast=True,
        ),
        Config(
            "belarus_snapback_from_replay_state",
            _forward_params("belarus", "us_snapback", "2025-12"),
            60,
            2,
            53,
            state=lambda: _saved_state("belarus", "2025-12", "2025-12", 8),
        ),
        Config("belarus_from_mid_state", _mid_params, 48, 2, 54, state=_belarus_mid_state, fast=True),
    ]
    for case, seed in (("nicaragua", 61), ("cuba", 62), ("venezuela", 63)):
        cfg = load_config(case)
        until = cfg["replay_until"] or cfg["end"]
        out.append(
            Config(
                f"{case}_replay",
                _replay_base(case),
                _replay_months(case, cfg["end"]),
                4,
                seed,
                events=(lambda c=case: load_timeline(c)),
                replay_until=until,
                snapshot=True,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------- hashing
def _update(h, obj: Any) -> None:
    """Feed a canonical byte form of ``obj`` (nested mappings, sequences, arrays, scalars) to the hash."""
    if isinstance(obj, dict):
        h.update(b"{")
        for k in sorted(obj, key=str):
            h.update(repr(k).encode())
            _update(h, obj[k])
        h.update(b"}")
    elif isinstance(obj, np.ndarray):
        h.update(f"array{obj.dtype.str}{obj.shape}".encode())
        h.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, list | tuple):
        h.update(b"[")
        for x in obj:
            _update(h, x)
        h.update(b"]")
    else:
        h.update(f"{type(obj).__name__}:{obj!r};".encode())


def table_digest(df: pd.DataFrame) -> str:
    """SHA-256 of a table's columns, dtypes and every value's bytes (numeric columns) or repr (others)."""
    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in df.dtypes.items()]).encode())
    h.update(str(len(df)).encode())
    for col in df.columns:
        s = df[col]
        if s.dtype.kind in "biuf":
            h.update(np.ascontiguousarray(s.to_numpy()).tobytes())
        else:
            h.update("\x1f".join(repr(x) for x in s.tolist()).encode())
    return h.hexdigest()


def state_digest(state: dict) -> str:
    """SHA-256 of a saved state."""
    h = hashlib.sha256()
    _update(h, state)
    return h.hexdigest()


def run_config(cfg: Config) -> tuple[RunResult, dict | None]:
    """Run a configuration: its tables, and the saved state at the end of its first replicate's replay."""
    params = cfg.params()
    events = cfg.events() if cfg.events is not None else ()
    starts = None
    if cfg.state is not None:
        state = cfg.state()
        starts = lambda r, s: state  # noqa: E731
    res = run_replicates(
        params,
        cfg.months,
        cfg.replicates,
        cfg.seed,
        events=events,
        replay_until=cfg.replay_until,
        starts=starts,
    )
    snap = None
    if cfg.snapshot:
        model = RepressionBargaining(
            params, months=cfg.months, rng=cfg.seed, events=events, replay_until=cfg.replay_until
        ).run()
        snap = model.snapshot()
    return res, snap


def digests(res: RunResult, snap: dict | None) -> dict[str, str]:
    """The hashes of a configuration's tables (and saved state)."""
    out = {t: table_digest(getattr(res, t)) for t in TABLES}
    if snap is not None:
        out["snapshot"] = state_digest(snap)
    return out


def environment() -> dict[str, str]:
    """What the exact bytes depend on besides the code: numpy, Python, the machine and its vector units."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_features__ as feats
    return {
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "system": platform.system(),
        "cpu_features": ",".join(sorted(k for k, v in feats.items() if v)),
    }


# ---------------------------------------------------------------------------------------------- robust
def _short(data: bytes) -> str:
    """A 64-bit hash (hex) of some bytes."""
    return hashlib.sha256(data).hexdigest()[:16]


def table_fingerprint(df: pd.DataFrame) -> dict:
    """A table's fingerprint that survives last-bit float differences between machines: for each float
    column the position-weighted sum ``sum_i (i + 1) x_i``, its scale ``sum_i (i + 1) |x_i|`` and the places
    of its NaNs; for every other column the hash of its values' reprs."""
    cols: dict[str, Any] = {}
    for c in df.columns:
        s = df[c]
        if s.dtype.kind == "f":
            x = s.to_numpy(dtype=float)
            nan = np.isnan(x)
            w = np.arange(1, len(x) + 1, dtype=float)
            v = np.where(nan, 0.0, x)
            cols[str(c)] = [
                float(np.sum(w * v)),
                float(np.sum(w * np.abs(v))),
                _short(np.flatnonzero(nan).tobytes()),
            ]
        else:
            cols[str(c)] = _short("\x1f".join(repr(x) for x in s.tolist()).encode())
    return {"rows": len(df), "dtypes": [[str(c), str(t)] for c, t in df.dtypes.items()], "columns": cols}


def compare_fingerprints(name: str, got: dict, want: dict) -> list[str]:
    """Where two fingerprints differ: anything but a float column's sums within ``RTOL`` of its scale."""
    if got["rows"] != want["rows"]:
        return [f"{name}: {got['rows']} rows, recorded {want['rows']}"]
    if got["dtypes"] != want["dtypes"]:
        return [f"{name}: columns or dtypes differ from the recorded ones"]
    out = []
    for c, g in got["columns"].items():
        w = want["columns"][c]
        if isinstance(g, str) or isinstance(w, str):
            if g != w:
                out.append(f"{name}.{c}: values differ")
        elif g[2] != w[2] or abs(g[0] - w[0]) > RTOL * max(g[1], w[1]) or abs(g[1] - w[1]) > RTOL * w[1]:
            out.append(f"{name}.{c}: weighted sum {g[0]!r}, recorded {w[0]!r}")
    return out


def read_recorded() -> dict:
    """The recorded golden file (empty when there is none)."""
    return json.loads(HASHES.read_text(encoding="utf-8")) if HASHES.is_file() else {}


def check_config(cfg: Config, recorded: dict, exact: bool) -> tuple[list[str], dict]:
    """Run a configuration and compare it with the record: byte for byte when ``exact``, else by
    fingerprint. Returns the differences and what was computed (``hash`` and ``robust``)."""
    res, snap = run_config(cfg)
    got: dict[str, dict] = {"hash": digests(res, snap)}
    if cfg.fast:  # fingerprints are kept for the fast subset only (the file stays small)
        got["robust"] = {t: table_fingerprint(getattr(res, t)) for t in TABLES}
    want = recorded.get("configs", {}).get(cfg.name)
    if want is None:
        return [f"{cfg.name}: not recorded"], got
    if exact:
        return [
            f"{cfg.name}.{k}: bytes differ" for k in got["hash"] if want["hash"].get(k) != got["hash"][k]
        ], got
    if "robust" not in want:
        return [f"{cfg.name}: no fingerprint recorded (only the fast subset has one)"], got
    problems = []
    for t in TABLES:
        problems += compare_fingerprints(f"{cfg.name}.{t}", got["robust"][t], want["robust"][t])
    return problems, got


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help="only the fast subset (what the test suite runs)")
    ap.add_argument("--record", action="store_true", help="record every configuration (on reference code)")
    ap.add_argument("--robust", action="store_true", help="compare fingerprints, as on another machine")
    ap.add_argument("--only", default="", help="comma-separated configuration names")
    args = ap.parse_args(argv)
    chosen = [c for c in configs() if (c.fast or not args.fast)]
    if args.only:
        names = set(args.only.split(","))
        unknown = names - {c.name for c in configs()}
        if unknown:
            print(f"--only: unknown configuration {sorted(unknown)[0]!r}", file=sys.stderr)
            return 2
        chosen = [c for c in chosen if c.name in names]
    if args.record and (args.fast or args.only):
        print("--record: records every configuration; drop --fast and --only", file=sys.stderr)
        return 2
    recorded = {} if args.record else read_recorded()
    if not args.record and not recorded:
        print(f"no record in {HASHES}: run with --record on the reference code", file=sys.stderr)
        return 2
    env = environment()
    exact = not args.robust and recorded.get("environment") == env
    if not args.record and not exact:
        if not args.robust:
            print("this machine differs from the one that recorded: comparing fingerprints (floats to 1e-9)")
        skipped = [c.name for c in chosen if not c.fast]
        if skipped:
            print(f"only the fast subset has fingerprints: {len(skipped)} configurations not checked")
        chosen = [c for c in chosen if c.fast]
    out: dict[str, dict] = {}
    failed = []
    t_all = time.perf_counter()
    for cfg in chosen:
        t = time.perf_counter()
        problems, got = check_config(cfg, recorded, exact)
        out[cfg.name] = got
        dt = time.perf_counter() - t
        if args.record:
            print(f"  {cfg.name:<36} recorded   ({dt:5.2f} s)")
            continue
        print(f"  {cfg.name:<36} {'identical' if not problems else 'DIFFERS'}   ({dt:5.2f} s)")
        for p in problems[:5]:
            print(f"      {p}")
        if problems:
            failed.append(cfg.name)
    if args.record:
        _write(HASHES, json.dumps({"environment": env, "configs": out}, indent=1, sort_keys=True) + "\n")
        print(f"recorded {len(out)} configurations in {HASHES.name}")
        return 0
    mode = "byte for byte" if exact else "by fingerprint"
    print(f"{len(chosen) - len(failed)}/{len(chosen)} identical {mode} ({time.perf_counter() - t_all:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
