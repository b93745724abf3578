"""Citations from BibTeX fields: author-date in-text citations and APA 7 reference entries.

Names are split before LaTeX is decoded, so a braced corporate author (``{World Bank}``)
stays whole.
"""

from __future__ import annotations

import re

import pandas as pd

from trustreview.base.frames import frame_rows
from trustreview.base.text import (decode_latex, letter_suffix, normalise_doi, parse_name,
                                 split_authors)
from trustreview.schema import ENTRY_TYPES

NO_DATE = "n.d."


def in_text_citation(authors: str, year: str, title: str = "") -> str:
    """Author-date citation: "Hutchings and Francis (2017)", "Greany et al. (2018)"."""
    names = [parse_name(n) for n in split_authors(authors)]
    people = [n for n in names if not n["others"]]
    date = year.strip() or NO_DATE
    if not people:
        short = decode_latex(title).split(":")[0].strip() or "Anonymous"
        return f"{short} ({date})"
    if len(people) == 1 and not any(n["others"] for n in names):
        lead = people[0]["last"]
    elif len(people) == 2 and not any(n["others"] for n in names):
        lead = f"{people[0]['last']} and {people[1]['last']}"
    else:
        lead = f"{people[0]['last']} et al."
    return f"{lead} ({date})"


def _apa_author(name: dict, initials_first: bool = False) -> str:
    if name["corporate"] or not name["initials"]:
        return name["last"]
    jr = f", {name['jr']}" if name["jr"] else ""
    if initials_first:  # editors after "In": "A. B. Editor"
        return f"{name['initials']} {name['last']}{jr}"
    return f"{name['last']}, {name['initials']}{jr}"


def apa_authors(authors: str, initials_first: bool = False) -> str:
    """An APA 7 name list: "Greany, T., & Higham, R."; ``initials_first`` for editors of a
    book a chapter is in ("T. Greany & R. Higham")."""
    names = [parse_name(n) for n in split_authors(authors)]
    people = [_apa_author(n, initials_first) for n in names if not n["others"]]
    others = any(n["others"] for n in names)
    if not people:
        return ""
    if others:
        return ", ".join(people) + ", et al."
    if len(people) == 1:
        return people[0]
    if initials_first:
        return " & ".join(people) if len(people) == 2 else \
            ", ".join(people[:-1]) + ", & " + people[-1]
    if len(people) > 20:
        return ", ".join(people[:19]) + ", . . . " + people[-1]
    return ", ".join(people[:-1]) + ", & " + people[-1]


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".?!" else text + "."


IN_BOOK = tuple(t for t, (kind, _, _) in ENTRY_TYPES.items() if kind in ("chapter", "paper"))


def apa_reference(row: pd.Series | dict, suffix: str = "") -> str:
    """One APA 7 reference-list entry as plain text (see :func:`apa_runs`)."""
    return "".join(text for text, _ in apa_runs(row, suffix))


def apa_runs(row: pd.Series | dict, suffix: str = "") -> list[tuple[str, bool]]:
    """One APA 7 reference-list entry as runs of (text, italic): the journal and volume of
    an article, the title of a report, book or thesis, and the book a chapter is in are
    italic.

    Uses: authors, editor, year, title, venue, entry_type, volume, number, pages,
    publisher, doi, url. Editors: "(Ed.)"/"(Eds.)" in place of the authors of an edited
    book, and "In A. Editor (Ed.), Book" for a chapter or a paper in proceedings.
    """
    get = (lambda k: decode_latex(str(row.get(k, "") or "")))
    year = (get("year") or NO_DATE) + suffix
    who = apa_authors(str(row.get("authors", "") or ""))
    editor_field = str(row.get("editor", "") or "")
    editors = [n for n in split_authors(editor_field) if n.lower() != "others"]
    role = "(Ed.)" if len(editors) == 1 else "(Eds.)"
    kind = str(row.get("entry_type", "") or "")
    if not who and editors and kind not in IN_BOOK:
        who = f"{apa_authors(editor_field)} {role}"  # an edited book or proceedings
    date = f"({year})."
    title = get("title").strip()
    italic_title = kind not in ("article", *IN_BOOK)
    venue = get("venue")
    pages = get("pages").replace("--", "–").replace("-", "–")
    title_runs: list[tuple[str, bool]]
    if kind == "phdthesis":  # "Title [Doctoral dissertation, School]."
        thesis = f"[Doctoral dissertation, {venue}]." if venue else "[Doctoral dissertation]."
        title_runs = [(title.rstrip("."), True), (" " + thesis, False)] if title else \
            [(thesis, False)]
    elif italic_title and title:
        title_runs = [(title, True)] if title[-1] in ".?!" else [(title, True), (".", False)]
    else:
        title_runs = [(_sentence(title), False)] if title else []
    head = [(f"{_sentence(who)} {date} ", False), *title_runs] if who else \
        [*title_runs, (f" {date}" if title_runs else date, False)]
    tail: list[tuple[str, bool]] = []
    if kind == "article":
        plain = venue
        tail = [(venue, True)] if venue else []
        if get("volume"):
            plain += f", {get('volume')}"
            tail += [(", ", False), (get("volume"), True)]
            if get("number"):
                plain += f"({get('number')})"
                tail.append((f"({get('number')})", False))
        if pages:
            plain += f", {pages}"
            tail.append((f", {pages}", False))
        if plain and _sentence(plain) != plain:
            tail.append((".", False))
    elif kind in IN_BOOK:
        book = re.sub(r"^In:?\s+", "", venue)
        if book:
            by = f"{apa_authors(editor_field, initials_first=True)} {role}, " if editors else ""
            after = f" (pp. {pages})" if pages else ""
            end = "" if _sentence(book + after) == book + after else "."
            tail = [(f"In {by}", False), (book, True), (after + end, False)]
            publisher = get("publisher")
            if publisher and publisher != book:
                tail.append((" " + _sentence(publisher), False))
    elif kind != "phdthesis" and venue:
        tail = [(_sentence(venue), False)]
    doi = normalise_doi(str(row.get("doi", "") or ""))
    link = f"https://doi.org/{doi}" if doi else get("url")
    runs: list[tuple[str, bool]] = []
    for part in (head, tail, [(link, False)] if link else []):
        part = [(text, italic) for text, italic in part if text]
        if part:
            if runs:
                runs.append((" ", False))
            runs.extend(part)
    return runs


def add_citations(records: pd.DataFrame) -> pd.DataFrame:
    """Add ``citation``, ``reference`` and ``reference_runs`` (the reference as (text,
    italic) runs) columns; same author-date pairs get 2018a, 2018b."""
    base = [in_text_citation(a, y, t) for a, y, t in
            zip(records["authors"].tolist(), records["year"].tolist(),
                records["title"].tolist())]
    frame = records.assign(_base=base).reset_index(drop=True)
    suffix = [""] * len(frame)
    clashes = frame[frame.duplicated("_base", keep=False)]
    for _, group in clashes.groupby("_base", sort=True):
        ordered = group.sort_values(["title", "study_id"], kind="stable")
        for i, position in enumerate(ordered.index):
            suffix[position] = letter_suffix(i)
    citations = [b[:-1] + s + ")" if s else b for b, s in zip(base, suffix)]
    runs = [apa_runs(row, s) for row, s in zip(frame_rows(frame), suffix)]
    references = ["".join(text for text, _ in r) for r in runs]
    return records.assign(citation=citations, reference=references, reference_runs=runs)
