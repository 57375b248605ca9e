"""The bargaining rule: pure functions, no Mesa, no I/O.

A round of bargaining between the regime (R) and the US decides *how many and whom* to release against
*which* sanctions are lifted. It is the Nash bargaining solution (Nash 1950) over a release set and relief:

    max  G_R^alpha * G_US^(1 - alpha)      subject to  G_R > 0, G_US > 0, 0 <= z <= z_max
    G_R  = f(z) - sum_{i in R} v_i - K      (relief value to the regime minus what it gives up)
    G_US = sum_{i in R} w_i - z             (value of releases to the US minus the cost of relief)

* ``z`` is the cost to the US of the relief it grants. The US lifts sectors in the order of value to the
  regime per unit of its own cost (``V_j / C_j``), so the relief value ``f(z)`` is concave and piecewise
  linear: the *relief frontier* (:func:`relief_frontier`).
* Prisoners fall into classes (profile x ties) with equal US worth ``w`` and regime holding value ``v``.
  They are offered in order of ``w / v`` (DESIGN.md), so a deal is a prefix of that order and high-value
  prisoners stay in reserve unless the relief covers them.
* ``K`` is a fixed cost to the regime of clauses attached to the deal (arrest restraint under a
  conditional US policy).

:func:`nash_release` solves the problem exactly in closed form. For a fixed number released ``n``, the
optimal ``z`` on a linear piece ``f = a + b z`` is ``z = alpha W - (1 - alpha)(a - V - K) / b`` (clipped to
the piece); where it is not clipped both gains are proportional to the surplus ``a + bW - V - K``, which is
linear in ``n`` within a class; where it is clipped the objective is concave in ``n`` with the stationary
point ``k* = (1 - alpha) A / v - alpha B / w``. So the optimum over integer ``n`` lies among a small set of
candidates per (class, piece): class bounds, the points where the clip starts or ends, and ``floor/ceil`` of
``k*``. The cost is independent of the number of prisoners. ``tests/test_bargaining.py`` checks it against
a brute-force search and against :func:`scipy.optimize.minimize_scalar`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

_EPS = 1e-12
#: Smallest gain (RU) that counts as "better off": a deal must improve both sides by more than this.
MIN_GAIN = 1e-9


@dataclass(frozen=True)
class Frontier:
    """The relief frontier: what each unit of US cost buys the regime, sectors in order of ``V/C``.

    Attributes:
        order: sector indices in the order they are lifted.
        cost_width: US cost of lifting each remaining sector fully, in ``order`` (RU).
        value_width: value to the regime of lifting each remaining sector fully, in ``order`` (RU).
        free_value: value of sectors that cost the giver nothing (part of any deal, RU).
        free: indices of those sectors.
        z_max: the most cost the US puts on the table in this round (RU).
    """

    order: np.ndarray
    cost_width: np.ndarray
    value_width: np.ndarray
    free_value: float
    z_max: float
    free: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def pieces(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Linear pieces ``f = a + b z`` on ``[lo, hi]``, truncated at ``z_max``: (lo, hi, a, b)."""
        hi_full = _cumsum0(self.cost_width)[1:]
        lo = hi_full - self.cost_width
        keep = (self.cost_width > _EPS) & (lo < self.z_max - _EPS)
        if not keep.any():  # nothing to give beyond free relief: a single degenerate piece at z = 0
            return np.zeros(1), np.zeros(1), np.array([self.free_value]), np.ones(1)
        lo, hi = lo[keep], np.minimum(hi_full[keep], self.z_max)
        b = self.value_width[keep] / self.cost_width[keep]
        f_lo = self.free_value + _cumsum0(self.value_width[keep])[:-1]
        a = f_lo - b * lo
        return lo, hi, a, b

    def value(self, z: np.ndarray | float) -> np.ndarray:
        """Relief value ``f(z)`` to the regime of relief costing the US ``z``."""
        knots_z = _cumsum0(self.cost_width)
        knots_f = self.free_value + _cumsum0(self.value_width)
        return np.interp(np.minimum(z, self.z_max), knots_z, knots_f)

    def lifted(self, z: float) -> np.ndarray:
        """Share of each remaining sector's full width lifted for cost ``z`` (in ``order``); free ones: 1."""
        start = _cumsum0(self.cost_width)[1:] - self.cost_width
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.clip((z - start) / self.cost_width, 0.0, 1.0)
        return np.where(self.cost_width > _EPS, share, 1.0)


def _cumsum0(x: np.ndarray) -> np.ndarray:
    """``[0, x0, x0 + x1, ...]``: the running sums of ``x`` after a leading 0 (one allocation)."""
    out = np.zeros(len(x) + 1, dtype=np.result_type(x, 0.0) if x.dtype.kind == "f" else x.dtype)
    x.cumsum(out=out[1:])
    return out


