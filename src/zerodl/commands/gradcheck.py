"""`zerodl gradcheck`: check every operation's backward against central differences."""

from __future__ import annotations


def add_parser(subparsers):
    """``zerodl gradcheck``'s options."""
    p = subparsers.add_parser(
        "gradcheck",
        help="check every operation's gradient (autodiff vs numerical, float64)",
        description="Run the float64 gradient check of every registered operation and print "
                    "a table: operation, max abs error, pass/fail.",
    )
    p.add_argument("names", nargs="*", help="only the operations whose name contains one of these")
    p.add_argument("--seed", type=int, default=0)
    return p


def run(args) -> int:
    """Check the chosen cases of ``zerodl.gradcheck_cases`` and print a table; 1 if any fails."""
    from ..gradcheck_cases import CASES, run_all

    failed = 0
    width = max(len(c.name) for c in CASES)
    print(f"{'operation':<{width}}  {'max abs error':>13}  result")
    for case, err, ok in run_all(seed=args.seed, names=args.names):
        failed += not ok
        print(f"{case.name:<{width}}  {err:>13.2e}  {'pass' if ok else 'FAIL'}")
    print(f"{'all passed' if not failed else f'{failed} FAILED'}")
    return 1 if failed else 0
