"""``python -m scanner`` is ``leakstop``."""

from scanner.cli import main

main()
