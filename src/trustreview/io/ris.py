"""RIS reference files (what ERIC, Scopus, Web of Science, PubMed, EndNote and Zotero export),
read with ``rispy`` and turned into BibTeX entries, and BibTeX records written back as RIS.

Each record becomes one BibTeX entry. Its key is the record's ``ID`` when that is a usable
key (not all digits, as EndNote's record numbers are), else ``surnameYEARfirstword``: the
first author's (or editor's) surname, the year (``nd`` without one) and the first word of the
title that is not an article, conjunction or preposition, lower case and folded to ASCII; a key already
taken gets ``a``, ``b``... in file order, so keys are the same on every run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from trustreview.schema import ENTRY_TYPES
from trustreview.base.text import (STOP_WORDS, ascii_fold, decode_latex, letter_suffix,
                                   normalise_doi, person_names)

RECORD_START = re.compile(r"^TY  -")
RECORD_END = re.compile(r"^ER  -")
BIBTEX_ENTRY = re.compile(r"(?m)^\s*@\s*[A-Za-z]+\s*[{(]")
KEY = re.compile(r"^[^\s\"#'(),={}%\\~]+$")

# RIS reference types -> BibTeX entry types (the rest are misc)
TYPES = {
    "JOUR": "article", "JFULL": "article", "EJOUR": "article", "MGZN": "article",
    "NEWS": "article", "ABST": "article", "INPR": "article",
    "BOOK": "book", "EBOOK": "book", "EDBOOK": "book",
    "CHAP": "incollection", "ECHAP": "incollection",
    "CONF": "inproceedings", "CPAPER": "inproceedings",
    "RPRT": "techreport", "GOVDOC": "techreport",
    "THES": "phdthesis", "UNPB": "unpublished",
}
# BibTeX entry types -> RIS reference types, for writing (schema.ENTRY_TYPES)
RIS_TYPES = {entry_type: ris for entry_type, (_, ris, _) in ENTRY_TYPES.items()}


@dataclass
class Converted:
    """BibTeX text made from a RIS file, and where each entry came from."""

    bibtex: str
    lines: dict[str, int]  # key -> line of the record's TY tag
    failed: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    columns: dict[str, list] = field(default_factory=dict)  # as parse_bib reads them


def looks_like_ris(text: str) -> bool:
    """True when ``text`` has RIS records (``TY  - `` lines) and no BibTeX entry."""
    has_record = text.startswith("TY  -") or "\nTY  -" in text  # a regex anchored at
    # every line start took half a second on a 70 MB file
    return has_record and not BIBTEX_ENTRY.search(text)


def _records(text: str):
    """The records of a RIS text as (line of TY, record text); errors (line, message) for a
    record with no end; warnings for stray text outside records."""
    records, failed, warnings = [], [], []
    start, chunk = None, []
    for number, line in enumerate(text.split("\n"), start=1):
        if RECORD_START.match(line):
            if start is not None:
                failed.append((start, "the RIS record has no end line (ER  - ) before the "
                                      f"next record at line {number}"))
            start, chunk = number, [line]
        elif start is not None:
            chunk.append(line)
            if RECORD_END.match(line):
                records.append((start, "\n".join(chunk) + "\n"))
                start, chunk = None, []
        elif line.strip():
            warnings.append((number, f"text outside any RIS record ({line.strip()[:40]!r}) "
                                     "is ignored"))
    if start is not None:
        failed.append((start, "the RIS record has no end line (ER  - ); the file may be "
                              "cut short"))
    return records, failed, warnings


def _surname(name: str) -> str:
    name = name.strip()
    surname = name.split(",", 1)[0] if "," in name else name.split()[0]  # organisation
    words = surname.split()
    while len(words) > 1 and words[0][:1].islower():  # particles: "van der Berg" -> berg
        words = words[1:]
    return ascii_fold(" ".join(words))


def generated_key(authors: list[str], year: str, title: str) -> str:
    """``surnameYEARfirstword`` (see the module docstring)."""
    surname = _surname(authors[0]) if authors else ""
    words = [ascii_fold(w) for w in re.split(r"[\s\-–—:/]+", title)]
    word = next((w for w in words if w and w not in STOP_WORDS), "")
    return f"{surname or 'anon'}{year or 'nd'}{word}"


def _first(record: dict, *names: str) -> str:
    for name in names:
        value = record.get(name)
        if isinstance(value, list):
            value = next((v for v in value if str(v).strip()), "")
        if value and str(value).strip():
            return " ".join(str(value).split())
    return ""


def _list(record: dict, *names: str) -> list[str]:
    values = []
    for name in names:
        value = record.get(name) or []
        values += [value] if isinstance(value, str) else list(value)
    return [" ".join(v.split()) for v in values if v and v.strip()]


def _year(record: dict) -> str:
    for name in ("year", "publication_year", "date"):
        found = re.search(r"\b(1[5-9]\d\d|20\d\d|21\d\d)\b", str(record.get(name) or ""))
        if found:
            return found.group(1)
    return ""


def _escape(text: str) -> str:
    """Text as a BibTeX field value: LaTeX special characters escaped."""
    text = text.replace("\\", "\\textbackslash{}")
    text = re.sub(r"([{}])", r"\\\1", text)
    return re.sub(r"([%&#_$])", r"\\\1", text)


ORGANISATION_WORDS = frozenset(
    "academy agency association authority bank board centre center college commission "
    "committee council department foundation group institute institution ministry network "
    "office partnership society team trust union university inc ltd llc of for and the".split())


def _person(name: str) -> str:
    """A RIS name as a BibTeX name. RIS writes people as "Surname, Given[, Suffix]"; a name
    without a comma is either a person written "Given Surname" (some databases write editors
    so: "Amy E. Keating" becomes "Keating, Amy E.") or an organisation, braced to keep it
    whole."""
    name = " ".join(name.split()).rstrip(",")
    if "," in name:
        return _escape(name)
    words = name.split()
    person = 2 <= len(words) <= 4 and all(w[:1].isupper() and not w.isupper() or
                                          re.fullmatch(r"[A-Z]\.", w) for w in words) \
        and not ORGANISATION_WORDS & {w.lower().strip(".") for w in words}
    if person:
        return _escape(f"{words[-1]}, {' '.join(words[:-1])}")
    return "{" + _escape(name) + "}"


DOI_IN_TEXT = re.compile(r"\b(10\.\d{4,9}/[^\s;,]+)")


def _doi(record: dict) -> str:
    """The record's DOI: ``DO``, else one written in ``M3``, ``N1`` or a doi.org ``UR``
    (as ScienceDirect, PLoS and Nature exports do)."""
    from urllib.parse import unquote

    found = normalise_doi(_first(record, "doi"))
    if found:
        return found
    for text in _list(record, "type_of_work", "note", "notes", "urls"):
        text = unquote(text)
        if "doi" in text.lower():
            match = DOI_IN_TEXT.search(text)
            if match:
                return match.group(1).rstrip(".")
    return ""


def _plain(text: str) -> str:
    """Text without the HTML some databases put in titles and abstracts (``<p>``,
    ``<italic>``, ``&gt;``)."""
    import html

    if "<" not in text and "&" not in text:
        return text
    return " ".join(html.unescape(re.sub(r"<[^>]{1,200}>", " ", text)).split())


def _fields(record: dict, kind: str, entry_type: str) -> dict[str, str]:
    unknown = record.get("unknown_tag") or {}
    authors = _list(record, "authors", "first_authors")
    editors = _list(record, "secondary_authors") if entry_type in (
        "incollection", "inproceedings", "book") else []
    editors += [n for values in (unknown.get("ED") or [],) for n in values if n.strip()]
    if kind == "EDBOOK" and not editors:
        authors, editors = [], authors
    title = _plain(_first(record, "title", "primary_title", "translated_title"))
    container = _first(record, "secondary_title", "journal_name", "alternate_title3",
                        "alternate_title2", "alternate_title1") or \
        _first(unknown, "BT")  # BT: the book title, in older RIS
    publisher = _first(record, "publisher")
    values: dict[str, str] = {
        "author": " and ".join(_person(a) for a in authors),
        "editor": " and ".join(_person(e) for e in editors),
        "title": _escape(title),
        "year": _year(record),
        "volume": _escape(re.sub(r"(?i)^(volume|vol\.?)\s*", "", _first(record, "volume"))),
        "number": _escape(_first(record, "number")),
        "edition": _escape(_first(record, "edition")),
        "eid": _escape(_first(record, "custom7")),  # C7: the article number
        "doi": _doi(record),
        "url": _first(record, "urls"),
        "abstract": _escape(_plain(_first(record, "abstract", "notes_abstract"))),
        "keywords": _escape(", ".join(_list(record, "keywords"))),
        "address": _escape(_first(record, "place_published")),
    }
    start, end = (_first(record, name) for name in ("start_page", "end_page"))
    start, end = ("" if p.lower() in ("n/a", "na", "-") else p for p in (start, end))
    values["pages"] = _escape(f"{start}--{end}" if start and end and start != end else start)
    if entry_type == "article":
        values["journal"] = _escape(container)
        values["publisher"] = ""
    elif entry_type in ("incollection", "inproceedings"):
        values["booktitle"] = _escape(container)
        values["publisher"] = _escape(publisher)
    elif entry_type == "techreport":
        values["institution"] = _escape(publisher or container)
        values["type"] = ""
    elif entry_type == "phdthesis":
        values["school"] = _escape(publisher or container)
    elif entry_type == "book":
        values["publisher"] = _escape(publisher)
        values["series"] = _escape(_first(record, "tertiary_title") or container)
    else:
        values["howpublished"] = _escape(container or publisher)
    return {name: value for name, value in values.items() if value}


def ris_to_bibtex(text: str) -> Converted:
    """BibTeX for every record of a RIS text (see the module docstring for keys)."""
    import rispy

    records, failed, warnings = _records(text)
    items = []
    for line, chunk in records:
        try:
            parsed = rispy.loads(chunk)
        except Exception:  # rispy raises assorted types on malformed records
            failed.append((line, "the RIS record cannot be read (a line that is not "
                                 "'XX  - value'?)"))
            continue
        if len(parsed) != 1:
            failed.append((line, "the RIS record cannot be read"))
            continue
        items.append((line, parsed[0]))
    converted = records_to_bibtex(items, "RIS")
    converted.failed[:0] = failed
    converted.warnings[:0] = warnings
    return converted


def records_to_bibtex(items, kind_of_file: str = "RIS") -> Converted:
    """BibTeX for records given as (line, rispy-style dict) pairs: a RIS file's, or a CSV
    export's rows named as rispy names RIS tags. A record's own ``id`` is its key when
    usable; two records with the same key get ``a``, ``b``... after the first, with a
    warning (see the module docstring for the key rule). ``columns`` holds the entries as
    :func:`trustreview.io.load.parse_bib` would read them back from ``bibtex``."""
    from trustreview.schema import BIB_COLUMNS, BIB_FIELDS

    lines: dict[str, int] = {}
    warnings: list[tuple[int, str]] = []
    texts: list[str] = []
    columns: dict[str, list] = {name: [] for name in BIB_COLUMNS}
    for line, record in items:
        kind = str(record.get("type_of_reference", "")).strip().upper()
        entry_type = TYPES.get(kind, "misc")
        values = _fields(record, kind, entry_type)
        if not values.get("title"):
            warnings.append((line, f"the {kind_of_file} record has no title; it is kept "
                                   "(screen it by its other fields, or add the title)"))
        own = _first(record, "id")
        if own and KEY.match(own) and not own.isdigit():
            base = own
        else:
            people = _list(record, "authors", "first_authors") or \
                _list(record, "secondary_authors")
            base = generated_key(people, values.get("year", ""), _first(
                record, "title", "primary_title"))
        key, n = base, 0
        while key in lines:
            key = base + letter_suffix(n)
            n += 1
        if key != base and base == own:
            warnings.append((line, f"ID {own!r} is also the ID of the record at line "
                                   f"{lines[own]}; this record is keyed {key!r}"))
        lines[key] = line
        text = entry_text(entry_type, key, values)
        texts.append(text)
        columns["key"].append(key)
        columns["entry_type"].append(entry_type)
        columns["line"].append(line)
        columns["raw"].append(text.rstrip("\n"))
        for name in BIB_FIELDS:
            columns[name].append(" ".join(values.get(name, "").split()))
    return Converted("\n\n".join(texts), lines, [], warnings, columns)


def entry_text(entry_type: str, key: str, values: dict[str, str]) -> str:
    """One BibTeX entry, each value in braces (values are BibTeX already: escaped,
    balanced), as bibtexparser's writer lays it out."""
    body = ",\n".join(f"\t{name} = {{{value}}}" for name, value in values.items())
    return f"@{entry_type}{{{key},\n{body}\n}}\n"


