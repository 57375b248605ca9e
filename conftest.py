"""Test-session hygiene for the whole project (tests and notebooks): a test run leaves nothing behind.

The third teaching notebook caches its sweeps in ``results/teaching/``, as a student's run would, and nbmake
executes it there. A test session removes what it created in that folder and keeps what was there before it
started (a student's own cached runs). The tests themselves write only below pytest's ``tmp_path``.
(Session hooks rather than a fixture: nbmake's notebook items take no fixtures.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

TEACHING = Path(__file__).resolve().parent / "results" / "teaching"
_BEFORE: set[Path] = set()


def _entries() -> set[Path]:
    return (set(TEACHING.rglob("*")) | {TEACHING}) if TEACHING.exists() else set()


def pytest_sessionstart(session) -> None:
    _BEFORE.update(_entries())


def pytest_sessionfinish(session, exitstatus) -> None:
    for path in sorted(_entries() - _BEFORE, key=lambda p: len(p.parts)):
        if not path.exists():
            continue
        if path.is_dir() and not any(q in _BEFORE for q in path.rglob("*")):
            shutil.rmtree(path, ignore_errors=True)
        elif not path.is_dir():
            path.unlink(missing_ok=True)
