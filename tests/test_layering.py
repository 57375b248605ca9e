"""The core imports neither Hydra nor OmegaConf and does no file I/O (ast scan)."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = ["params", "bargaining", "prisoners", "agents", "model", "metrics", "run", "design"]
PKG = Path(__file__).resolve().parents[1] / "sim"


def test_core_is_free_of_hydra_and_io():
    for name in CORE:
        tree = ast.parse((PKG / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for m in mods:
                    assert not m.startswith(("hydra", "omegaconf")), (name, m)
                    assert m not in ("tables", "sources", "report", "plotting", "cli", "config"), (name, m)
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
                fn = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
                assert fn not in ("open", "to_parquet", "to_csv", "read_parquet", "read_csv", "savefig",
                                  "write_text"), (name, fn)


def test_only_the_edge_imports_hydra():
    for path in PKG.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(m.startswith(("hydra", "omegaconf")) for m in mods):
                    assert path.stem in ("config", "cli"), path.name
