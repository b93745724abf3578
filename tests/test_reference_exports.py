"""BibTeX as reference managers write it (fixtures/bib/): every entry parses, or is reported
with its line; names, accents, escapes, macros and crossrefs come out right."""

import csv
import re
from pathlib import Path

import pytest

from trustreview.synthesis.citations import apa_reference, in_text_citation
from trustreview.io.load import read_bib

FIXTURES = Path(__file__).parent / "fixtures" / "bib"


def entries(name):
    bib = read_bib(FIXTURES / name)
    return bib, bib.entries.set_index("key")


def test_zotero_better_bibtex_biblatex_fields():
    bib, e = entries("zotero_bbt.bib")
    assert bib.failed == []
    row = e.loc["bohlmarkParentalChoiceNeighbourhood2016"]
    assert row["year"] == "2016"  # from biblatex's date field
    assert row["journaltitle"] == "Journal of Population Economics"
    assert in_text_citation(row["author"], row["year"]) == "Böhlmark et al. (2016)"
    ref = apa_reference({**row.to_dict(), "authors": row["author"],
                         "venue": row["journaltitle"]})
    assert "Böhlmark, A., Holmlund, H., & Lindahl, M. (2016). Parental Choice" in ref
    assert "An Analysis" in ref and "{" not in ref  # case-protecting braces removed
    report = e.loc["kettlewellSchoolTrustGovernance2020"]
    assert report["entry_type"] == "report" and report["year"] == "2020"


def test_mendeley_header_long_abstract_and_others():
    bib, e = entries("mendeley.bib")
    assert bib.failed == []
    assert len(e.loc["Honingh2020", "abstract"]) > 20_000
    assert in_text_citation(e.loc["Honingh2020a", "author"], "2020") == "Honingh et al. (2020)"
    assert e.loc["Honingh2020", "title"].startswith("{Do boards matter?")


def test_jabref_strings_months_preamble_and_crossref():
    bib, e = entries("jabref.bib")
    assert bib.failed == []
    assert e.loc["Chapman2014", "journal"] == "School Effectiveness and School Improvement"
    assert e.loc["Chapman2014", "month"] == "sep"
    chapter = e.loc["Johansson2014"]
    assert chapter["booktitle"] == "School Boards in the Governance Process"  # via crossref
    assert chapter["year"] == "2014" and chapter["publisher"] == "Springer"


def test_endnote_duplicate_record_numbers_are_reported_with_their_line():
    bib, e = entries("endnote.bib")
    assert [(line, msg) for line, msg in bib.failed] == [(28, "duplicate key 'RN1'")]
    assert e.loc["RN1", "title"] == "Chain Effects 2018"  # the first one is kept
    assert in_text_citation(e.loc["RN2", "author"], "2019") == "Ofsted (2019)"
    ref = apa_reference({"authors": e.loc["RN3", "author"], "year": "2014",
                         "title": e.loc["RN3", "title"], "venue": e.loc["RN3", "journal"],
                         "entry_type": "article", "volume": "42", "number": "3",
                         "pages": e.loc["RN3", "pages"]})
    assert "Educational Management Administration & Leadership, 42(3), 372–386." in ref


@pytest.mark.parametrize("name", ["zotero_bbt.bib", "mendeley.bib", "jabref.bib",
                                  "endnote.bib"])
def test_each_export_validates_as_a_corpus_bib(name, tmp_path, cli):
    """A studies table keyed to the export's keys validates against it."""
    bib, e = entries(name)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "codebook.yml").write_text(
        "domains:\n  - id: governance\n    label: Governance\n    definition: Boards.\n")
    lines = ["study_id,country,design,sample,summary,included,exclusion_reason,weight"]
    lines += [f"{key},England,qualitative,,,yes,,low" for key in sorted(e.index)]
    (corpus / "studies.csv").write_text("\n".join(lines) + "\n")
    code, _, err = cli("validate", "--corpus", corpus, "--bib", FIXTURES / name)
    expected = 1 if bib.failed else 0
    assert code == expected, err
    if bib.failed:
        assert f"{name}:28" in err and "duplicate key 'RN1'" in err


# Real-world quirks (issue: reference files as researchers really have them). Names of
# people in the name-parsing tests are the placeholders the issue itself uses.

