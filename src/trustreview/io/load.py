"""Read a corpus folder: the studies, codes and decisions tables (CSV, or XLSX through
:mod:`trustreview.io.workbook`), the codebook and the reference file (BibTeX, or RIS through
:mod:`trustreview.io.ris`).

Readers read and keep where each value came from (the ``line`` column holds the line or row
number in the source file) and note what the file format itself says is wrong (a repeated
BibTeX field, a cell Excel turned into a date); checking the values against the codebook is
:mod:`trustreview.corpus.validate`'s job. Problems that stop a file from being read at all raise
:class:`InputError`.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from trustreview.errors import InputError
from trustreview.io import bibcache
from trustreview.io.codebook import Codebook, parse_codebook
from trustreview.io.files import check_file, display_path, read_text
from trustreview.base.text import empty_names, letter_suffix, normalise_doi
from trustreview.io.workbook import read_first_sheet
from trustreview.base.parallel import PER_PROCESS, run_parts, workers_for
from trustreview.schema import (BIB_COLUMNS, BIB_FIELDS, CODES_COLUMNS, DECISIONS_COLUMNS,
                                DECISIONS_FILE, DUPLICATES_COLUMNS, DUPLICATES_FILE, LINE,
                                QUOTES_COLUMNS, QUOTES_FILE, RECORDS_COLUMNS, RECORDS_FILE,
                                SEARCHES_COLUMNS, SEARCHES_FILE)

# an article number as the databases' BibTeX names it (biblatex's eid; Web of Science,
# Scopus, ACM): one column, ``eid``
EID_ALIASES = {"article-number": "eid", "art_number": "eid", "articleno": "eid"}


@dataclass
class Table:
    """A table read from CSV or XLSX: string cells, a ``line`` column, and its source path.
    ``warnings`` holds cells Excel stored as something other than text: (row, column,
    message)."""

    path: str
    frame: pd.DataFrame
    warnings: list[tuple[int, str, str]] = field(default_factory=list)


@dataclass
class Bibliography:
    """Entries of a BibTeX or RIS file (one row each, ``line`` = first line), the blocks or
    records that failed (errors) and warnings, each as (line, message)."""

    path: str
    entries: pd.DataFrame
    failed: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    format: str = "BibTeX"
    strings: str = ""  # the file's @string blocks, as written
    converted: str = ""  # for a RIS file: the BibTeX its entries were read from


@dataclass
class RawCorpus:
    """Everything read from a corpus folder and bib file, before validation.

    ``file_errors`` holds :class:`InputError` messages for files that could not be read;
    the matching attribute is then ``None``.
    """

    studies: Table | None
    codes: Table | None
    codebook: Codebook | None
    bib: Bibliography | None
    file_errors: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    duplicates: pd.DataFrame | None = None  # duplicates.csv (empty when there is none)
    searches: pd.DataFrame | None = None  # searches.csv (empty when there is none)
    search_records: pd.DataFrame | None = None  # records.csv (empty when there is none)
    quotes: pd.DataFrame | None = None  # quotes.csv (empty when there is none)
    decisions: pd.DataFrame | None = None  # decisions.csv (empty when there is none)


def _csv_frame(text: str, source: str) -> pd.DataFrame:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise InputError(f"{source}: the file is empty; it needs a header row "
                             "and one row per record")
        header = [cell.strip() for cell in header]
        rows: list[list[str]] = []
        lines: list[int] = []
        start = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as error:
        raise InputError(f"{source}:{reader.line_num}: the CSV cannot be parsed ({error}); "
                         "check the quotes on that line") from None
    return _frame(header, rows, lines, source)


def _frame(header: list[str], rows: list[list[str]], lines: list[int],
           source: str) -> pd.DataFrame:
    seen: set[str] = set()
    for name in header:
        if name == LINE:
            raise InputError(f"{source}:1: column {LINE!r} is the name trustreview gives the "
                             "line each row is read from; rename the column (e.g. "
                             f"'{LINE}_no') or delete it")
        if name and name in seen:
            raise InputError(f"{source}:1: column {name!r} appears twice in the header; "
                             "delete or rename one of them")
        seen.add(name)
    width = len(header)
    for row, line in zip(rows, lines):
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            raise InputError(f"{source}:{line}: the row has {len(row)} cells but the header "
                             f"has {width}; quote cells that contain commas")
    columns = {name: [(row[i] if i < len(row) else "").strip() for row in rows]
               for i, name in enumerate(header) if name}
    frame = pd.DataFrame(columns, dtype="str")
    frame.insert(0, LINE, pd.array(lines, dtype="int64"))
    return frame


def read_table(path: str | os.PathLike) -> Table:
    """Read a CSV (UTF-8) or XLSX table into string columns plus a ``line`` column."""
    path = Path(path)
    source = display_path(path)
    check_file(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        header, rows, lines, artefacts = read_first_sheet(path, source)
        frame = _frame(header, rows, lines, source)
        return Table(source, frame, artefacts)
    text = read_text(path, source)
    return Table(source, _csv_frame(text, source))


def read_codebook(path: str | os.PathLike) -> Codebook:
    """Read ``codebook.yml`` (safely: plain YAML only, no Python objects)."""
    path = Path(path)
    source = display_path(path)
    text = read_text(path, source)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        if "\t" in text:
            tab = text[:text.index("\t")].count("\n") + 1
            raise InputError(f"{source}:{tab}: a tab character; YAML does not allow tabs for "
                             "indenting: indent with spaces") from None
        raise InputError(f"{source}{line}: not valid YAML ({getattr(error, 'problem', error)}); "
                         "fix the indentation or quoting there") from None
    return parse_codebook(data, source)


def read_bib(path: str | os.PathLike) -> Bibliography:
    """Read a reference file: BibTeX (bibtexparser 2.x, ``@string`` macros resolved) or RIS
    (rispy; recognised by its content, whatever the file is called).

    Entries become rows (``key``, ``entry_type``, ``line`` and the fields of
    :data:`BIB_FIELDS`, raw LaTeX kept, DOIs without URL prefixes); blocks that fail to
    parse and duplicate keys are returned in ``failed``, and repeated fields and empty names
    in ``warnings``, with their line numbers, instead of raising.
    """
    path = Path(path)
    source = display_path(path)
    return parse_references(read_text(path, source), source, remember=path)


def parse_references(text: str, source: str, remember: Path | None = None) -> Bibliography:
    """:func:`read_bib` on text already read from ``source`` (a BibTeX file read from
    ``remember`` reuses what :mod:`trustreview.io.bibcache` remembers of it)."""
    from trustreview.io.ris import looks_like_ris, ris_to_bibtex

    if looks_like_ris(text) or (source.lower().endswith(".ris") and not text.strip()):
        converted = ris_to_bibtex(text)
        bib = _bibliography(converted.columns, converted.failed, converted.warnings, "",
                            source)
        return Bibliography(source, bib.entries, bib.failed, bib.warnings, "RIS",
                            converted=converted.bibtex)
    if source.lower().endswith(".ris") and text.strip():
        raise InputError(f"{source}: has no RIS record (no line starting 'TY  - '); export "
                         "the references again as RIS or BibTeX")
    return parse_bib(text, source, remember=remember)


def parse_bib(text: str, source: str, keep_duplicate_keys: bool = False,
              remember: Path | None = None) -> Bibliography:
    """BibTeX text already read from ``source`` (see :func:`read_bib`). A large file is
    read in parts at once on the machine's cores (:func:`_parse_in_parts`); the result is
    the same as reading it whole. With ``keep_duplicate_keys``, an entry whose key an
    earlier one has is kept under the key with ``a``, ``b``... added, and a warning, instead
    of failing (a search export keeps every record). With ``remember`` (the file's path), a
    large file is parsed only where it changed since a command last read it
    (:mod:`trustreview.io.bibcache`)."""
    def parse(part: str):
        return _parse_in_parts(part, source) or \
            _library_columns(part, source, keep_duplicate_keys)

    parsed = None
    if remember is not None and bibcache.applies(text):
        parsed = bibcache.read(text, remember, parse)
    return _bibliography(*(parsed or parse(text)), source)


ENTRY_START = bibcache.ENTRY_START


def _parse_in_parts(text: str, source: str):
    """:func:`_library_columns` of a large file, cut at entry starts into one part per core
    and read at once; None when the file is small, defines ``@string`` macros (a part
    could use another's), or when a part has a block that failed or a key another part
    has (the whole file is then read at once, so that problems are reported exactly as
    BibTeX reads them)."""
    workers = workers_for(text.count("\n@"), PER_PROCESS)
    if workers < 2 or bibcache.has_string_block(text):
        return None
    cuts = [0]
    for k in range(1, workers):
        found = ENTRY_START.search(text, k * len(text) // workers)
        if found is None or found.start() + 1 <= cuts[-1]:
            return None
        cuts.append(found.start() + 1)
    cuts.append(len(text))
    parts = [(text[a:b], source) for a, b in zip(cuts[:-1], cuts[1:])]
    results = run_parts(_library_columns, parts)
    if any(failed or warnings for _, failed, warnings, _ in results):
        return None
    columns = {name: [] for name in results[0][0]}
    offset = 0
    for (part_columns, _, _, _), (part, _) in zip(results, parts):
        part_columns["line"] = [line + offset for line in part_columns["line"]]
        for name, values in part_columns.items():
            columns[name].extend(values)
        offset += part.count("\n")
    if len(set(columns["key"])) != len(columns["key"]):
        return None  # a key in two parts: BibTeX reports the second as a duplicate
    return columns, [], [], ""


def _library_columns(text: str, source: str, keep_duplicate_keys: bool = False):
    """bibtexparser on ``text``: (columns of its entries, failed blocks, warnings, the
    ``@string`` blocks), lines counted from the start of ``text``."""
    import bibtexparser

    # failures are reported below, with line numbers; bibtexparser's own messages come from
    # its modules' loggers (bibtexparser.splitter...), which a level on the parent silences
    # (disabling the parent did not: they reached the terminal)
    logger = logging.getLogger("bibtexparser")
    previous = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        library = bibtexparser.parse_string(text)
    except Exception:  # bibtexparser raises assorted types on pathological input
        raise InputError(f"{source}: the BibTeX file cannot be parsed at all (its structure "
                         "is broken beyond single entries); check it "
                         "in your reference manager and export it again") from None
    finally:
        logger.setLevel(previous)
    failed, warnings = [], []
    strings = "\n".join(block.raw.strip() for block in library.strings)
    entries = list(library.entries)
    raw_values: set[int] = set()  # entries bibtexparser's middlewares did not process
    for block in library.failed_blocks:
        line = block.start_line + 1
        kind = type(block).__name__
        if kind == "DuplicateBlockKeyBlock" and keep_duplicate_keys and \
                block.ignore_error_block is not None:
            entry = block.ignore_error_block
            taken = {e.key for e in entries}
            n, key = 0, entry.key
            while key in taken:
                key = entry.key + letter_suffix(n)
                n += 1
            warnings.append((line, f"key {entry.key!r} is also the key of an earlier entry; "
                                   f"this entry is keyed {key!r}"))
            entry.key = key
            entries.append(entry)
            raw_values.add(id(entry))
        elif kind == "DuplicateBlockKeyBlock":
            failed.append((line, f"duplicate key {getattr(block, 'key', '')!r}"))
        elif kind == "DuplicateFieldKeyBlock" and block.ignore_error_block is not None:
            # BibTeX keeps the first value of a repeated field: so do we, and say so
            entry = block.ignore_error_block
            repeated = sorted(getattr(block, "duplicate_keys", set()) or ())
            warnings.append((line, f"entry {entry.key!r} repeats the field"
                                   f"{'s' if len(repeated) > 1 else ''} "
                                   f"{', '.join(repeated)}; the first value is used"))
            entries.append(entry)
            raw_values.add(id(entry))
        else:
            failed.append((line, "the entry cannot be read (unbalanced braces or quotes, a "
                                 "missing comma or '=', or text outside an entry)"))
    entries.sort(key=lambda e: e.start_line)
    columns: dict[str, list] = {name: [] for name in BIB_COLUMNS}
    for entry in entries:  # column lists, not a dict per entry: 1M entries fit
        values = {}
        for f in entry.fields:
            value = _unbrace(f.value) if id(entry) in raw_values else f.value
            values.setdefault(EID_ALIASES.get(f.key.lower(), f.key.lower()), value)
        columns["key"].append(entry.key)
        columns["entry_type"].append(entry.entry_type.lower())
        columns["line"].append(entry.start_line + 1)
        columns["raw"].append(entry.raw)
        for name in BIB_FIELDS:
            value = values.get(name)
            columns[name].append(" ".join(str(value).split()) if value is not None else "")
    return columns, failed, warnings, strings


def _bibliography(columns: dict[str, list], failed: list, warnings: list, strings: str,
                  source: str) -> Bibliography:
    """The entries as a table, DOIs normalised, crossrefs resolved, years from biblatex
    dates, and the warnings about empty names."""
    columns["doi"] = [normalise_doi(doi) for doi in columns["doi"]]
    for name in ("author", "editor"):
        for key, line, names in zip(columns["key"], columns["line"], columns[name]):
            if empty_names(names):
                warnings.append((line, f"entry {key!r}: the {name} list has an empty name "
                                       "('and and', or 'and' at the start or end); the "
                                       "empty name is left out"))
    _resolve_crossrefs(columns)
    years, dates = columns["year"], columns["date"]
    for i, year in enumerate(years):  # biblatex (Better BibTeX) writes date = {2018-05-01}
        if not year and dates[i][:4].isdigit():
            years[i] = dates[i][:4]
    entries = pd.DataFrame({name: pd.array(values, dtype="int64" if name == "line" else "str")
                            for name, values in columns.items()})
    return Bibliography(source, entries, failed, sorted(warnings), strings=strings)


def _unbrace(value) -> str:
    """A field value without the braces or quotes around it (for an entry whose fields were
    not passed through bibtexparser's middlewares)."""
    value = str(value)
    if len(value) >= 2 and (value[0], value[-1]) in (("{", "}"), ('"', '"')):
        return value[1:-1]
    return value


def _resolve_crossrefs(columns: dict[str, list]) -> None:
    """Fill an entry's empty fields from the entry its ``crossref`` names (BibTeX's rule;
    the parent's title becomes the child's booktitle). Changes ``columns`` in place."""
    children = [i for i, ref in enumerate(columns["crossref"]) if ref]
    if not children:
        return
    position = {key: i for i, key in enumerate(columns["key"])}
    inherit = [n for n in BIB_FIELDS if n not in ("title", "crossref")]
    for i in children:
        parent = position.get(columns["crossref"][i])
        if parent is None or parent == i:
            continue
        if not columns["booktitle"][i] and columns["title"][parent]:
            columns["booktitle"][i] = columns["booktitle"][parent] or columns["title"][parent]
        for name in inherit:
            if not columns[name][i] and columns[name][parent]:
                columns[name][i] = columns[name][parent]


def find_table(corpus_dir: Path, stem: str) -> Path | None:
    """``corpus_dir/stem.csv`` or ``stem.xlsx``, whichever exists (CSV first)."""
    for suffix in (".csv", ".xlsx"):
        candidate = corpus_dir / f"{stem}{suffix}"
        if candidate.exists():
            return candidate
    return None


def read_corpus(corpus_dir: str | os.PathLike, bib_path: str | os.PathLike) -> RawCorpus:
    """Read every file of a corpus, collecting file-level errors instead of stopping at one."""
    corpus_dir = Path(corpus_dir)
    errors: list[tuple[str, str]] = []
    if not corpus_dir.is_dir():
        raise InputError(f"{display_path(corpus_dir)}: corpus folder not found (or not a "
                         "folder); give the folder that holds studies.csv, codes.csv and "
                         "codebook.yml with --corpus (corpus_dir in a notebook, e.g. papermill "
                         "-p corpus_dir path/to/corpus)")

    def attempt(reader, path):
        try:
            return reader(path)
        except InputError as error:
            errors.append((display_path(path), str(error)))
            return None

    studies_path = find_table(corpus_dir, "studies")
    if studies_path is None:
        errors.append((display_path(corpus_dir / "studies.csv"),
                       f"{display_path(corpus_dir / 'studies.csv')}: file not found; the "
                       "corpus needs studies.csv (or studies.xlsx), one row per study"))
        studies = None
    else:
        studies = attempt(read_table, studies_path)
    codes_path = find_table(corpus_dir, "codes")
    codes = attempt(read_table, codes_path) if codes_path is not None else None
    codebook = attempt(read_codebook, corpus_dir / "codebook.yml")
    bib = attempt(read_bib, Path(bib_path))
    duplicates = attempt(read_duplicates, corpus_dir)
    searches = attempt(read_searches, corpus_dir)
    search_records = attempt(read_search_records, corpus_dir)
    quotes = attempt(read_quotes, corpus_dir)
    decisions = attempt(read_decisions, corpus_dir)
    return RawCorpus(studies, codes, codebook, bib, errors, duplicates, searches,
                     search_records, quotes, decisions)


def empty_table(columns) -> pd.DataFrame:
    """A corpus table with these columns and no rows (text columns)."""
    return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})


def read_written_table(path: Path, columns, fix: str, further: bool = False) -> pd.DataFrame:
    """A corpus table trustreview writes (decisions, searches, records, duplicates): its
    ``columns`` as text (with ``further``, then any other columns it has), an empty table
    when the file is not there yet; a missing column is an :class:`InputError` ending in
    ``fix``."""
    if not path.exists():
        return empty_table(columns)
    frame = read_table(path).frame.drop(columns="line")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{display_path(path)}: columns {', '.join(missing)} are missing; "
                         + fix)
    others = [c for c in frame.columns if c not in columns] if further else []
    return frame[[*columns, *others]]


