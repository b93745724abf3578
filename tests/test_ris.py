"""RIS as databases and reference managers write it (fixtures/ris/): read wherever a
reference file is read, keys by a stable rule, problems with the record's line, and a round
trip from a RIS export through a review to the exported bib/<domain>.bib and .ris files."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from conftest import REPO
from trustreview.synthesis.citations import apa_reference, in_text_citation
from trustreview.io.load import read_bib
from trustreview.io.reference_export import dangling_crossrefs, undefined_macros
from trustreview.io.ris import generated_key, ris_to_bibtex
from trustreview.base.text import ascii_fold

FIXTURES = Path(__file__).parent / "fixtures" / "ris"
HONINGH = {"entry_type": "article", "year": "2020", "journal": "Public Policy and Administration",
           "volume": "35", "number": "1", "pages": "65--83",
           "doi": "10.1177/0952076718789739",
           "author": "Honingh, M. and van Genugten, M. and van Thiel, S. and Blom, R.",
           "title": "Do boards matter? Studying the relation between school boards and "
                    "educational quality"}


def entries(name: str):
    bib = read_bib(FIXTURES / name)
    assert bib.format == "RIS"
    return bib, bib.entries.set_index("key")


@pytest.mark.parametrize("name", ["zotero.ris", "scopus.ris", "pubmed.ris"])
def test_the_same_article_from_three_tools_gives_the_same_entry(name):
    bib, e = entries(name)
    assert bib.failed == [] and bib.warnings == []
    row = e.loc["honingh2020do"]
    for field, value in HONINGH.items():
        assert row[field] == value, (name, field)


def test_zotero_report_and_chapter_keep_their_type_publisher_and_book():
    bib, e = entries("zotero.ris")
    assert list(e.index) == ["honingh2020do", "greany2018hierarchy", "greany2021leadership"]
    assert list(bib.entries["line"]) == [1, 20, 30]  # the record's TY line
    report = e.loc["greany2018hierarchy"]
    assert report["entry_type"] == "techreport"
    assert report["institution"] == "UCL Institute of Education Press"
    chapter = e.loc["greany2021leadership"]
    assert chapter["entry_type"] == "incollection"
    assert chapter["booktitle"] == "School Leadership and Education System Reform (2nd ed.)"
    assert chapter["publisher"] == "Bloomsbury"
    assert "Zotero" not in chapter["raw"]
    assert ", (pp." not in apa_reference({**chapter.to_dict(), "authors": chapter["author"],
                                          "venue": chapter["booktitle"]})


def test_endnote_numeric_ids_are_not_keys_and_continued_keywords_are_kept():
    bib, e = entries("endnote.ris")  # Windows line endings, tags in alphabetical order
    assert list(e.index) == ["adolfsson2020power", "bergh2025stress"]
    assert list(bib.entries["line"]) == [1, 17]
    row = e.loc["adolfsson2020power"]
    assert row["keywords"] == "local school governance, school organiser"
    assert row["pages"] == "128-142" and row["year"] == "2020"
    assert row["journal"] == "Nordic Journal of Studies in Educational Policy"


def test_web_of_science_initials_capitals_and_no_trailing_space():
    bib, e = entries("wos.ris")
    assert bib.failed == [] and list(e.index) == ["bergh2025stress", "adolfsson2020power"]
    row = e.loc["adolfsson2020power"]
    assert in_text_citation(row["author"], row["year"]) == "Adolfsson and Alvunger (2020)"
    reference = apa_reference({**row.to_dict(), "authors": row["author"],
                               "venue": row["journal"]})
    assert reference.startswith("Adolfsson, C. H., & Alvunger, D. (2020).")


def test_scopus_doi_url_and_pubmed_doi_prefix_are_normalised():
    assert entries("scopus.ris")[1].loc["honingh2020do", "doi"] == HONINGH["doi"]
    assert entries("pubmed.ris")[1].loc["honingh2020do", "doi"] == HONINGH["doi"]


def test_key_rule_folds_to_ascii_skips_articles_and_adds_letters_on_collisions():
    assert ascii_fold("Vlček") == "vlcek" and ascii_fold("Öhrn-Ståhl") == "ohrnstahl"
    assert generated_key(["van der Berg, Anna"], "2019", "The Boards We Have") == \
        "berg2019boards"
    assert generated_key(["Ofsted"], "", "") == "ofstednd"
    assert generated_key([], "2001", "A study") == "anon2001study"
    text = "".join(f"TY  - RPRT\nAU  - Ofsted\nPY  - 2019\nTI  - {t}\nER  - \n\n"
                   for t in ("Multi-academy trusts: one", "Multi-academy trusts: two",
                             "Multi-academy trusts: three"))
    converted = ris_to_bibtex(text)
    assert list(converted.lines) == ["ofsted2019multi", "ofsted2019multia",
                                     "ofsted2019multib"]
    assert ris_to_bibtex(text).bibtex == converted.bibtex  # stable from run to run
    own = "TY  - JOUR\nID  - greany2018hierarchy\nTI  - T\nER  - \n"
    assert list(ris_to_bibtex(own).lines) == ["greany2018hierarchy"]


def test_a_ris_problem_names_the_record_line():
    text = (FIXTURES / "zotero.ris").read_text().replace("ER  - \n\nTY  - RPRT", "\nTY  - RPRT")
    bib = read_bib_text(text, "cut.ris")
    assert [line for line, _ in bib.failed] == [1]
    assert "no end line (ER  - ) before the next record at line 19" in bib.failed[0][1]


def read_bib_text(text: str, name: str):
    from trustreview.io.load import parse_references

    return parse_references(text, name)


def test_ris_is_recognised_by_content_and_a_ris_file_without_records_is_refused(tmp_path):
    copy = tmp_path / "export.bib"
    shutil.copyfile(FIXTURES / "scopus.ris", copy)
    assert read_bib(copy).format == "RIS"
    empty = tmp_path / "empty.ris"
    empty.write_text("Provider: nobody\n")
    from trustreview.errors import InputError

    with pytest.raises(InputError, match="no RIS record"):
        read_bib(empty)


def test_special_characters_in_ris_survive_as_text():
    text = ("TY  - JOUR\nAU  - Smith, Jane\nTI  - 50% of trusts & their {boards}: a_b #1\n"
            "T2  - Journal of R&D\nPY  - 2020\nER  - \n")
    bib = read_bib_text(text, "x.ris")
    row = bib.entries.iloc[0]
    from trustreview.base.text import decode_latex

    assert decode_latex(row["title"]) == "50% of trusts & their boards: a_b #1"
    assert decode_latex(row["journal"]) == "Journal of R&D"


@pytest.mark.slow
def test_a_review_from_a_ris_export_round_trips_to_bib_and_ris(tmp_path, cli, monkeypatch):
    refs = tmp_path / "search.ris"
    refs.write_text("".join((FIXTURES / n).read_text(encoding="utf-8-sig").replace("\r", "")
                            for n in ("zotero.ris", "endnote.ris")), encoding="utf-8")
    review = tmp_path / "review"
    code, _, err = cli("new", review, "--from", refs)
    assert code == 0, err
    bib = read_bib(review / "references.bib")
    assert bib.format == "BibTeX" and bib.failed == []
    keys = ["honingh2020do", "greany2018hierarchy", "greany2021leadership",
            "adolfsson2020power", "bergh2025stress"]
    assert list(bib.entries["key"]) == keys
    # screen and code them as the bundled corpus did (its keys differ: map them)
    bundled_key = {"honingh2020do": "honingh2020boardsmatter"}
    with open(REPO / "corpus" / "studies.csv", encoding="utf-8", newline="") as handle:
        bundled = {r["study_id"]: r for r in csv.DictReader(handle)}
    with open(review / "corpus" / "studies.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        source = bundled[bundled_key.get(row["study_id"], row["study_id"])]
        row.update({k: source[k] for k in ("country", "design", "sample", "included",
                                           "exclusion_reason", "weight")})
        row["summary"] = source["summary"]
    with open(review / "corpus" / "studies.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.chdir(review)
    code, _, err = cli("run", "--out", "outputs", "-p", "cv_repeats", "1")
    assert code == 0, err
    exported = {}
    for path in sorted((review / "outputs" / "bib").glob("*.bib")):
        text = path.read_text(encoding="utf-8")
        again = read_bib(path)
        assert again.failed == [] and not undefined_macros(text) and not dangling_crossrefs(text)
        ris = read_bib(path.with_suffix(".ris"))
        assert ris.format == "RIS" and ris.failed == []
        assert list(ris.entries["key"]) == list(again.entries["key"])  # ID carries the key
        for a, b in zip(again.entries.to_dict("records"), ris.entries.to_dict("records")):
            for field in ("title", "year", "volume", "number", "doi"):
                assert a[field] == b[field], (path.name, a["key"], field)
            assert a["author"] == b["author"], a["key"]
        exported.update({r["key"]: r for r in again.entries.to_dict("records")})
    original = bib.entries.set_index("key")
    included = [r["study_id"] for r in rows if r["included"] == "yes"]
    assert included and set(included) <= set(exported)
    for key in included:
        for field in ("title", "year", "author", "journal", "booktitle", "institution",
                      "volume", "number", "pages", "doi", "url"):
            assert exported[key][field] == original.loc[key, field], (key, field)


def test_journal_site_exports_html_volume_words_and_dois_in_other_tags():
    bib, e = entries("publisher.ris")
    assert bib.failed == [] and list(e.index) == ["honingh2020do", "bergh2025stress"]
    row = e.loc["honingh2020do"]
    assert row["doi"] == HONINGH["doi"] and row["volume"] == "35"
    assert row["abstract"].startswith("The authors merged") and "<p>" not in row["abstract"]
    from trustreview.base.text import decode_latex

    assert "power & pressure" in decode_latex(row["abstract"])
    other = e.loc["bergh2025stress"]
    assert other["doi"] == "10.58235/sjpa.39316" and other["pages"] == ""


def test_names_without_a_comma_are_people_or_organisations():
    from trustreview.io.ris import _person

    assert _person("Jane Doe") == "Doe, Jane"
    assert _person("Amy E. Keating") == "Keating, Amy E."
    for organisation in ("Ofsted", "Sutton Trust", "Education Policy Institute", "NFER",
                         "Confederation of School Trusts"):
        assert _person(organisation) == "{" + organisation + "}"


@pytest.mark.slow  # spawns a process for the second part
def test_a_large_bib_read_in_parts_is_the_bib_read_whole(monkeypatch, tmp_path):
    """Reading a big BibTeX file on two cores gives exactly what reading it whole gives:
    same entries, columns, lines; and a file with a key in both parts, or a broken entry,
    is read whole, so the problem is reported as before."""
    from trustreview.io import load

    text = (REPO / "references.bib").read_text(encoding="utf-8")
    whole = load.parse_bib(text, "references.bib")
    monkeypatch.setattr(load, "PER_PROCESS", 10)
    monkeypatch.setattr(load, "workers_for", lambda n, per: 2)
    parts = load._parse_in_parts(text, "references.bib")
    assert parts is not None  # it was read in two parts
    in_parts = load.parse_bib(text, "references.bib")
    assert in_parts.entries.equals(whole.entries)
    assert (in_parts.failed, in_parts.warnings) == (whole.failed, whole.warnings)
    clash = text + "\n@misc{" + whole.entries["key"].iloc[0] + ", title = {Again}}\n"
    assert load._parse_in_parts(clash, "x.bib") is None
    assert any("duplicate key" in m for _, m in load.parse_bib(clash, "x.bib").failed)
    broken = text + "\n@misc{broken, title = {no end\n"
    assert load._parse_in_parts(broken, "x.bib") is None
    with_strings = '@string{acad = "Academy"}\n' + text
    assert load._parse_in_parts(with_strings, "x.bib") is None
