"""`python -m gambero` is the `gambero` command."""

from gambero.cli import main

raise SystemExit(main())