def test_repeated_field_is_a_warning_naming_entry_and_field_and_the_first_value_is_kept(tiny):
    from trustreview.corpus.validate import open_corpus

    corpus_dir, bib = tiny
    text = bib.read_text(encoding="utf-8").replace(
        "@techreport{hutchings2018chain,",
        "@techreport{hutchings2018chain,\n  keywords = {academies},\n  keywords = {chains},"
        "\n  keywords = {attainment},", 1)
    bib.write_text(text, encoding="utf-8")
    corpus = open_corpus(corpus_dir, bib)
    assert not corpus.errors
    found = [i for i in corpus.warnings if "repeats the field" in i.found]
    assert len(found) == 1 and "'hutchings2018chain'" in found[0].found
    assert "keywords" in found[0].found and "first one is used" in found[0].fix
    assert "bibtexparser" not in found[0].format() and "ignore_error_block" not in \
        found[0].format()
    row = corpus.records.set_index("study_id").loc["hutchings2018chain"]
    assert row["keywords"] == "academies"


def test_unicode_keys_are_accepted(tiny):
    from trustreview.corpus.validate import open_corpus

    corpus_dir, bib = tiny
    key = "BöhlmarkHolmlund2016Parental"
    for path in (bib, corpus_dir / "studies.csv", corpus_dir / "codes.csv"):
        path.write_text(path.read_text(encoding="utf-8").replace("hutchings2018chain", key),
                        encoding="utf-8")
    corpus = open_corpus(corpus_dir, bib)
    assert not corpus.errors, [i.format() for i in corpus.errors]
    assert key in set(corpus.included["study_id"])


def test_a_doi_written_as_a_url_is_normalised_everywhere():
    from trustreview.io.load import parse_references

    bib = parse_references("@article{x1, author={Honingh, M.}, title={T}, journal={J}, "
                           "year={2020}, doi={https://doi.org/http://dx.doi.org/10.1177/0952076718789739}}",
                           "x.bib")
    assert bib.entries.loc[0, "doi"] == "10.1177/0952076718789739"
    reference = apa_reference({"authors": "Honingh, M.", "year": "2020", "title": "T",
                               "venue": "J", "entry_type": "article",
                               "doi": "http://doi.acm.org/10.1145/1234"})
    assert reference.endswith("https://doi.org/10.1145/1234")


def test_name_suffixes_particles_and_empty_names():
    from trustreview.base.text import empty_names
    from trustreview.synthesis.citations import apa_authors

    assert apa_authors("King, Jr., Martin Luther") == "King, M. L., Jr."
    assert apa_authors("Doe, III, James") == "Doe, J., III"
    assert apa_authors("von Neumann, John and Reagle, J. J. M.") == \
        "von Neumann, J., & Reagle, J. J. M."
    assert in_text_citation("King, Jr., Martin Luther and Doe, III, James", "1999") == \
        "King and Doe (1999)"
    assert empty_names("Doe, J. and and Roe, R.") == 1
    assert empty_names("{Smith and Sons} and Roe, R.") == 0


def test_an_empty_name_is_a_warning(tiny):
    from trustreview.corpus.validate import open_corpus

    corpus_dir, bib = tiny
    text = bib.read_text(encoding="utf-8").replace("Hutchings, M. and Francis, B.",
                                                   "Hutchings, M. and and Francis, B.")
    bib.write_text(text, encoding="utf-8")
    corpus = open_corpus(corpus_dir, bib)
    assert not corpus.errors
    assert any("empty name" in i.found and "hutchings2018chain" in i.found
               for i in corpus.warnings)
    row = corpus.records.set_index("study_id").loc["hutchings2018chain"]
    assert apa_reference(row.to_dict()).startswith("Hutchings, M., & Francis, B. (2018).")


def test_editors_in_apa_for_edited_books_chapters_and_proceedings():
    book = {"authors": "", "editor": "Doe, Jane and Roe, Richard", "year": "2019",
            "title": "Governing school groups", "venue": "Press", "entry_type": "book"}
    assert apa_reference(book).startswith("Doe, J., & Roe, R. (Eds.). (2019). Governing "
                                          "school groups.")
    chapter = {"authors": "Poe, Ann", "editor": "Doe, Jane", "year": "2019",
               "title": "Boards", "venue": "Governing school groups", "publisher": "Press",
               "entry_type": "incollection", "pages": "1--20"}
    assert apa_reference(chapter) == ("Poe, A. (2019). Boards. In J. Doe (Ed.), Governing "
                                      "school groups (pp. 1–20). Press.")
    paper = {**chapter, "entry_type": "inproceedings", "editor": "Doe, Jane and Roe, R.",
             "publisher": ""}
    assert "In J. Doe & R. Roe (Eds.), Governing school groups (pp. 1–20)." in \
        apa_reference(paper)