def ris_texts(records) -> dict[str, str]:
    """Each record's RIS text (see :func:`records_to_ris`), by ``study_id``."""
    return {str(row["study_id"]): records_to_ris([row]) for row in records}


def records_to_ris(records) -> str:
    """RIS text (written by rispy) for bib rows (``entry_type``, ``authors``, ``editor``,
    ``title``, ``year``, ``venue``, ``volume``, ``number``, ``pages``, ``doi``, ``url``,
    ``abstract``, ``keywords``, ``study_id``), LaTeX decoded to text."""
    import rispy


    references = []
    for row in records:
        get = (lambda k: decode_latex(str(row.get(k, "") or "")))
        kind = RIS_TYPES.get(str(row.get("entry_type", "")), "GEN")
        reference = {"type_of_reference": kind, "id": str(row["study_id"])}
        authors = [n["display"] for n in person_names(str(row.get("authors", "") or ""))]
        editors = [n["display"] for n in person_names(str(row.get("editor", "") or ""))]
        if authors:
            reference["authors"] = authors
        if editors:
            reference["secondary_authors"] = editors
        pages = get("pages").replace("–", "-").replace("--", "-").split("-")
        for name, value in (("title", get("title")), ("year", get("year")),
                            ("secondary_title", get("venue")), ("volume", get("volume")),
                            ("number", get("number")), ("start_page", pages[0]),
                            ("end_page", pages[-1] if len(pages) > 1 else ""),
                            ("doi", normalise_doi(str(row.get("doi", "") or ""))),
                            ("abstract", get("abstract"))):
            if value:
                reference[name] = value
        if row.get("url"):
            reference["urls"] = [str(row["url"])]
        keywords = [k.strip() for k in re.split(r"[;,]", get("keywords")) if k.strip()]
        if keywords:
            reference["keywords"] = keywords
        references.append(reference)
    return rispy.dumps(references, implementation=_writer_class()) if references else ""


@lru_cache(maxsize=1)
def _writer_class():
    import rispy

    class Writer(rispy.RisWriter):
        """rispy's writer without its "1." numbering line before each record."""

        def set_header(self, count):
            return None

    return Writer
