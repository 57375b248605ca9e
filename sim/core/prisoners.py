"""The prisoner registry: every political prisoner as a row of numpy columns, owned by the model.

Thousands of prisoners over decades must stay cheap, so the monthly work is proportional to what
changes, not to the size of the registry:

* term completions come from buckets keyed by release-due month;
* deaths and health deterioration are drawn by thinning (a binomial number of candidates, accepted if held);
* held prisoners are counted per *class* (profile x ties to Lithuania, Poland, the US), the unit the
  bargaining rule works on; the counts are kept up to date incrementally.

Only selections (a deal, a pardon) scan the columns, and those happen in a minority of months.
Months are integer indices ``year * 12 + month - 1``.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from .params import DESTINATIONS, PROFILES, PopulationParams


class Status(IntEnum):
    """Where a prisoner is; the non-held values are also the release channel."""

    HELD = 0
    DEAL = 1
    PARDON = 2
    SERVED = 3
    DIED = 4


class Profile(IntEnum):
    """Public profile of a prisoner."""

    ORDINARY = 0
    NOTABLE = 1
    SYMBOL = 2


TIE_LT, TIE_PL, TIE_US, TIE_UA = 1, 2, 4, 8
N_CLASSES = len(PROFILES) * 8  # profile x (lt, pl, us) bits; the UA tie does not change values
DEST_CODE = {d: i for i, d in enumerate(DESTINATIONS)}  # 0 stayed, 1 ua, 2 lt, 3 pl; -1 still held


def month_index(text: str) -> int:
    """``"2025-12"`` -> integer month index."""
    year, month = text.split("-")
    return int(year) * 12 + int(month) - 1


def month_text(index: int) -> str:
    """Integer month index -> ``"YYYY-MM"``."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def class_of(profile: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """Class code of each prisoner: ``profile * 8 + (ties & 7)``."""
    return (profile.astype(np.int16) * 8) | (ties.astype(np.int16) & 7)


def class_table() -> tuple[np.ndarray, np.ndarray]:
    """Profile and tie bits of every class code, indexed by code."""
    codes = np.arange(N_CLASSES)
    return codes // 8, codes % 8


_SELECTORS: dict[tuple[int | None, int], np.ndarray] = {}


class Registry:
    """Columnar registry of political prisoners.

    Attributes:
        n: rows in use (everyone ever registered).
        arrest, due, release: arrest month, month the sentence ends, month released (-1 while held).
        profile, ties, cls: profile code, tie bit mask (LT=1, PL=2, US=4, UA=8), class code.
        poor: poor health flag.
        status: :class:`Status` code.
        dest: destination code after release (:data:`DEST_CODE`), -1 while held.
        class_counts: held prisoners per class.
    """

    _COLUMNS = {
        "arrest": np.int32,
        "due": np.int32,
        "release": np.int32,
        "profile": np.int8,
        "ties": np.int8,
        "cls": np.int16,
        "poor": np.bool_,
        "status": np.int8,
        "dest": np.int8,
    }

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        for name, dtype in self._COLUMNS.items():
            setattr(self, name, np.zeros(max(capacity, 16), dtype=dtype))
        self.class_counts = np.zeros(N_CLASSES, dtype=np.int64)
        self._due: dict[int, list[int]] = {}

    # ------------------------------------------------------------------ building
    def _grow(self, need: int) -> None:
        cap = len(self.arrest)
        if need <= cap:
            return
        new_cap = max(need, 2 * cap)
        for name in self._COLUMNS:
            old = getattr(self, name)
            arr = np.zeros(new_cap, dtype=old.dtype)
            arr[: self.n] = old[: self.n]
            setattr(self, name, arr)

    def add(
        self,
        arrest: np.ndarray,
        sentence: np.ndarray,
        profile: np.ndarray,
        ties: np.ndarray,
        poor: np.ndarray,
    ) -> np.ndarray:
        """Register new prisoners (held); returns their row indices."""
        k = len(arrest)
        self._grow(self.n + k)
        sl = slice(self.n, self.n + k)
        idx = np.arange(self.n, self.n + k)
        self.arrest[sl] = arrest
        self.due[sl] = arrest + np.maximum(sentence, 1)
        self.release[sl] = -1
        self.profile[sl] = profile
        self.ties[sl] = ties
        self.cls[sl] = class_of(profile, ties)
        self.poor[sl] = poor
        self.status[sl] = Status.HELD
        self.dest[sl] = -1
        self.n += k
        self.class_counts += np.bincount(self.cls[sl], minlength=N_CLASSES)
        due = self.due[sl]
        buckets = self._due
        if k <= 256:  # a month's arrests: a plain loop is cheaper than grouping
            for month, i in zip(due.tolist(), idx.tolist()):
                buckets.setdefault(month, []).append(i)
        else:  # a synthesised stock: group by due month
            order = np.argsort(due, kind="stable")
            months, first = np.unique(due[order], return_index=True)
            for month, part in zip(months.tolist(), np.split(idx[order], first[1:])):
                buckets.setdefault(month, []).extend(part.tolist())
        return idx

    # ------------------------------------------------------------------ queries
    @property
    def held(self) -> int:
        """Prisoners held now."""
        return int(self.class_counts.sum())

    def held_mask(self) -> np.ndarray:
        """Boolean mask over registered rows: held now (a scan; use in selections only)."""
        return self.status[: self.n] == Status.HELD

    def count_held_where(self, profile: int | None = None, tie_mask: int = 0) -> int:
        """Held prisoners with a profile and/or any of the tie bits, from the class counts (no scan)."""
        sel = _SELECTORS.get((profile, tie_mask))
        if sel is None:
            prof, ties = class_table()
            sel = np.ones(N_CLASSES, dtype=bool)
            if profile is not None:
                sel &= prof == profile
            if tie_mask:
                sel &= (ties & tie_mask) != 0
            _SELECTORS[(profile, tie_mask)] = sel
        return int(self.class_counts @ sel)

    # ------------------------------------------------------------------ changes
    def remove(self, idx: np.ndarray, status: Status, month: int, dest: np.ndarray | int = 0) -> None:
        """Mark held prisoners ``idx`` as released/dead through ``status`` in ``month``."""
        if len(idx) == 0:
            return
        self.status[idx] = status
        self.release[idx] = month
        self.dest[idx] = dest
        self.class_counts -= np.bincount(self.cls[idx], minlength=N_CLASSES)

    def due_now(self, month: int) -> np.ndarray:
        """Held prisoners whose sentence ends in ``month`` (the bucket is consumed)."""
        rows = self._due.pop(month, None)
        if not rows:
            return np.zeros(0, dtype=np.int64)
        idx = np.asarray(rows, dtype=np.int64)
        return idx[self.status[idx] == Status.HELD]

    def thin(self, rng: np.random.Generator, p_max: float, accept=None) -> np.ndarray:
        """Held rows hit by an event of probability ``p_max * accept(rows)`` this month, by thinning.

        Args:
            rng: random generator.
            p_max: the largest per-prisoner probability.
            accept: function of candidate rows giving their acceptance ratio in [0, 1] (None: 1).
        """
        if p_max <= 0 or self.n == 0:
            return np.zeros(0, dtype=np.int64)
        k = rng.binomial(self.n, min(p_max, 1.0))
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        cand = rng.integers(0, self.n, size=k)
        if k > 1:
            cand = np.unique(cand)
        cand = cand[self.status[cand] == Status.HELD]
        if accept is not None and len(cand):
            cand = cand[rng.random(len(cand)) < accept(cand)]
        return cand

    def pick(self, rng: np.random.Generator, cls: int, k: int) -> np.ndarray:
        """``k`` held prisoners of class ``cls``, at random (a scan)."""
        pool = np.flatnonzero((self.cls[: self.n] == cls) & (self.status[: self.n] == Status.HELD))
        if k >= len(pool):
            return pool
        return rng.choice(pool, size=k, replace=False)


def draw_profiles_and_ties(
    rng: np.random.Generator, k: int, pop: PopulationParams, share_symbol: float, share_notable: float
) -> tuple[np.ndarray, np.ndarray]:
    """Draw profile codes (with the given shares) and tie bit masks (population shares) for ``k``
    prisoners."""
    u = rng.random((5, k))
    profile = (u[0] < share_symbol + share_notable).astype(np.int8) + (u[0] < share_symbol)
    shares = np.array([[pop.tie_lt], [pop.tie_pl], [pop.tie_us], [pop.tie_ua]])
    bits = np.array([TIE_LT, TIE_PL, TIE_US, TIE_UA], dtype=np.int8)
    ties = (bits @ (u[1:] < shares).astype(np.int8)).astype(np.int8)
    return profile.astype(np.int8), ties


def draw_sentences(rng: np.random.Generator, profile: np.ndarray, pop: PopulationParams) -> np.ndarray:
    """Sentences in months: log-normal around the profile's median (years x 12)."""
    median = (
        np.array([pop.sentence_ordinary_years, pop.sentence_notable_years, pop.sentence_symbol_years]) * 12
    )
    s = median[profile] * np.exp(pop.sentence_spread * rng.standard_normal(len(profile)))
    return np.maximum(np.rint(s), 1).astype(np.int32)


