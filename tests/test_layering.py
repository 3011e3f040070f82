"""Imports go downward only: the layers of DESIGN.md, read from the source of every module.

Every ``import`` and ``from … import`` under src/zerodl counts, the ones inside
functions too (a lazy import is still a dependency). A module belongs to the
layer of its top-level name (``zerodl.nn.layers`` is in ``nn``'s layer).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "zerodl"

# DESIGN.md's diagram, from the bottom up. The root package ``zerodl`` (its
# __init__) loads the engine, functional and numerical, so it sits with them.
LAYERS = [
    ("engine", {"autograd", "backend", "kernels", "tensors", "random", "memory", "optional",
                "files", "npz"}),
    ("operations", {"functional", "numerical", "zerodl"}),
    ("building blocks", {"nn", "optim", "data", "io", "distributed", "gradcheck_cases"}),
    ("workflows", {"train", "viz", "landscape", "runs", "book"}),
    ("people", {"commands", "lab", "cli", "__main__"}),
]
RANK = {name: rank for rank, (_, names) in enumerate(LAYERS) for name in names}


def test_every_module_has_a_layer():
    unplaced = sorted({_top(m) for m in _imports()} - set(RANK))
    assert not unplaced, f"modules without a layer: {unplaced}; add them to LAYERS in this test"


def test_no_module_imports_a_higher_layer():
    upward = [f"{module} ({LAYERS[RANK[_top(module)]][0]}) imports {target} "
              f"({LAYERS[RANK[_top(target)]][0]})"
              for module, targets in _imports().items() for target in targets
              if _top(module) in RANK and _top(target) in RANK
              and RANK[_top(target)] > RANK[_top(module)]]
    assert upward == []


def test_nothing_but_the_command_line_imports_zerodl_commands():
    importers = sorted(module for module, targets in _imports().items()
                       if any(t == "zerodl.commands" or t.startswith("zerodl.commands.")
                              for t in targets)
                       and not module.startswith(("zerodl.commands", "zerodl.cli")))
    assert importers == []


def test_kernels_import_nothing_of_zerodl_but_the_backend():
    others = sorted({t for module, targets in _imports().items() if _top(module) == "kernels"
                     for t in targets if _top(t) not in ("kernels", "backend")})
    assert others == []


@pytest.mark.parametrize("statement", ["import zerodl", "import zerodl.optim",
                                       "import zerodl.train", "import zerodl.viz"])
def test_importing_zerodl_loads_numpy_alone(statement):
    """No matplotlib, tqdm or web code at import time, and only the layers a module needs."""
    code = (f"import sys; {statement}; "
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('matplotlib', 'tqdm', 'http', 'torch', 'mpi4py', 'cupy'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == []


def test_import_zerodl_stops_at_the_operations_layer():
    code = ("import sys, zerodl; "
            "print(' '.join(sorted({m.split('.')[1] for m in sys.modules "
            "if m.startswith('zerodl.')})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    loaded = done.stdout.split()
    assert loaded and all(RANK[name] <= RANK["zerodl"] for name in loaded), loaded


# ---------------------------------------------------------------- helpers
def _imports() -> dict[str, set[str]]:
    """{module: the zerodl modules it imports}, resolved from relative imports."""
    graph = {}
    for path in SRC.rglob("*.py"):
        module = _module_name(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
                # `from zerodl import nn` imports zerodl.nn; `from zerodl import Tensor`, zerodl
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    targets.add(submodule if _is_module(submodule) else base)
        graph[module] = {t for t in targets if t == "zerodl" or t.startswith("zerodl.")}
    return graph


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (SRC / relative).with_suffix(".py").exists() or (SRC / relative / "__init__.py").exists()


def _top(module: str) -> str:
    """The layer-giving name: ``zerodl.nn.layers`` -> ``nn``, ``zerodl`` -> ``zerodl``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "zerodl"
