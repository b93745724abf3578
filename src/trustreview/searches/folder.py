"""``trustreview new`` and ``add``: a review folder a researcher owns, started from the
exports of their searches, and later searches added to it (what to write is planned by
:mod:`trustreview.searches.intake`; this module writes it).

The folder holds ``corpus/studies.csv`` (one row per study, awaiting screening, the summary
prefilled from the abstract), the searches' ledger (``searches/``, ``searches.csv``,
``records.csv``, ``duplicates.csv``), ``corpus/codes.csv`` (header only),
``corpus/codebook.yml`` (the bundled codebook, to edit), ``references.bib``, the stage
notebooks without outputs and a short README with the next commands. ``new`` builds it in a
temporary folder beside the target and renames it into place, so a failure leaves nothing;
``add`` writes its files together (each to a temporary file first).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

import pandas as pd

from trustreview.searches import intake
from trustreview.errors import InputError, OutputError
from trustreview.searches.intake import Plan
from trustreview.io import bibcache
from trustreview.io.files import display_path
from trustreview.io.load import read_bib
from trustreview.schema import (CODES_COLUMNS, DUPLICATES_COLUMNS, DUPLICATES_FILE,
                                QUOTES_COLUMNS, RECORDS_COLUMNS, RECORDS_FILE, SEARCHES_COLUMNS,
                                SEARCHES_DIR, SEARCHES_FILE, STUDIES_COLUMNS)

README = """# {name}: an evidence review with trustreview

- `corpus/studies.csv`: one row per study ({n} now), keyed by its BibTeX key. `included`
  is empty until a study is screened; `summary` starts as the abstract where there was one.
- `corpus/searches/` and `corpus/searches.csv`: the searches the studies came from, each
  file as exported, with its database, date, number of records and checksum;
  `corpus/records.csv`: every record of every search.
- `corpus/duplicates.csv`: the pairs of records found alike: `merged` (one study),
  `check` (a person decides) or `distinct`, with the evidence.
- `corpus/codes.csv`: who coded which domain (empty until coding starts).
- `corpus/codebook.yml`: the domains, their signal terms and the exclusion reasons (with
  the screening stage of each); edit them for your review.
- `references.bib`: the references, one entry per study.
- `notebooks/`: the review's stage notebooks, and `screen.ipynb` (screening one record at
  a time), for JupyterLab.

Next steps, from this folder:

```sh
trustreview sheet --duplicates --out dups.xlsx   # decide the doubtful duplicates (same: yes/no)
trustreview merge dups.xlsx
trustreview validate                          # check everything; lists each problem
trustreview run --out outputs                 # the whole review -> outputs/
```

A later search (months on, or another database):

```sh
trustreview add --from new-search.ris --database ERIC --date YYYY-MM-DD
```

adds only the studies not already in the review (duplicates of earlier studies are
recorded in `corpus/duplicates.csv`); a file added before adds nothing.

Screen the titles and abstracts in relevance order, the records most likely to be included
first (the model learns from every decision; each sheet is ranked again):

```sh
trustreview sheet --screen --coder A --out screen-A.xlsx   # the next 50; fill in, then:
trustreview merge screen-A.xlsx
```

or one record at a time in JupyterLab: `notebooks/screen.ipynb`. `trustreview run` then
says in its report whether screening may stop (section "Screening: can we stop?").

Code in Excel, one workbook per coder, then reconcile:

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


