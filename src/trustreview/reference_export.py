"""Reference files for a domain's studies that stand on their own: BibTeX with the
``@string`` definitions its entries use and the ``crossref`` parents they need (written with
bibtexparser's writer, DOIs without URL prefixes), and RIS (written with rispy)."""

from __future__ import annotations

from trustreview.citations import normalise_doi

MONTHS = frozenset("jan feb mar apr may jun jul aug sep oct nov dec".split())


def _macros(value: str) -> set[str]:
    """The macro names a raw field value uses (``EAQ # " 12"`` uses ``EAQ``)."""
    names = set()
    depth, quoted, piece = 0, False, []
    pieces = []
    for ch in value:  # split on # outside braces and quotes
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == '"' and depth == 0:
            quoted = not quoted
        if ch == "#" and depth == 0 and not quoted:
            pieces.append("".join(piece))
            piece = []
        else:
            piece.append(ch)
    pieces.append("".join(piece))
    for part in pieces:
        part = part.strip()
        if part and part[0] not in '{"' and not part.isdigit():
            names.add(part.lower())
    return names


def self_contained_bibtex(entries: list[str], strings: str, parents: list[str]) -> str:
    """One BibTeX file: the ``@string`` blocks of ``strings`` that ``entries`` (raw entry
    texts) or their ``parents`` (raw texts of the entries they ``crossref``) use, then the
    entries, then the parents (BibTeX wants parents after their children)."""
    import bibtexparser
    from bibtexparser.model import Field

    if not entries:
        return ""
    text = "\n\n".join([strings, *entries, *parents])
    parsed = bibtexparser.parse_string(text, parse_stack=[])  # values exactly as written
    definitions = {s.key.lower(): s for s in parsed.strings}
    used: set[str] = set()
    pending = [name for entry in parsed.entries for f in entry.fields
               for name in _macros(str(f.value))]
    while pending:  # macros used by the definitions of used macros too
        name = pending.pop()
        if name in used or name not in definitions:
            continue
        used.add(name)
        pending += list(_macros(str(definitions[name].value)))
    library = bibtexparser.Library()
    for block in parsed.strings:
        if block.key.lower() in used:
            library.add(block)
    children = {e.key for e in bibtexparser.parse_string("\n\n".join(entries),
                                                         parse_stack=[]).entries}
    seen = set()
    ordered = sorted((e for e in parsed.entries if e.key in children), key=lambda e: e.key)
    ordered += sorted((e for e in parsed.entries if e.key not in children),
                      key=lambda e: e.key)
    for entry in ordered:
        if entry.key in seen:
            continue
        seen.add(entry.key)
        for f in entry.fields:
            if f.key.lower() == "doi":
                raw = str(f.value).strip()
                inner = raw[1:-1] if raw[:1] in '{"' else raw
                entry.set_field(Field(f.key, "{" + normalise_doi(inner) + "}"))
        library.add(entry)
    return write_bibtex(library)


def write_bibtex(library) -> str:
    """A library as BibTeX text, field values exactly as they were parsed (braces and
    macros kept), two-space indent, one blank line between blocks."""
    import bibtexparser
    from bibtexparser.writer import BibtexFormat

    layout = BibtexFormat()
    layout.indent = "  "
    layout.block_separator = "\n"
    return bibtexparser.write_string(library, unparse_stack=[], bibtex_format=layout)


def undefined_macros(text: str) -> set[str]:
    """Macros a BibTeX text uses but does not define (month abbreviations are built in)."""
    import bibtexparser

    parsed = bibtexparser.parse_string(text, parse_stack=[])
    defined = {s.key.lower() for s in parsed.strings}
    used = {name for entry in parsed.entries for f in entry.fields
            for name in _macros(str(f.value))}
    used |= {name for s in parsed.strings for name in _macros(str(s.value))}
    return used - defined - MONTHS


def dangling_crossrefs(text: str) -> set[str]:
    """``crossref`` targets a BibTeX text names but does not contain."""
    import bibtexparser

    parsed = bibtexparser.parse_string(text)
    keys = {e.key for e in parsed.entries}
    return {str(e.fields_dict["crossref"].value) for e in parsed.entries
            if "crossref" in e.fields_dict} - keys
