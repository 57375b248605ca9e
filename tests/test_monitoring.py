"""The monitoring records in seeds/<case>/: copied faithfully, with provenance, and validated row by row."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.quantities import QUANTITIES
from sim.store.sources import (
    PROVENANCE_KEYS,
    SEEDS_DIR,
    SeedsError,
    load_monitoring,
    load_provenance,
    load_record,
    sha256_of,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CASES = ("belarus", "nicaragua", "cuba", "venezuela")
ORIGINAL_CASE = {
    ("nicaragua", "monitoring.csv"): "Nicaragua",
    ("cuba", "monitoring.csv"): "Cuba",
    ("venezuela", "monitoring.csv"): "Venezuela",
    ("iran", "record.csv"): "Iran",
    ("studies", "findings.csv"): "Study",
    ("belarus", "exchanges.csv"): "Russia/Belarus",
}


@pytest.mark.parametrize("case", CASES)
def test_each_case_has_a_checked_record_with_provenance(case):
    rec = load_monitoring(case)
    prov = rec.attrs["provenance"]
    assert all(prov[k] for k in PROVENANCE_KEYS)
    assert prov["cut_off"] == "2024-12"
    assert len(prov["definition"]) > 80, "the organisation's definition of a political prisoner, in words"
    assert (rec["role"] == "stock").sum() >= 8, "a stock series"
    assert rec["source"].str.strip().ne("").all()
    assert set(rec["quantity"]) <= set(QUANTITIES)


def test_iran_and_studies_are_kept_as_records():
    assert len(load_record("iran", "record.csv")) == 15
    assert len(load_record("studies", "findings.csv")) == 14
    assert len(load_record("belarus", "exchanges.csv")) == 3


def _original_rows(file: str, case: str | None):
    with open(SHARED / file, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r for r in rows if case is None or r["case"] == case]


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared data are beside the repository only")
def test_copies_keep_every_row_and_column_of_the_original():
    b = load_monitoring("belarus")
    orig = _original_rows("belarus_monitoring_2020_2024.csv", None)
    assert len(b) == len(orig) == 77
    for (_, mine), theirs in zip(b.iterrows(), orig):
        assert [mine[k] for k in ("date", "quantity", "value", "source", "confidence")] == [
            theirs[k] for k in ("date", "quantity", "value", "source", "confidence")
        ]
    for (case, name), original_case in ORIGINAL_CASE.items():
        rec = load_record(case, name)
        orig = _original_rows("cases_to_2024.csv", original_case)
        assert len(rec) == len(orig), (case, name)
        keys = ("date", "quantity", "value", "unit", "source", "confidence", "note")
        for (_, mine), theirs in zip(rec.iterrows(), orig):
            assert [mine[k] for k in keys] == [theirs[k] for k in keys], (case, mine["id"])
    total = sum(len(load_record(c, n)) for c, n in ORIGINAL_CASE)
    assert total == len(_original_rows("cases_to_2024.csv", None)), "every row of cases_to_2024.csv is kept"


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared data are beside the repository only")
@pytest.mark.parametrize("case", [*CASES, "iran", "studies"])
def test_recorded_sha256_is_the_original_files(case):
    for name, prov in load_provenance(case).items():
        assert sha256_of(SHARED / prov["original_file"]) == prov["original_sha256"], (case, name)


def test_non_numeric_values_are_kept_as_text_with_a_reason():
    b = load_monitoring("belarus").set_index("id")
    for rid, value in [
        ("potash_share_world_market_2019_12_31", "~20%"),
        ("potash_exports_change_2022_12_31", "-60%"),
        ("klaipeda_transit_2022_02_01", "halted"),
    ]:
        assert b.loc[rid, "value"] == value
        assert np.isnan(b.loc[rid, "number"])
        assert b.loc[rid, "excluded"], rid
    assert b.loc["pp_stock_viasna_2024_12_31", "number"] == 1265
    assert b.loc["pp_stock_viasna_2024_12_31", "excluded"] == ""
    v = load_monitoring("venezuela").set_index("id")
    assert v.loc["concession_2023_12_20", "excluded"].startswith("text")


def test_pardon_batches_of_2024_sum_to_the_yearly_total():
    b = load_monitoring("belarus")
    batches = b[(b["quantity"] == "pardon_batch") & b["date"].str.startswith("2024")]
    total = b.loc[b["quantity"] == "pardoned_year_total", "number"].item()
    assert batches["number"].sum() == total == 227
    assert (batches["channel"] == "pardon").all()


def test_periods_are_read_from_notes_and_vocabulary():
    v = load_monitoring("venezuela").set_index("id")
    assert (
        v.loc["new_political_prisoners_2024_10_22", "period_start"],
        v.loc["new_political_prisoners_2024_10_22", "period_end"],
    ) == ("2024-10-16", "2024-10-22")
    b = load_monitoring("belarus").set_index("id")
    assert b.loc["pp_new_recognised_month_2024_11_30", "period_start"] == "2024-11-01"
    assert b.loc["pp_new_recognised_year_2024_12_31", "period_start"] == "2024-01-01"


def _copy_case(tmp_path, case="belarus"):
    d = tmp_path / case
    shutil.copytree(SEEDS_DIR / case, d)
    return d


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    "case,old,new,message",
    [
        (
            "belarus",
            "2024-12-31,pp_stock_viasna,1265,",
            "2024-12-31,pp_stock_viasna,many,",
            "is not a number",
        ),
        ("belarus", "2024-12-31,pp_stock_viasna,1265,", "2024-12-31,pp_stock_viasna,-5,", "must be >= 0"),
        ("belarus", ",2024-12-31,pp_stock_viasna,", ",31/12/2024,pp_stock_viasna,", "must be YYYY, YYYY-MM"),
        (
            "belarus",
            ",2024-12-31,pp_stock_viasna,",
            ",2025-01-31,pp_stock_viasna,",
            "after the cut-off 2024-12",
        ),
        ("belarus", ",2024-12-31,pp_stock_viasna,", ",2024-12-31,pp_stock,", "not in the vocabulary"),
        ("belarus", "1265,persons,,", "1265,prisoners,,", "unit 'prisoners' must be persons"),
        ("belarus", "spring96.org/en/news/117107,H,", "spring96.org/en/news/117107,X,", "confidence 'X'"),
        (
            "belarus",
            "1265,persons,,spring96.org/en/news/117107,",
            "1265,persons,, ,",
            "source must not be empty",
        ),
        ("belarus", "29,persons,pardon,", "29,persons,,", "channel '' must be one of"),
        ("belarus", "1265,persons,,", "1265,persons,deal,", "only for release rows"),
        ("belarus", "pp_stock_viasna_2024_12_31,", "pp_stock_viasna_2024_11_30,", "duplicate id"),
        (
            "belarus",
            "pp_stock_viasna_2024_12_31,2024-12-31,",
            "pp_stock_viasna_2024_12_31,2024-11-30,",
            "second stock",
        ),
        ("cuba", "PD; period=2024-12; entries", "PD; period=2025-01; entries", "ends after the row's date"),
        ("cuba", "PD; period=2024-12; entries", "PD; period=Dec-2024; entries", "period= is not"),
    ],
)
def test_malformed_rows_are_rejected_with_one_line(tmp_path, case, old, new, message):
    d = _copy_case(tmp_path, case)
    path = d / "monitoring.csv"
    _edit(path, old, new)
    with pytest.raises(SeedsError) as err:
        load_record(case, "monitoring.csv", path=path)
    text = str(err.value)
    assert message in text and "\n" not in text, text
    assert "monitoring.csv row " in text and "(id=" in text


def test_missing_column_and_provenance_are_rejected(tmp_path):
    d = _copy_case(tmp_path)
    path = d / "monitoring.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n", encoding="utf-8")
    with pytest.raises(SeedsError, match="missing column"):
        load_record("belarus", "monitoring.csv", path=path)
    d2 = _copy_case(tmp_path / "b")
    _edit(d2 / "sources.yaml", "    organisation: Viasna", "    organisatio: Viasna")
    with pytest.raises(SeedsError, match="records.monitoring.csv: missing organisation"):
        load_record("belarus", "monitoring.csv", path=d2 / "monitoring.csv")
    d3 = _copy_case(tmp_path / "c")
    _edit(d3 / "sources.yaml", 'cut_off: "2024-12"', 'cut_off: "Dec 2024"')
    with pytest.raises(SeedsError, match="cut_off 'Dec 2024' must be a month"):
        load_record("belarus", "monitoring.csv", path=d3 / "monitoring.csv")


def test_unknown_case_is_rejected():
    with pytest.raises(SeedsError, match="case 'atlantis' is not known"):
        load_monitoring("atlantis")
