"""The prisoner registry: every detention spell as a row of numpy columns, owned by the model.

Thousands of prisoners over decades must stay cheap, so the monthly work is proportional to what changes,
not to the size of the registry:

* term completions come from buckets keyed by release-due month;
* deaths and health deterioration are drawn by thinning (a binomial number of candidates, accepted if held);
* held prisoners are counted per *class* (profile x the ties some counterpart values x health), the unit the
  bargaining rule works on, kept up to date incrementally.

Only a bargaining round, a selection (a deal, a pardon) or the count by remaining sentence scan the columns,
and those happen in a minority of months.

A row is a *spell*: a person arrested again after a release gets a new row with the same ``person`` id, so
nobody's spell ends twice and the stock is conserved (held = initial + arrested - released - served - died,
re-arrests counted among arrests).
"""

from __future__ import annotations

import functools
from enum import IntEnum

import numpy as np

from .calendar import month_index
from .params import PopulationParams


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


#: Remaining-sentence bins the bargaining rule distinguishes: months left in [1, 12], [13, 48], [49, inf).
BIN_EDGES = (0, 12, 48)
N_BINS = len(BIN_EDGES)
_BIN_UPPER = np.asarray(BIN_EDGES[1:])
_TIE_BITS = 1 << np.arange(15, dtype=np.int64)  # the bit of each tie in a tie mask


