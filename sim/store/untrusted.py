"""Reading files that a tool did not write itself, or that may have been damaged: with limits.

Every YAML or JSON file the tools read (calibration settings, ``calibrated.yaml``, a run's ``config.yaml``
and ``summary.json``, a sweep's ``multirun.yaml``, ``overrides.yaml`` and ``error.json``) goes through here:

* its size is checked before it is read (:data:`MAX_BYTES`);
* a binary or non-UTF-8 file is refused as such;
* YAML aliases are capped (:data:`MAX_ALIASES`) and so is the size of the document once aliases are expanded
  (:data:`MAX_NODES`): a 500-byte "billion laughs" file is refused in milliseconds instead of expanding into
  gigabytes;
* every error is one line, and any value it quotes is cut to about 100 characters.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from sim.analysis.text import clip

MAX_BYTES = 2_000_000  # a configuration or record file is a few kB; 2 MB leaves room and stops a huge file
MAX_ALIASES = 100  # the project's files use none; a handful is legitimate YAML style
MAX_NODES = 200_000  # values once aliases are expanded (a sweep's multirun.yaml has a few hundred)


class UntrustedFileError(ValueError):
    """A file that cannot be read safely (too large, binary, malformed, alias bomb): one line."""


def read_text(path: Path, max_bytes: int = MAX_BYTES) -> str:
    """The text of a UTF-8 file, refused when larger than ``max_bytes`` or binary.

    Raises:
        UntrustedFileError: naming the file and the reason.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise UntrustedFileError(f"{path}: not a regular file")
        if size > max_bytes:
            raise UntrustedFileError(f"{path}: {size:,} bytes; a file read here may have {max_bytes:,}")
        data = path.read_bytes()[: max_bytes + 1]
    except OSError as exc:
        reason = clip(exc.strerror or exc)
        raise UntrustedFileError(f"{path}: unreadable ({type(exc).__name__}: {reason})") from None
    if b"\x00" in data:
        raise UntrustedFileError(f"{path}: a binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UntrustedFileError(f"{path}: not UTF-8 text (a binary file?)") from None


class _CappedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, counting aliases as it composes the document."""

    aliases = 0

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise UntrustedFileError(f"more than {MAX_ALIASES} YAML aliases (an alias bomb?)")
        return super().compose_node(parent, index)


def expanded_size(obj: Any, budget: int = MAX_NODES) -> int:
    """Number of values in ``obj`` counted as a tree (a shared sub-structure counts each time it is reached),
    stopping as soon as ``budget`` is exceeded (returns ``budget + 1`` then)."""
    count, stack = 0, [obj]
    while stack:
        x = stack.pop()
        count += 1
        if count > budget:
            return count
        if isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, (list, tuple, set)):
            stack.extend(x)
    return count


def parse_yaml(text: str, where: str = "YAML") -> Any:
    """Parse YAML text safely (aliases and expanded size capped).

    Raises:
        UntrustedFileError: one line naming ``where`` and the problem.
    """
    loader = _CappedLoader(text)
    try:
        data = loader.get_single_data()
    except UntrustedFileError as exc:
        raise UntrustedFileError(f"{where}: {exc}") from None
    except yaml.YAMLError as exc:
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
        raise UntrustedFileError(f"{where}: not valid YAML ({clip(first)})") from None
    except RecursionError:
        raise UntrustedFileError(f"{where}: nested too deeply") from None
    finally:
        loader.dispose()
    if expanded_size(data) > MAX_NODES:
        raise UntrustedFileError(
            f"{where}: more than {MAX_NODES:,} values once its aliases are expanded (an alias bomb?)"
        )
    return data


def load_yaml(path: Path, max_bytes: int = MAX_BYTES) -> Any:
    """Read and parse a YAML file with :func:`read_text` and :func:`parse_yaml`."""
    return parse_yaml(read_text(path, max_bytes), str(path))


def load_json(path: Path, max_bytes: int = MAX_BYTES) -> Any:
    """Read and parse a JSON file (size capped; NaN accepted as written by pandas).

    Raises:
        UntrustedFileError: one line naming the file and the problem.
    """
    text = read_text(path, max_bytes)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UntrustedFileError(f"{path}: not valid JSON ({clip(exc.msg)} at line {exc.lineno})") from None
    except RecursionError:
        raise UntrustedFileError(f"{path}: nested too deeply") from None


def check_writable(folder: Path) -> None:
    """Check, before any work, that ``folder`` can be created and written into.

    The nearest existing ancestor must be a folder in which a file can be created: a probe file is made and
    removed there (permission bits alone do not tell, e.g. for root or on a read-only mount).

    Raises:
        UntrustedFileError: naming the folder and why it cannot be written.
    """
    folder = Path(folder)
    probe_dir = folder
    while not probe_dir.exists():
        if probe_dir.parent == probe_dir:
            break
        probe_dir = probe_dir.parent
    if not probe_dir.is_dir():
        raise UntrustedFileError(f"{folder}: cannot be created ({probe_dir} is a file, not a folder)")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".sim-write-probe-", dir=probe_dir)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise UntrustedFileError(
            f"{folder}: not writable ({probe_dir}: {clip(exc.strerror or type(exc).__name__)})"
        ) from None
