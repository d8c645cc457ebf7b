"""`python -m labapi` runs the command-line interface."""

from labapi.cli import main

raise SystemExit(main())
