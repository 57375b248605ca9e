"""The store's defences: files read with limits, files written with the user's umask, folders claimed,
records without machine paths. Fast, in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis.text import clip, clip_repr
from sim.store import tables
from sim.store.claims import FolderBusy, claim
from sim.store.paths import ROOT, in_record
from sim.store.untrusted import UntrustedFileError, check_writable, load_json, load_yaml, parse_yaml

BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{b}: &{b} [{', '.join(['*' + a] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi")]
)


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    f = tmp_path / "bomb.yaml"
    f.write_text(BILLION_LAUGHS)
    assert f.stat().st_size < 600
    started = time.perf_counter()
    with pytest.raises(UntrustedFileError, match="alias") as err:
        load_yaml(f)
    assert time.perf_counter() - started < 2.0
    assert len(str(err.value)) < 300 and "\n" not in str(err.value)


def test_many_aliases_are_refused_even_when_small():
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 500) + "]\n"
    with pytest.raises(UntrustedFileError, match="aliases"):
        parse_yaml(text)


def test_ordinary_yaml_and_a_few_aliases_still_load():
    assert parse_yaml("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}


def test_size_binary_and_broken_files_are_one_line(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("x: " + "a" * 3_000_000)
    with pytest.raises(UntrustedFileError, match="bytes"):
        load_yaml(big)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(UntrustedFileError, match="binary"):
        load_yaml(binary)
    broken = tmp_path / "broken.json"
    broken.write_text("{bad")
    with pytest.raises(UntrustedFileError, match="not valid JSON"):
        load_json(broken)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(UntrustedFileError):
        load_json(deep)


def test_values_in_messages_are_cut_to_about_100_characters():
    assert len(clip("x" * 10_000)) < 130
    assert len(clip_repr("x" * 10_000)) < 130
    nested: list = [1]
    for _ in range(30):
        nested = [nested] * 9  # shared references: 9**30 leaves, never built as text
    started = time.perf_counter()
    assert len(clip_repr(nested)) <= 130
    assert time.perf_counter() - started < 1.0


def test_writable_check_before_any_work(tmp_path):
    check_writable(tmp_path / "new" / "deeper")  # can be created
    assert not (tmp_path / "new").exists()  # and nothing was created
    (tmp_path / "file").write_text("x")
    with pytest.raises(UntrustedFileError, match="is a file"):
        check_writable(tmp_path / "file" / "out")
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        with pytest.raises(UntrustedFileError, match="not writable"):
            check_writable(ro / "out")
    else:  # root writes anywhere a mode allows nothing: a path the kernel refuses instead
        with pytest.raises(UntrustedFileError, match="not writable"):
            check_writable(Path("/proc/no-such-process/out"))


@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_writes_respect_the_umask(tmp_path, mask, mode):
    code = (
        "import os, sys; os.umask(int(sys.argv[2], 8)); from pathlib import Path; "
        "from sim.store.tables import write_text; write_text(Path(sys.argv[1]), 'x')"
    )
    target = tmp_path / "f.txt"
    subprocess.run([sys.executable, "-c", code, str(target), oct(mask)[2:]], check=True)
    assert target.stat().st_mode & 0o777 == mode


def test_stray_temporary_files_are_cleaned(tmp_path):
    (tmp_path / "figures").mkdir()
    stray = [tmp_path / ".timeseries.parquet.abc123.tmp", tmp_path / "figures" / ".x.png.q1.tmp"]
    for p in stray:
        p.write_text("partial")
    keep = tmp_path / "notes.tmp"  # not a name atomic_write makes
    keep.write_text("mine")
    assert sorted(tables.clean_stray_tmp(tmp_path)) == sorted(stray)
    assert keep.exists() and not any(p.exists() for p in stray)


def test_a_claimed_folder_is_refused_to_a_second_claimant(tmp_path):
    first = claim(tmp_path / "run")
    with pytest.raises(FolderBusy, match=f"pid {os.getpid()}"):
        claim(tmp_path / "run")
    first.release()
    assert not (tmp_path / "run" / ".sim-run.lock").exists()
    claim(tmp_path / "run").release()  # free again


def test_a_claim_dies_with_its_process(tmp_path):
    code = "import sys, os; from sim.store.claims import claim; claim(sys.argv[1]); os._exit(0)"
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "run")], check=True)
    assert (tmp_path / "run" / ".sim-run.lock").exists()  # left behind by a killed process...
    claim(tmp_path / "run").release()  # ...but not held: the kernel dropped the lock


def test_records_hold_no_absolute_paths(tmp_path):
    assert in_record(ROOT / "conf" / "calibration" / "x.yaml", tmp_path) == "conf/calibration/x.yaml"
    assert in_record(tmp_path / "cal" / "fit", tmp_path / "runs" / "a") == "../../cal/fit"
    cmd = tables.record_command(["sim-run", f"calibration={tmp_path / 'fit'}", "seed=1"], tmp_path / "run")
    assert cmd == ["sim-run", "calibration=../fit", "seed=1"]
    prov = tables.provenance(1, ["sim-run", f"calibration={ROOT / 'results' / 'fit'}"], folder=tmp_path)
    text = json.dumps(prov)
    assert str(ROOT) not in text and str(tmp_path) not in text and "results/fit" in text


def test_damaged_sweep_jobs_are_listed_not_crashed_on(tmp_path):
    def job(name: str, overrides: str = "- seed=1\n") -> Path:
        d = tmp_path / name
        (d / ".hydra").mkdir(parents=True)
        (d / ".hydra" / "overrides.yaml").write_text(overrides)
        return d

    bad_overrides = job("a", "- [unclosed\n")
    failed = job("b")
    (failed / "error.json").write_text("{not json")
    corrupt = job("c")
    for f in ("timeseries.parquet", "deals.parquet", "summary.json"):
        (corrupt / f).write_text("x")
    (corrupt / "outcomes.parquet").write_bytes(b"PAR1 garbage")
    status = tables.job_status(tmp_path).set_index("job")
    assert status.loc["a", "status"] == "unreadable" and str(bad_overrides) not in status.loc["a", "error"]
    assert status.loc["b", "status"] == "failed" and "error.json unreadable" in status.loc["b", "error"]
    assert status.loc["c", "status"] == "unreadable"
    df, unreadable = tables.read_sweep(tmp_path, [])
    assert df.empty and unreadable == {}


def test_a_damaged_multirun_yaml_is_one_line(tmp_path):
    (tmp_path / "multirun.yaml").write_text(BILLION_LAUGHS)
    with pytest.raises(tables.RunFolderError, match="alias"):
        tables.multirun_overrides(tmp_path)
    (tmp_path / "multirun.yaml").write_text("hydra: {overrides: {task: 3}}")
    with pytest.raises(tables.RunFolderError, match="not a list"):
        tables.multirun_overrides(tmp_path)


def test_read_sweep_lists_an_unreadable_table_and_keeps_the_others(tmp_path):
    for name in ("good", "bad"):
        (tmp_path / name).mkdir()
    pd.DataFrame({"final_stock": [1.0, 2.0], "job": ["good", "good"]}).to_parquet(
        tmp_path / "good" / "outcomes.parquet"
    )
    (tmp_path / "bad" / "outcomes.parquet").write_bytes(b"PAR1" + os.urandom(200) + b"PAR1")
    df, unreadable = tables.read_sweep(tmp_path, ["good", "bad"])
    assert len(df) == 2 and list(unreadable) == ["bad"]