def read_decisions(corpus_dir: str | os.PathLike) -> pd.DataFrame:
    """``decisions.csv`` of a corpus folder (every coder's merged decisions)."""
    return read_written_table(Path(corpus_dir) / DECISIONS_FILE, DECISIONS_COLUMNS,
                              "this file is written by trustreview merge, restore it from a "
                              "backup or delete it and merge the coders' workbooks again",
                              further=True)  # the codebook's further fields, after its own


def read_codes(corpus_dir: str | os.PathLike) -> tuple[Path, pd.DataFrame]:
    """The corpus folder's codes table (``codes.csv`` or ``codes.xlsx``) and its path; an
    empty table at ``codes.csv`` when there is none yet."""
    path = find_table(Path(corpus_dir), "codes") or Path(corpus_dir) / "codes.csv"
    if not path.exists():
        return path, empty_table(CODES_COLUMNS)
    return path, read_table(path).frame.drop(columns="line")


def read_duplicates(corpus_dir: str | os.PathLike) -> pd.DataFrame:
    """``duplicates.csv`` of a corpus folder: the pairs of records found alike."""
    return read_written_table(Path(corpus_dir) / DUPLICATES_FILE, DUPLICATES_COLUMNS,
                              f"it needs {', '.join(DUPLICATES_COLUMNS)} (trustreview new "
                              "and add write it; restore it from a backup)")


