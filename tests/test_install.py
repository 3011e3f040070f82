"""README's "Use zerodl in your own project": every command of its block, run as written.

The block is read out of README.md and run by bash, line by line with ``set -e``,
in a fresh clone of this repository with a fresh virtual environment; pip
fetches numpy, tqdm and the extras from the package index. Slow (a minute or
two), so it runs with ``-m slow`` (CI runs both).
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MARKER = "<!-- every command of this block is run by tests/test_install.py -->"


def readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(re.escape(MARKER) + r"\s*```sh\n(.*?)```", text, flags=re.S)
    assert match, f"README.md lost its install block (the line {MARKER!r} before a sh block)"
    return match.group(1)


def test_the_readme_block_is_found_and_holds_the_commands_it_promises():
    block = readme_block()
    for command in ("source .venv/bin/activate", "pip install -e .", "zerodl --version",
                    "pip wheel", "git+file://"):
        assert command in block


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed to clone the repository")
def test_every_command_of_the_install_block_works_in_a_fresh_clone(tmp_path):
    clone = tmp_path / "zerodl"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(Path(sys.prefix))))
    script = "set -euo pipefail\n" + readme_block() + "\ncommand -v zerodl\n"
    done = subprocess.run(["bash", "-c", script], cwd=clone, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    import zerodl

    lines = done.stdout.splitlines()
    assert f"zerodl {zerodl.__version__}" in lines          # zerodl --version
    assert zerodl.__version__ in lines                      # python -c "import zerodl; ..."
    assert lines[-1] == str(clone / ".venv" / "bin" / "zerodl")   # the command is on PATH
    wheels = list((clone / "dist").glob("zerodl-*.whl"))
    assert len(wheels) == 1
