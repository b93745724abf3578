"""Whatever `trustreview new --from` writes, `trustreview validate` accepts: generated
EPPI-Reviewer exports (code names with repeated or odd spaces, quotes, '>', ';', non-ASCII,
very long names, nested code sets, screening codes) and RIS, BibTeX and CSV searches with
the same kinds of text. A real export whose code names held two spaces in a row once
imported cleanly and then failed validation on 124 studies."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trustreview.cli import main

EXAMPLES = max(10, int(os.environ.get("TRUSTREVIEW_FUZZ_EXAMPLES", "500")) // 20)
IMPORTS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PIECES = st.sampled_from(["  ", " ", "\t", '"', "'", ">", " > ", ";", "; ", ",", "&", "é", "ø",
                          "漢", "(Choose One)", "Yes", "No", "Other", "x" * 90, "Retracted",
                          "Papers", "\u00a0", "/", ":", "-", "{", "}", "%", "#"])
NAMES = st.lists(PIECES, min_size=1, max_size=6).map("".join).filter(lambda s: s.strip())


def run(*args) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([str(a) for a in args])
    return code, err.getvalue()


def new_then_validate(source: Path, *extra: str) -> None:
    review = source.parent / "review"
    code, err = run("new", review, "--from", source, *extra)
    assert code == 0, err
    code, err = run("validate", "--corpus", review / "corpus", "--bib",
                    review / "references.bib")
    assert code == 0, err
    assert "0 error(s)" in err


class Ids:
    def __init__(self):
        self.n = 5000

    def __call__(self) -> int:
        self.n += 1
        return self.n


def code(ids: Ids, name: str, children=(), selectable=True, kind=None) -> dict:
    return {"AttributeId": ids(), "AttributeName": name, "AttributeDescription": "",
            "AttributeType": kind or ("Selectable (show checkbox)" if selectable
                                      else "Not selectable (no checkbox)"),
            "ExtURL": "", "ExtType": "",
            "Attributes": {"AttributesList": list(children)}}


@st.composite
def eppi_exports(draw):
    ids = Ids()
    domains = [code(ids, n) for n in draw(st.lists(NAMES, min_size=1, max_size=4))]
    fields = []
    for parent in draw(st.lists(NAMES, min_size=1, max_size=3)):
        children = []
        for child in draw(st.lists(NAMES, min_size=1, max_size=3)):
            grandchildren = [code(ids, g) for g in draw(st.lists(NAMES, max_size=2))]
            children.append(code(ids, child, grandchildren))
        fields.append(code(ids, parent, children, selectable=draw(st.booleans())))
    screening = [code(ids, n, kind=draw(st.sampled_from(["Include", "Exclude"])))
                 for n in draw(st.lists(NAMES, max_size=3))]
    sets = [{"SetName": "Domains", "SetDescription": "",
             "Attributes": {"AttributesList": domains}},
            {"SetName": draw(NAMES), "SetDescription": "",
             "Attributes": {"AttributesList": fields}}]
    if screening:
        sets.append({"SetName": "Screening", "SetDescription": "",
                     "Attributes": {"AttributesList": screening}})

    def every(codes):
        for c in codes:
            yield c
            yield from every(c["Attributes"]["AttributesList"])

    tickable = [c["AttributeId"] for c in every(domains + fields)]
    references = []
    for n in range(draw(st.integers(1, 4))):
        ticked = draw(st.lists(st.sampled_from(tickable), max_size=5, unique=True))
        if screening and draw(st.booleans()):
            ticked.append(draw(st.sampled_from([c["AttributeId"] for c in screening])))
        references.append({
            "ItemId": 100 + n, "Title": f"A study of school groups {n} " + draw(NAMES),
            "Year": "2020", "Authors": "Smith, J.; Jones, K.", "TypeName": "Journal, Article",
            "ParentTitle": draw(NAMES), "Abstract": draw(NAMES),
            "ItemStatus": draw(st.sampled_from(["I", "I", "E"])),
            "Codes": [{"AttributeId": a, "AdditionalText": ""} for a in ticked]})
    return {"CodeSets": sets, "References": references}


@IMPORTS
@given(eppi_exports())
def test_an_eppi_reviewer_import_always_validates(export):
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "export.json"
        source.write_text(json.dumps(export), encoding="utf-8")
        new_then_validate(source, "--domains", "Domains")


TEXT = st.lists(PIECES, min_size=1, max_size=5).map("".join)


@st.composite
def searches(draw):
    """(format, text) of a small search with odd text in every field."""
    kind = draw(st.sampled_from(["ris", "bib", "csv"]))
    rows = [{"title": f"Trusts and networks {n} " + draw(TEXT), "journal": draw(TEXT),
             "author": draw(st.sampled_from(["Smith, J.", "Ó Briain, Aoife", "Nguyễn, V."])),
             "year": "2019", "abstract": draw(TEXT), "number": draw(TEXT)}
            for n in range(draw(st.integers(1, 3)))]
    if kind == "ris":
        text = "\n".join(
            f"TY  - JOUR\nAU  - {r['author']}\nTI  - {' '.join(r['title'].split())}\n"
            f"T2  - {' '.join(r['journal'].split())}\nPY  - {r['year']}\n"
            f"IS  - {' '.join(r['number'].split())}\n"
            f"AB  - {' '.join(r['abstract'].split())}\nER  - \n" for r in rows)
    elif kind == "csv":
        import csv
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["Title", "Authors", "Source title", "Year", "Abstract", "Issue"])
        for r in rows:
            writer.writerow([r["title"], r["author"], r["journal"], r["year"], r["abstract"],
                             r["number"]])
        text = out.getvalue()
    else:
        def braced(value):  # BibTeX needs balanced braces; escape the rest as a user would
            return value.replace("{", "").replace("}", "").replace("%", r"\%") \
                .replace("#", r"\#").replace("&", r"\&")
        text = "\n".join(
            f"@article{{k{n},\n  author = {{{r['author']}}},\n  title = {{{braced(r['title'])}}},"
            f"\n  journal = {{{braced(r['journal'])}}},\n  year = {{{r['year']}}},\n"
            f"  number = {{{braced(r['number'])}}},\n"
            f"  abstract = {{{braced(r['abstract'])}}}\n}}\n" for n, r in enumerate(rows))
    return kind, text


@IMPORTS
@given(searches())
def test_a_search_import_always_validates(search):
    kind, text = search
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / f"search.{kind}"
        source.write_text(text, encoding="utf-8")
        new_then_validate(source)
