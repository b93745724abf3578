"""A review's searches: each database export (BibTeX, RIS or CSV) read as one search with
every record kept, and ``corpus/searches.csv``, the list of searches a review was built from.

CSV exports (Scopus, Lens, OpenAlex, ASReview, Web of Science's tab-free CSV) are read by
their column names, matched case-insensitively against the names those tools use
(:data:`CSV_COLUMNS`); each row becomes a record as a RIS record would, so keys, types and
names follow :mod:`trustreview.io.ris`'s rules. A BibTeX file's duplicate keys are kept
(the second record gets ``a``, the third ``b``...), with a warning: a search never fails
on a key.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from trustreview.errors import InputError
from trustreview.io.files import display_path, read_text
from trustreview.io.load import Bibliography, _bibliography, parse_bib, parse_references
from trustreview.io.ris import looks_like_ris, records_to_bibtex

# rispy's names for RIS tags -> the column names exports use for them (lower case)
CSV_COLUMNS = {
    "title": ("title", "article title", "document title", "primary_title", "display_name",
              "ti"),
    "abstract": ("abstract", "abstract note", "ab"),
    "authors": ("authors", "author", "author/s", "author names", "author full names",
                "authorships.author.display_name", "au"),
    "year": ("year", "publication_year", "publication year", "py", "date published",
             "publication_date"),
    "doi": ("doi", "di"),
    "secondary_title": ("source title", "journal", "source", "secondary_title",
                        "publication title", "journal title", "source_title",
                        "primary_location.source.display_name", "so"),
    "volume": ("volume", "biblio.volume", "vl"),
    "number": ("issue", "number", "biblio.issue", "is"),
    "start_page": ("page start", "start page", "biblio.first_page", "first page", "bp"),
    "end_page": ("page end", "end page", "biblio.last_page", "last page", "ep"),
    "pages": ("pages", "page", "page range"),
    "type": ("document type", "item type", "publication type", "type", "dt"),
    "keywords": ("author keywords", "keywords", "de"),
    "urls": ("link", "url"),
    "publisher": ("publisher", "pu"),
}
# document types as CSV exports name them (lower case) -> RIS types
CSV_TYPES = {
    "article": "JOUR", "journal article": "JOUR", "journal-article": "JOUR", "review": "JOUR",
    "letter": "JOUR", "editorial": "JOUR", "note": "JOUR", "article in press": "JOUR",
    "book": "BOOK", "monograph": "BOOK", "book chapter": "CHAP", "book-chapter": "CHAP",
    "chapter": "CHAP", "conference paper": "CPAPER", "proceedings-article": "CPAPER",
    "conference proceedings": "CPAPER", "report": "RPRT", "dissertation": "THES",
    "thesis": "THES", "preprint": "UNPB", "posted-content": "UNPB", "dataset": "DATA",
    # Zotero's item types (its CSV export's "Item Type")
    "journalarticle": "JOUR", "magazinearticle": "MGZN", "newspaperarticle": "NEWS",
    "conferencepaper": "CPAPER", "booksection": "CHAP", "webpage": "ELEC", "manuscript": "UNPB",
}
INITIALS = re.compile(r"^(?P<surname>.+?)\s+(?P<initials>(?:[A-Z]\.-?\s?){1,4})$")


def looks_like_csv(text: str) -> bool:
    """True when the first line is a CSV header naming a title column."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    try:
        header = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return False
    names = {h.strip().lower() for h in header}
    return len(header) > 2 and bool(names & set(CSV_COLUMNS["title"]))


