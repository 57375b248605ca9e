"""The cross-case mechanism measures, by hand on a small table, and sim-cases end to end."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.analysis.mechanisms import dominant, flows


def table():
    rows = []
    for r, (deal, pardon, chip) in enumerate(((30, 0, 3.0), (10, 10, 1.0))):
        for m in range(2):
            rows.append(
                {
                    "replicate": r, "month": f"2026-0{m + 1}", "prisoners_held": 100 - 10 * m,
                    "arrests": 20, "rearrests": 2 if m else 0, "released_deal": deal if m else 0,
                    "released_pardon": pardon if m else 0, "released_served": 5, "died": 0,
                    "expelled": deal if m else 0, "control_value": 1.0, "chip_value": chip,
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_flows_and_the_dominant_mechanism_by_hand():
    f = flows(table())
    # replicate 0: arrests 40, releases 30 + 10 = 40; replicate 1: 40 against 10 + 10 + 10 = 30
    assert f["arrests"] == 40 and f["releases"] == pytest.approx(35)
    assert f["revolving_door"] == pytest.approx((40 / 40 + 40 / 30) / 2)
    assert f["released_deal"] == pytest.approx(20) and f["released_deal_share"] == pytest.approx(
        (30 / 40 + 10 / 30) / 2
    )
    assert f["chip_share"] == pytest.approx((3 / 4 + 1 / 2) / 2)  # chip / (control + chip), per replicate
    assert f["expelled_share_of_deals"] == pytest.approx(1.0)
    text = " ".join(dominant(f))
    assert "deals" in text and "to hold chips for sale" in text and "refill the stock" in text
    f2 = flows(table().assign(chip_value=0.1))
    assert "to control" in " ".join(dominant(f2))
