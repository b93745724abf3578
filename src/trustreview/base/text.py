"""Text as references and tables hold it, made plain once for every reader: LaTeX to
Unicode text, DOIs without their URL prefixes, BibTeX name lists split into names, and
ASCII folding for keys and sorting. Reading, validation, the tagger and citations all use
these."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.(?:org|acm\.org)/|(?:dx\.)?doi\.org/|"
                        r"doi:\s*)", re.IGNORECASE)


# short words a key or a block of titles skips ("The effects of ..." is keyed by "effects")
STOP_WORDS = frozenset("a an the and or of on in at to for from with by about as into".split())


def single_spaced(text) -> str:
    """Text with its runs of spaces, tabs and line breaks made one space, and none at either
    end: how the codebook stores every name and value, and so how an import must write them."""
    return " ".join(str(text).split())


def normalise_doi(value: str) -> str:
    """A DOI without the URL or ``doi:`` prefixes it is often written with, repeated ones
    too (``https://doi.org/http://dx.doi.org/10.1/x`` -> ``10.1/x``)."""
    value = value.strip()
    while True:
        stripped = DOI_PREFIX.sub("", value).strip()
        if stripped == value:
            return value
        value = stripped


def doi_key(value: str) -> str:
    """A DOI for comparing two records: :func:`normalise_doi`, lower case (DOIs are
    case-insensitive)."""
    return normalise_doi(value).lower()


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


EMPTY_NAME_HINT = re.compile(r"(?:^|\s)and\s+and(?=\s|$)|^\s*and\s|\sand\s*$")


def empty_names(field: str) -> int:
    """How many names of a BibTeX name list are empty (``A and and B`` has one)."""
    if not field.strip() or not EMPTY_NAME_HINT.search(field):
        return 0  # the common case, without walking the braces
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


_AND = re.compile(r"\s+and(?=\s)")
_TRAILING_AND = re.compile(r"\s+and")


def split_authors(field: str) -> list[str]:
    """Split a BibTeX author field on `` and `` outside braces."""
    if "{" not in field and "}" not in field:  # most fields: no braces to step over
        return [part.strip() for part in _AND.split(field)
                if part.strip() and not _TRAILING_AND.fullmatch(part)]
    return _split_outside_braces(field)


def _split_outside_braces(field: str) -> list[str]:
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


FOLDED_LETTERS = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "ł": "l", "Æ": "AE",
                                "Ø": "O", "Ł": "L"})


def fold(text: str) -> str:
    """Text in ASCII: accents dropped (``Öhrn`` -> ``Ohrn``), letters without a decomposition
    written out (``ß`` -> ``ss``, ``ø`` -> ``o``), other characters left out."""
    text = str(text).translate(FOLDED_LETTERS)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def ascii_fold(text: str) -> str:
    """Lower-case ASCII letters and digits only: ``Vlček`` -> ``vlcek``."""
    return re.sub(r"[^a-z0-9]", "", fold(text).lower())


def letter_suffix(n: int) -> str:
    """a, b, ..., z, aa, ab, ..."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[n] if n < 26 else letter_suffix(n // 26 - 1) + letters[n % 26]