def _authors(value: str) -> list[str]:
    """A CSV author cell as RIS names (``Surname, Given``, or ``Given Surname`` for
    :mod:`trustreview.io.ris` to turn round): ``Hutchings M.; Francis B.`` (Scopus),
    ``Merryn Hutchings; Becky Francis`` (Lens), ``A | B`` (OpenAlex)."""
    value = value.strip()
    if not value or value.lower() in ("[no author name available]", "nan"):
        return []
    for separator in (";", "|", " and "):
        if separator in value:
            parts = value.split(separator)
            break
    else:
        parts = [value]
        pieces = value.split(",")
        if len(pieces) > 1 and all(INITIALS.match(p.strip()) for p in pieces):
            parts = pieces  # old Scopus: "Hutchings M., Francis B."
    names = []
    for part in parts:
        part = " ".join(part.split())
        found = INITIALS.match(part)
        if found and "," not in part:
            part = f"{found['surname']}, {found['initials'].strip()}"
        if part:
            names.append(part)
    return names


def csv_records(text: str, source: str) -> list[tuple[int, dict]]:
    """The rows of a CSV export as (line, rispy-style record)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
        rows = []
        line = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((line, row))
            line = reader.line_num + 1
    except csv.Error as error:
        raise InputError(f"{source}:{reader.line_num}: the CSV cannot be parsed ({error}); "
                         "check the quotes on that line, or export the search again") from None
    except StopIteration:
        raise InputError(f"{source}: the file is empty; export the search again") from None
    where = {}
    for name, candidates in CSV_COLUMNS.items():
        for candidate in candidates:
            if candidate in header:
                where[name] = header.index(candidate)
                break
    if "title" not in where:
        raise InputError(f"{source}:1: no title column (looked for "
                         f"{', '.join(CSV_COLUMNS['title'][:4])}); export the search with "
                         "its titles, or rename the column to Title")
    records = []
    for line, row in rows:
        cell = {name: (row[i].strip() if i < len(row) else "") for name, i in where.items()}
        record: dict = {"type_of_reference": CSV_TYPES.get(cell.get("type", "").lower(),
                                                           "JOUR" if cell.get("secondary_title")
                                                           else "GEN")}
        for name in ("title", "abstract", "year", "doi", "secondary_title", "volume",
                     "number", "start_page", "end_page", "publisher"):
            if cell.get(name):
                record[name] = cell[name]
        if cell.get("pages") and not cell.get("start_page"):
            pieces = re.split(r"\s*[-–]+\s*", cell["pages"])
            record["start_page"] = pieces[0]
            if len(pieces) > 1 and pieces[-1]:
                record["end_page"] = pieces[-1]
        authors = _authors(cell.get("authors", ""))
        if authors:
            record["authors"] = authors
        if cell.get("keywords"):
            record["keywords"] = [k.strip() for k in re.split(r"[;|]", cell["keywords"])
                                  if k.strip()]
        if cell.get("urls"):
            record["urls"] = [cell["urls"]]
        records.append((line, record))
    return records


def read_search(path: str | Path) -> Bibliography:
    """Read one search file: BibTeX, RIS or CSV, recognised by content (RIS and CSV) or
    else read as BibTeX, as a :class:`~trustreview.io.load.Bibliography` (``format``
    ``BibTeX``, ``RIS`` or ``CSV``). Raises :class:`InputError` when the file cannot be read
    at all."""
    path = Path(path)
    source = display_path(path)
    if not path.exists():
        raise InputError(f"{source}: file not found; give the files your databases or "
                         "reference manager exported (--from FILE.ris, FILE.bib or FILE.csv)")
    text = read_text(path, source)
    if looks_like_ris(text):
        return parse_references(text, source)
    if looks_like_csv(text) or (path.suffix.lower() == ".csv" and text.strip()):
        converted = records_to_bibtex(csv_records(text, source), "CSV")
        bib = _bibliography(converted.columns, converted.failed, converted.warnings, "",
                            source)
        bib.format = "CSV"
        return bib
    if path.suffix.lower() in (".ris", ".csv", ".txt") and text.strip() and \
            not re.search(r"(?m)^\s*@", text):
        raise InputError(f"{source}: neither RIS (no 'TY  - ' line), CSV with a title "
                         "column, nor BibTeX; export the search again in one of those")
    return parse_bib(text, source, keep_duplicate_keys=True)