def test_dblp_latex_math_and_mbox_become_text():
    from trustreview.base.text import decode_latex

    assert decode_latex(r"Proc. 5\({}^{\mbox{th}}\) Workshop on \mbox{K-12} Data") == \
        "Proc. 5th Workshop on K-12 Data"
    assert decode_latex(r"$\alpha$-level {\em boards} \textsuperscript{2}") == "α-level boards 2"
    assert decode_latex(r"The {X} factor \unknown{y} \{z\}") == "The X factor y z"


def test_exported_bib_files_carry_their_strings_and_crossref_parents(tmp_path):
    from trustreview.io.reference_export import (SelfContained, dangling_crossrefs,
                                              undefined_macros)
    from trustreview.io.load import read_bib
    import bibtexparser

    source = (FIXTURES / "jabref.bib").read_text(encoding="utf-8")
    parsed = bibtexparser.parse_string(source, parse_stack=[])
    strings = "\n".join(s.raw for s in parsed.strings)
    raws = {e.key: e.raw for e in parsed.entries}
    child = next(k for k, e in ((e.key, e) for e in parsed.entries) if "crossref" in e.fields_dict)
    parent = str(parsed.entries_dict[child].fields_dict["crossref"].value).strip("{}")
    users = [k for k, r in raws.items() if re.search(r"=\s*[A-Za-z]+\s*[,}\n]", r)
             and k != parent]
    text = SelfContained({k: raws[k] for k in [child, *users]}, strings,
                         {parent: raws[parent]}).file([child, *users])
    path = tmp_path / "domain.bib"
    path.write_text(text, encoding="utf-8")
    again = read_bib(path)
    assert again.failed == [] and undefined_macros(text) == set()
    assert dangling_crossrefs(text) == set()
    assert again.entries.set_index("key").loc["Chapman2014", "journal"] == \
        "School Effectiveness and School Improvement"
    assert again.entries.set_index("key").loc[child, "booktitle"]
    # without the strings and the parent the same entries would be broken
    bare = "\n\n".join([raws[child], *(raws[k] for k in users)])
    assert undefined_macros(bare) and dangling_crossrefs(bare)


def test_excel_dates_and_numeric_ids_are_warnings_with_the_fix(tiny):
    import datetime

    from openpyxl import Workbook

    from trustreview.corpus.validate import open_corpus

    corpus_dir, bib = tiny
    with open(corpus_dir / "studies.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Studies"
    for row in rows:
        sheet.append(row)
    sample = rows[0].index("sample")
    sheet.cell(3, sample + 1).value = datetime.datetime(2024, 3, 5)
    workbook.save(corpus_dir / "studies.xlsx")
    (corpus_dir / "studies.csv").unlink()
    corpus = open_corpus(corpus_dir, bib)
    dates = [i for i in corpus.warnings if "as a date" in i.found]
    assert len(dates) == 1
    assert "sheet 'Studies', row 3, column 'sample'" in dates[0].found
    assert "format the column as Text" in dates[0].fix and dates[0].line == 3
    assert "2024-03-05" in set(corpus.records["sample"])
    assert not any("00:00:00" in s for s in corpus.records["sample"])


def test_unknown_values_get_a_did_you_mean(tiny):
    from trustreview.corpus.validate import open_corpus

    corpus_dir, bib = tiny
    studies = corpus_dir / "studies.csv"
    studies.write_text(studies.read_text(encoding="utf-8").replace(",England,", ",england,", 1),
                       encoding="utf-8")
    codes = corpus_dir / "codes.csv"
    codes.write_text(codes.read_text(encoding="utf-8").replace(",governance\n",
                                                               ",goverance\n", 1),
                     encoding="utf-8")
    corpus = open_corpus(corpus_dir, bib)
    messages = [i.format() for i in corpus.errors]
    assert any("country is 'england'" in m and "did you mean 'England'?" in m for m in messages)
    assert any("domain is 'goverance'" in m and "did you mean 'governance'?" in m
               for m in messages)


def test_a_tab_in_the_codebook_says_indent_with_spaces(tiny):
    from trustreview.errors import InputError
    from trustreview.io.load import read_codebook

    corpus_dir, _ = tiny
    path = corpus_dir / "codebook.yml"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("  "))
    lines[index] = "\t" + lines[index].lstrip()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"codebook.yml:{index + 1}: a tab character.*indent "
                                         "with spaces"):
        read_codebook(path)


