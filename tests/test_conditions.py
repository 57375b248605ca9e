"""User text that becomes an expression (``sim-report --prim``): whitelisted, never evaluated as Python."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.analysis.conditions import ConditionError, condition, parse
from sim.views.sweep_report import SweepError, prim_condition


@pytest.fixture
def df():
    return pd.DataFrame(
        {
            "final_stock": [900, 1200, 1100],
            "initial_stock": [1000, 1000, 1000],
            "us.price_per_prisoner": [0.5, 1.0, 2.0],
            "scenario": ["baseline", "us_conditional", "baseline"],
        }
    )


# The payloads of the attack (issue 11): each ran code or wrote a file through DataFrame.eval.
PAYLOADS = [
    "final_stock.__class__.__init__.__globals__['os'].system('touch {p}')",
    "@Path('{p}').touch()",
    "final_stock.to_csv('{p}')",
    "__import__('os').system('touch {p}')",
    "final_stock.__class__.__base__.__subclasses__()",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "(lambda: open('{p}', 'w'))()",
    "final_stock > 1 if open('{p}', 'w') else 0",
    "final_stock.to_pickle('{p}')",
    "initial_stock.__class__",
    "pd.io.common.os.system('touch {p}')",
    "final_stock > initial_stock; import os",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_are_refused_in_one_line_and_run_nothing(payload, df, tmp_path):
    target = tmp_path / "pwned"
    text = payload.format(p=target)
    with pytest.raises(ConditionError) as err:
        condition(text, df)
    msg = str(err.value)
    assert "\n" not in msg
    assert any(k in msg for k in ("not allowed", "not a column", "not a valid")), msg
    assert not target.exists()


@pytest.mark.parametrize(
    "text,what",
    [
        ("final_stock.to_csv('x')", "a function or method call"),
        ("final_stock.__class__", "'final_stock.__class__' is not a column"),
        ("final_stock[0] > 1", "indexing"),
        ("final_stock ** 2 > 1", "the power operator"),
        ("@x > 1", "'@'"),
        ("nope > 1", "'nope' is not a column"),
    ],
)
def test_the_message_names_what_was_refused(text, what, df):
    with pytest.raises(ConditionError, match=None) as err:
        condition(text, df)
    assert what in str(err.value)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("final_stock > initial_stock", [False, True, True]),
        ("us.price_per_prisoner >= 1 & final_stock > 1150", [False, True, False]),
        ("`us.price_per_prisoner` < 1 | final_stock > 1150", [True, True, False]),
        ("~(final_stock > initial_stock)", [True, False, False]),
        ("(final_stock - initial_stock) / initial_stock > 0.15", [False, True, False]),
        ("0.7 < us.price_per_prisoner <= 2", [False, True, True]),
        ("scenario == 'baseline' and final_stock > 1000", [False, False, True]),
        ("-final_stock < -1000", [False, True, True]),
    ],
)
def test_the_allowed_forms_evaluate_like_pandas(text, expected, df):
    assert list(condition(text, df)) == expected


def test_a_condition_must_be_yes_or_no(df):
    for text in ("final_stock + 1", "1 < 2", "final_stock & initial_stock", "scenario > 'a'"):
        with pytest.raises(ConditionError):
            condition(text, df)


def test_a_long_condition_is_refused_before_parsing(df):
    with pytest.raises(ConditionError, match="at most"):
        parse("final_stock > 1 & " * 200 + "final_stock > 2", df.columns)


def test_the_sweep_report_uses_the_whitelist(df, tmp_path):
    target = tmp_path / "pwned"
    with pytest.raises(SweepError, match="not allowed"):
        prim_condition(df, f"final_stock.to_csv('{target}')")
    assert not target.exists()
    assert list(prim_condition(df, "final_stock > initial_stock")) == [False, True, True]
