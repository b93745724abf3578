"""``trustreview new``: a review folder a researcher owns, started from reference files.

The folder holds ``corpus/studies.csv`` (one row per reference, awaiting screening, the
summary prefilled from the abstract), ``corpus/codes.csv`` (header only),
``corpus/codebook.yml`` (the bundled codebook, to edit), ``references.bib``, the stage
notebooks without outputs and a short README with the next commands. It is built in a
temporary folder beside the target and renamed into place, so a failure leaves nothing.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from trustreview.errors import OutputError
from trustreview.io.load import read_references
from trustreview.schema import CODES_COLUMNS, STUDIES_COLUMNS

README = """# {name}: an evidence review with trustreview

- `corpus/studies.csv`: one row per reference ({n} now), keyed by its BibTeX key. `included`
  is empty until a study is screened; `summary` starts as the abstract where there was one.
- `corpus/codes.csv`: who coded which domain (empty until coding starts).
- `corpus/codebook.yml`: the domains and their signal terms; edit them for your review.
- `references.bib`: the references.
- `notebooks/`: the review's stage notebooks, for JupyterLab.

Next steps, from this folder:

```sh
trustreview validate                          # check everything; lists each problem
trustreview run --out outputs                 # the whole review -> outputs/
```

Screen and code in Excel, one workbook per coder, then reconcile:

```sh
trustreview sheet --coder A --out coder-A.xlsx   # fill it in, then:
trustreview merge coder-A.xlsx
trustreview sheet --reconcile --out reconcile.xlsx   # once two coders have merged
```

(Or edit `corpus/studies.csv` and `corpus/codes.csv` directly: one `codes.csv` row per
coder and domain, `study_id,coder,domain`; the `reconciled` coder's codes are the ones the
tagger learns from.)
"""


def bundled_codebook() -> str:
    """The text of the codebook shipped with trustreview."""
    return resources.files("trustreview").joinpath("data/codebook.yml").read_text("utf-8")


def _studies_csv(entries) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(STUDIES_COLUMNS)
    for key, abstract in zip(entries["key"], entries["abstract"]):
        row = {"study_id": key, "summary": " ".join(str(abstract).split())}
        writer.writerow([row.get(column, "") for column in STUDIES_COLUMNS])
    return buffer.getvalue()


def new_review(folder: str | os.PathLike, refs: list[str | os.PathLike] = ()) -> int:
    """Create the review folder ``folder`` from reference files ``refs`` (may be none);
    returns the number of studies. Refuses a non-empty folder and unreadable references."""
    from trustreview.run.runner import list_notebooks

    target = Path(folder)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OutputError(f"{target}: exists and is not empty; give a new or empty folder "
                          "for the review")
    bib_text, entries = read_references([Path(r) for r in refs])
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        corpus = building / "corpus"
        corpus.mkdir()
        (corpus / "studies.csv").write_text(_studies_csv(entries), encoding="utf-8")
        (corpus / "codes.csv").write_text(",".join(CODES_COLUMNS) + "\n", encoding="utf-8")
        (corpus / "codebook.yml").write_text(bundled_codebook(), encoding="utf-8")
        (building / "references.bib").write_text(bib_text, encoding="utf-8")
        notebooks = building / "notebooks"
        notebooks.mkdir()
        for notebook in list_notebooks():
            shutil.copyfile(notebook, notebooks / notebook.name)
        (building / "README.md").write_text(
            README.format(name=target.resolve().name, n=len(entries)), encoding="utf-8")
        if target.exists():
            target.rmdir()
        os.replace(building, target)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return len(entries)

