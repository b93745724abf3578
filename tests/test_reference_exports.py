"""BibTeX as reference managers write it (fixtures/bib/): every entry parses, or is reported
with its line; names, accents, escapes, macros and crossrefs come out right."""

from pathlib import Path

import pytest

from trustreview.citations import apa_reference, in_text_citation
from trustreview.load import read_bib

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