def read_searches(corpus_dir: str | os.PathLike) -> pd.DataFrame:
    """``searches.csv`` of a corpus folder: one row per search (empty without searches)."""
    return read_written_table(Path(corpus_dir) / SEARCHES_FILE, SEARCHES_COLUMNS,
                              f"it needs {', '.join(SEARCHES_COLUMNS)} (trustreview new and "
                              "add write it; restore it from a backup)")


def read_quotes(corpus_dir: str | os.PathLike) -> pd.DataFrame:
    """``quotes.csv`` of a corpus folder: passages quoted in coding, by study and code."""
    return read_written_table(Path(corpus_dir) / QUOTES_FILE, QUOTES_COLUMNS,
                              f"it needs {', '.join(QUOTES_COLUMNS)}")


def read_search_records(corpus_dir: str | os.PathLike) -> pd.DataFrame:
    """``records.csv`` of a corpus folder: every record of every search, by its key."""
    return read_written_table(Path(corpus_dir) / RECORDS_FILE, RECORDS_COLUMNS,
                              f"it needs {', '.join(RECORDS_COLUMNS)} (trustreview new and "
                              "add write it; restore it from a backup)")


def read_column(path: str | os.PathLike, column: str) -> list[str]:
    """One column of a CSV corpus table, as text, fast (the C parser; no checks: for the
    keys ``trustreview add`` must not reuse). A missing file gives no values; a file without
    the column is an :class:`InputError`."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        frame = pd.read_csv(path, usecols=[column], dtype=str, keep_default_na=False,
                            encoding="utf-8-sig")
    except ValueError:
        raise InputError(f"{display_path(path)}: no column {column!r}; restore the file's "
                         "header row") from None
    return frame[column].tolist()
