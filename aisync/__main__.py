"""`python -m aisync` runs the CLI."""

from aisync.cli import main

main()
