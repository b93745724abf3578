"""Reference files for a domain's studies that stand on their own: BibTeX with the
``@string`` definitions its entries use and the ``crossref`` parents they need (written with
bibtexparser's writer, DOIs without URL prefixes), and RIS (written with rispy)."""

from __future__ import annotations

import pandas as pd
from bibtexparser.model import Field

from trustreview.base.frames import frame_rows
from trustreview.base.text import normalise_doi

CHUNK = 5000  # entries parsed at a time
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


class SelfContained:
    """BibTeX entries parsed once and written once (with bibtexparser's writer), so that many
    files sharing entries (one per domain) cost little; :meth:`file` gives one file with the
    ``@string`` definitions its entries use and their ``crossref`` parents."""

    def __init__(self, entries: dict[str, str], strings: str = "",
                 parents: dict[str, str] | None = None) -> None:
        import bibtexparser

        parents = parents or {}
        self._strings = []  # (name, text, macros its value uses), in file order
        for block in bibtexparser.parse_string(strings, parse_stack=[]).strings:
            self._strings.append((block.key.lower(), write_bibtex(_library(block)),
                                  _macros(str(block.value))))
        self._text: dict[str, str] = {}
        self._uses: dict[str, set[str]] = {}
        self._crossref: dict[str, str] = {}
        raws = [*entries.values(), *parents.values()]
        for start in range(0, len(raws), CHUNK):  # in chunks: parsed objects are large
            chunk = "\n\n".join(raws[start:start + CHUNK])
            for entry in bibtexparser.parse_string(chunk, parse_stack=[]).entries:
                self._add(entry)
        self._parents = set(parents)

    def _add(self, entry) -> None:
        if entry.key in self._text:
            return
        for f in entry.fields:
            if f.key.lower() == "doi":
                raw = str(f.value).strip()
                inner = raw[1:-1] if raw[:1] in '{"' else raw
                entry.set_field(Field(f.key, "{" + normalise_doi(inner) + "}"))
            elif f.key.lower() == "crossref":
                self._crossref[entry.key] = str(f.value).strip().strip('{}"')
        uses = {n for f in entry.fields for n in _macros(str(f.value))}
        if uses:
            self._uses[entry.key] = uses
        self._text[entry.key] = write_bibtex(_library(entry))

    def file(self, keys) -> str:
        """The file for the entries ``keys``: used ``@string`` blocks, the entries (sorted by
        key), then the parents they ``crossref`` (BibTeX wants parents last)."""
        keys = sorted(k for k in set(keys) if k in self._text)
        if not keys:
            return ""
        parents = sorted({self._crossref[k] for k in keys if k in self._crossref}
                         & self._parents & set(self._text) - set(keys))
        definitions = {name: uses for name, _, uses in self._strings}
        used: set[str] = set()
        pending = [n for k in [*keys, *parents] for n in self._uses.get(k, ())]
        while pending:  # macros the definitions of used macros use, too
            name = pending.pop()
            if name in used or name not in definitions:
                continue
            used.add(name)
            pending += list(definitions[name])
        blocks = [text for name, text, _ in self._strings if name in used]
        blocks += [self._text[k] for k in keys] + [self._text[p] for p in parents]
        return "\n".join(block.rstrip("\n") + "\n" for block in blocks)


def _library(block):
    import bibtexparser

    library = bibtexparser.Library()
    library.add(block)
    return library


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


def domain_reference_files(studies: pd.DataFrame, tags: pd.DataFrame, domains: list[str],
                           strings: str = "", parents: dict[str, str] | None = None
                           ) -> tuple[dict[str, str], dict[str, str]]:
    """Each domain's studies as a BibTeX file that stands on its own (the entries as written
    in the input, the ``@string`` definitions they use and their ``crossref`` parents) and as
    RIS (keys in ``ID``). ``studies`` holds the records (``study_id``, ``bib_raw``,
    ``crossref`` and the bibliographic fields), ``tags`` the ``study_id`` and ``domain`` of
    each tag. Every entry is parsed and written once, whatever the number of domains it is
    in."""
    from trustreview.io.ris import ris_texts

    studies = studies.drop_duplicates("study_id")
    raws = dict(zip(studies["study_id"], studies["bib_raw"]))
    wanted = {p for p in studies.get("crossref", pd.Series(dtype="str")) if p}
    parents = {k: v for k, v in (parents or {}).items() if k in wanted}
    bibtex = SelfContained({k: v.strip() for k, v in raws.items() if v.strip()}, strings,
                           parents)
    ris = ris_texts(list(frame_rows(studies)))
    by_domain = tags.groupby("domain")["study_id"].agg(set)
    bib_files, ris_files = {}, {}
    for domain in domains:
        keys = sorted(by_domain.get(domain, set()) & set(raws))
        bib_files[domain] = bibtex.file(keys)
        ris_files[domain] = "\n".join(ris[k] for k in keys)
    return bib_files, ris_files
