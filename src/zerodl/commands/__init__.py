"""Subcommands of the `zerodl` command, one module each (see zerodl/cli.py)."""