def relief_frontier(level: np.ndarray, value: np.ndarray, cost: np.ndarray, z_max: float) -> Frontier:
    """Build the relief frontier from sector levels still in force.

    Args:
        level: share of each sector still in force, 0-1.
        value: value to the regime of lifting a whole sector, already scaled by transit and need (RU).
        cost: cost to the giver of lifting a whole sector (RU); a sector that costs nothing (recognition
        from a
            mediator) is free relief: it is part of every deal's relief and is lifted whole.
        z_max: the most cost the giver accepts in this round (RU).

    Returns:
        The frontier; sectors with nothing left in force do not appear.
    """
    level = np.asarray(level, float)
    value = np.asarray(value, float)
    cost = np.asarray(cost, float)
    live = level > _EPS
    free = live & (cost <= 1e-9)
    paid = (live & ~free).nonzero()[0]
    ratio = value[paid] / cost[paid]
    order = paid[np.argsort(-ratio, kind="stable")]
    return Frontier(
        order=order,
        cost_width=level[order] * cost[order],
        value_width=level[order] * value[order],
        free_value=float(np.sum(level[free] * value[free])),
        z_max=float(max(z_max, 0.0)),
        free=free.nonzero()[0],
    )


@dataclass(frozen=True)
class Deal:
    """The outcome of a bargaining round.

    Attributes:
        taken: prisoners released from each class, in the caller's class order (persons).
        released: total released (persons).
        relief_cost: cost to the US of the relief granted, ``z`` (RU).
        relief_value: value of the relief to the regime, ``f(z)`` (RU).
        gain_regime: the regime's gain ``G_R`` (RU).
        gain_us: the US's gain ``G_US`` (RU).
    """

    taken: np.ndarray
    released: int
    relief_cost: float
    relief_value: float
    gain_regime: float
    gain_us: float
    lifted: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def happened(self) -> bool:
        """Whether any prisoner is released."""
        return self.released > 0


def no_deal(n_classes: int) -> Deal:
    """The disagreement outcome: nobody released, nothing lifted."""
    return Deal(
        taken=np.zeros(n_classes, dtype=np.int64),
        released=0,
        relief_cost=0.0,
        relief_value=0.0,
        gain_regime=0.0,
        gain_us=0.0,
    )


