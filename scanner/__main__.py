"""``python -m scanner`` is ``leakstop``."""

from scanner.launch import main

main()
