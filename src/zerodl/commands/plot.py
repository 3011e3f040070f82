"""`zerodl plot`: draw one of the articles' figures to a file.

    zerodl plot surface --function bowl --out bowl.png
    zerodl plot gradient-field --function himmelblau --normalize --out field.png
    zerodl plot activations --out activations.png
    zerodl plot difference-error --out differences.png
"""

from __future__ import annotations

from .errors import IMAGE_SUFFIXES, CommandError, check_output_file
from .options import pair

KINDS = ("surface", "gradient-field", "activations", "difference-error")
MAX_LIMIT = 1e6  # |LO|, |HI| of --xlim/--ylim: f is evaluated on a grid there in float64


def add_parser(subparsers):
    """``zerodl plot``'s options."""
    from ..landscape import FUNCTIONS

    p = subparsers.add_parser(
        "plot",
        help="draw a figure: surface, gradient-field, activations, difference-error",
        description="Draw one figure to a file (PNG, SVG or PDF by the suffix). surface: f(x, y) "
                    "in 3-D; gradient-field: contours and the arrows of -grad f; activations: "
                    "each activation and its autodiff derivative; difference-error: error of "
                    "forward and central differences against h.",
    )
    p.add_argument("kind", choices=KINDS, help="which figure")
    p.add_argument("--function", default="bowl",
                   help=f"for surface and gradient-field: one of {', '.join(FUNCTIONS)}")
    p.add_argument("--xlim", default=None, metavar="LO,HI",
                   help="x range, e.g. --xlim=-1,1 (default: the function's window)")
    p.add_argument("--ylim", default=None, metavar="LO,HI", help="y range, e.g. --ylim=-1,1")
    p.add_argument("--kind3d", choices=["wireframe", "surface"], default="wireframe",
                   help="for surface: wireframe (default) or coloured surface")
    p.add_argument("--normalize", action="store_true",
                   help="for gradient-field: unit arrows coloured by |grad f|")
    p.add_argument("--out", required=True,
                   help=f"image file to write, e.g. figure.png ({', '.join(IMAGE_SUFFIXES)})")
    return p


def run(args) -> int:
    """Draw the chosen figure to ``--out``; every option is checked first (exit status 2)."""
    from .. import landscape

    if args.function not in landscape.FUNCTIONS:
        raise CommandError(f"unknown function {args.function!r}; "
                           f"valid names: {', '.join(landscape.FUNCTIONS)}", 2)
    xlim, ylim = _limits(args.xlim, "--xlim"), _limits(args.ylim, "--ylim")
    check_output_file(args.out)

    from .. import viz

    if args.kind == "surface":
        viz.plot_surface(args.function, xlim, ylim, kind=args.kind3d, path=args.out)
    elif args.kind == "gradient-field":
        viz.plot_gradient_field(args.function, xlim, ylim, normalize=args.normalize,
                                path=args.out)
    elif args.kind == "activations":
        viz.plot_activations(path=args.out)
    else:
        viz.plot_difference_error(path=args.out)
    print(f"wrote {args.out}")
    return 0


def _limits(text, flag):
    """(LO, HI) from "LO,HI": finite, LO < HI, both within ±MAX_LIMIT."""
    if text is None:
        return None
    try:
        lo, hi = pair(text, flag, ("LO", "HI"), "-1,1", bound=MAX_LIMIT)
    except ValueError as e:
        raise CommandError(str(e), 2) from None
    if not lo < hi:
        raise CommandError(f"{flag} {text!r}: LO must be smaller than HI", 2)
    return lo, hi