def synthesise_stock(rng: np.random.Generator, pop: PopulationParams, start: int, reg: Registry) -> None:
    """Fill ``reg`` with the initial stock held at month ``start``.

    Each prisoner gets a profile and ties (the stock's shares), then an arrest month uniform between
    ``pop.first_arrest_month`` and the month before ``start`` and a sentence from the profile's distribution;
    both are redrawn until the sentence has not ended by ``start``. This reproduces the length bias of a stock
    observed at one date: long sentences are over-represented among those still inside.
    """
    k = pop.initial_stock
    if k == 0:
        return
    first = month_index(pop.first_arrest_month)
    span = max(start - first, 1)
    profile, ties = draw_profiles_and_ties(rng, k, pop, pop.share_symbol, pop.share_notable)
    sentence = draw_sentences(rng, profile, pop)
    arrest = (start - 1 - rng.integers(0, span, size=k)).astype(np.int32)
    for _ in range(500):  # rejection sampling of (arrest, sentence) for those who would already be out
        out = np.flatnonzero(arrest + sentence <= start)
        if out.size == 0:
            break
        sentence[out] = draw_sentences(rng, profile[out], pop)
        arrest[out] = start - 1 - rng.integers(0, span, size=out.size)
    else:  # pathological settings (sentences far shorter than the span): arrested last month
        out = arrest + sentence <= start
        arrest[out] = start - 1
        sentence[out] = np.maximum(sentence[out], 2)
    poor = rng.random(k) < pop.poor_health_share
    reg.add(arrest, sentence, profile, ties, poor)
