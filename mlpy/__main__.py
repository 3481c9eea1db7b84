"""`python -m mlpy` is the `mlpy` command."""

from .cli import main

raise SystemExit(main())
