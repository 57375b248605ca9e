"""The pre-check of a ``sim-run`` command line: everything the run will meet, checked before any work.

What it checks, in order, each failure one line naming the field and the allowed values (exit code 2):

1. the flags (``-m``, ``-cd DIR``, ``-cn NAME``, ``-cp DIR``, ``--yes``; Hydra's informational flags such
   as ``--cfg`` and ``--help`` hand over to Hydra, which runs nothing); the YAML files of a ``-cd`` folder are
   read with the store's safe reader first (size and aliases capped);
2. every override's syntax; ``+key``, ``++key`` and ``~key`` on the run's settings (the schema is closed);
3. every config-group choice (``scenario=...``, ``sweep=...``), composed once per combination by Hydra;
4. every value of every swept key, converted to the schema's type once (``months=abc``, ``10.5`` for an
   integer);
5. every combination of the sweep (cross-field rules: shares that must add up to at most 1, a first arrest
   after the start, ...) -- by constructing the run's configuration, about 0.2 ms each; keys that no rule
   couples (the seed, output switches) are checked value by value and left out of the product;
6. the calibration (its values, and each distinct posterior draw with ``parameter_uncertainty=true``);
7. the output folder (writable; not holding a run unless ``overwrite=true``; a run never goes into a sweep's
   folder nor a sweep into a run's);
8. the size: jobs, replicate-months, and for a large run an estimate of computing time, disk and memory from
   a quick timing of the configuration itself. Above :data:`ASK_ABOVE_SECONDS` of computing or
   :data:`ASK_ABOVE_BYTES` on disk it asks for ``--yes``; a job that would not fit in memory is refused.

Nothing is written. The result is a :class:`Plan` the command hands to Hydra.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import sys
import time
import typing
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, Glob, Override, RangeSweep
from omegaconf import DictConfig, ListConfig, OmegaConf

from sim.analysis.text import clip, clip_repr
from sim.core.params import ParamError
from sim.store.tables import holds_results, holds_sweep, is_run_folder
from sim.store.untrusted import UntrustedFileError, check_writable, load_yaml

from .config import CONF_DIR, RunConfig, forward_setup, register, to_run_config

MAX_JOBS = 100_000  # jobs in one sweep (Hydra lists every job's overrides in memory before it starts)
MAX_GROUP_COMBINATIONS = 500  # scenario x sweep-file choices composed by Hydra
INDEPENDENT = frozenset({"seed", "overwrite", "progress", "progress_every", "report", "fail_on_purpose"})
TIME_ABOVE_REPLICATE_MONTHS = 200_000  # below this a run takes well under a minute: no timing needed
ASK_ABOVE_SECONDS = 600.0  # computing time (summed over jobs) above which --yes is needed
ASK_ABOVE_BYTES = 1e9  # disk above which --yes is needed
PROGRESS_AFTER = 2.0  # seconds of checking after which progress lines are printed
INFO_FLAGS = {
    "--help",
    "-h",
    "--hydra-help",
    "--version",
    "--cfg",
    "-c",
    "--info",
    "-i",
    "--shell-completion",
    "-sc",
}
VALUE_FLAGS = {"--config-path": "-cp", "--config-name": "-cn", "--config-dir": "-cd"}
FLAG_ALIASES = {**{v: k for k, v in VALUE_FLAGS.items()}, "-m": "--multirun"}
ALLOWED_FLAGS = (
    "-m/--multirun, -cd/--config-dir DIR, -cn/--config-name NAME, -cp/--config-path DIR, --yes; "
    "Hydra's --cfg job, --info, --help"
)


class UserError(ValueError):
    """Bad input from the command line: reported in one line, before any work starts."""


@dataclass
class Plan:
    """What a checked command line will do.

    Attributes:
        argv: the command line to hand to Hydra (the output folder pinned, ``--yes`` removed); None for
            Hydra's informational flags (``--cfg``, ``--help``: nothing runs).
        multirun: whether it is a sweep.
        folder: the run folder or the sweep folder.
        folder_given: whether the user chose the folder (else it comes from the configuration's pattern).
        jobs: number of jobs (1 for a single run).
        replicate_months: replicates x months (x design points) summed over the jobs.
        estimate: a sentence stating the expected time, disk and memory of a large run, else "".
        seconds: how long the check took.
    """

    argv: list[str] | None
    multirun: bool = False
    folder: Path | None = None
    folder_given: bool = False
    jobs: int = 1
    replicate_months: int = 0
    estimate: str = ""
    seconds: float = 0.0
    overwrite: bool = False
    launcher: str = ""
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------- flags


def split_argv(argv: list[str]) -> tuple[list[str], dict[str, str | bool]]:
    """(overrides, flags): separate Hydra's flags (normalised to their long names) from key=value overrides.

    Raises:
        UserError: an unknown flag, or a flag without its value.
    """
    overrides, flags = [], {}
    it = iter(range(len(argv)))
    for i in it:
        a = argv[i]
        if not a.startswith("-") or a == "-":
            overrides.append(a)
            continue
        name, eq, value = a.partition("=")
        name = FLAG_ALIASES.get(name, name)
        if name in VALUE_FLAGS:
            if not eq:
                if i + 1 >= len(argv):
                    raise UserError(f"{name}: needs a value")
                value = argv[i + 1]
                next(it, None)
            flags[name] = value
        elif name in ("--multirun", "--yes") or name in INFO_FLAGS or FLAG_ALIASES.get(name) in INFO_FLAGS:
            flags[name] = value if eq else True
            if name in ("--cfg", "-c", "--package", "-p") and not eq and i + 1 < len(argv):
                if argv[i + 1] in ("job", "hydra", "all"):
                    flags[name] = argv[i + 1]
                    next(it, None)
        elif name in ("--resolve", "--package", "-p"):
            flags[name] = True
        else:
            raise UserError(f"{clip(a)}: unknown option; allowed: {ALLOWED_FLAGS}")
    return overrides, flags


# ------------------------------------------------------------------------------------------ sweep values


def sweep_length(o: Override) -> int:
    """Number of values of an override (1 when it does not sweep), without listing them."""
    if not o.is_sweep_override():
        return 1
    v = o.value()
    if isinstance(v, ChoiceSweep):
        return len(v.list)
    if isinstance(v, RangeSweep):
        r = v.range()
        if isinstance(r, range):
            return len(r)
        start, stop, step = Decimal(str(v.start)), Decimal(str(v.stop)), Decimal(str(v.step))
        if step == 0:
            raise UserError(f"{o.input_line}: range step must not be 0")
        return max(0, math.ceil((stop - start) / step))
    if isinstance(v, Glob):
        return -1  # known only against the group's options
    raise UserError(
        f"{clip(o.input_line)}: this kind of sweep cannot be listed; use a,b,c or range(start,stop,step)"
    )


def sweep_values(o: Override, options: list[str] | None = None) -> list[str]:
    """The values of an override as text (the sweeper's own rendering); ``glob(...)`` against ``options``."""
    if not o.is_sweep_override():
        return [o.get_value_element_as_str()]
    v = o.value()
    if isinstance(v, Glob):
        values = v.filter(options or [])
        if not values:
            raise UserError(
                f"{o.get_key_element()}={clip(o.input_line.split('=', 1)[1])}: matches no "
                f"{o.get_key_element()}; allowed: {', '.join(options or [])}"
            )
        return values
    return list(o.sweep_string_iterator())


def parse_overrides(overrides: list[str]) -> list[Override]:
    """Hydra's parse of the overrides; a syntax error becomes one line."""
    try:
        return OverridesParser.create().parse_overrides(overrides)
    except Exception as exc:  # noqa: BLE001 - the parser raises several types
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
        raise UserError(f"{clip(first, 200)}") from None


def count_jobs(overrides: list[str], groups: dict[str, list[str]] | None = None) -> int:
    """Number of jobs a multirun with these overrides runs (product of the swept values' counts)."""
    n = 1
    for o in parse_overrides(overrides):
        if o.get_key_element().startswith(("hydra.", "hydra/")):
            continue
        k = sweep_length(o)
        if k < 0:
            k = len(sweep_values(o, (groups or {}).get(o.get_key_element(), [])))
        n *= k
    return n


def expand_overrides(
    overrides: list[str], groups: dict[str, list[str]] | None = None, cap: int = MAX_JOBS
) -> list[dict[str, str]] | None:
    """Every combination of the values of the (sweep) overrides, as key -> value text (hydra.* keys
    dropped); None when there are more than ``cap`` (never lists a huge sweep in memory)."""
    parsed = [
        o for o in parse_overrides(overrides) if not o.get_key_element().startswith(("hydra.", "hydra/"))
    ]
    groups = group_options([CONF_DIR]) if groups is None else groups
    if count_jobs(overrides, groups) > cap:
        return None
    axes = []
    for o in parsed:
        key = o.get_key_element()
        axes.append([(key, v) for v in sweep_values(o, (groups or {}).get(key, []))])
    return [dict(c) for c in itertools.product(*axes)]


# ------------------------------------------------------------------------------------------ the schema


@lru_cache(maxsize=1)
def schema_fields() -> dict[str, tuple[typing.Any, dict]]:
    """Every setting of the run schema by dotted name: (type, field metadata); groups included."""
    out: dict[str, tuple[typing.Any, dict]] = {}

    def walk(cls: type, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            typ = hints[f.name]
            out[prefix + f.name] = (typ, dict(f.metadata))
            if dataclasses.is_dataclass(typ):
                walk(typ, f"{prefix}{f.name}.")

    walk(RunConfig, "")
    return out


def allowed_value(key: str) -> str:
    """What a setting accepts, in words (from the schema: type, range, unit, choices)."""
    typ, meta = schema_fields()[key]
    optional = typing.get_origin(typ) in (typing.Union, getattr(__import__("types"), "UnionType", None))
    if optional:
        typ = next(a for a in typing.get_args(typ) if a is not type(None))
    rng = ""
    if meta.get("lo") is not None or meta.get("hi") is not None:
        rng = f" in [{meta.get('lo')}, {meta.get('hi')}]" + (f" ({meta['unit']})" if meta.get("unit") else "")
    if dataclasses.is_dataclass(typ):
        sub = [f.name for f in dataclasses.fields(typ)]
        return (
            f"a group of settings; set one of them, e.g. {key}.{sub[0]}=...; its settings: {', '.join(sub)}"
        )
    if meta.get("choices"):
        text = f"one of {', '.join(meta['choices'])}"
    elif typ is bool:
        text = "true or false"
    elif typ is int:
        text = "a whole number" + rng
    elif typ is float:
        text = "a number" + rng
    elif typing.get_origin(typ) is list:
        text = "a list, e.g. [a,b]"
    elif meta.get("unit", "").startswith("YYYY-MM"):
        text = "a month YYYY-MM"
    else:
        text = "text"
    return text + (", or null" if optional else "")


def unknown_key(key: str) -> str:
    """One line for a key the schema does not have, naming the keys allowed at that level."""
    if key.startswith("hydra."):
        return (
            f"{clip(key)}: unknown key; `sim-run --cfg hydra` (with the same launcher) lists Hydra's settings"
        )
    parts = key.split(".")
    fields = schema_fields()
    for depth in range(len(parts) - 1, -1, -1):
        parent = ".".join(parts[:depth])
        if depth == 0 or parent in fields:
            prefix = parent + "." if parent else ""
            names = [k[len(prefix) :] for k in fields if k.startswith(prefix) and "." not in k[len(prefix) :]]
            if not prefix:  # the names the user types for fields that Hydra's groups would shadow
                typed = {"calibrated": "calibration", "timeline_mode": "timeline"}
                names = [typed.get(n, n) for n in names]
            return f"{clip(key)}: unknown key; allowed: {clip(', '.join(names), 900)}"
    return f"{clip(key)}: unknown key"


def _in_mapping(key: str) -> str | None:
    """The mapping field (e.g. ``population.tie_shares``, ``us.instruments``) that ``key`` lies in, whose keys
    the case file gives; None when it lies in none."""
    fields = schema_fields()
    parts = key.split(".")
    for depth in range(len(parts) - 1, 0, -1):
        parent = ".".join(parts[:depth])
        if parent in fields:
            typ = fields[parent][0]
            return parent if typing.get_origin(typ) is dict else None
    return None


def check_mapping_keys(cfg: DictConfig, keys) -> None:
    """Every override inside a case's mapping names an entry the case has (a tie, an instrument).

    Raises:
        UserError: naming the key and the entries the case has.
    """
    for key in keys:
        parent = _in_mapping(key)
        if parent is None:
            continue
        entry = key[len(parent) + 1 :].split(".")[0]
        have = OmegaConf.select(cfg, parent) or {}
        if entry not in have:
            case = OmegaConf.select(cfg, "case.name")
            has = ", ".join(map(str, have)) or "none"
            raise UserError(f"{clip(key)}: unknown key; {parent} of case {case} has: {has}")


@lru_cache(maxsize=1)
def _schema_node() -> DictConfig:
    node = OmegaConf.structured(RunConfig)
    OmegaConf.set_struct(node, True)
    return node


def convert(key: str, value_text: str) -> object:
    """One override value converted to the schema's type, as Hydra will convert it (via OmegaConf).

    Raises:
        UserError: unknown key, or a value of the wrong type, naming what is allowed.
    """
    if key not in schema_fields():
        if _in_mapping(key):  # a key of a case's mapping (ties, instruments): checked once composed
            (o,) = parse_overrides([f"{key}={value_text}"])
            return o.value()
        raise UserError(unknown_key(key))
    (o,) = parse_overrides([f"{key}={value_text}"])
    value = o.value()
    node = _schema_node()
    try:
        OmegaConf.update(node, key, value, merge=False)
        out = OmegaConf.select(node, key)
    except Exception:  # noqa: BLE001 - OmegaConf's validation errors have several types
        raise UserError(f"{key} = {clip_repr(value)}: must be {allowed_value(key)}") from None
    if isinstance(out, (DictConfig, ListConfig)):
        if dataclasses.is_dataclass(schema_fields()[key][0]):
            raise UserError(f"{key} = {clip_repr(value)}: must be {allowed_value(key)}")
        out = OmegaConf.to_container(out)
    return out


# -------------------------------------------------------------------------------------- composing


def one_line(exc: Exception, groups: dict[str, list[str]] | None = None) -> str:
    """A Hydra/OmegaConf/parameter error as one line naming the field and what is allowed."""
    import re

    if isinstance(exc, (ParamError, UserError)):
        return clip_quoted(str(exc))
    text = str(exc) + ("\n" + str(exc.__cause__) if exc.__cause__ is not None else "")
    m = re.search(r"Could not find '(\w+)/([^']*)'", text) or re.search(
        r"In '[^']*': Could not load '(\w+)/([^']*)'", text
    )
    if m:
        group, name = m.groups()
        options = (groups or {}).get(group, [])
        return f"{group}={clip(name)}: unknown {group}; allowed: {', '.join(options)}"
    m = re.search(r'in "([^"]+\.ya?ml)", line (\d+)', text)
    if m:
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        return f"{clip(m.group(1), 200)} line {m.group(2)}: not valid YAML ({clip(first)})"
    full = re.search(r"full_key: ([\w.]+)", text)
    m = re.search(r"Key '([^']+)' (?:not in|is not in struct)", text)
    if m:
        return unknown_key(full.group(1) if full else m.group(1))
    m = re.search(r"Could not override '([^']+)'", text)
    if m:
        return unknown_key(m.group(1))
    m = re.search(r"Value '([^']*)' of type '\w+' could not be converted to (\w+)", text)
    if m:
        return f"{full.group(1) if full else 'value'} = {clip_repr(m.group(1))}: must be of type {m.group(2)}"
    if full and full.group(1) in schema_fields():
        return f"{full.group(1)}: must be {allowed_value(full.group(1))}"
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(exc).__name__)
    return clip_quoted(first, 300) + (f" (field {full.group(1)})" if full else "")


def clip_quoted(text: str, limit: int = 400) -> str:
    """A message with every quoted value cut to about 100 characters, and the whole to ``limit``."""
    import re

    # values already cut (about 120 characters with their note) are left alone
    text = re.sub(r"'([^']{130,})'", lambda m: repr(clip(m.group(1))), " ".join(str(text).split()))
    return clip(text, limit)


class Composer:
    """Hydra's composition of the run configuration, on the same search path as ``sim-run``'s."""

    def __init__(self, config_dir: Path, extra_dir: Path | None, config_name: str) -> None:
        from hydra._internal.hydra import Hydra
        from hydra._internal.utils import create_config_search_path
        from hydra.core.global_hydra import GlobalHydra
        from hydra.core.utils import setup_globals
        from hydra.plugins.config_source import ConfigLoadError  # noqa: F401 - imported for its side effects

        register()
        setup_globals()
        search_path = create_config_search_path(f"file://{config_dir}")
        if extra_dir is not None:
            from hydra._internal.config_search_path_impl import SearchPathQuery

            search_path.prepend(
                provider="command-line", path=f"file://{extra_dir}", anchor=SearchPathQuery(provider="schema")
            )
        GlobalHydra.instance().clear()
        self.hydra = Hydra.create_main_hydra2(task_name="sim-run", config_search_path=search_path)
        self.config_name = config_name

    def compose(self, overrides: list[str]) -> DictConfig:
        from hydra.types import RunMode

        return self.hydra.compose_config(
            config_name=self.config_name,
            overrides=overrides,
            run_mode=RunMode.RUN,
            from_shell=True,
            with_log_configuration=False,
        )

    def close(self) -> None:
        from hydra.core.global_hydra import GlobalHydra

        GlobalHydra.instance().clear()


def group_options(dirs: list[Path]) -> dict[str, list[str]]:
    """The config groups of the config folders (``scenario``, ``sweep``) and their options."""
    out: dict[str, set[str]] = {}
    for d in dirs:
        for sub in d.iterdir() if d.is_dir() else []:
            if (
                sub.is_dir()
                and sub.name not in ("hydra", "calibration")
                and not sub.name.startswith((".", "_"))
            ):
                out.setdefault(sub.name, set()).update(p.stem for p in sub.glob("*.yaml"))
    return {k: sorted(v) for k, v in out.items()}


def scan_config_dir(folder: Path) -> None:
    """Read every YAML file of a user's config folder with the safe reader before Hydra reads any: a file
    too large, binary, or an alias bomb is refused here (Hydra would expand it). A plain syntax error is left
    to Hydra, which reports it only if the run uses that file."""
    files = sorted(folder.rglob("*.yaml")) + sorted(folder.rglob("*.yml"))
    if len(files) > 2000:
        raise UserError(f"{folder}: {len(files)} YAML files; a config folder has a few dozen")
    for f in files:
        try:
            load_yaml(f)
        except UntrustedFileError as exc:
            if "not valid YAML" not in str(exc):
                raise UserError(f"{exc} (in the config folder)") from None


def _quote(value: str) -> str:
    """A value quoted for Hydra's override grammar."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# -------------------------------------------------------------------------------------------- the check


def check(argv: list[str], progress=None) -> Plan:
    """Check a ``sim-run`` command line (see the module's docstring) without writing anything.

    Args:
        argv: the arguments after ``sim-run`` (``calibration=`` already mapped to ``calibrated=``).
        progress: called with a line of text while a long check runs (default: printed to stderr).

    Raises:
        UserError: one line naming the field and the allowed values.
    """
    started = time.perf_counter()
    say = progress or (lambda text: print(text, file=sys.stderr, flush=True))
    overrides, flags = split_argv(argv)
    yes = bool(flags.pop("--yes", False))
    if any(f in INFO_FLAGS or f in ("--resolve", "--package", "-p") for f in flags):
        return Plan(argv=[a for a in argv if a != "--yes"])
    config_dir = Path(str(flags.get("--config-path", CONF_DIR))).absolute()
    if not config_dir.is_dir():
        raise UserError(f"--config-path {clip(config_dir)}: not a folder")
    extra = flags.get("--config-dir")
    extra_dir = Path(str(extra)).absolute() if extra else None
    if extra_dir is not None:
        if not extra_dir.is_dir():
            raise UserError(f"--config-dir {clip(extra)}: not a folder")
        scan_config_dir(extra_dir)
    if config_dir != CONF_DIR.absolute():
        scan_config_dir(config_dir)
    config_name = str(flags.get("--config-name", "config"))
    groups = group_options([d for d in (extra_dir, config_dir) if d is not None])
    if not any((d / f"{config_name}.yaml").is_file() for d in (extra_dir, config_dir) if d is not None):
        raise UserError(f"--config-name {clip(config_name)}: no {config_name}.yaml in the config folders")

    parsed = parse_overrides(overrides)
    hydra_over, group_over, value_over = [], {}, {}
    for o in parsed:
        key = o.get_key_element()
        if key.startswith(("hydra.", "hydra/")) or key == "hydra":
            if o.is_sweep_override():
                raise UserError(f"{clip(o.input_line)}: hydra settings cannot be swept")
            hydra_over.append(o.input_line)
            continue
        if o.is_delete() or o.is_add() or o.is_force_add():
            raise UserError(closed_schema(o, groups))
        if key in groups:
            group_over[key] = o
        else:
            value_over[key] = o

    composer = Composer(config_dir, extra_dir, config_name)
    try:
        return _check(composer, flags, hydra_over, group_over, value_over, groups, yes, say, started, argv)
    finally:
        composer.close()


def closed_schema(o: Override, groups: dict[str, list[str]]) -> str:
    """One line for ``+key=v``, ``++key=v`` or ``~key``: the run's settings are a closed schema."""
    key = o.key_or_group
    what = "removing" if o.is_delete() else "adding"
    head = f"{clip(o.input_line)}: {what} settings is not allowed (the schema is closed)"
    if key in schema_fields() or key in groups:
        return f"{head}; set it as {key}=VALUE"
    return f"{head}; {unknown_key(key)}"


def _check_size(counts: dict[str, int], group_values: dict[str, list[str]]) -> int:
    """The number of jobs, refused above :data:`MAX_JOBS` before any value is listed."""
    n_groups = math.prod(len(v) for v in group_values.values())
    if n_groups > MAX_GROUP_COMBINATIONS:
        raise UserError(f"{n_groups:,} combinations of config files: at most {MAX_GROUP_COMBINATIONS}")
    jobs = n_groups * math.prod(counts.values())
    if jobs > MAX_JOBS:
        sizes = " x ".join(f"{c:,} ({k})" for k, c in counts.items() if c > 1)
        raise UserError(f"the sweep has {jobs:,} jobs ({sizes}); at most {MAX_JOBS:,} in one sweep: split it")
    if jobs == 0:
        raise UserError("the sweep has no jobs (an empty range?)")
    return jobs


def without_hydra(cfg: DictConfig) -> DictConfig:
    """The run's own configuration (Hydra's node removed), as the task function receives it."""
    from omegaconf import open_dict

    cfg = cfg.copy()
    with open_dict(cfg):
        cfg.pop("hydra", None)
    return cfg


def _first(o: Override, groups: dict[str, list[str]]) -> str:
    if not o.is_sweep_override():
        return o.get_value_element_as_str()
    if isinstance(o.value(), Glob):
        return sweep_values(o, groups.get(o.get_key_element()))[0]
    return next(iter(o.sweep_string_iterator()))  # never lists a long range to take its first value


def _check(composer, flags, hydra_over, group_over, value_over, groups, yes, say, started, argv) -> Plan:
    def compose(group_choice: dict[str, str], values: dict[str, str]) -> DictConfig:
        over = [
            *hydra_over,
            *(f"{k}={v}" for k, v in group_choice.items()),
            *(f"{k}={v}" for k, v in values.items()),
        ]
        try:
            return composer.compose(over)
        except Exception as exc:  # noqa: BLE001 - composition errors of every kind become one line
            raise UserError(one_line(exc, groups)) from None

    # the sweep file's own sweep (hydra.sweeper.params) joins the command line's; the command line wins
    group_values = {k: sweep_values(o, groups[k]) for k, o in group_over.items()}
    if len(group_values.get("sweep", [])) > 1:
        raise UserError("sweep: choose one sweep file per command (each defines its own sweep)")
    counts = {k: sweep_length(o) for k, o in value_over.items()}
    _check_size(counts, group_values)
    first_values = {k: _first(o, groups) for k, o in value_over.items()}
    converted: dict[str, list[object]] = {
        k: [convert(k, t) for t in sweep_values(o)] for k, o in value_over.items()
    }
    case_keys = [k for k in value_over if _in_mapping(k)]
    if case_keys:  # entries of a case's mappings: named against the case before composing with them
        plain = {k: v for k, v in first_values.items() if k not in case_keys}
        for choice in itertools.product(*[[(k, v) for v in vals] for k, vals in group_values.items()]):
            check_mapping_keys(compose(dict(choice), plain), case_keys)
    base = compose({k: v[0] for k, v in group_values.items()}, first_values)
    params = OmegaConf.select(base, "hydra.sweeper.params") or {}
    if params:
        extra = parse_overrides(
            [f"{k}={v}" for k, v in params.items() if k not in value_over and k not in group_over]
        )
        for o in extra:
            key = o.get_key_element()
            if key in groups:
                group_over[key] = o
                group_values[key] = sweep_values(o, groups[key])
            else:
                value_over[key] = o
                counts[key] = sweep_length(o)
                _check_size(counts, group_values)
                first_values[key] = _first(o, groups)
                converted[key] = [convert(key, t) for t in sweep_values(o)]
    multirun = (
        bool(flags.get("--multirun")) or str(OmegaConf.select(base, "hydra.mode")) == "RunMode.MULTIRUN"
    )
    if not multirun:
        swept = [k for k, o in {**group_over, **value_over}.items() if o.is_sweep_override()]
        if swept:
            raise UserError(f"{swept[0]}: several values need a sweep; add -m (--multirun)")

    jobs = _check_size(counts, group_values)

    coupled = [k for k in converted if k not in INDEPENDENT]
    independent = [k for k in converted if k in INDEPENDENT]
    # each independent value alone, against the first configuration
    bases = {}
    for choice in itertools.product(*[[(k, v) for v in vals] for k, vals in group_values.items()]):
        cfg = compose(dict(choice), first_values)
        try:
            bases[choice] = to_run_config(without_hydra(cfg))
        except Exception as exc:  # noqa: BLE001 - range and cross-field errors alike become one line
            raise UserError(one_line(exc, groups)) from None
    first_base = next(iter(bases.values()))
    for key in independent:
        for v in converted[key]:
            try:
                first_base.replace(**{key: v})
            except (ParamError, ValueError) as exc:
                raise UserError(one_line(exc)) from None

    explicit = set(value_over)
    total = len(bases) * math.prod(len(converted[k]) for k in coupled)
    checked, last_say = 0, time.perf_counter()
    work, job_rows, first_rc = 0, 0, None
    seen_calibrations: set = set()
    for choice, base_rc in bases.items():
        for combo in itertools.product(*[converted[k] for k in coupled]):
            changes = dict(zip(coupled, combo))
            try:
                rc = base_rc.replace(**changes) if changes else base_rc
            except (ParamError, ValueError, TypeError) as exc:
                where = ", ".join(f"{k}={clip(v, 40)}" for k, v in {**dict(choice), **changes}.items())
                raise UserError(one_line(exc) + (f" (at {where})" if multirun and where else "")) from None
            cal_key = (rc.calibrated, rc.parameter_uncertainty, rc.timeline_mode, choice)
            if cal_key not in seen_calibrations:
                seen_calibrations.add(cal_key)
                try:  # the calibration, each drawn particle with the run's values, the timeline
                    forward_setup(dataclasses.replace(rc, replicates=min(rc.replicates, 1000)), explicit)
                except (ParamError, ValueError) as exc:
                    raise UserError(one_line(exc)) from None
            first_rc = first_rc or rc
            points = design_points(rc)
            work += rc.replicates * rc.months * points
            job_rows = max(job_rows, rc.replicates * rc.months * points)
            checked += 1
            if 1 < checked < total and time.perf_counter() - last_say > PROGRESS_AFTER:  # a sweep, part way
                last_say = time.perf_counter()
                say(f"sim-run: checking the sweep: {checked:,} of {total:,} combinations")
    work *= math.prod(len(converted[k]) for k in independent)

    # the output folder
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    given = next((o.split("=", 1)[1] for o in hydra_over if o.split("=", 1)[0] == key), None)
    try:
        folder_text = str(OmegaConf.select(base, key))
    except Exception as exc:  # noqa: BLE001 - an unresolvable pattern
        raise UserError(f"{key}: cannot be resolved ({clip(one_line(exc))})") from None
    folder = Path(folder_text)
    try:
        check_writable(folder)
    except UntrustedFileError as exc:
        raise UserError(f"{key}={clip(exc, 600)}") from None
    overwrite = bool(first_rc.overwrite)
    if multirun:
        if is_run_folder(folder) or (folder / "summary.json").exists():
            raise UserError(f"{key}={clip(folder)}: holds a single run, not a sweep; choose another folder")
    else:
        if holds_sweep(folder):
            raise UserError(
                f"{key}={clip(folder)}: holds a sweep's jobs; a run never goes into a sweep's folder"
            )
        if holds_results(folder) and not overwrite and given is not None:
            raise UserError(
                f"{key}={clip(folder)}: already holds a run; choose a new folder or add overwrite=true"
            )
    launcher = str(OmegaConf.select(base, "hydra.launcher._target_") or "")
    plan = Plan(
        argv=None,
        multirun=multirun,
        folder=folder,
        folder_given=given is not None,
        jobs=jobs,
        replicate_months=work,
        overwrite=overwrite,
        launcher=launcher,
    )
    workers = _workers(base, jobs, multirun)
    plan.estimate = size_check(first_rc, explicit, work, job_rows, jobs, workers, yes)
    plan.argv = [a for a in argv if a != "--yes"]
    plan.seconds = time.perf_counter() - started
    return plan


def _workers(cfg: DictConfig, jobs: int, multirun: bool) -> int:
    """Jobs running at once (for the size estimate); checks the pool's ``n_jobs``."""
    if not multirun:
        return 1
    target = str(OmegaConf.select(cfg, "hydra.launcher._target_") or "")
    n = OmegaConf.select(cfg, "hydra.launcher.n_jobs")
    if "ProcessPoolLauncher" in target and (
        not isinstance(n, int) or isinstance(n, bool) or n == 0 or n < -1
    ):
        raise UserError(
            f"hydra.launcher.n_jobs = {clip_repr(n)}: must be a whole number of worker processes, or -1 for "
            "one per core"
        )
    if "Slurm" in target:
        n = OmegaConf.select(cfg, "hydra.launcher.array_parallelism") or jobs
    elif "BasicLauncher" in target:
        n = 1
    if not isinstance(n, int) or n < 1:
        n = os.cpu_count() or 1
    return max(1, min(int(n), jobs))


@lru_cache(maxsize=64)
def _n_points(method: str, samples: int, include_levers: bool, factors: tuple[str, ...]) -> int:
    from sim.analysis import design

    try:
        d = len(design.factors(include_levers, list(factors) or None))
    except ValueError as exc:
        raise UserError(clip_quoted(str(exc))) from None
    if d == 0:
        raise UserError("design.factors: no factor to vary; name parameters with a plausible range")
    return samples * (d + 2) if method == "sobol" else samples * (d + 1)


def design_points(rc: RunConfig) -> int:
    """Design points one job runs (1 without a design)."""
    d = rc.design
    if d.method == "none":
        return 1
    n = _n_points(d.method, d.samples, d.include_levers, tuple(d.factors))
    return math.ceil(n / d.chunks)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _bytes(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def quick_timing(rc: RunConfig, explicit: set[str]) -> tuple[float, float, float]:
    """(seconds, bytes on disk, bytes in memory) per replicate-month, measured on this configuration:
    8 replicates of up to 24 months (about a tenth of a second). Disk counts the run's three tables as
    Parquet; on 8 replicates Parquet compresses less than on thousands, so the estimate errs high."""
    import io

    from sim.core.metrics import outcomes
    from sim.core.run import run_replicates

    months, reps = min(rc.months, 24), 8
    fw = forward_setup(dataclasses.replace(rc, replicates=reps), explicit)
    run_replicates(fw.params[0], 2, 1, rc.seed)  # warm-up
    t0 = time.perf_counter()
    res = run_replicates(fw.params, months, reps, rc.seed, events=fw.events, replay_until=fw.replay_until,
                         starts=fw.starts)  # fmt: skip
    seconds = (time.perf_counter() - t0) / (reps * months)
    disk = 0
    for table in (res.timeseries, res.deals, outcomes(res.timeseries, res.deals)):
        buf = io.BytesIO()
        table.to_parquet(buf, index=False)
        disk += buf.tell()
    memory = res.timeseries.memory_usage(deep=True).sum()
    return seconds, disk / (reps * months), memory / (reps * months)


def physical_memory() -> float:
    """Bytes of physical memory on this machine (0 when unknown)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0.0


def size_check(
    rc: RunConfig, explicit: set[str], work: int, job_rows: int, jobs: int, workers: int, yes: bool
) -> str:
    """For a large run: a sentence with the expected computing time, disk and memory (from a quick timing of
    the configuration), refusing without ``--yes`` above the thresholds and refusing a job that cannot fit in
    memory. Returns "" for a run too small to need one.

    The estimate: seconds, disk and memory per replicate-month measured on 2 replicates of this configuration,
    times the replicate-months of the run. Memory counts a job's tables about three times (the replicates'
    tables, their concatenation, and the Parquet writer's copy).
    """
    if work < TIME_ABOVE_REPLICATE_MONTHS:
        return ""
    sec, disk, mem = quick_timing(rc, explicit)
    cpu, size, peak = work * sec, work * disk, 3 * job_rows * mem
    ram = physical_memory()
    what = (
        f"{jobs:,} job{'s' if jobs != 1 else ''}, {work:,} replicate-months: "
        f"about {_duration(cpu)} of computing"
        + (f" ({_duration(cpu / workers)} on {workers} workers)" if workers > 1 else "")
        + f", {_bytes(size)} on disk and {_bytes(peak)} of memory per job"
    )
    if ram and peak > 0.8 * ram:
        raise UserError(
            f"too large for one job: {what}, more than this machine's {_bytes(ram)}; "
            "split the replicates over a sweep of seeds (e.g. -m seed=range(0,10) with fewer replicates)"
        )
    if (cpu > ASK_ABOVE_SECONDS or size > ASK_ABOVE_BYTES) and not yes:
        raise UserError(f"a large run: {what}; add --yes to start it")
    return f"a large run: {what} (estimated from a quick timing of this configuration)"
