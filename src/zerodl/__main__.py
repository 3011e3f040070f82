"""`python -m zerodl` runs the zerodl command."""

from .cli import main

raise SystemExit(main())
