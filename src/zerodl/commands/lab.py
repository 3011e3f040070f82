"""`zerodl lab`: the web lab on a local port (gradients, optimizers and networks, live)."""

from __future__ import annotations

import sys

from .errors import CommandError
from .options import number

DEFAULT_PORT = 8765


def add_parser(subparsers):
    """``zerodl lab``'s options."""
    p = subparsers.add_parser(
        "lab",
        help="open the web lab: descent races, live network training, digit drawing",
        description="Start the zerodl lab, a local web page where optimizers race on 2-D "
                    "surfaces, an MLP learns a 2-D dataset live and a trained network reads the "
                    "digits you draw. Stop it with Ctrl-C.",
    )
    p.add_argument("--port", type=number(int, 0, 65535), default=DEFAULT_PORT,
                   help=f"port to listen on (0 picks a free one; default {DEFAULT_PORT})")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    p.add_argument("--model-dir", metavar="DIR", default=None,
                   help="a `zerodl train --dataset mnist` output folder for the digits panel "
                        "(default: the newest one under runs/)")
    p.add_argument("--verbose", action="store_true", help="log every request")
    p.set_defaults(parser=p)
    return p


def run(args) -> int:
    """Serve the lab until Ctrl-C (opening the browser unless told not to)."""
    from ..lab.digits import ModelDirError
    from ..lab.server import LabServer

    try:
        server = LabServer(args.host, args.port, model_dir=args.model_dir, verbose=args.verbose)
    except ModelDirError as e:
        raise CommandError(str(e), 2) from None
    except OSError as e:
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {e.strerror or e} "
                           "(try --port 0 for any free port)") from None
    status = server.digits.status()
    print(f"zerodl lab running at {server.url}  (Ctrl-C stops it)", flush=True)
    if status["available"]:
        print(f"digits model: {status['source']}", flush=True)
    else:
        if status["error"]:  # the newest run under runs/ could not be used: say so, go on
            print(f"digits model: skipped the newest run: {status['error']}", flush=True)
        print("digits model: none yet (train one in the page, or `zerodl train --dataset mnist`)",
              flush=True)
    if not args.no_browser:
        import webbrowser

        try:
            webbrowser.open(server.url)
        except Exception as e:  # no browser here: the URL above is enough
            print(f"(could not open a browser: {e})", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopping the lab", flush=True)
    finally:
        server.close()
    return 0