def release_order(w: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Order in which classes are offered: by ``w / v`` descending (``v = 0`` first), ties by ``w``."""
    ratio = np.where(v > _EPS, w / np.maximum(v, _EPS), np.inf)
    return np.lexsort((-w, -ratio))


def _best_z(W: np.ndarray, V: np.ndarray, lo, hi, a, b, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """For each (W, V), the z maximising the log Nash product on the frontier, and that maximum (call under
    ``np.errstate(divide="ignore", invalid="ignore")``)."""
    Wc, Vc = W[:, None], V[:, None]
    z = np.minimum(np.maximum(alpha * Wc - (1 - alpha) * (a - Vc) / b, lo), hi)
    gr = a + b * z - Vc
    gu = Wc - z
    obj = np.where(
        (gr > MIN_GAIN) & (gu > MIN_GAIN),
        alpha * np.log(np.maximum(gr, _EPS)) + (1 - alpha) * np.log(np.maximum(gu, _EPS)),
        -np.inf,
    )
    j = obj.argmax(axis=1)
    rows = np.arange(len(W))
    return z[rows, j], obj[rows, j]


def _sorted_unique(n: np.ndarray, top: int) -> np.ndarray:
    """The distinct values of the non-negative integers ``n`` (all <= ``top``), ascending."""
    if top < 4 * len(n):  # a mark per possible value is cheaper than a sort
        seen = np.zeros(top + 1, dtype=bool)
        seen[n] = True
        return seen.nonzero()[0]
    n = np.sort(n)
    return n[np.concatenate(([True], n[1:] != n[:-1]))] if len(n) else n


def nash_release(
    w: np.ndarray,
    v: np.ndarray,
    counts: np.ndarray,
    frontier: Frontier,
    alpha: float,
    fixed_cost: float = 0.0,
) -> Deal:
    """Solve one bargaining round: the Nash bargaining solution over releases and relief.

    Args:
        w: US value of releasing one prisoner of each class (RU).
        v: regime's value of holding one prisoner of each class (RU).
        counts: prisoners held in each class (persons).
        frontier: the relief the US can grant this round (:func:`relief_frontier`).
        alpha: the regime's bargaining weight, in (0, 1).
        fixed_cost: the regime's cost of clauses attached to any deal, ``K`` (RU).

    Returns:
        The deal; :func:`no_deal` when no release set and relief leave both sides strictly better off.
    """
    w = np.asarray(w, float)
    v = np.asarray(v, float)
    counts = np.asarray(counts, np.int64)
    n_cls = len(w)
    order = release_order(w, v)
    order = order[counts[order] > 0]
    if order.size == 0:
        return no_deal(n_cls)
    wc, vc, mc = w[order], v[order], counts[order]
    bounds = _cumsum0(mc)
    Wb = _cumsum0(wc * mc)
    Vb = _cumsum0(vc * mc)
    lo, hi, a, b = frontier.pieces()
    a = a - fixed_cost  # the clause cost shifts the regime's side of every piece

    # Candidates, per (class c, piece s), as offsets k within the class (0 <= k <= m_c): the class bounds
    # (k = 0 and k = m_c), and, for each end of the piece, where the unclipped z enters or leaves it and the
    # stationary point of the clipped objective, each rounded down and up.
    W0, V0 = Wb[:-1, None], Vb[:-1, None]
    wk, vk, mk = wc[:, None], vc[:, None], mc[:, None].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z0 = alpha * W0 - (1 - alpha) * (a - V0) / b
        slope = alpha * wk + (1 - alpha) * vk / b
        vmax, wmax = np.maximum(vk, _EPS), np.maximum(wk, _EPS)
        k = np.empty((4, len(order), len(lo)))
        for i, target in enumerate((lo, hi)):
            k[2 * i] = (target - z0) / slope
            k[2 * i + 1] = (1 - alpha) * (a + b * target - V0) / vmax - alpha * (W0 - target) / wmax
        k[~np.isfinite(k)] = 0.0
        offsets = np.minimum(np.maximum(np.concatenate([np.floor(k), np.ceil(k)]), 0.0), mk)
        n = (bounds[:-1, None] + offsets.astype(np.int64)).ravel()
        n = _sorted_unique(np.concatenate([n[n >= 1], bounds[1:]]), int(bounds[-1]))
        cls = bounds.searchsorted(n, side="left") - 1  # class containing the n-th prisoner
        within = n - bounds[cls]
        W = Wb[cls] + wc[cls] * within
        V = Vb[cls] + vc[cls] * within
        z, obj = _best_z(W, V, lo, hi, a, b, alpha)
    best = int(obj.argmax())
    if not math.isfinite(obj[best]):
        return no_deal(n_cls)
    n_best, z_best = int(n[best]), float(z[best])
    taken_sorted = np.minimum(np.maximum(n_best - bounds[:-1], 0), mc)
    taken = np.zeros(n_cls, dtype=np.int64)
    taken[order] = taken_sorted
    value = float(frontier.value(z_best))
    return Deal(
        taken=taken,
        released=n_best,
        relief_cost=z_best,
        relief_value=value,
        gain_regime=value - float(V[best]) - fixed_cost,
        gain_us=float(W[best]) - z_best,
        lifted=frontier.lifted(z_best),
    )


def take_it_or_leave_it(
    w: np.ndarray, v: np.ndarray, counts: np.ndarray, frontier: Frontier, fixed_cost: float = 0.0
) -> Deal:
    """A grand bargain: all prisoners for all the relief on the frontier, accepted only if both gain.

    Args:
        w, v, counts: as in :func:`nash_release`.
        frontier: the relief offered (its ``z_max`` is the whole offer).
        fixed_cost: the regime's cost of clauses attached (RU).

    Returns:
        The deal, or :func:`no_deal` when either side would lose.
    """
    counts = np.asarray(counts, np.int64)
    n = int(counts.sum())
    if n == 0:
        return no_deal(len(counts))
    z = frontier.z_max
    value = float(frontier.value(z))
    g_r = value - float(np.dot(v, counts)) - fixed_cost
    g_us = float(np.dot(w, counts)) - z
    if g_r <= MIN_GAIN or g_us <= MIN_GAIN:
        return no_deal(len(counts))
    return Deal(
        taken=counts.copy(),
        released=n,
        relief_cost=z,
        relief_value=value,
        gain_regime=g_r,
        gain_us=g_us,
        lifted=frontier.lifted(z),
    )


def expand_escalation(
    w: np.ndarray,
    v: np.ndarray,
    counts: np.ndarray,
    escalate: np.ndarray,
    step: np.ndarray,
    depth: int = 6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split the classes whose holding value rises with each further release of their kind in the same deal.

    Across all escalating classes together (e.g. every cell of high-profile symbols), taken in the order they
    would be offered (:func:`release_order`), the ``k``-th prisoner released in one deal costs
    ``v + step * k`` (``k`` from 0); the first ``depth`` are single-prisoner classes, and the rest of each
    escalating class is lumped at ``v + step * depth``. Each split is a class of its own, so
    :func:`nash_release` keeps working on classes with constant values.

    Args:
        w, v, counts: per-class value to the counterpart, holding value to the regime, and count.
        escalate: boolean mask of the classes that escalate.
        step: per-class rise of the holding value per further release (RU).
        depth: number of single-prisoner steps before the lump.

    Returns:
        (w, v, counts, parent): the expanded classes and, for each, the index of its original class.
    """
    w, v = np.asarray(w, float), np.asarray(v, float)
    counts, escalate = np.asarray(counts, np.int64), np.asarray(escalate, bool)
    live = escalate & (counts > 0)
    plain = (~live).nonzero()[0]
    esc = live.nonzero()[0]
    if not esc.size:
        return w[plain], v[plain], counts[plain], plain
    ranked = esc[release_order(w[esc], v[esc])]
    units = ranked.repeat(np.minimum(counts[ranked], depth))[:depth]  # the first `depth` prisoners
    used = np.bincount(units, minlength=len(w))
    rest = esc[counts[esc] > used[esc]]
    # the plain classes, then the first `depth` escalating prisoners one by one, then the rest of each class
    parent = np.concatenate((plain, units, rest))
    first, lump = len(plain), len(plain) + len(units)
    v_out = v[parent]
    v_out[first:lump] += step[units] * np.arange(len(units))
    v_out[lump:] += step[rest] * depth
    m_out = counts[parent]
    m_out[first:lump] = 1
    m_out[lump:] -= used[rest]
    return w[parent], v_out, m_out, parent


def escalate_in_order(
    w: np.ndarray, v: np.ndarray, counts: np.ndarray, per_prisoner: float, blocks: int = 24
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Raise the regime's holding value with the number already released in the same deal.

    In the order the classes are offered (:func:`release_order`), the ``k``-th prisoner costs
    ``per_prisoner * k`` more. Classes are cut into at most ``blocks`` blocks of equal size along that order,
    each valued at its middle; because the rise is monotone along the order, the order stays the efficient
    one and :func:`nash_release` keeps solving a prefix exactly.

    Returns:
        (w, v, counts, parent): the blocks and, for each, the index of its original class.
    """
    order = release_order(w, v)
    order = order[counts[order] > 0]
    m = counts[order].astype(np.int64)
    total = int(m.sum())
    if per_prisoner <= 0 or total == 0:
        return w[order], v[order], m, order
    size = max(1, -(-total // blocks))
    ends = m.cumsum()
    # cut points: class ends and block boundaries, merged along the order
    cuts = _sorted_unique(np.concatenate((ends, np.arange(size, total, size))), total)
    lo = np.zeros(len(cuts), dtype=cuts.dtype)
    lo[1:] = cuts[:-1]
    which = ends.searchsorted(lo, side="right")  # class of each piece
    take = cuts - lo
    mid = lo + (take - 1) / 2.0
    parent = order[which]
    return w[parent], v[parent] + per_prisoner * mid, take, parent


def sale_factor(hazard: float | np.ndarray, discount: float, months: float | np.ndarray) -> np.ndarray:
    """Expected discounted number of sales of one prisoner held ``months`` more months, sold at most once.

    With a round each month with probability ``h`` and a monthly discount ``d``:
    ``D = sum_{m=1..r} d^m h (1 - h)^(m - 1) = h d (1 - q^r) / (1 - q)``, ``q = d (1 - h)``.
    """
    r = np.maximum(np.asarray(months, float), 0.0)
    if isinstance(hazard, float):  # one hazard (the monthly loop): the same operations on a Python float
        return sale_factor_clipped(hazard, discount, r)
    h = np.clip(np.asarray(hazard, float), 0.0, 1.0)
    q = discount * (1.0 - h)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = h * discount * (1.0 - q**r) / np.maximum(1.0 - q, 1e-12)
    return np.where(h > 0, out, 0.0)


def sale_factor_clipped(hazard: float, discount: float, r: np.ndarray) -> np.ndarray:
    """:func:`sale_factor` of one hazard (a float) for months ``r`` already clipped at 0 (an array)."""
    h = hazard if hazard != hazard else min(max(hazard, 0.0), 1.0)
    if not h > 0:
        return np.zeros(r.shape)
    q = discount * (1.0 - h)
    return h * discount * (1.0 - q**r) / max(1.0 - q, 1e-12)


def annuity(discount: float, months: float | np.ndarray) -> np.ndarray:
    """Present value of 1 a month for ``months`` months at a monthly discount factor: ``(1 - d^r) / (1 -
    d)``."""
    r = np.maximum(np.asarray(months, float), 0.0)
    return (1.0 - discount**r) / max(1.0 - discount, 1e-12)


def update_price(
    price: float, relief_value: float, released_equivalents: float, learning_rate: float
) -> float:
    """The regime's learned price per ordinary-prisoner equivalent after a deal.

    ``p <- (1 - eta) p + eta * relief_value / released_equivalents`` (DESIGN.md, "Learning").
    """
    if released_equivalents <= 0:
        return price
    return (1 - learning_rate) * price + learning_rate * relief_value / released_equivalents