class ClassMap:
    """How a prisoner's profile, ties and health map to a bargaining class.

    Only the ties some counterpart values (``valued`` bits) split classes; the others (e.g. a tie to Ukraine,
    a destination with no counterpart of its own) do not change any value.

    Attributes:
        n: number of classes: 3 profiles x 2^k combinations of the k valued ties x 2 health states.
        profile, ties, poor: for each class code, its profile, its tie bit mask (case tie bits) and health.
    """

    def __init__(self, valued: int) -> None:
        bits = [b for b in range(8) if valued >> b & 1]
        self.valued = valued
        self.combos = 1 << len(bits)
        # compress a tie mask to its combination index (a lookup over all 256 masks)
        masks = np.arange(256)
        combo = np.zeros(256, dtype=np.int16)
        for j, b in enumerate(bits):
            combo |= ((masks >> b) & 1).astype(np.int16) << j
        self._combo_of_mask = combo
        self.n = 3 * self.combos * 2
        codes = np.arange(self.n)
        self.poor = (codes % 2).astype(bool)
        c = (codes // 2) % self.combos
        self.profile = codes // (2 * self.combos)
        self.ties = np.zeros(self.n, dtype=np.int16)
        for j, b in enumerate(bits):
            self.ties |= (((c >> j) & 1) << b).astype(np.int16)
        # the class code of every (profile, tie mask, health), looked up by code()
        self._code = (
            (np.arange(3)[:, None, None] * self.combos + combo[None, :, None]) * 2
            + np.arange(2)[None, None, :]
        ).astype(np.int16)

    def code(self, profile: np.ndarray, ties: np.ndarray, poor: np.ndarray) -> np.ndarray:
        """Class code of each prisoner: ``(profile x combos + valued-tie combination) x 2 + poor health``."""
        ties = np.asarray(ties).astype(np.int64) & 0xFF
        return self._code[profile, ties, np.asarray(poor, dtype=bool).view(np.int8)]


class Registry:
    """Columnar registry of political prisoners (detention spells).

    Args:
        classes: the class map (which ties split classes).
        base: month index of the run's start.
        capacity: rows to allocate at first.

    Attributes:
        n: rows in use (every spell ever registered).
        person, arrest, due, release: person id, arrest month, month the sentence ends, release month (-1
        held).
        profile, ties, cls, poor: profile code, tie bit mask (bit i = ``case.ties[i]``), class code, poor
        health.
        status: :class:`Status` code; dest: destination index after release (-1 while held).
        parole: released inside the country with the sentence intact; denationalised: expelled stateless.
        class_counts: held prisoners per class.
    """

    _COLUMNS = {
        "person": np.int64,
        "arrest": np.int32,
        "due": np.int32,
        "release": np.int32,
        "profile": np.int8,
        "ties": np.int16,
        "cls": np.int16,
        "poor": np.bool_,
        "status": np.int8,
        "dest": np.int8,
        "parole": np.bool_,
        "denationalised": np.bool_,
    }
    #: What a row holds before it is registered (0 otherwise): a held spell has no release month or
    #: destination yet, so registering one leaves these as they are.
    _FRESH = {"release": -1, "dest": -1}

    def __init__(self, classes: ClassMap, base: int, capacity: int = 1024) -> None:
        self.classes = classes
        self.n = 0
        self.next_person = 0
        for name, dtype in self._COLUMNS.items():
            setattr(self, name, np.full(max(capacity, 16), self._FRESH.get(name, 0), dtype=dtype))
        self.class_counts = np.zeros(classes.n, dtype=np.int64)
        self.version = 0  # changes whenever the class counts change
        self._held_key, self._held = -1, 0
        self.base = int(base)
        self._due: dict[int, list[int]] = {}  # due month -> rows, for the spells added a few at a time
        # bulk adds: their rows sorted by due month, and where each month's rows are in that order
        self._due_sorted: list[tuple[dict[int, tuple[int, int]], np.ndarray]] = []
        self._selectors: dict[tuple[int | None, int], np.ndarray] = {}
        self._scan_key: tuple[int, int] = (-1, 0)
        self._scanned: tuple[np.ndarray, np.ndarray, np.ndarray] = (np.zeros(0, np.int64),) * 3

    # ------------------------------------------------------------------ building
    def _grow(self, need: int) -> None:
        cap = len(self.arrest)
        if need <= cap:
            return
        new_cap = max(need, 2 * cap)
        for name in self._COLUMNS:
            old = getattr(self, name)
            arr = np.full(new_cap, self._FRESH.get(name, 0), dtype=old.dtype)
            arr[: self.n] = old[: self.n]
            setattr(self, name, arr)

    def add(
        self,
        arrest: np.ndarray,
        sentence: np.ndarray,
        profile: np.ndarray,
        ties: np.ndarray,
        poor: np.ndarray,
        person: np.ndarray | None = None,
    ) -> np.ndarray:
        """Register new spells (held); returns their row indices.

        Args:
            arrest: arrest month of each (month index), or one month for all.
            sentence: sentence in months (at least 1).
            profile, ties, poor: profile code, tie bit mask, poor health (one value for all, or each's).
            person: person ids for re-arrests; new persons get fresh ids when None.
        """
        k = len(sentence)
        self._grow(self.n + k)
        sl = slice(self.n, self.n + k)
        idx = np.arange(self.n, self.n + k)
        if person is None:
            person = np.arange(self.next_person, self.next_person + k)
            self.next_person += k
        self.person[sl] = person
        self.arrest[sl] = arrest
        due = self.due[sl]
        due[:] = arrest + np.maximum(sentence, 1)
        self.profile[sl] = profile
        self.ties[sl] = ties
        cls = self.classes.code(profile, ties, poor)
        self.cls[sl] = cls
        self.poor[sl] = poor
        # status (HELD = 0), release and dest (-1), parole and denationalised (False): rows past n have never
        # been written, they hold what a held spell has (_FRESH)
        self.n += k
        self.class_counts += np.bincount(cls, minlength=self.classes.n)
        self.version += 1
        if k <= 256:  # a month's arrests: a plain loop is cheaper than sorting
            buckets = self._due
            for i, month in enumerate(due.tolist(), start=sl.start):
                if month in buckets:
                    buckets[month].append(i)
                else:
                    buckets[month] = [i]
        else:  # a synthesised stock: sorted by due month (rows ascending within a month)
            order = np.argsort(due, kind="stable")
            months, first, size = np.unique(due[order], return_index=True, return_counts=True)
            where = {m: (f, f + c) for m, f, c in zip(months.tolist(), first.tolist(), size.tolist())}
            self._due_sorted.append((where, idx[order]))
        return idx

    # ------------------------------------------------------------------ queries
    @property
    def held(self) -> int:
        """Prisoners held now."""
        if self._held_key != self.version:
            self._held_key, self._held = self.version, int(self.class_counts.sum())
        return self._held

    def held_mask(self) -> np.ndarray:
        """Boolean mask over registered rows: held now (a scan; use in selections only)."""
        return self.status[: self.n] == Status.HELD

    def counts_by_bin(self, month: int) -> tuple[np.ndarray, np.ndarray]:
        """Held prisoners per class and remaining-sentence bin, and their mean months left, at ``month`` (a
        scan).

        Returns:
            (counts, months_left): arrays of shape (classes, bins); months left is the mean over the bin's
            prisoners (the bin's lower edge + 1 where empty).
        """
        _, left, cell = self._scan(month)
        size = self.classes.n * N_BINS
        counts = np.bincount(cell, minlength=size)
        sums = np.bincount(cell, weights=left, minlength=size)
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), self._empty_bin_months())
        return counts.reshape(-1, N_BINS), mean.reshape(-1, N_BINS)

    def _empty_bin_months(self) -> np.ndarray:
        """Months left reported for an empty (class, bin) cell: the bin's lower edge + 1."""
        if getattr(self, "_lower", None) is None:
            self._lower = np.tile(np.asarray(BIN_EDGES, float) + 1, self.classes.n)
        return self._lower

    def _scan(self, month: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows held now, their months left at ``month`` and their (class, remaining-sentence bin) cell code
        (a scan, kept until the registry or the month changes)."""
        key = (self.version, month)
        if key != self._scan_key:
            n = self.n
            held = (self.status[:n] == Status.HELD).nonzero()[0]
            left = (self.due[held] - month).astype(np.int64)
            cell = self.cls[held].astype(np.int64) * N_BINS + _BIN_UPPER.searchsorted(left, side="left")
            self._scan_key, self._scanned = key, (held, left, cell)
        return self._scanned

    def count_held_where(self, profile: int | None = None, tie_mask: int = 0) -> int:
        """Held prisoners with a profile and/or any of the tie bits, from the class counts (no scan)."""
        sel = self._selectors.get((profile, tie_mask))
        if sel is None:
            sel = np.ones(self.classes.n, dtype=bool)
            if profile is not None:
                sel &= self.classes.profile == profile
            if tie_mask:
                sel &= (self.classes.ties & tie_mask) != 0
            self._selectors[(profile, tie_mask)] = sel
        return int(self.class_counts @ sel)

    # ------------------------------------------------------------------ changes
    def remove(
        self,
        idx: np.ndarray,
        status: Status,
        month: int,
        dest: np.ndarray | int = 0,
        parole: bool | np.ndarray = False,
        denationalised: bool | np.ndarray = False,
    ) -> None:
        """End the held spells ``idx`` through ``status`` in ``month``."""
        if len(idx) == 0:
            return
        self.status[idx] = status
        self.release[idx] = month
        self.dest[idx] = dest
        self.parole[idx] = parole
        self.denationalised[idx] = denationalised
        self.class_counts -= np.bincount(self.cls[idx], minlength=self.classes.n)
        self.version += 1

    def fall_ill(self, idx: np.ndarray) -> None:
        """Held prisoners ``idx`` (in good health) fall into poor health: they change class."""
        if len(idx) == 0:
            return
        self.class_counts -= np.bincount(self.cls[idx], minlength=self.classes.n)
        self.poor[idx] = True
        self.cls[idx] = self.classes.code(self.profile[idx], self.ties[idx], self.poor[idx])
        self.class_counts += np.bincount(self.cls[idx], minlength=self.classes.n)
        self.version += 1

    def due_now(self, month: int) -> np.ndarray:
        """Held prisoners whose sentence ends in ``month`` (the bucket is consumed)."""
        parts = []
        for where, rows in self._due_sorted:
            span = where.pop(month, None)
            if span is not None:
                parts.append(rows[span[0] : span[1]])
        small = self._due.pop(month, None)
        if small:
            parts.append(np.asarray(small, dtype=np.int64))
        if not parts:
            return np.zeros(0, dtype=np.int64)
        idx = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return idx[self.status[idx] == Status.HELD]

    def thin(self, rng: np.random.Generator, p_max: float) -> np.ndarray:
        """Held rows hit by an event of probability ``p_max`` this month, by thinning (callers may accept a
        further share of the candidates)."""
        if p_max <= 0 or self.n == 0:
            return np.zeros(0, dtype=np.int64)
        k = rng.binomial(self.n, min(p_max, 1.0))
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        cand = rng.integers(0, self.n, size=k)
        if k > 1:
            cand.sort()
            cand = cand[np.concatenate(([True], cand[1:] != cand[:-1]))]
        return cand[self.status[cand] == Status.HELD]

    def pick_cells(
        self, rng: np.random.Generator, month: int, cells: np.ndarray, k: np.ndarray
    ) -> np.ndarray:
        """``k[i]`` held prisoners at random from each (class, remaining-sentence bin) cell ``cells[i]`` (code
        ``class * N_BINS + bin``), with one scan of the registry."""
        held, _, code = self._scan(month)
        todo = [(c, w) for c, w in zip(np.asarray(cells).tolist(), np.asarray(k).tolist()) if w > 0]
        if len(todo) > 8:  # many cells: group the rows of the cells wanted (a stable sort keeps row order)
            wanted = np.zeros(self.classes.n * N_BINS, dtype=bool)
            wanted[[c for c, _ in todo]] = True
            sub = wanted[code]
            held, code = held[sub], code[sub]
            order = np.argsort(code, kind="stable")
            held, code = held[order], code[order]
        out = []
        for cell, want in todo:
            if len(todo) > 8:
                pool = held[code.searchsorted(cell, "left") : code.searchsorted(cell, "right")]
            else:  # the cell's rows in row order
                pool = held[code == cell]
            out.append(pool if want >= len(pool) else rng.choice(pool, size=int(want), replace=False))
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def released_inside(self, rng: np.random.Generator, p: float) -> np.ndarray:
        """Rows of people released inside the country (by any channel -- a pardon, the end of their term, a
        deal without expulsion -- and not arrested since) re-arrested this month, each with probability ``p``
        (a scan; only when ``p`` > 0)."""
        if p <= 0 or self.n == 0:
            return np.zeros(0, dtype=np.int64)
        last = self._last_spell()
        inside = np.flatnonzero(
            (self.status[: self.n] != Status.HELD)
            & (self.status[: self.n] != Status.DIED)
            & (self.dest[: self.n] == 0)
            & last
        )
        return inside[rng.random(len(inside)) < p]

    def on_parole(self, t: int) -> int:
        """People out on parole at month ``t``: their latest spell ended in a parole release (not in death,
        not followed by a re-arrest) and its sentence still runs (``due > t``). A monitor that keeps parolees
        on its list counts them (Cuba's Prisoners Defenders)."""
        return self.parole_flows(t)[3]

    def parole_flows(self, t: int) -> tuple[int, int, int, int]:
        """This month's moves onto and off parole, and who is on it, for a monitor that keeps parolees on its
        list (one scan of the registry).

        Returns:
            paroled_deal, paroled_pardon: people released on parole in month ``t`` through a deal or a pardon
                (out of prison, still on the list);
            ended: people whose parole ended in month ``t`` because their sentence ran out (``due == t``, not
                re-arrested: they leave the list);
            on_parole: people on parole at the end of month ``t`` (:meth:`on_parole`).
        """
        n = self.n
        if n == 0 or not self.parole[:n].any():
            return 0, 0, 0, 0
        par, status, due = self.parole[:n], self.status[:n], self.due[:n]
        now = par & (self.release[:n] == t)
        deal = int(np.sum(now & (status == Status.DEAL)))
        pardon = int(np.sum(now & (status == Status.PARDON)))
        out = par & (status != Status.HELD) & (status != Status.DIED) & self._last_spell()
        return deal, pardon, int(np.sum(out & (due == t))), int(np.sum(out & (due > t)))

    def on_parole_rows(self, idx: np.ndarray, t: int) -> int:
        """How many of the released spells ``idx`` were on parole at the end of month ``t - 1`` (released on
        parole, sentence still running)."""
        return int(np.sum(self.parole[idx] & (self.due[idx] > t - 1)))

    def _last_spell(self) -> np.ndarray:
        """Mask of each person's latest spell."""
        persons = self.person[: self.n]
        last = np.zeros(self.n, dtype=bool)
        _, first_from_end = np.unique(persons[::-1], return_index=True)
        last[self.n - 1 - first_from_end] = True
        return last


def draw_profiles_and_ties(
    rng: np.random.Generator, k: int, tie_shares: np.ndarray, share_symbol: float, share_notable: float
) -> tuple[np.ndarray, np.ndarray]:
    """Draw profile codes (with the given shares) and tie bit masks (bit i with probability
    ``tie_shares[i]``)."""
    u = rng.random((1 + len(tie_shares), k))
    profile = (u[0] < share_symbol + share_notable).view(np.int8) + (u[0] < share_symbol).view(np.int8)
    has = u[1:] < np.asarray(tie_shares, float)[:, None]  # (tie, prisoner)
    return profile, (_TIE_BITS[: len(tie_shares)] @ has).astype(np.int16)  # the sum of distinct bits


def draw_sentences(rng: np.random.Generator, profile: np.ndarray, pop: PopulationParams) -> np.ndarray:
    """Sentences in months: log-normal around the profile's median (years x 12)."""
    median = _median_months(
        pop.sentence_ordinary_years, pop.sentence_notable_years, pop.sentence_symbol_years
    )
    s = median[profile] * np.exp(pop.sentence_spread * rng.standard_normal(len(profile)))
    return np.maximum(np.rint(s, out=s), 1, out=s).astype(np.int32)


@functools.lru_cache(maxsize=64)
def _median_months(ordinary: float, notable: float, symbol: float) -> np.ndarray:
    """Median sentence of each profile in months, from years (read-only)."""
    median = np.array([ordinary, notable, symbol]) * 12
    median.flags.writeable = False
    return median


def synthesise_stock(
    rng: np.random.Generator, pop: PopulationParams, tie_shares: np.ndarray, start: int, reg: Registry
) -> None:
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
    profile, ties = draw_profiles_and_ties(rng, k, tie_shares, pop.share_symbol, pop.share_notable)
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
