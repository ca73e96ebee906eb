"""``python -m simcore`` is the ``simcore`` command."""

from simcore.cli import main

raise SystemExit(main())
