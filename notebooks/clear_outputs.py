"""Clear the outputs of notebooks before committing them: the repository keeps them empty.

    python notebooks/clear_outputs.py                   # every notebook in this folder
    python notebooks/clear_outputs.py ch05_backprop.ipynb

Outputs, execution counts and execution-time metadata go; the cells stay as they are.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def clear(path: Path) -> bool:
    """Clear ``path`` in place; True when something was removed."""
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.outputs or cell.execution_count is not None or "execution" in cell.metadata:
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
            changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    paths = [Path(p) for p in sys.argv[1:]] or sorted(here.glob("*.ipynb"))
    for p in paths:
        print(f"{'cleared' if clear(p) else 'clean  '} {p}")
