"""The ``zerodl`` command (also ``python -m zerodl``).

Each subcommand lives in ``zerodl/commands/<name>.py`` with two functions:
``add_parser(subparsers)`` declares its options and ``run(args)`` does the
work, importing what it needs only then, so ``zerodl --help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .memory import keep_freed_memory
from .optional import MissingExtra

COMMANDS = ["gradcheck", "train", "evaluate", "descent", "plot", "lab"]


def build_parser() -> argparse.ArgumentParser:
    """The ``zerodl`` argument parser, with one subcommand per module of ``zerodl/commands``."""
    parser = argparse.ArgumentParser(
        prog="zerodl",
        description="zerodl: deep learning built from zero on NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"zerodl {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as e:
            if e.name and e.name.endswith(f"commands.{name}"):
                continue  # a command not written yet
            raise
        sub = module.add_parser(subparsers)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    keep_freed_memory()  # the command owns its process: steps reuse freed arrays (memory.py)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except MissingExtra as e:  # its message says what to pip install
        print(f"zerodl: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
