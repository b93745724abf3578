"""Citations from BibTeX fields: author-date in-text citations and APA 7 reference entries.

Names are split before LaTeX is decoded, so a braced corporate author (``{World Bank}``)
stays whole.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd

NO_DATE = "n.d."


@lru_cache(maxsize=1)
def _decoder():
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=False)


@lru_cache(maxsize=65536)
def decode_latex(text: str) -> str:
    """LaTeX to plain Unicode text (``{\\"o}`` -> ``ö``, ``\\&`` -> ``&``, ``--`` -> ``–``)."""
    if not text:
        return ""
    if not re.search(r"[\\{}$~]|--", text):
        return " ".join(text.split())
    try:
        decoded = _decoder().latex_to_text(text)
    except Exception:  # pylatexenc is lenient, but never let a citation stop a run
        decoded = text.replace("{", "").replace("}", "")
    return " ".join(decoded.split())


def split_authors(field: str) -> list[str]:
    """Split a BibTeX author field on `` and `` outside braces."""
    names, depth, current = [], 0, []
    tokens = re.split(r"(\s+and\s+|[{}])", field)
    for token in tokens:
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(depth - 1, 0)
        if depth == 0 and re.fullmatch(r"\s+and\s+", token or ""):
            names.append("".join(current).strip())
            current = []
        else:
            current.append(token or "")
    names.append("".join(current).strip())
    return [n for n in names if n]


def parse_name(name: str) -> dict:
    """``{"last", "initials", "corporate", "others"}`` of one BibTeX name."""
    if name.lower() == "others":
        return {"last": "", "initials": "", "corporate": False, "others": True}
    if name.startswith("{") and name.endswith("}") and _balanced(name[1:-1]):
        return {"last": decode_latex(name[1:-1]), "initials": "", "corporate": True,
                "others": False}
    if "," in name:
        last, first = name.split(",", 1)
    else:
        parts = name.split()
        # "van der Berg" style particles stay with the last name
        index = len(parts) - 1
        while index > 0 and parts[index - 1][:1].islower():
            index -= 1
        last, first = " ".join(parts[index:]), " ".join(parts[:index])
    return {"last": decode_latex(last.strip()), "initials": _initials(decode_latex(first)),
            "corporate": False, "others": False}


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _initials(first: str) -> str:
    parts = []
    for word in first.replace(".", ". ").replace(". -", ".-").split():
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


def _apa_author(name: dict) -> str:
    if name["corporate"] or not name["initials"]:
        return name["last"]
    return f"{name['last']}, {name['initials']}"


def apa_authors(authors: str) -> str:
    names = [parse_name(n) for n in split_authors(authors)]
    people = [_apa_author(n) for n in names if not n["others"]]
    others = any(n["others"] for n in names)
    if not people:
        return ""
    if others:
        return ", ".join(people) + ", et al."
    if len(people) == 1:
        return people[0]
    if len(people) > 20:
        return ", ".join(people[:19]) + ", . . . " + people[-1]
    return ", ".join(people[:-1]) + ", & " + people[-1]


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".?!" else text + "."


def apa_reference(row: pd.Series | dict, suffix: str = "") -> str:
    """One APA 7 reference-list entry (plain text) from bib fields.

    Uses: authors, year, title, venue, entry_type, volume, number, pages, doi, url.
    """
    get = (lambda k: decode_latex(str(row.get(k, "") or "")))
    year = (get("year") or NO_DATE) + suffix
    title = _sentence(get("title"))
    who = apa_authors(str(row.get("authors", "") or ""))
    date = f"({year})."
    head = f"{_sentence(who)} {date} {title}" if who else f"{title} {date}"
    venue = get("venue")
    kind = str(row.get("entry_type", "") or "")
    pages = get("pages").replace("--", "–").replace("-", "–")
    if kind == "article":
        detail = venue
        if get("volume"):
            detail += f", {get('volume')}"
            if get("number"):
                detail += f"({get('number')})"
        if pages:
            detail += f", {pages}"
        tail = _sentence(detail) if detail else ""
    elif kind == "incollection":
        book = re.sub(r"^In:?\s+", "", venue)
        tail = _sentence(f"In {book}" + (f" (pp. {pages})" if pages else "")) if book else ""
    elif kind == "phdthesis":
        tail = f"[Doctoral dissertation, {venue}]." if venue else "[Doctoral dissertation]."
        head = head.rstrip(".") + " " + tail
        tail = ""
    else:
        tail = _sentence(venue) if venue else ""
    doi = get("doi")
    link = f"https://doi.org/{doi}" if doi else get("url")
    return " ".join(part for part in (head, tail, link) if part)


def add_citations(records: pd.DataFrame) -> pd.DataFrame:
    """Add ``citation`` and ``reference`` columns; same author-date pairs get 2018a, 2018b."""
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
    references = [apa_reference(row, s) for row, s in
                  zip(frame.to_dict("records"), suffix)]
    return records.assign(citation=citations, reference=references)
