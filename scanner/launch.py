"""The ``leakstop`` console entry: for a scan, start the engine helper before the CLI loads
(see ``scanner.preload``), then run the CLI. Kept apart from ``scanner.cli`` so that
importing the CLI (tests, ``python -c``) never forks."""

from __future__ import annotations

import sys


def main() -> None:
    """Console-script entry point."""
    from scanner import preload

    preload.start(sys.argv[1:])
    from scanner.cli import main as cli_main

    cli_main()
