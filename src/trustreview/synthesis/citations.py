"""Citations from BibTeX fields: author-date in-text citations and APA 7 reference entries.

Names are split before LaTeX is decoded, so a braced corporate author (``{World Bank}``)
stays whole.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd

NO_DATE = "n.d."
DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.(?:org|acm\.org)/|(?:dx\.)?doi\.org/|"
                        r"doi:\s*)", re.IGNORECASE)


def normalise_doi(value: str) -> str:
    """A DOI without the URL or ``doi:`` prefixes it is often written with, repeated ones
    too (``https://doi.org/http://dx.doi.org/10.1/x`` -> ``10.1/x``)."""
    value = value.strip()
    while True:
        stripped = DOI_PREFIX.sub("", value).strip()
        if stripped == value:
            return value
        value = stripped


TEXT_MACROS = ("mbox", "hbox", "text", "textrm", "textnormal", "textsuperscript",
               "textsubscript", "ensuremath", "url", "path", "nolinkurl")


@lru_cache(maxsize=1)
def _decoder():
    r"""pylatexenc, told that ``\mbox{..}`` and friends print their argument (by default it
    drops them, so DBLP's ``5\({}^{\mbox{th}}\)`` lost its "th")."""
    from pylatexenc import latexwalker, macrospec
    from pylatexenc.latex2text import (LatexNodes2Text, MacroTextSpec,
                                       get_default_latex_context_db)

    text_db = get_default_latex_context_db()
    text_db.add_context_category("trustreview", prepend=True, macros=[
        MacroTextSpec(name, simplify_repl="%(1)s") for name in TEXT_MACROS])
    walker_db = latexwalker.get_default_latex_context_db()
    walker_db.add_context_category("trustreview", prepend=True, macros=[
        macrospec.MacroSpec(name, "{") for name in TEXT_MACROS])
    return LatexNodes2Text(latex_context=text_db, math_mode="text",
                           strict_latex_spaces=False), walker_db


@lru_cache(maxsize=65536)
def decode_latex(text: str) -> str:
    r"""LaTeX to plain Unicode text (``{\"o}`` -> ``ö``, ``\&`` -> ``&``, ``--`` -> ``–``,
    ``$\alpha$`` -> ``α``, ``5\({}^{\mbox{th}}\)`` -> ``5th``). No brace or backslash is
    left in the result."""
    if not text:
        return ""
    if not re.search(r"[\\{}$~^]|--", text):
        return " ".join(text.split())
    from pylatexenc import latexwalker

    converter, walker_db = _decoder()
    try:
        nodes = latexwalker.LatexWalker(text, latex_context=walker_db,
                                        tolerant_parsing=True).get_latex_nodes()[0]
        decoded = converter.nodelist_to_text(nodes)
    except Exception:  # pylatexenc is lenient, but never let a citation stop a run
        decoded = text
    decoded = re.sub(r"(\d)\s*\^\s*(st|nd|rd|th)\b", r"\1\2", decoded)
    decoded = re.sub(r"\\[A-Za-z]+\*?|[{}\\]", "", decoded)
    return " ".join(decoded.split())


def empty_names(field: str) -> int:
    """How many names of a BibTeX name list are empty (``A and and B`` has one)."""
    if not field.strip():
        return 0
    parts = re.split(r"\s+and(?=\s)", " " + _outside_braces(field) + " ")
    return sum(1 for part in parts if not part.strip())


def _outside_braces(text: str) -> str:
    """``text`` with everything inside braces blanked out."""
    out, depth = [], 0
    for ch in text:
        if ch == "{":
            depth += 1
        out.append(ch if depth == 0 else "x")
        if ch == "}":
            depth = max(depth - 1, 0)
    return "".join(out)


def split_authors(field: str) -> list[str]:
    """Split a BibTeX author field on `` and `` outside braces."""
    names, depth, current = [], 0, []
    tokens = re.split(r"(\s+and(?=\s)|[{}])", field)
    for token in tokens:
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(depth - 1, 0)
        if depth == 0 and re.fullmatch(r"\s+and", token or ""):
            names.append("".join(current).strip())
            current = []
        else:
            current.append(token or "")
    names.append("".join(current).strip())
    return [n for n in names if n]


@lru_cache(maxsize=65536)
def parse_name(name: str) -> dict:
    """``{"last", "first", "initials", "jr", "corporate", "others"}`` of one BibTeX name,
    split by bibtexparser's name middleware (``King, Jr., Martin Luther``: last ``King``, jr
    ``Jr.``; ``von Neumann, John``: last ``von Neumann``)."""
    from bibtexparser.middlewares.names import InvalidNameError, parse_single_name_into_parts

    if name.lower() == "others":
        return {"last": "", "first": "", "initials": "", "jr": "", "corporate": False,
                "others": True}
    if name.startswith("{") and name.endswith("}") and _balanced(name[1:-1]):
        return {"last": decode_latex(name[1:-1]), "first": "", "initials": "", "jr": "",
                "corporate": True, "others": False}
    try:
        parts = parse_single_name_into_parts(name, strict=False)
        first, von, last, jr = (" ".join(p) for p in (parts.first, parts.von, parts.last,
                                                       parts.jr))
    except (InvalidNameError, ValueError, IndexError):
        first, von, last, jr = "", "", name, ""
    last = decode_latex(" ".join(p for p in (von, last) if p))
    first = decode_latex(first)
    return {"last": last, "first": first, "initials": _initials(first),
            "jr": decode_latex(jr), "corporate": False, "others": False}


def person_names(field: str) -> list[dict]:
    """The names of a BibTeX name list (``others`` dropped), each with a ``display`` form
    ``Last, First, Jr.`` (as RIS writes names)."""
    names = []
    for name in split_authors(field):
        parsed = dict(parse_name(name))
        if parsed["others"]:
            continue
        parts = [parsed["last"]] + [p for p in (parsed["first"], parsed["jr"]) if p]
        parsed["display"] = parsed["last"] if parsed["corporate"] else ", ".join(parts)
        names.append(parsed)
    return names


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _initials(first: str) -> str:
    parts = []
    words = first.replace(".", ". ").replace(". -", ".-").split()
    if words and all(2 <= len(w) <= 3 and w.isalpha() and w.isupper() for w in words):
        words = [ch for w in words for ch in w]  # Web of Science runs initials together: "CH"
    for word in words:
        pieces = [p for p in word.split("-") if p]
        if all(p.rstrip(".").isalpha() and len(p.rstrip(".")) <= 1 for p in pieces):
            parts.append("-".join(p.rstrip(".") + "." for p in pieces))
        else:
            parts.append("-".join(p[0] + "." for p in pieces if p[:1].isalpha()))
    return " ".join(p for p in parts if p)


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


IN_BOOK = ("incollection", "inproceedings", "inbook")


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
            suffix[position] = "abcdefghijklmnopqrstuvwxyz"[i % 26]
    citations = [b[:-1] + s + ")" if s else b for b, s in zip(base, suffix)]
    runs = [apa_runs(row, s) for row, s in zip(frame.to_dict("records"), suffix)]
    references = ["".join(text for text, _ in r) for r in runs]
    return records.assign(citation=citations, reference=references, reference_runs=runs)
