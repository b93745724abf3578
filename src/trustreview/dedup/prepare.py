"""Records made comparable: each field a matcher compares, normalised once. Titles lose
case, punctuation, markup, a database's trailing notes ("[Review] [45 refs]", "[French]")
and a correction notice's wording ("Erratum: ...", "... (vol 360, pg 542, 2009)"), which is
kept as a flag; author lists become surnames; volumes, issues and article numbers become
their numbers ("Drug Discovery. 9" -> 9); pages become a first and a last page.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

import pandas as pd

from trustreview.base.frames import first_filled
from trustreview.base.text import STOP_WORDS, ascii_fold, decode_latex, doi_key, fold
from trustreview.schema import CONTAINER_FIELDS, ENTRY_KINDS

NOT_ALNUM = re.compile(r"[^a-z0-9]+")
TAG = re.compile(r"<[^>]{1,40}>")
NOT_WORD = re.compile(r"[^\w\s]")
# what databases append to a title: "[French]", "[Review] [45 refs]", "[Erratum appears
# in ...]" (MEDLINE's note on the article itself, not a notice)
TRAILING_NOTES = re.compile(r"(?:\s*\[[^\[\]]{1,120}\])+\s*\.?\s*$")
# a correction notice: "Erratum: <title>", "Correction to: <title>", "Corrigendum to
# '<title>'", or Web of Science's "<title> (vol 360, pg 542, 2009)"
NOTICE_START = re.compile(r"^\s*(?:erratum|errata|corrigendum|correction|corrections|"
                          r"retraction|retracted|notice of retraction)"
                          r"(?:\s+(?:to|for|of|on|in|notice))?\s*(?::|-|\s)\s*", re.IGNORECASE)
NOTICE_END = re.compile(r"\s*\(\s*vol\.?\s*\d+[^()]{0,40}\)\s*\.?\s*$", re.IGNORECASE)
AND = re.compile(r"\s+and\s+")
PAGES = re.compile(r"^\s*([A-Za-z]?)(\d+)\s*(?:[-\u2013\u2014]+\s*([A-Za-z]?)(\d+))?")
NUMBER = re.compile(r"\d+")
YEAR = re.compile(r"\d{4}")


def title_key(text: str) -> str:
    """A title as words to compare: lower case, ASCII letters and digits, single spaces;
    LaTeX, HTML and a database's trailing notes removed. Duplicate finding and validation's
    near-duplicate warning both compare titles through this."""
    text = TRAILING_NOTES.sub("", text)
    if "\\" in text:
        text = decode_latex(text)
    elif "{" in text:
        text = text.replace("{", "").replace("}", "")
    if "<" in text or "&" in text:
        text = html.unescape(TAG.sub(" ", text))
    if not text.isascii():  # a dash or quote between words splits them, as "-" does
        text = fold(NOT_WORD.sub(" ", unicodedata.normalize("NFC", text)))
    text = text.lower()
    return " ".join(NOT_ALNUM.sub(" ", text.replace("&", " and ")).split())


def notice_title(text: str) -> tuple[str, bool]:
    """(the title without a correction notice's wording, whether it was a notice)."""
    text = TRAILING_NOTES.sub("", text)
    stripped = NOTICE_END.sub("", NOTICE_START.sub("", text, count=1))
    stripped = stripped.strip().strip("'\"\u2018\u2019\u201c\u201d").strip()
    if stripped != text.strip() and len(stripped.split()) >= 3:
        return stripped, True
    return text, False


# initials written after a surname ("Tan A", "O'Donnell C. P.", "Zhang S. L.H"), and the
# point where a list glued without separators goes on to the next name ("Tan A.Schulze A.")
INITIALS = re.compile(r"(?:[A-Z]\.?-?){1,4}")
GLUED = re.compile(r"(?<=[A-Z]\.)(?=[A-Z][a-z'\u2019])")


@lru_cache(maxsize=1 << 16)  # an author list recurs across searches (its duplicates)
def surnames(authors: str) -> tuple[str, ...]:
    """The surnames of a BibTeX name list, lower-case ASCII, "others" left out. Names as
    databases also write them count too: "Surname I." with the initials after the surname
    (MEDLINE), and lists glued without separators ("Tan A.Schulze A.O'Donnell C. P.")."""
    names = []
    parts = AND.split(authors)
    if len(parts) == 1 and "," not in authors and ";" not in authors:
        parts = GLUED.split(authors)
    for name in parts:
        name = name.strip().strip("{}")
        if not name or name == "others":
            continue
        if "," in name:
            last = name.split(",", 1)[0]
        else:
            words = name.split()
            while len(words) > 1 and INITIALS.fullmatch(words[-1]):
                words = words[:-1]  # "Tan A" is Tan, as "Tan, A" is
            last = words[-1]
        words = last.split()
        while len(words) > 1 and words[0][:1].islower():
            words = words[1:]
        surname = " ".join(words)
        if "\\" in surname or "{" in surname:
            surname = decode_latex(surname)
        surname = NOT_ALNUM.sub("", surname.lower()) if surname.isascii() else \
            ascii_fold(surname)
        if surname:
            names.append(surname)
    return tuple(names)


def page_range(pages: str) -> tuple[str, str]:
    """(first page, last page) as written, lower case: ``"2097--2108"`` -> ("2097",
    "2108"), ``"e1234"`` -> ("e1234", ""). A last page written short (``"123-9"``) is
    completed (``"129"``)."""
    found = PAGES.match(pages)
    if not found:
        return "", ""
    first = (found.group(1) + found.group(2)).lower()
    if not found.group(4):
        return first, ""
    last = found.group(4)
    if len(last) < len(found.group(2)) and not found.group(3):
        last = found.group(2)[:len(found.group(2)) - len(last)] + last
    return first, (found.group(3) + last).lower()


def number_key(value: str) -> str:
    """A volume, issue, report or article number as its numbers (``"Drug Discovery. 9"``
    -> ``"9"``, ``"3-4"`` -> ``"3 4"``, ``"Suppl 2"`` -> ``"2"``, ``"012"`` -> ``"12"``), or
    its folded text when it holds no number."""
    numbers = NUMBER.findall(value)
    if numbers:
        return " ".join(str(int(n)) for n in numbers[:4])
    return NOT_ALNUM.sub("", ascii_fold(value).lower()) if value else ""


def prepare(records: pd.DataFrame) -> pd.DataFrame:
    """The fields the matcher compares, normalised: ``t`` title, ``notice`` (a correction
    notice), ``names`` author surnames, ``y`` year (or -1), ``doi``, ``venue``, ``vol``,
    ``num`` (issue or report number), ``eid`` (article number), ``edition``, ``page`` and
    ``last`` (first and last page), ``kind``."""
    def column(name):
        return records[name].fillna("").astype(str).tolist() if name in records else \
            [""] * len(records)

    venues = first_filled(records, CONTAINER_FIELDS)
    venue_key = {v: " ".join(w for w in title_key(v).split() if w not in STOP_WORDS)
                 for v in set(venues)}  # few venues, many records
    years = []
    for value in column("year"):
        found = YEAR.search(value)
        years.append(int(found.group()) if found else -1)
    authors = [a or e for a, e in zip(column("author"), column("editor"))]
    titles, notices = [], []
    for title in column("title"):
        plain, notice = notice_title(title)
        titles.append(title_key(plain))
        notices.append(notice)
    pages = [page_range(p) for p in column("pages")]
    return pd.DataFrame({
        "key": column("key"),
        "t": titles,
        "notice": notices,
        "names": [surnames(a) for a in authors],
        "y": years,
        "doi": [doi_key(d) for d in column("doi")],
        "venue": [venue_key[v] for v in venues],
        "vol": [number_key(v).split(" ", 1)[0] for v in column("volume")],
        "num": [number_key(v) for v in column("number")],
        "eid": [number_key(v) for v in column("eid")],
        "edition": [number_key(v) for v in column("edition")],
        "page": [first for first, _ in pages],
        "last": [last for _, last in pages],
        "kind": [ENTRY_KINDS.get(t.lower(), "other") for t in column("entry_type")],
    })