def test_no_latex_reaches_a_table_the_workbook_the_report_or_the_coding_sheet(tiny):
    """Titles, names and venues full of LaTeX (as DBLP, JabRef and Better BibTeX write them)
    come out as text everywhere a reader sees them."""
    import html as html_module

    from openpyxl import load_workbook

    from trustreview import coding
    from trustreview.run import pipeline
    from trustreview.model.evaluation import rank_for_coding
    from trustreview.io.workbook import coding_workbook_bytes, workbook_bytes
    from trustreview.run.params import Params

    corpus_dir, bib = tiny
    text = bib.read_text(encoding="utf-8")
    text = text.replace("title = {Chain Effects 2018}",
                        r"title = {{C}hain {\em Effects} 5\({}^{\mbox{th}}\) \mbox{2018} \& "
                        r"$\alpha$ {\"O}zt{\"u}rk}", 1)
    text = text.replace("Hutchings, M. and Francis, B.", r"Hutchings, M. and Fran{\c{c}}is, B.")
    assert text != bib.read_text(encoding="utf-8")
    bib.write_text(text, encoding="utf-8")
    corpus = pipeline.validate(corpus_dir, bib).corpus
    assert not corpus.errors
    params = Params()
    tagging = pipeline.tag(corpus, params)
    result = pipeline.synthesise(corpus, tagging.predictions, params)
    seen = []
    for name, table in result.tables.items():
        for column in table.columns:
            if table[column].dtype == object or str(table[column].dtype) in ("str", "string"):
                for value in table[column].astype(str):
                    seen.append((name, column, value))
    assert any("Öztürk" in v for _, _, v in seen)
    bad = [(n, c, v) for n, c, v in seen if re.search(r"[\\{}]", v)]
    assert bad == []
    body = re.sub(r"(?s)<style.*?</style>|<[^>]+>", " ", result.report_html)
    assert "Öztürk" in html_module.unescape(body)
    assert not re.search(r"[\\{}]", html_module.unescape(body))
    import io

    for data in (workbook_bytes(result.tables),):
        book = load_workbook(io.BytesIO(data))
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                assert not any(isinstance(v, str) and re.search(r"[\\{}]", v) for v in row)
    ranking = rank_for_coding(corpus, list(corpus.records["study_id"]))
    sheet = coding.coder_sheet(corpus, coding.empty_decisions(), "C", ranking,
                               all_studies=True)
    book = load_workbook(io.BytesIO(coding_workbook_bytes(sheet)))
    values = [v for row in book["coding"].iter_rows(values_only=True) for v in row
              if isinstance(v, str)]
    assert any("Öztürk" in v for v in values)
    assert not any(re.search(r"[\\{}]", v) for v in values)


def test_an_id_excel_stored_as_a_number_is_a_warning_and_lost_zeros_get_a_hint(tiny):
    from openpyxl import Workbook

    from trustreview.corpus.validate import open_corpus

    corpus_dir, bib = tiny
    with open(corpus_dir / "studies.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    key = rows[1][0]
    for path in (bib, corpus_dir / "codes.csv"):  # the study's key is "00123" everywhere
        path.write_text(path.read_text(encoding="utf-8").replace(key, "00123"),
                        encoding="utf-8")
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    sheet.cell(2, 1).value = 123  # as Excel stores "00123" typed into a General cell
    workbook.save(corpus_dir / "studies.xlsx")
    (corpus_dir / "studies.csv").unlink()
    corpus = open_corpus(corpus_dir, bib)
    numbers = [i for i in corpus.warnings if "stored this id as a number" in i.found]
    assert len(numbers) == 1 and "column 'study_id'" in numbers[0].found
    assert "leading zeros are lost" in numbers[0].found
    missing = [i for i in corpus.errors if i.study_id == "123"]
    assert missing and "Excel dropped the leading zeros" in missing[0].fix
    assert "'00123'" in missing[0].fix
