"""Calibration by ABC-SMC with pyabc (Klinger, Rickert & Hasenauer 2018, pyabc 0.13).

Pure: no files of its own and no Hydra. The caller passes the pyabc database as an SQLAlchemy URL
(``sqlite:///<run folder>/abc.db``); pyabc writes it, and the :class:`pyabc.History` in the result is what
the edge persists or reads back.

**Set-up.** Sequential Monte Carlo ABC (Toni et al. 2009; Beaumont et al. 2009) as pyabc runs it: a
first population is drawn from the prior, each later one by perturbing weighted particles of the previous
population with a multivariate normal kernel (pyabc's ``MultivariateNormalTransition``) whose covariance
is twice the previous population's weighted covariance (Beaumont et al. 2009), simulated, and accepted when
its distance to the observed summaries is at most the
generation's epsilon; epsilon is the ``epsilon_quantile`` (default the median) of the previous population's
distances (``QuantileEpsilon``), starting from a calibration sample from the prior. Importance weights
correct for the perturbation. The run stops at the first of: ``max_populations`` generations, epsilon
``<= min_epsilon``, ``max_total_simulations`` simulations, ``max_walltime_s`` seconds, or an acceptance
rate below ``min_acceptance_rate`` (pyabc checks them after each generation, so the last generation
finishes before the run stops).

**Distance.** A weighted Euclidean distance (``p = 2``) between simulated and observed summaries.
``distance="adaptive"`` (default) is pyabc's :class:`AdaptivePNormDistance` (Prangle 2017): each statistic's
weight is ``1 / scale``, the scale its median absolute deviation (``scale_function``) over all particles
simulated in the last generation, refitted every generation. ``distance="fixed"`` uses ``1 / scales[key]``
throughout. **Bounds** (kinds ``lower_bound``/``upper_bound``) enter through :class:`BoundSumstat`: the
simulated value is clipped at the bound (:func:`~sim.analysis.summaries.clip_to_bound`), so the term is zero
while the bound holds and the shortfall or excess otherwise. A bound's scale is never adapted (it would
collapse to zero whenever every particle meets it, and pyabc then drops the statistic): it is
``scales[key]`` if given, else ``bound_scale * max(|bound|, 1)`` (default 10 % of the bound: an assumption,
a miss of a tenth of the figure counts like one typical deviation of a point statistic).

**Simulator contract.** ``simulate(params, seed) -> dict`` with ``params`` the model values by dotted name
(integers rounded, see :mod:`sim.analysis.priors`) and ``seed`` a fresh integer for the model's random
generator; it returns at least every observed key, as finite floats (a non-finite value stops the run with
an error naming the statistic and the parameters). It must be picklable (a module-level function or an
instance of a module-level class) for the multicore and Dask samplers.

**Reproducibility (what is and is not seeded).** ``seed`` seeds numpy's and Python's global generators in
the calling process for the duration of the run (their previous state is restored afterwards); pyabc draws
the prior, the perturbations and the particle acceptance from them, and the simulator's seed is drawn from
numpy's generator in the process that runs the simulation. With ``sampler="single"`` the whole run is
therefore bit-reproducible. pyabc's multicore and Dask samplers reseed every worker from the operating
system's entropy (``np.random.seed()`` in ``pyabc.sampler``) and accept the first particles to finish, so
their runs are **not** reproducible: two runs with the same seed give different particles, with the same
distribution. :attr:`ABCResult.reproducible` records which case a run was.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd
import pyabc
from pyabc.distance import scale as pyabc_scale
from pyabc.populationstrategy import PopulationStrategy
from pyabc.sumstat import IdentitySumstat
from pyabc.util import dict2arr

from .priors import Prior, pyabc_distribution
from .summaries import KINDS

SAMPLERS = ("multicore", "single", "dask")
DISTANCES = ("adaptive", "fixed")
SCALE_FUNCTIONS = ("mad", "pcmad", "std")
BOUNDS = ("lower_bound", "upper_bound")
GENERATION_COLUMNS = ("t", "epsilon", "particles", "simulations", "acceptance_rate", "seconds")


@dataclass
class CalibrationProblem:
    """Everything a calibration needs besides the ABC settings (what a simulator factory returns).

    Attributes:
        priors: the free parameters' priors.
        simulate: ``simulate(params, seed) -> summaries`` (module notes).
        observed: the observed summaries (key -> value).
        kinds: key -> kind (exact, approximate, lower_bound, upper_bound); missing keys are exact.
        scales: fixed scales by key (optional; see :func:`run_abc`).
        describe: key -> meaning of each statistic (for fit.md).
        series: ``series(params, seed) -> DataFrame`` of the monthly series, for predictive checks (optional).
        observed_series: the observed monthly record (optional, for the predictive-check figures).
        truth: the parameters that generated a synthetic record (tests and benchmarks only).
    """

    priors: list[Prior]
    simulate: Callable[[dict, int], dict]
    observed: dict[str, float]
    kinds: dict[str, str] = field(default_factory=dict)
    scales: dict[str, float] | None = None
    describe: dict[str, str] = field(default_factory=dict)
    series: Callable[[dict, int], pd.DataFrame] | None = None
    observed_series: pd.DataFrame | None = None
    truth: dict[str, float] | None = None


class BoundSumstat(IdentitySumstat):
    """pyabc summary-statistic map that clips bound statistics at their bound (module notes).

    Args:
        bounds: key -> ``lower_bound`` or ``upper_bound``; other keys pass unchanged.
    """

    def __init__(self, bounds: Mapping[str, str]):
        super().__init__()
        bad = {k: v for k, v in bounds.items() if v not in BOUNDS}
        if bad:
            k = next(iter(bad))
            raise ValueError(f"bounds[{k!r}]: one of {', '.join(BOUNDS)}, got {bad[k]!r}")
        self.bounds = dict(bounds)
        self._s0 = self._lower = self._upper = None

    def initialize(self, t, get_sample, x_0, total_sims):
        super().initialize(t=t, get_sample=get_sample, x_0=x_0, total_sims=total_sims)
        self._s0 = np.asarray(dict2arr(x_0, self.x_keys), dtype=float).flatten()
        self._lower = np.array([self.bounds.get(k) == "lower_bound" for k in self.x_keys])
        self._upper = np.array([self.bounds.get(k) == "upper_bound" for k in self.x_keys])

    def __call__(self, data):
        s = np.asarray(dict2arr(data, self.x_keys), dtype=float).flatten()
        s = np.where(self._lower, np.minimum(s, self._s0), s)
        return np.where(self._upper, np.maximum(s, self._s0), s)


class FixedForSomeScale:
    """Scale function for the adaptive distance: pyabc's ``base`` scale, but ``fixed[key]`` for some keys.

    Args:
        fixed: key -> scale (in the statistic's unit) that is never adapted (bounds, and any given scale).
        base: one of :data:`SCALE_FUNCTIONS` (pyabc's ``mad``, ``pcmad`` or ``std``).
    """

    def __init__(self, fixed: Mapping[str, float], base: str = "mad"):
        if base not in SCALE_FUNCTIONS:
            raise ValueError(f"scale_function: one of {', '.join(SCALE_FUNCTIONS)}, got {base!r}")
        self.fixed = dict(fixed)
        self.base = base
        self.__name__ = f"{base} (fixed for {len(self.fixed)} statistics)"

    def __call__(self, *, samples, s0, s_ids, t=None, **kwargs):
        scales = np.asarray(getattr(pyabc_scale, self.base)(samples=samples, s0=s0, s_ids=s_ids, t=t), float)
        scales = scales.copy()
        for i, k in enumerate(s_ids):
            if k in self.fixed:
                scales[i] = self.fixed[k]
        return scales


class ScheduledPopulationSize(PopulationStrategy):
    """Population ``t`` has ``values[t]`` particles, the last value repeating (the calibration sample
    from the prior has ``values[0]``)."""

    def __init__(self, values: Sequence[int]):
        super().__init__(nr_calibration_particles=int(values[0]))
        self.values = [int(v) for v in values]

    def __call__(self, t: int | None = None) -> int:
        if t is None or t < 0:
            return self.values[0]
        return self.values[min(t, len(self.values) - 1)]

    def get_config(self) -> dict:
        return {**super().get_config(), "values": self.values}


class PyabcModel:
    """The simulator as pyabc's model: latent particle -> model values -> ``simulate(params, seed)``."""

    def __init__(self, simulate: Callable[[dict, int], dict], priors: Sequence[Prior], keys: Sequence[str]):
        self.simulate = simulate
        self.priors = list(priors)
        self.keys = list(keys)

    def __call__(self, pars) -> dict[str, float]:
        seed = int(np.random.randint(0, 2**31 - 1))
        params = {p.name: p.model_value(pars[p.name]) for p in self.priors}
        out = self.simulate(params, seed)
        missing = [k for k in self.keys if k not in out]
        if missing:
            raise ValueError(f"simulate: returned no statistic {missing[0]!r} (needs every observed key)")
        res = {k: float(out[k]) for k in self.keys}
        bad = [k for k, v in res.items() if not math.isfinite(v)]
        if bad:
            raise ValueError(f"simulate: statistic {bad[0]!r} is {res[bad[0]]} at {params} (seed {seed})")
        return res


@dataclass
class ABCResult:
    """What an ABC-SMC run gives.

    Attributes:
        posterior: the final population: one row per particle, a column per parameter (latent scale; see
            :mod:`sim.analysis.priors`) and ``weight`` (normalised to sum 1).
        generations: one row per generation: ``t``, ``epsilon`` (acceptance threshold in that generation's
            distance: the adaptive distance reweights every generation, so epsilons need not decrease),
            ``particles`` (accepted), ``simulations`` (attempted), ``acceptance_rate``, ``seconds`` (pyabc's
            wall time of the generation).
        calibration_simulations: prior draws simulated to calibrate the distance and the first epsilon.
        total_simulations: every simulation of the run (generations and calibration).
        wall_seconds: wall time of the run (database set-up included).
        stop_reasons: the stopping criteria that held at the end.
        history: the pyabc History (the database the caller named).
        priors: the priors.
        observed: the observed summaries.
        sampler: the sampler used (kind and workers).
        seed: the root seed.
        reproducible: whether a rerun with the same seed gives the same particles (single-core only).
    """

    posterior: pd.DataFrame
    generations: pd.DataFrame
    calibration_simulations: int
    total_simulations: int
    wall_seconds: float
    stop_reasons: list[str]
    history: pyabc.History
    priors: list[Prior]
    observed: dict[str, float]
    sampler: str
    seed: int
    reproducible: bool

    @property
    def final_epsilon(self) -> float:
        """The last generation's acceptance threshold."""
        return float(self.generations["epsilon"].iloc[-1])

    @property
    def final_population_size(self) -> int:
        """Particles in the final population."""
        return len(self.posterior)

    @property
    def simulations_per_second(self) -> float:
        """Total simulations over the wall time."""
        return self.total_simulations / self.wall_seconds if self.wall_seconds > 0 else math.nan

    def draws(self, n: int, seed: int = 0) -> list[dict[str, float | int]]:
        """``n`` posterior particles resampled by weight, as the model values (integers rounded)."""
        return resample(self.posterior, self.priors, n, seed)


def resample(posterior: pd.DataFrame, priors: Sequence[Prior], n: int, seed: int = 0) -> list[dict]:
    """``n`` rows of a weighted posterior drawn with replacement by weight, as model values by name."""
    rng = np.random.default_rng(seed)
    w = posterior["weight"].to_numpy(float)
    rows = rng.choice(len(posterior), size=n, replace=True, p=w / w.sum())
    return [{p.name: p.model_value(posterior[p.name].iloc[i]) for p in priors} for i in rows]


def beaumont_bandwidth(n_eff: float, dim: int) -> float:
    """The kernel's bandwidth factor: ``sqrt(2)``, so its covariance is twice the previous population's
    weighted covariance (Beaumont et al. 2009), whatever the population's size and dimension.

    pyabc's default (Silverman's rule, ~0.7 for 14 parameters and a few hundred particles) makes the
    proposal a spiky mixture in many dimensions, and the importance weights ``prior / proposal`` of the
    particles between its spikes large: measured on the Belarus fit (14 parameters, 200 particles, second
    generation), the effective sample size was 25 with Silverman's rule and 83 with this kernel
    (``sim-calibrate``
    with population [200, 200]). A logistic reparameterisation of the bounded priors was worse (8.5): its
    tails are heavier than the kernel's."""
    return math.sqrt(2.0)


class BoxedNormalTransition(pyabc.MultivariateNormalTransition):
    """The Beaumont kernel (:func:`beaumont_bandwidth`), drawing proposals in vectorised batches until one
    lies inside every prior's support.

    pyabc draws one proposal at a time and throws away those of prior density zero; with a dozen weakly
    identified parameters on bounded priors nearly every proposal of this wide kernel falls outside some
    bound (measured: several hundred proposals per particle kept), so the proposals, not the simulations,
    took the time. The first proposal inside the box among i.i.d. draws of (ancestor, perturbation) has the
    distribution pyabc's own rejection gives, so the importance weights (prior over the untruncated
    mixture, normalised) are unchanged.

    Args:
        bounds: each parameter's support (lowest, highest), by name.
        batch: proposals drawn at once (doubled while none lands inside).
    """

    def __init__(self, bounds: Mapping[str, tuple[float, float]] | None = None, batch: int = 256):
        super().__init__(scaling=1.0, bandwidth_selector=beaumont_bandwidth)
        self.bounds = bounds
        self.batch = batch

    def rvs_single(self) -> pyabc.Parameter:
        cols = list(self.X.columns)
        if not self.bounds:
            return super().rvs_single()
        lo = np.array([self.bounds[c][0] for c in cols], dtype=float)
        hi = np.array([self.bounds[c][1] for c in cols], dtype=float)
        size = self.batch
        while True:
            idx = np.random.choice(self._range, size=size, p=self.w, replace=True)
            cand = self._X_arr[idx] + np.random.multivariate_normal(np.zeros(len(cols)), self.cov, size=size)
            inside = np.flatnonzero(((cand >= lo) & (cand <= hi)).all(axis=1))
            if inside.size:
                return pyabc.Parameter(dict(zip(cols, cand[inside[0]].tolist())))
            size = min(size * 2, 65536)


def posterior_frame(history: pyabc.History, t: int | None = None) -> pd.DataFrame:
    """Population ``t`` (default the last) of a history: parameters and normalised ``weight``."""
    df, w = history.get_distribution(m=0, t=t)
    out = df.reset_index(drop=True)
    out.columns = [str(c) for c in out.columns]
    out["weight"] = np.asarray(w, float) / float(np.sum(w))
    return out


def generation_table(history: pyabc.History) -> tuple[pd.DataFrame, int]:
    """Per-generation table (:data:`GENERATION_COLUMNS`) and the calibration sample's size."""
    pops = history.get_all_populations()
    calib = int(pops.loc[pops["t"] < 0, "samples"].sum())
    gens = pops[pops["t"] >= 0].copy()
    out = pd.DataFrame(
        {
            "t": gens["t"].astype(int),
            "epsilon": gens["epsilon"].astype(float),
            "particles": gens["particles"].astype(int),
            "simulations": gens["samples"].astype(int),
            "acceptance_rate": gens["particles"].astype(float) / gens["samples"].astype(float),
            "seconds": gens["wall_time"].astype(float),
        }
    ).reset_index(drop=True)
    return out, calib


def make_sampler(
    sampler: str,
    n_procs: int = 2,
    dask_client=None,
    scheduler_address: str | None = None,
    dask_batch_size: int = 1,
):
    """A pyabc sampler and a function that releases what was opened here (never the caller's client).

    Args:
        sampler: ``multicore`` (pyabc's ``MulticoreEvalParallelSampler``, ``n_procs`` processes forked on this
            machine), ``single`` (in this process; reproducible), or ``dask`` (``DaskDistributedSampler`` on
            ``dask_client``, or on a new client connected to ``scheduler_address``, e.g. ``tcp://host:8786``).
        n_procs: worker processes for ``multicore``.
        dask_client: a ``distributed.Client`` (left open: the caller owns it).
        scheduler_address: a Dask scheduler to connect to when no client is given.
        dask_batch_size: simulations per Dask task (raise it for models faster than ~0.1 s).
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler: one of {', '.join(SAMPLERS)}, got {sampler!r}")
    if sampler == "single":
        return pyabc.sampler.SingleCoreSampler(), "single", lambda: None
    if sampler == "multicore":
        if not isinstance(n_procs, int) or n_procs < 1:
            raise ValueError(f"n_procs: a positive integer, got {n_procs!r}")
        return (
            pyabc.sampler.MulticoreEvalParallelSampler(n_procs=n_procs),
            f"multicore ({n_procs})",
            lambda: None,
        )
    from distributed import Client

    own = None
    if dask_client is None:
        if not scheduler_address:
            raise ValueError("sampler dask: give dask_client or scheduler_address (e.g. tcp://host:8786)")
        dask_client = own = Client(scheduler_address)
    s = pyabc.sampler.DaskDistributedSampler(dask_client=dask_client, batch_size=dask_batch_size)
    cores = sum(dask_client.ncores().values())
    where = getattr(getattr(dask_client, "scheduler", None), "address", "?")
    return s, f"dask ({cores} worker threads at {where})", (own.close if own else lambda: None)


def run_abc(
    priors: Sequence[Prior],
    simulate: Callable[[dict, int], dict],
    observed: Mapping[str, float],
    *,
    db: str,
    kinds: Mapping[str, str] | None = None,
    distance: str = "adaptive",
    scales: Mapping[str, float] | None = None,
    scale_function: str = "mad",
    bound_scale: float = 0.1,
    population_size: int | Sequence[int] = 1000,
    max_populations: int = 10,
    min_epsilon: float = 0.0,
    max_total_simulations: int | None = None,
    max_walltime_s: float | None = None,
    min_acceptance_rate: float = 0.0,
    epsilon_quantile: float = 0.5,
    sampler: str = "multicore",
    n_procs: int = 2,
    dask_client=None,
    scheduler_address: str | None = None,
    dask_batch_size: int = 1,
    seed: int = 0,
) -> ABCResult:
    """Run ABC-SMC (module notes) and return the posterior with the run's record.

    Args:
        priors: the free parameters.
        simulate: ``simulate(params, seed) -> summaries`` (module notes), picklable.
        observed: observed summaries (key -> value); only these keys enter the distance.
        db: SQLAlchemy URL of the pyabc database (``sqlite:///path/abc.db``; ``sqlite://``: in memory).
        kinds: key -> kind (:data:`~sim.analysis.summaries.KINDS`); bounds are clipped (module notes).
        distance: ``adaptive`` or ``fixed`` (module notes).
        scales: key -> scale in the statistic's unit. ``fixed`` needs one per key; ``adaptive`` keeps the
            given ones fixed and adapts the rest.
        scale_function: the adaptive scale: pyabc's ``mad`` (default), ``pcmad`` (robust to statistics the
            model cannot reach) or ``std``.
        bound_scale: a bound's scale, as a share of ``max(|bound|, 1)``, when ``scales`` has none.
        population_size: particles per generation, or a schedule (a value per generation, the last repeating).
        max_populations: most generations.
        min_epsilon: stop once epsilon is at most this (distance units).
        max_total_simulations: stop once this many simulations were run (checked after each generation).
        max_walltime_s: stop once this many seconds have passed (checked after each generation).
        min_acceptance_rate: stop when a generation accepts fewer than this share of its simulations.
        epsilon_quantile: quantile of the last population's distances that becomes the next epsilon.
        sampler, n_procs, dask_client, scheduler_address, dask_batch_size: see :func:`make_sampler`.
        seed: root seed (see the module notes for what it does and does not make reproducible).
    """
    priors = list(priors)
    observed = {k: float(v) for k, v in observed.items()}
    if not observed:
        raise ValueError("observed: at least one summary statistic")
    bad = [k for k, v in observed.items() if not math.isfinite(v)]
    if bad:
        raise ValueError(f"observed[{bad[0]!r}]: a finite number, got {observed[bad[0]]}")
    kinds = dict(kinds or {})
    for k, v in kinds.items():
        if v not in KINDS:
            raise ValueError(f"kinds[{k!r}]: one of {', '.join(KINDS)}, got {v!r}")
    if distance not in DISTANCES:
        raise ValueError(f"distance: one of {', '.join(DISTANCES)}, got {distance!r}")
    scales = {k: float(v) for k, v in (scales or {}).items() if k in observed}
    for k, v in scales.items():
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"scales[{k!r}]: a positive number, got {v}")
    if distance == "fixed":
        missing = [k for k in observed if k not in scales and kinds.get(k) not in BOUNDS]
        if missing:
            raise ValueError(
                f"scales: distance fixed needs a scale for every statistic, {missing[0]!r} has none"
            )
    if not (0 < epsilon_quantile < 1):
        raise ValueError(f"epsilon_quantile: between 0 and 1, got {epsilon_quantile}")
    sizes = [population_size] if isinstance(population_size, int) else list(population_size)
    if not sizes or any(not isinstance(n, int) or n < 2 for n in sizes):
        raise ValueError(f"population_size: integers >= 2, got {population_size!r}")
    if not isinstance(max_populations, int) or max_populations < 1:
        raise ValueError(f"max_populations: a positive integer, got {max_populations!r}")

    bounds = {k: kinds[k] for k in observed if kinds.get(k) in BOUNDS}
    fixed = dict(scales)
    for k in bounds:
        fixed.setdefault(k, bound_scale * max(abs(observed[k]), 1.0))
    sumstat = BoundSumstat(bounds)
    if distance == "adaptive":
        dist = pyabc.AdaptivePNormDistance(
            p=2, scale_function=FixedForSomeScale(fixed, scale_function), sumstat=sumstat
        )
    else:
        dist = pyabc.PNormDistance(p=2, fixed_weights={k: 1.0 / fixed[k] for k in observed}, sumstat=sumstat)
    pop = sizes[0] if len(sizes) == 1 else ScheduledPopulationSize(sizes)

    smp, label, release = make_sampler(sampler, n_procs, dask_client, scheduler_address, dask_batch_size)
    np_state, py_state = np.random.get_state(), random.getstate()
    np.random.seed(seed % 2**32)
    random.seed(seed)
    t0 = time.perf_counter()
    try:
        abc = pyabc.ABCSMC(
            PyabcModel(simulate, priors, list(observed)),
            pyabc_distribution(priors),
            dist,
            population_size=pop,
            transitions=BoxedNormalTransition({p.name: p.support for p in priors}),
            eps=pyabc.QuantileEpsilon(alpha=epsilon_quantile),
            sampler=smp,
        )
        abc.new(db, observed)
        history = abc.run(
            minimum_epsilon=min_epsilon,
            max_nr_populations=max_populations,
            min_acceptance_rate=min_acceptance_rate,
            max_total_nr_simulations=np.inf if max_total_simulations is None else max_total_simulations,
            max_walltime=None if max_walltime_s is None else timedelta(seconds=max_walltime_s),
        )
    finally:
        wall = time.perf_counter() - t0
        np.random.set_state(np_state)
        random.setstate(py_state)
        release()

    generations, calib = generation_table(history)
    total = int(history.total_nr_simulations)
    last = generations.iloc[-1]
    reasons = []
    if len(generations) >= max_populations:
        reasons.append("max_populations")
    if last["epsilon"] <= min_epsilon:
        reasons.append("min_epsilon")
    if max_total_simulations is not None and total >= max_total_simulations:
        reasons.append("max_total_simulations")
    if max_walltime_s is not None and wall >= max_walltime_s:
        reasons.append("max_walltime")
    if last["acceptance_rate"] < min_acceptance_rate:
        reasons.append("min_acceptance_rate")
    return ABCResult(
        posterior=posterior_frame(history),
        generations=generations,
        calibration_simulations=calib,
        total_simulations=total,
        wall_seconds=wall,
        stop_reasons=reasons,
        history=history,
        priors=priors,
        observed=observed,
        sampler=label,
        seed=seed,
        reproducible=sampler == "single",
    )


def run_problem(problem: CalibrationProblem, *, db: str, **settings) -> ABCResult:
    """:func:`run_abc` on a :class:`CalibrationProblem` (its priors, simulator, observed summaries, kinds and
    scales); ``settings`` are :func:`run_abc`'s keyword arguments."""
    settings.setdefault("scales", problem.scales)
    return run_abc(problem.priors, problem.simulate, problem.observed, db=db, kinds=problem.kinds, **settings)
