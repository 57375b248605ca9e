"""A case's seed figures: they load, carry the figures the issue names, malformed files are rejected."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sim.store.sources import SEEDS_DIR, SeedsError, cases, figure, load_figures, load_sources

SHARED = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def test_named_figures_are_present_with_kinds():
    f = load_figures()
    expect = {
        "release_2025_12_total": (123, "exact"),
        "release_2025_12_to_ukraine": (114, "exact"),
        "release_2025_12_to_lithuania": (9, "exact"),
        "prisoners_held_2025_12": (1100, "lower_bound"),
        "new_political_prisoners_2025_11": (33, "exact"),
        "release_waves_2025": (4, "exact"),
        "released_since_2024_07": (430, "lower_bound"),
        "prisoners_remaining_envoy_2025_12": (1000, "approximate"),
        "sentence_bialiatski": (10, "exact"),
        "sentence_kalesnikava": (11, "exact"),
        "us_relief_potash_2025_12": (1, "exact"),
    }
    for fid, (value, kind) in expect.items():
        row = figure(f, fid)
        assert row["value"] == value and row["kind"] == kind, fid
    assert (
        figure(f, "release_2025_12_to_ukraine")["value"] + figure(f, "release_2025_12_to_lithuania")["value"]
        == figure(f, "release_2025_12_total")["value"]
    )


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared seed documents are beside the repository only")
def test_every_source_file_is_a_seed_document():
    for name in load_figures()["source_file"].unique():
        assert (SHARED / name).is_file(), name


def _copy(tmp_path):
    d = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, d)
    return d


@pytest.mark.parametrize(
    "old,new,message",
    [
        (",lower_bound,2025-12-19,", ",at_least,2025-12-19,", "kind 'at_least' must be one of"),
        ("release_waves_2025,4,", "release_waves_2025,four,", "value 'four' is not a number"),
        (",2025-11-30,2025-11-01,", ",Nov 2025,2025-11-01,", "date 'Nov 2025' must be YYYY-MM"),
        (
            ",000_9325dfedb4b9be44.txt,new political",
            ",999_unknown.txt,new political",
            "not described in sources.yaml",
        ),
        ("sentence_bialiatski,", "release_2025_12_total,", "duplicate id"),
    ],
)
def test_malformed_rows_are_rejected_with_one_line(tmp_path, old, new, message):
    d = _copy(tmp_path)
    csv = d / "belarus" / "figures.csv"
    text = csv.read_text()
    assert old in text
    csv.write_text(text.replace(old, new, 1))
    with pytest.raises(SeedsError) as err:
        load_figures(path=csv)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert "figures.csv row" in str(err.value)


def test_missing_column_is_rejected(tmp_path):
    d = _copy(tmp_path)
    csv = d / "belarus" / "figures.csv"
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join(",".join(x.split(",")[:-1]) for x in lines) + "\n")
    with pytest.raises(SeedsError, match="missing column"):
        load_figures(path=csv)


def test_figures_live_in_the_case_folder():
    """Belarus is the default case; its figures and seed documents are in seeds/belarus/."""
    assert load_figures().equals(load_figures("belarus"))
    assert (SEEDS_DIR / "belarus" / "figures.csv").is_file()
    assert not (SEEDS_DIR / "figures.csv").exists()
    assert set(load_figures()["source_file"]) <= set(load_sources("belarus"))
    assert {"belarus", "nicaragua", "cuba", "venezuela"} <= set(cases())


@pytest.mark.parametrize("case", ["../belarus", "Belarus", "atlantis", "", "belarus/../cuba"])
def test_unknown_or_unsafe_case_is_one_line(case):
    with pytest.raises(SeedsError) as err:
        load_figures(case)
    assert "is not known; known: " in str(err.value) and "belarus" in str(err.value)
    assert "\n" not in str(err.value)
