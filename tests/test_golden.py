"""The simulator's results are those recorded in ``benchmarks/golden.json`` (the fast subset of
``benchmarks/golden_check.py``): a change made for speed must not change a single draw or number.

On the machine that recorded them the tables must be identical byte for byte; elsewhere (another numpy or
CPU, whose vector maths may round the last bit differently) integers and text must be identical and floats
equal to 1e-9 of their scale. When results are *meant* to change (a new mechanism, a fixed bug), re-record
with ``python benchmarks/golden_check.py --record`` and say so in the commit.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "golden_check.py"
_spec = importlib.util.spec_from_file_location("golden_check", PATH)
golden = importlib.util.module_from_spec(_spec)
sys.modules["golden_check"] = golden  # its dataclass looks its module up there
_spec.loader.exec_module(golden)

RECORDED = golden.read_recorded()
EXACT = RECORDED.get("environment") == golden.environment()
FAST = [c for c in golden.configs() if c.fast]


def test_the_record_covers_the_fast_subset():
    assert RECORDED, "benchmarks/golden.json is missing: record it with benchmarks/golden_check.py --record"
    missing = [c.name for c in FAST if c.name not in RECORDED["configs"]]
    assert not missing, f"not recorded: {missing}"
    assert all("robust" in RECORDED["configs"][c.name] for c in FAST)


@pytest.mark.parametrize("cfg", FAST, ids=[c.name for c in FAST])
def test_results_are_the_recorded_ones(cfg):
    problems, _ = golden.check_config(cfg, RECORDED, exact=EXACT)
    assert not problems, (
        "results differ from benchmarks/golden.json "
        f"({'byte for byte' if EXACT else 'by fingerprint'}):\n" + "\n".join(problems[:10])
    )


@pytest.mark.parametrize("exact", [True, False], ids=["bytes", "fingerprint"])
def test_the_check_sees_a_changed_draw(exact):
    """Another seed (other draws) is caught both byte for byte and by fingerprint."""
    cfg = next(c for c in FAST if c.name == "belarus_stress_small")
    other = dataclasses.replace(cfg, seed=cfg.seed + 1)
    problems, _ = golden.check_config(other, RECORDED, exact=exact)
    assert problems


def test_the_fingerprint_sees_a_small_change_in_one_float():
    """A float moved by a millionth of its value, in one row of one column, is caught by fingerprint."""
    cfg = next(c for c in FAST if c.name == "belarus_stress_small")
    res, _ = golden.run_config(cfg)
    ts = res.timeseries.copy()
    ts.loc[17, "chip_value"] = ts.loc[17, "chip_value"] * (1 + 1e-6) + 1e-6
    got = golden.table_fingerprint(ts)
    want = RECORDED["configs"][cfg.name]["robust"]["timeseries"]
    assert golden.compare_fingerprints("ts", golden.table_fingerprint(res.timeseries), want) == []
    assert golden.compare_fingerprints("ts", got, want) == ["ts.chip_value: " + _sum_note(got, want)]


def _sum_note(got: dict, want: dict) -> str:
    return f"weighted sum {got['columns']['chip_value'][0]!r}, recorded {want['columns']['chip_value'][0]!r}"