def _csv(columns, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def _study_rows(studies, columns=STUDIES_COLUMNS) -> list[list[str]]:
    rows = []
    for key, summary in zip(studies["study_id"], studies["summary"]):
        row = {"study_id": key, "summary": summary}
        rows.append([row.get(column, "") for column in columns])
    return rows


def study_columns() -> list[str]:
    """The columns of a new review's studies.csv: those of the bundled codebook."""
    import yaml

    from trustreview.io.codebook import parse_codebook

    codebook = parse_codebook(yaml.safe_load(bundled_codebook()), "codebook.yml")
    return list(codebook.study_columns)


def _table_rows(frame, columns) -> list[list[str]]:
    return [[str(v) for v in row] for row in frame[list(columns)].itertuples(index=False)]


def _bib_text(plan: Plan) -> str:
    blocks = [*plan.strings, *plan.entries]
    return "\n\n".join(b.strip() for b in blocks) + "\n" if blocks else ""


def new_review(folder: str | os.PathLike, refs: list[str | os.PathLike] = (),
               databases: list[str] | None = None, added: str | None = None,
               domains: str | None = None) -> Plan:
    """Create the review folder ``folder`` from the search files ``refs`` (may be none):
    duplicates merged or listed, every record accounted for (see :mod:`trustreview.searches.intake`);
    or, from one EPPI-Reviewer JSON export, a coded review (:func:`import_eppi`, with
    ``domains`` naming its domain codes). Refuses a non-empty folder and records that cannot
    be read; returns what was written."""
    target = Path(folder)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OutputError(f"{target}: exists and is not empty; give a new or empty folder "
                          "for the review")
    eppi = [Path(r) for r in refs if _is_eppi(Path(r))]
    if eppi:
        if len(refs) > 1:
            raise InputError(f"{display_path(eppi[0])}: an EPPI-Reviewer export makes a review "
                             "on its own; give it alone to --from (add searches later with "
                             "trustreview add)")
        return import_eppi(target, eppi[0], domains)
    plan = intake.plan(list(refs), databases, added or today())
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        corpus = building / "corpus"
        (corpus / SEARCHES_DIR).mkdir(parents=True)
        for name, source in plan.copies.items():
            shutil.copyfile(source, corpus / SEARCHES_DIR / name)
        columns = study_columns()
        (corpus / "studies.csv").write_text(_csv(columns, _study_rows(plan.studies, columns)),
                                            encoding="utf-8")
        (corpus / "codes.csv").write_text(",".join(CODES_COLUMNS) + "\n", encoding="utf-8")
        (corpus / "codebook.yml").write_text(bundled_codebook(), encoding="utf-8")
        for name, columns, frame in _ledger(plan):
            (corpus / name).write_text(_csv(columns, _table_rows(frame, columns)),
                                       encoding="utf-8")
        bib_text = _bib_text(plan)
        (building / "references.bib").write_text(bib_text, encoding="utf-8")
        _finish(building, target, len(plan.studies))
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    if bibcache.applies(bib_text):
        # a large references.bib is parsed once here, where it is made, and its parse
        # store kept: the review's next commands (validate, add...) parse only what changed
        read_bib(target / "references.bib")
    return plan


def _finish(building: Path, target: Path, n: int) -> None:
    """Add the notebooks and the README to a review folder built in ``building``, and
    rename it into place as ``target``."""
    from trustreview.run.runner import PACKAGED_NOTEBOOKS, SCREENER, list_notebooks

    notebooks = building / "notebooks"
    notebooks.mkdir()
    for notebook in [*list_notebooks(), PACKAGED_NOTEBOOKS / SCREENER]:
        shutil.copyfile(notebook, notebooks / notebook.name)
    (building / "README.md").write_text(README.format(name=target.resolve().name, n=n),
                                        encoding="utf-8")
    if target.exists():
        target.rmdir()
    os.replace(building, target)


def _is_eppi(path: Path) -> bool:
    """An EPPI-Reviewer JSON export, recognised by its content."""
    from trustreview.io.eppi_read import looks_like_eppi

    if not path.is_file():
        return False
    with open(path, "rb") as handle:
        head = handle.read(4096).decode("utf-8", "ignore")
    if not head.lstrip("\ufeff \n\r\t").startswith("{"):
        return False
    return looks_like_eppi(path.read_text(encoding="utf-8-sig", errors="replace"))


def import_eppi(target: Path, path: Path, domains: str | None = None):
    """A review folder from an EPPI-Reviewer JSON export (see :mod:`trustreview.io.eppi`):
    studies, reconciled codes, the codebook from its code sets, the references with their
    ``eppi-itemid``, and ``corpus/quotes.csv``. Returns what was imported."""
    import json

    import yaml

    from trustreview.searches.intake import add_fields
    from trustreview.io.eppi_read import parse_eppi
    from trustreview.io.codebook import parse_codebook
    from trustreview.io.files import read_text
    from trustreview.io.ris import records_to_bibtex

    source = display_path(path)
    try:
        data = json.loads(read_text(path, source))
    except json.JSONDecodeError as error:
        raise InputError(f"{source}:{error.lineno}: not valid JSON ({error.msg}); export the "
                         "review from EPPI-Reviewer again") from None
    imported = parse_eppi(data, source, domains)
    imported.codebook["name"] = f"{path.stem} (from EPPI-Reviewer)"
    converted = records_to_bibtex([(i, record) for i, (record, _) in
                                   enumerate(imported.records, start=1)], "EPPI-Reviewer")
    entries = [add_fields(raw, {"eppi-itemid": str(item)} if item else {})
               for raw, (_, item) in zip(converted.columns["raw"], imported.records)]
    columns = list(parse_codebook(imported.codebook, source).study_columns)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        corpus = building / "corpus"
        corpus.mkdir()
        rows = [[row.get(c, "") for c in columns] for row in imported.studies]
        (corpus / "studies.csv").write_text(_csv(columns, rows), encoding="utf-8")
        (corpus / "codes.csv").write_text(_csv(CODES_COLUMNS, [
            (sid, "reconciled", domain) for sid, domain in sorted(set(imported.codes))]),
            encoding="utf-8")
        (corpus / "quotes.csv").write_text(_csv(QUOTES_COLUMNS, imported.quotes),
                                           encoding="utf-8")
        (corpus / "codebook.yml").write_text(
            "# Made by trustreview new from an EPPI-Reviewer export; edit it like any "
            "codebook.\n" + yaml.safe_dump(imported.codebook, sort_keys=False,
                                            allow_unicode=True, width=90), encoding="utf-8")
        (building / "references.bib").write_text("\n\n".join(e.strip() for e in entries)
                                                 + "\n", encoding="utf-8")
        _finish(building, target, len(imported.studies))
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    imported.warnings[:0] = [f"{source}:{line}: {message}" for line, message in
                             converted.warnings]
    return imported


def _ledger(plan: Plan):
    return ((SEARCHES_FILE, SEARCHES_COLUMNS, plan.searches),
            (RECORDS_FILE, RECORDS_COLUMNS, plan.records),
            (DUPLICATES_FILE, DUPLICATES_COLUMNS, plan.duplicates))


def _filled_entries(text: str, filled: dict[str, str], entries: pd.DataFrame) -> str:
    """The reference file's text with the entries of ``filled`` (key -> new entry text)
    replaced, each found at its line (one pass over the file, not one per entry)."""
    if not filled:
        return text
    found = entries[entries["key"].isin(filled)]
    lines = text.split("\n")
    for key, line, raw in sorted(zip(found["key"], found["line"], found["raw"]),
                                 key=lambda item: -item[1]):
        start, n = int(line) - 1, raw.count("\n") + 1
        segment = "\n".join(lines[start:start + n])
        at = segment.find(raw)
        if at >= 0:
            segment = segment[:at] + filled[key] + segment[at + len(raw):]
            lines[start:start + n] = segment.split("\n")
    return "\n".join(lines)


def today() -> str:
    """Today's date, YYYY-MM-DD: the default date of a search added (an input the user can
    edit in searches.csv, never written into an output)."""
    import datetime

    return datetime.date.today().isoformat()


def add_searches(corpus_dir: str | os.PathLike, bib_path: str | os.PathLike,
                 refs: list[str | os.PathLike], databases: list[str] | None = None,
                 added: str | None = None) -> tuple[Plan, list[Path]]:
    """Add later searches to a review: new studies appended awaiting screening, duplicates
    of earlier studies recorded as their ``merged`` rows (earlier studies keep their keys,
    decisions and codes), a file added before skipped. Returns the plan and the files
    written (none when nothing is new)."""
    from trustreview.io.files import read_text, replace_files
    from trustreview.io.load import find_table, read_bib, read_column, read_searches

    corpus = Path(corpus_dir)
    studies_path = find_table(corpus, "studies")
    if studies_path is None or studies_path.suffix != ".csv":
        raise InputError(f"{display_path(corpus / 'studies.csv')}: not found; trustreview add "
                         "adds to a review folder's corpus/studies.csv (run it in the folder "
                         "trustreview new made, or give --corpus and --bib)")
    bib_path = Path(bib_path)
    study_ids = read_column(studies_path, "study_id")
    bib = read_bib(bib_path) if bib_path.exists() else None
    entries = bib.entries if bib is not None else pd.DataFrame(columns=["key", "raw"])
    order = {key: i for i, key in enumerate(study_ids)}
    existing = entries[entries["key"].isin(order)]
    existing = existing.iloc[existing["key"].map(order).to_numpy().argsort(kind="stable")]
    searches = read_searches(corpus)
    taken = set(study_ids) | set(entries["key"]) | \
        set(read_column(corpus / DUPLICATES_FILE, "record")) | \
        set(read_column(corpus / RECORDS_FILE, "record"))
    plan = intake.plan(list(refs), databases, added or today(), existing.reset_index(
        drop=True), searches, taken)
    if plan.searches.empty:
        return plan, []
    studies_text = read_text(studies_path, display_path(studies_path))
    header = studies_text.split("\n", 1)[0].split(",")
    new_rows = _study_rows(plan.studies, [c.strip() for c in header])
    contents = {studies_path: (studies_text.rstrip("\n") + "\n" + _csv(header, new_rows)
                               .split("\n", 1)[1]).encode("utf-8")}
    bib_text = read_text(bib_path, display_path(bib_path)) if bib_path.exists() else ""
    bib_text = _filled_entries(bib_text, plan.filled, entries)
    if plan.entries or plan.strings:
        bib_text = bib_text.rstrip("\n") + ("\n\n" if bib_text.strip() else "") + \
            _bib_text(plan)
    contents[bib_path] = bib_text.encode("utf-8")
    for name, columns, frame in _ledger(plan):
        path = corpus / name
        text = read_text(path, display_path(path)).rstrip("\n") + "\n" if path.exists() \
            else ",".join(columns) + "\n"
        contents[path] = (text + _csv(columns, _table_rows(frame, columns))
                          .split("\n", 1)[1]).encode("utf-8")
    (corpus / SEARCHES_DIR).mkdir(exist_ok=True)
    for name, source in plan.copies.items():
        contents[corpus / SEARCHES_DIR / name] = Path(source).read_bytes()
    return plan, replace_files(contents)
