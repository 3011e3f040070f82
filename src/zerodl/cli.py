"""The ``zerodl`` command (also ``python -m zerodl``).

Each subcommand lives in ``zerodl/commands/<name>.py`` with two functions:
``add_parser(subparsers)`` declares its options and ``run(args)`` does the
work, importing what it needs only then, so ``zerodl --help`` is instant.

Every failure ends the same way, here in ``main``: one message on stderr
naming the command, what went wrong and the fix, and a non-zero exit status
(``zerodl.commands.errors``); ``--debug`` or ``ZERODL_DEBUG=1`` adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .commands.errors import debugging, report
from .memory import keep_freed_memory

COMMANDS = ["gradcheck", "train", "evaluate", "descent", "plot", "lab"]
DEBUG_HELP = "on a failure, print the traceback too (also ZERODL_DEBUG=1)"


def build_parser() -> argparse.ArgumentParser:
    """The ``zerodl`` argument parser, with one subcommand per module of ``zerodl/commands``."""
    parser = argparse.ArgumentParser(
        prog="zerodl",
        description="zerodl: deep learning built from zero on NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"zerodl {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as e:
            if e.name and e.name.endswith(f"commands.{name}"):
                continue  # a command not written yet
            raise
        sub = module.add_parser(subparsers)
        # Also after the command's name; SUPPRESS keeps `zerodl --debug train` working.
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                         help=DEBUG_HELP)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; returns the exit status.

    0 on success, 2 for a bad option, 130 after Ctrl-C, 1 for any other
    failure, which is reported in one message (``commands.errors.report``).
    """
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
    except Exception as e:
        return report(args.command, e, debug=debugging(args.debug))


if __name__ == "__main__":
    raise SystemExit(main())
