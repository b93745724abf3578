"""``python -m trustreview``: the command-line interface."""

from trustreview.cli import main

if __name__ == "__main__":  # not when a worker process (spawned) imports it again
    raise SystemExit(main())
