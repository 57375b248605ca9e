"""Where the project's folders are, and how a path is written in a record (relative to the project).

The package is installed in editable mode, so the configuration (``conf/``), the source figures (``seeds/``)
and the default output folder (``results/``) sit beside it in the project's root. Records (reports,
``summary.json``, ``provenance.json``) never hold this machine's absolute paths: :func:`in_record` writes a
path relative to the project, or else relative to the folder of the record that names it.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONF_DIR = ROOT / "conf"
SEEDS_DIR = ROOT / "seeds"
RESULTS_DIR = ROOT / "results"


def relative(path: str | os.PathLike, start: str | os.PathLike | None = None) -> str:
    """``path`` as written in a record.

    Relative to ``start`` (default: the project's root) when it lies below it, else relative to the current
    folder when it lies below that, else as given (never resolved to a machine path it was not given as).
    """
    p = Path(path)
    absolute = p if p.is_absolute() else Path.cwd() / p
    absolute = Path(os.path.normpath(absolute))
    for base in (Path(start) if start is not None else ROOT, Path.cwd()):
        try:
            return absolute.relative_to(Path(os.path.normpath(base.resolve()))).as_posix() or "."
        except ValueError:
            continue
    return p.as_posix()


def in_record(path: str | os.PathLike, folder: str | os.PathLike) -> str:
    """``path`` as written in a record kept in ``folder``: relative to the project's root when it lies below
    it, else relative to ``folder`` (e.g. ``../calibration/fit``). Never an absolute path.
    """
    absolute = Path(os.path.normpath(Path.cwd() / Path(path)))
    root = Path(os.path.normpath(ROOT.resolve()))
    try:
        return absolute.relative_to(root).as_posix() or "."
    except ValueError:
        pass
    base = Path(os.path.normpath(Path.cwd() / Path(folder)))
    return Path(os.path.relpath(absolute, base)).as_posix()
