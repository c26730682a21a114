"""``python -m fedchain_magics COMMAND``: see :mod:`fedchain_magics.cli`."""

from .cli import main

raise SystemExit(main())
