"""``python -m trustreview``: the command-line interface."""

from trustreview.cli import main

raise SystemExit(main())
