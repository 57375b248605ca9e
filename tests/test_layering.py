"""The package's layers, checked by folder (an ast scan of every module's imports and calls).

* ``sim/core/``: the model. Imports no other layer, no Hydra/OmegaConf, no drawing, and does no file I/O.
* ``sim/analysis/``: designs, calibration, sweeps, scoring. Imports only the core; no Hydra, no drawing, no
files.
* ``sim/store/``: every read and write of seeds, cases and run folders. Imports the core and analysis only.
* ``sim/views/``: figures and reports. Imports core, analysis and store; never Hydra.
* ``sim/edge/``: configuration, command lines and the page: the only layer that imports Hydra.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "sim"
LAYERS = ("core", "analysis", "store", "views", "edge")
ALLOWED = {
    "core": set(),
    "analysis": {"core"},
    "store": {"core", "analysis"},
    "views": {"core", "analysis", "store"},
    "edge": {"core", "analysis", "store", "views"},
}
FILE_CALLS = {
    "open",
    "to_parquet",
    "to_csv",
    "read_parquet",
    "read_csv",
    "savefig",
    "write_text",
    "read_text",
    "write_bytes",
    "read_bytes",
    "mkdir",
    "unlink",
    "rename",
    "replace_file",
}


def _imports(tree: ast.AST, layer: str) -> list[str]:
    """Absolute names of every module imported (relative imports resolved within ``sim.<layer>``)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 1:
                out.append(f"sim.{layer}.{node.module}" if node.module else f"sim.{layer}")
            elif node.level == 2:
                out.append(f"sim.{node.module}" if node.module else "sim")
            else:
                out.append(node.module or "")
    return out


def _modules():
    for layer in LAYERS:
        for path in sorted((PKG / layer).glob("*.py")):
            yield layer, path


def test_every_module_lives_in_a_layer():
    loose = [p.name for p in PKG.glob("*.py") if p.name != "__init__.py"]
    assert not loose, f"modules outside the layer folders: {loose}"


@pytest.mark.parametrize("layer,path", list(_modules()), ids=lambda x: x.name if isinstance(x, Path) else x)
def test_imports_follow_the_layers(layer, path):
    for mod in _imports(ast.parse(path.read_text()), layer):
        if mod.startswith("sim."):
            other = mod.split(".")[1]
            assert other == layer or other in ALLOWED[layer], f"{path.relative_to(PKG)} imports {mod}"
        if layer != "edge":
            assert not mod.startswith(("hydra", "omegaconf")), f"{path.relative_to(PKG)} imports {mod}"
        if layer in ("core", "analysis"):
            assert not mod.startswith(("matplotlib", "solara", "yaml")), (
                f"{path.relative_to(PKG)} imports {mod}"
            )


@pytest.mark.parametrize(
    "layer,path",
    [(la, p) for la, p in _modules() if la in ("core", "analysis")],
    ids=lambda x: x.name if isinstance(x, Path) else x,
)
def test_core_and_analysis_touch_no_files(layer, path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            fn = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            assert fn not in FILE_CALLS, f"{path.relative_to(PKG)} calls {fn}"


def test_the_check_catches_a_crossed_edge(tmp_path):
    """The import scan sees a relative import into another layer (so the tests above can fail)."""
    tree = ast.parse("from ..edge import cli\nfrom .model import X\n")
    assert _imports(tree, "views") == ["sim.edge", "sim.views.model"]
