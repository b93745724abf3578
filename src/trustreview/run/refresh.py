"""``python -m trustreview.run.refresh [NOTEBOOKS_DIR]``: re-execute the committed notebooks in
place on the bundled corpus and store their normalised outputs (``make notebooks``)."""

import sys

from trustreview.errors import TrustreviewError
from trustreview.run.runner import refresh_notebooks, stderr_progress

if __name__ == "__main__":
    try:
        refresh_notebooks(sys.argv[1] if len(sys.argv) > 1 else "notebooks", stderr_progress)
    except TrustreviewError as error:
        print(f"trustreview: error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
