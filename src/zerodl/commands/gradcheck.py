"""`zerodl gradcheck`: check every operation's backward against central differences."""

from __future__ import annotations

from .errors import CommandError
from .options import number

MAX_SEED = 2**32 - 1


def add_parser(subparsers):
    """``zerodl gradcheck``'s options."""
    p = subparsers.add_parser(
        "gradcheck",
        help="check every operation's gradient (autodiff vs numerical, float64)",
        description="Run the float64 gradient check of every registered operation and print "
                    "a table: operation, max abs error, pass/fail.",
    )
    p.add_argument("names", nargs="*",
                   help="only the operations whose name contains one of these (default: all)")
    p.add_argument("--seed", type=number(int, 0, MAX_SEED), default=0,
                   help="seed of the random inputs, 0 to 2**32-1 (default 0); another seed "
                        "checks every operation at other points")
    return p


def run(args) -> int:
    """Check the chosen cases of ``zerodl.gradcheck_cases`` and print a table; 1 if any fails."""
    from ..gradcheck_cases import CASES, run_all, select

    try:
        select(args.names)  # an unknown name fails before any check runs
    except ValueError as e:
        raise CommandError(str(e).removeprefix("gradcheck: "), 2) from None
    failed = 0
    width = max(len(c.name) for c in CASES)
    print(f"{'operation':<{width}}  {'max abs error':>13}  result")
    for case, err, ok in run_all(seed=args.seed, names=args.names):
        failed += not ok
        print(f"{case.name:<{width}}  {err:>13.2e}  {'pass' if ok else 'FAIL'}")
    print(f"{'all passed' if not failed else f'{failed} FAILED'}")
    return 1 if failed else 0
