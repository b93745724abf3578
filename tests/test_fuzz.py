"""Property-based tests: arbitrary text and bytes fed to every loader give a valid result or
the package's own error with a message; never another exception, never a hang.

Examples per test: 500 by default (a few thousand in all); set TRUSTREVIEW_FUZZ_EXAMPLES for
a longer run.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trustreview.errors import InputError
from trustreview.io.load import RawCorpus, read_bib, read_codebook, read_corpus, read_table
from trustreview.corpus.validate import validate_corpus

EXAMPLES = int(os.environ.get("TRUSTREVIEW_FUZZ_EXAMPLES", "500"))
FUZZ = settings(max_examples=EXAMPLES, deadline=5000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
REPO = Path(__file__).resolve().parents[1]

# cells and column names a corpus table may have, the names trustreview makes itself among
# them (a studies column named title, year or line once crashed validation)
CSV_ALPHABET = st.sampled_from(list('abcxyz019 ,;"\'\n\r\t=+-@éö\x00\ufeff') + [
    "yes", "no", "study_id", "country", "England", "included", "title", "year", "status",
    "line", "coder", "domain", "reconciled", "governance"])
BIB_ALPHABET = st.sampled_from(list('@{}=,"#%\n \\abcxyz0129~$') + [
    "@article{", "@string{", "@comment{", "@preamble{", "author = ", "title = ", " and ",
    "year = {2020}", "crossref = ", "{\\\"o}", "\\&", "--", "}\n"])


def _load(name: str, data: bytes, reader):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return reader(path)
        except InputError as error:
            assert str(error).strip()
            return None


@FUZZ
@given(st.binary(max_size=2000))
def test_csv_reader_on_arbitrary_bytes(data):
    _load("studies.csv", data, read_table)


@FUZZ
@given(st.lists(CSV_ALPHABET, max_size=300).map("".join))
def test_csv_reader_on_csv_like_text(text):
    _load("studies.csv", text.encode("utf-8"), read_table)


@FUZZ
@given(st.binary(max_size=2000))
def test_xlsx_reader_on_arbitrary_bytes(data):
    _load("studies.xlsx", data, read_table)


@settings(max_examples=max(EXAMPLES // 8, 20), deadline=10000, derandomize=True)
@given(st.lists(st.lists(st.text(max_size=30), min_size=1, max_size=5), max_size=6))
def test_xlsx_reader_on_real_workbooks_with_arbitrary_cells(rows):
    from openpyxl import Workbook

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "codes.xlsx"
        workbook = Workbook()
        for row in rows:
            try:
                workbook.active.append(row)
            except Exception:  # openpyxl refuses control characters: not our input
                return
        workbook.save(path)
        try:
            read_table(path)
        except InputError as error:
            assert str(error)


@FUZZ
@given(st.text(max_size=1000))
def test_codebook_reader_on_arbitrary_text(text):
    _load("codebook.yml", text.encode("utf-8", "surrogatepass"), read_codebook)


YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["domains", "id", "label", "definition", "signal_terms", "countries",
                         "designs", "name", "x"]), children, max_size=5),
    max_leaves=25)


@FUZZ
@given(YAML_VALUES)
def test_codebook_reader_on_arbitrary_yaml_structures(value):
    _load("codebook.yml", yaml.safe_dump(value).encode("utf-8"), read_codebook)


@FUZZ
@given(st.binary(max_size=2000))
def test_bib_reader_on_arbitrary_bytes(data):
    _load("references.bib", data, read_bib)


@FUZZ
@given(st.lists(BIB_ALPHABET, max_size=200).map("".join))
def test_bib_reader_on_bibtex_like_text(text):
    _load("references.bib", text.encode("utf-8"), read_bib)


RIS_ALPHABET = st.sampled_from(["TY  - ", "ER  - ", "ER  -", "AU  - ", "A2  - ", "TI  - ",
                                "T1  - ", "T2  - ", "PY  - ", "Y1  - ", "DO  - ", "ID  - ",
                                "SP  - ", "EP  - ", "KW  - ", "UR  - ", "ED  - ", "XX  - ",
                                "JOUR", "CHAP", "RPRT", "EDBOOK", "Greany, T.", "2018///",
                                "https://doi.org/10.1/x", "{", "}", "\\", "%", "&", "@",
                                "é", "\n", "\r\n", " ", ",", "-", "\ufeff", "\x00"])


@FUZZ
@given(st.lists(RIS_ALPHABET, max_size=200).map("".join))
def test_ris_reader_on_ris_like_text(text):
    bib = _load("references.ris", text.encode("utf-8"), read_bib)
    if bib is not None:  # every record is an entry, a failed record or a warning
        records = sum(1 for line in text.replace("\ufeff", "").replace("\r\n", "\n")
                      .split("\n") if line.startswith("TY  -"))
        assert len(bib.entries) + len(bib.failed) >= records


@FUZZ
@given(st.binary(max_size=2000))
def test_ris_reader_on_arbitrary_bytes(data):
    _load("references.ris", data, read_bib)


@settings(max_examples=max(EXAMPLES // 4, 25), deadline=10000, derandomize=True)
@given(studies=st.lists(CSV_ALPHABET, max_size=300).map("".join),
       codes=st.lists(CSV_ALPHABET, max_size=200).map("".join))
def test_validation_never_raises_on_arbitrary_tables(studies, codes):
    """Whatever the studies and codes tables hold, validation reports; it does not raise,
    and every row read ends up included, excluded or error. The other files are the bundled
    corpus's, read once (reading its bib and codebook again took half of each example)."""
    tables = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, text in (("studies", studies), ("codes", codes)):
            path = Path(folder) / f"{name}.csv"
            path.write_text(text, encoding="utf-8")
            try:
                tables[name] = read_table(path)
            except InputError as error:
                tables[name] = None
                tables.setdefault("file_errors", []).append((str(path), str(error)))
    raw = dataclasses.replace(_bundled_files(), studies=tables["studies"],
                              codes=tables["codes"], file_errors=tables.get("file_errors", []))
    result = validate_corpus(raw)
    if raw.studies is not None:
        assert len(result.records) == len(raw.studies.frame)
        assert set(result.records["status"]) <= {"included", "excluded", "error"}
    else:
        assert result.errors


@functools.cache
def _bundled_files() -> RawCorpus:
    raw = read_corpus(REPO / "corpus", REPO / "references.bib")
    assert not raw.file_errors
    return raw
