"""Several database searches into one review: every record accounted for, duplicates merged
only when sure, doubtful pairs decided by a person, later searches added.

The fixtures in ``fixtures/searches`` are bundled studies written the way the databases
export them: ERIC-style RIS (a DOI as a URL, a record without a title, a working paper),
Web of Science-style BibTeX (upper-case journal, a repeated key, the published article)
and a Scopus CSV (no DOI for a study that has one, a book carrying its chapter's DOI),
and a British Education Index RIS searched later.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

import pandas as pd
import pytest

from trustreview import dedup
from trustreview.io.searches import csv_records, read_search

HERE = Path(__file__).parent
SEARCHES = HERE / "fixtures" / "searches"
FILES = [SEARCHES / name for name in ("eric.ris", "wos.bib", "scopus.csv")]


def rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def review(tmp_path, cli):
    folder = tmp_path / "review"
    code, _, err = cli("new", folder, "--from", *FILES, "--database", "ERIC", "--database",
                       "Web of Science", "--database", "Scopus", "--date", "2026-10-01")
    assert code == 0, err
    return folder, err


def test_the_databases_may_be_listed_after_one_database_flag(tmp_path, cli):
    # as --from takes its files: --database ERIC "Web of Science" Scopus
    folder = tmp_path / "review"
    code, _, err = cli("new", folder, "--from", *FILES, "--database", "ERIC",
                       "Web of Science", "Scopus", "--date", "2026-10-01")
    assert code == 0, err
    assert [s["database"] for s in rows(folder / "corpus" / "searches.csv")] == [
        "ERIC", "Web of Science", "Scopus"]


def test_three_searches_become_one_review_with_every_record_accounted_for(review):
    folder, err = review
    corpus = folder / "corpus"
    searches = rows(corpus / "searches.csv")
    assert [(s["file"], s["database"], s["added"], s["records"]) for s in searches] == [
        ("eric.ris", "ERIC", "2026-10-01", "4"), ("wos.bib", "Web of Science", "2026-10-01", "6"),
        ("scopus.csv", "Scopus", "2026-10-01", "4")]
    for search, source in zip(searches, FILES):  # copied unchanged
        copy = corpus / "searches" / search["file"]
        assert copy.read_bytes() == source.read_bytes()
        assert search["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    studies = [r["study_id"] for r in rows(corpus / "studies.csv")]
    dups = rows(corpus / "duplicates.csv")
    assert list(dups[0]) == ["study_id", "record", "source", "status", "reason", "score"]
    merged = [d["record"] for d in dups if d["status"] == "merged"]
    records = [r["record"] for r in rows(corpus / "records.csv")]
    # every record of every file is exactly one study or one merged row
    assert len(records) == sum(int(s["records"]) for s in searches) == 14
    assert sorted(studies + merged) == sorted(records)
    assert not set(studies) & set(merged)
    assert len(studies) == 11 and len(merged) == 3
    assert "created" in err and "3 duplicates merged" in err and "1 pairs to check" in err
    readme = (folder / "README.md").read_text()
    assert "trustreview add --from" in readme and "trustreview sheet --duplicates" in readme


def test_a_duplicate_across_ris_and_bibtex_with_the_doi_as_a_url_and_one_without_doi(review):
    folder, _ = review
    dups = {(d["study_id"], d["record"]): d for d in rows(folder / "corpus" / "duplicates.csv")}
    with_doi = dups[("adolfsson2020power", "adolfsson2020powera")]  # RIS (URL) ~ BibTeX
    assert with_doi["status"] == "merged" and with_doi["source"] == "wos.bib"
    assert with_doi["reason"].startswith("same DOI; title 1.00")
    no_doi = dups[("adolfsson2020power", "adolfsson2020powerb")]  # Scopus, no DOI
    assert no_doi["status"] == "merged" and "same DOI" not in no_doi["reason"]
    assert 0.9 <= float(no_doi["score"]) <= 1
    from trustreview.io.load import read_bib
    entries = read_bib(folder / "references.bib").entries.set_index("key")
    kept = entries.loc["adolfsson2020power"]
    assert kept["doi"] == "10.1080/20020317.2020.1745621"  # no URL prefix
    assert kept["abstract"].startswith("This case study")  # filled in from Scopus
    summary = {r["study_id"]: r["summary"] for r in rows(folder / "corpus" / "studies.csv")}
    assert summary["adolfsson2020power"].startswith("This case study")


def test_look_alikes_that_are_different_works_are_never_merged(review):
    folder, _ = review
    dups = {(d["study_id"], d["record"]): d for d in rows(folder / "corpus" / "duplicates.csv")}
    studies = {r["study_id"] for r in rows(folder / "corpus" / "studies.csv")}
    # a working paper (2014) and the journal article (2016) of the same study
    paper = dups[("abdulkadiroglu2014charters", "abdulkadiroglu2016charters")]
    assert paper["status"] == "distinct" and "a report and a journal article" in paper["reason"]
    # a book carrying its chapter's DOI
    book = dups[("foliano2020competition", "bradley2020economics")]
    assert book["status"] == "distinct" and "same DOI" in book["reason"]
    # the Chain Effects series: one report a year
    assert {"ED559231", "chain", "chaina"} <= studies
    assert {"abdulkadiroglu2014charters", "abdulkadiroglu2016charters",
            "foliano2020competition", "bradley2020economics"} <= studies


def test_keys_clash_get_letters_and_a_record_without_title_is_kept(review):
    folder, err = review
    studies = {r["study_id"] for r in rows(folder / "corpus" / "studies.csv")}
    assert {"chain", "chaina"} <= studies  # the same key twice in wos.bib
    assert "wos.bib:38: key 'chain' is also the key of an earlier entry" in err
    assert "greany2021" in studies  # the ERIC record with no title
    assert "eric.ris:36: the RIS record has no title; it is kept" in err
    from trustreview.io.load import read_bib
    bib = read_bib(folder / "references.bib")
    assert not bib.failed and sorted(bib.entries["key"]) == sorted(studies)


def test_the_review_validates_without_warning_of_pairs_already_decided(review, cli):
    folder, _ = review
    code, _, err = cli("validate", "--corpus", folder / "corpus", "--bib",
                       folder / "references.bib")
    assert code == 0, err
    assert "DOI 10.1016" not in err and "close to that of" not in err


def fill_same(path: Path, decisions: dict[str, str]) -> None:
    from openpyxl import load_workbook
    workbook = load_workbook(path)
    sheet = workbook["coding"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        record = row[header.index("record")].value
        if record in decisions:
            row[header.index("same")].value = decisions[record]
    workbook.save(path)


@pytest.mark.parametrize("same", ["yes", "no"])
def test_a_check_pair_decided_in_the_duplicates_workbook(review, cli, tmp_path, same):
    folder, _ = review
    corpus, bib = folder / "corpus", folder / "references.bib"
    sheet = tmp_path / "dups.xlsx"
    code, _, err = cli("sheet", "--duplicates", "--corpus", corpus, "--bib", bib, "--out", sheet)
    assert code == 0 and "1 pair(s) to decide" in err, err
    from openpyxl import load_workbook
    workbook = load_workbook(sheet)
    coding = workbook["coding"]
    header = [c.value for c in coding[1]]
    values = [c.value for c in coding[2]]
    pair = dict(zip(header, values))
    assert (pair["study_id"], pair["record"]) == ("greany2021leadership", "greany2020leadership")
    assert (pair["study year"], pair["record year"]) == ("2021", "2020")
    assert (pair["study source"], pair["record source"]) == ("wos.bib", "scopus.csv")
    rules = coding.data_validations.dataValidation
    same_column = chr(ord("A") + header.index("same"))
    assert any(str(r.sqref).startswith(f"{same_column}2") for r in rules)
    fill_same(sheet, {"greany2020leadership": same})
    text = bib.read_text()  # a field only the record has, for the kept study to take
    start = text.index("@incollection{greany2020leadership,")
    bib.write_text(text[:start] + text[start:].replace(
        "\n}", ",\n\tkeywords = {multi-academy trusts}\n}", 1))
    code, out, err = cli("merge", sheet, "--corpus", corpus, "--bib", bib)
    assert code == 0, err
    dups = {(d["study_id"], d["record"]): d for d in rows(corpus / "duplicates.csv")}
    row = dups[("greany2021leadership", "greany2020leadership")]
    studies = {r["study_id"] for r in rows(corpus / "studies.csv")}
    from trustreview.io.load import read_bib
    keys = set(read_bib(bib).entries["key"])
    if same == "yes":
        assert row["status"] == "merged" and row["reason"].startswith("decided by a person")
        assert "greany2020leadership" not in studies | keys
        kept = read_bib(bib).entries.set_index("key").loc["greany2021leadership"]
        assert kept["keywords"] == "multi-academy trusts"  # filled from the merged record
    else:
        assert row["status"] == "distinct"
        assert "greany2020leadership" in studies & keys
    before = {p: p.read_bytes() for p in (corpus / "duplicates.csv", corpus / "studies.csv", bib)}
    code, out, err = cli("merge", sheet, "--corpus", corpus, "--bib", bib)  # idempotent
    assert code == 0 and "nothing changed" in out + err
    assert {p: p.read_bytes() for p in before} == before


def test_a_pair_whose_record_was_screened_is_not_merged_but_listed(review, cli, tmp_path):
    folder, _ = review
    corpus, bib = folder / "corpus", folder / "references.bib"
    table = pd.read_csv(corpus / "studies.csv", dtype=str, keep_default_na=False)
    table.loc[table["study_id"] == "greany2020leadership", "included"] = "no"
    table.to_csv(corpus / "studies.csv", index=False, lineterminator="\n")
    sheet = tmp_path / "dups.xlsx"
    assert cli("sheet", "--duplicates", "--corpus", corpus, "--bib", bib, "--out", sheet)[0] == 0
    fill_same(sheet, {"greany2020leadership": "yes"})
    code, _, err = cli("merge", sheet, "--corpus", corpus, "--bib", bib)
    assert code == 0 and "conflict: greany2021leadership / greany2020leadership" in err
    statuses = {d["record"]: d["status"] for d in rows(corpus / "duplicates.csv")}
    assert statuses["greany2020leadership"] == "check"
    fill_same(sheet, {"greany2020leadership": "maybe"})
    code, _, err = cli("merge", sheet, "--corpus", corpus, "--bib", bib)
    assert code == 1 and "row 2, column 'same'" in err and "yes, no" in err


def test_a_later_search_adds_only_new_studies_and_adding_it_again_adds_nothing(review, cli):
    folder, _ = review
    corpus, bib = folder / "corpus", folder / "references.bib"
    table = pd.read_csv(corpus / "studies.csv", dtype=str, keep_default_na=False)
    table.loc[table["study_id"] == "ED559231", "included"] = "yes"  # screened already
    table.to_csv(corpus / "studies.csv", index=False, lineterminator="\n")
    before = (corpus / "studies.csv").read_text()
    later = SEARCHES / "bei.ris"
    code, _, err = cli("add", "--corpus", corpus, "--bib", bib, "--from", later,
                       "--database", "British Education Index", "--date", "2027-02-01")
    assert code == 0 and "1 new study, 1 duplicates merged" in err, err
    after = (corpus / "studies.csv").read_text()
    assert after.startswith(before)  # earlier studies keep their rows, keys and decisions
    assert after[len(before):] == "greany2025constant,,,,,,,,,\n"
    dups = rows(corpus / "duplicates.csv")
    assert dups[-1]["study_id"] == "ED559231" and dups[-1]["record"] == "hutchings2015chain"
    assert dups[-1]["status"] == "merged" and dups[-1]["source"] == "bei.ris"
    searches = rows(corpus / "searches.csv")
    assert searches[-1]["database"] == "British Education Index"
    assert searches[-1]["added"] == "2027-02-01" and searches[-1]["records"] == "2"
    state = {p: p.read_bytes() for p in corpus.rglob("*") if p.is_file()}
    code, _, err = cli("add", "--corpus", corpus, "--bib", bib, "--from", later)
    assert code == 0 and "nothing added" in err and "the same file as the search bei.ris" in err
    assert {p: p.read_bytes() for p in corpus.rglob("*") if p.is_file()} == state
    records = [r["record"] for r in rows(corpus / "records.csv")]
    studies = [r["study_id"] for r in rows(corpus / "studies.csv")]
    merged = [d["record"] for d in rows(corpus / "duplicates.csv") if d["status"] == "merged"]
    assert sorted(records) == sorted(studies + merged)


def prepared(**fields):
    base = {"key": "x", "title": "", "author": "", "year": "", "doi": "", "journal": "",
            "volume": "", "pages": "", "entry_type": "article"}
    return dedup.prepare(pd.DataFrame([{**base, **fields}])).iloc[0].to_dict()


def test_the_rules_on_pairs_that_look_alike():
    title = "Power dynamics and policy actions in the changing landscape of local school governance"
    a = prepared(title=title, author="Adolfsson, C.-H. and Alvunger, D.", year="2020",
                 doi="10.1080/20020317.2020.1745621")
    same = prepared(title=title.upper() + ".", author="Adolfsson, Carl-Henrik", year="2020",
                    doi="https://doi.org/10.1080/20020317.2020.1745621")
    assert dedup.decide(a, same).status == "merged"
    other_doi = prepared(title=title, author="Adolfsson, C.-H.", year="2020", doi="10.1/x")
    assert dedup.decide(a, other_doi).status != "merged"  # two DOIs: never merged
    later = prepared(title=title, author="Adolfsson, C.-H.", year="2022")
    assert dedup.decide(a, later).status == "distinct"
    stranger = prepared(title=title, author="Smith, J.", year="2020")
    assert dedup.decide(a, stranger).status != "merged"  # no author in common
    editorial = [prepared(title="Editorial", author="Greany, T.", year="2020", journal=j,
                          volume=v) for j, v in (("Management in Education", "34"),
                                                 ("School Leadership & Management", "40"))]
    assert dedup.decide(*editorial).status == ""  # a generic title alone says nothing
    series = [prepared(title="Chain Effects", author="Hutchings, M. and Francis, B.", year=y,
                       entry_type="techreport") for y in ("2016", "2017")]
    assert dedup.decide(*series).status in ("", "distinct")  # a yearly series
    long_series = [dict(s, t="chain effects the impact of academy chains") for s in series]
    assert dedup.decide(*long_series).status == "distinct"


def test_titles_compare_across_unicode_dashes_quotes_and_a_language_tag():
    """Found on a real labelled set (bib-dedupe's haematology records): "Hemolytic–Uremic"
    with an en dash read as one word, so the record missed its hyphenated duplicate; and
    "... thrombosis. [French]" missed its twin without the language note."""
    en_dash = prepared(title="Atypical Hemolytic\u2013Uremic Syndrome", author="Noris, M",
                       year="2009", journal="N Engl J Med", volume="361", pages="1676-1687")
    hyphen = prepared(title="Atypical hemolytic-uremic syndrome.", author="Noris, M.",
                      year="2009", journal="New England Journal of Medicine", volume="361",
                      pages="1676-1687")
    assert en_dash["t"] == hyphen["t"] == "atypical hemolytic uremic syndrome"
    assert dedup.decide(en_dash, hyphen).status == "merged"
    quoted = prepared(title="\u201cGood\u201d schools: N\u00fcrnberg\u2019s boards",
                      author="X, Y", year="2020")
    assert quoted["t"] == "good schools nurnberg s boards"
    tagged = prepared(title="Paroxysmal nocturnal hemoglobinuria and thrombosis. [French]")
    assert tagged["t"] == "paroxysmal nocturnal hemoglobinuria and thrombosis"


def test_blocking_pairs_a_duplicate_with_its_subtitle_dropped():
    frame = pd.DataFrame({"key": ["a", "b", "c"], "entry_type": ["article"] * 3,
                          "title": ["Chain Effects 2015: The impact of academy chains on "
                                    "low-income students", "Chain effects 2015",
                                    "Unexplained pupil exits from schools"],
                          "author": ["Hutchings, M."] * 2 + ["Hutchinson, J."],
                          "year": ["2015", "2015", "2019"]})
    found = dedup.candidate_pairs(dedup.prepare(frame))
    assert (0, 1) in found and all(2 not in pair for pair in found)


def test_csv_exports_are_read_by_their_column_names():
    lens = ("Lens ID,Title,Date Published,Publication Year,Source Title,Author/s,DOI,Volume,"
            "Issue Number,Start Page,End Page,Publication Type\n"
            "000-1,Power dynamics and policy actions,2020-04-01,2020,Nordic Journal of "
            "Studies in Educational Policy,Carl-Henrik Adolfsson; Daniel Alvunger,"
            "10.1080/20020317.2020.1745621,6,2,128,142,journal article\n")
    (line, record), = csv_records(lens, "lens.csv")
    assert line == 2 and record["type_of_reference"] == "JOUR"
    assert record["authors"] == ["Carl-Henrik Adolfsson", "Daniel Alvunger"]
    assert (record["year"], record["start_page"], record["end_page"]) == ("2020", "128", "142")
    openalex = ("id,display_name,publication_year,doi,authorships.author.display_name,type\n"
                "https://openalex.org/W1,Chain Effects 2018,2018,,Merryn Hutchings|Becky "
                "Francis,report\n")
    (_, record), = csv_records(openalex, "openalex.csv")
    assert record["title"] == "Chain Effects 2018" and record["type_of_reference"] == "RPRT"
    assert record["authors"] == ["Merryn Hutchings", "Becky Francis"]
    zotero = ('"Key","Item Type","Publication Year","Author","Title","Publication Title",'
              '"Type"\n"K1","conferencePaper","2018","Jan, Rosy; Zainab, Tazeem",'
              '"The impact story","ETTLIS",""\n"K2","bookSection","2019","Vlachos, J.",'
              '"Trust-Based Evaluation","Neoliberalism and Market Forces in Education",""\n')
    kinds = [r["type_of_reference"] for _, r in csv_records(zotero, "zotero.csv")]
    assert kinds == ["CPAPER", "CHAP"]  # Zotero's item types
    with pytest.raises(Exception, match=r"no.csv:1: no title column"):
        csv_records("Authors,Year\nA,2020\n", "no.csv")


def test_scopus_names_become_bibtex_names(tmp_path):
    search = read_search(SEARCHES / "scopus.csv")
    entries = search.entries.set_index("key")
    assert entries.loc["adolfsson2020power", "author"] == "Adolfsson, C.-H. and Alvunger, D."
    assert entries.loc["adolfsson2020power", "pages"] == "128--142"
    assert entries.loc["bradley2020economics", "entry_type"] == "book"


def test_precision_and_recall_on_synthetic_searches(tmp_path):
    """Measured, not assumed: 3,000 records with a quarter duplicates written as databases
    write them, and look-alike different works; no wrong merge is allowed."""
    sys.path.insert(0, str(HERE.parent / "benchmarks"))
    try:
        import searches as synthetic
    finally:
        sys.path.pop(0)
    records = synthetic.make_records(3000, seed=7)
    types = {"article": "article", "report": "techreport", "book": "book",
             "chapter": "incollection"}
    frame = pd.DataFrame([{
        "key": f"r{i}", "entry_type": types[r["type"]], "title": r["title"],
        "author": " and ".join(f"{s}, {g}" if g else "{" + s + "}" for s, g in r["authors"]),
        "year": str(r["year"]), "journal": r["venue"], "volume": r["volume"],
        "pages": r["pages"], "doi": r["doi"]} for i, r in enumerate(records)])
    prepared_frame = dedup.prepare(frame)
    kept, _ = dedup.resolve(prepared_frame, dedup.find_pairs(prepared_frame))
    work = [r["work"] for r in records]
    wrong = sum(work[i] != work[k] for i, k in kept.items())
    duplicates = len(work) - len(set(work))
    assert wrong == 0
    assert (len(kept) - wrong) / duplicates >= 0.95


def screen(corpus: Path, decisions: dict[str, tuple[str, str]]) -> None:
    """Write screening decisions into studies.csv: study -> (included, reason); an included
    study gets the fields it needs."""
    table = pd.read_csv(corpus / "studies.csv", dtype=str, keep_default_na=False)
    for sid, (included, reason) in decisions.items():
        row = table["study_id"] == sid
        table.loc[row, ["included", "exclusion_reason"]] = [included, reason]
        if included == "yes":
            table.loc[row, ["country", "design", "weight"]] = ["England", "mixed", "low"]
    table.to_csv(corpus / "studies.csv", index=False, lineterminator="\n")


def test_prisma_2020_counts_start_from_the_searches_and_add_up(review):
    from trustreview.run import pipeline
    from trustreview.synthesis.tables import PRISMA_COLUMNS

    folder, _ = review
    corpus = folder / "corpus"
    screen(corpus, {"ED559231": ("yes", ""), "chain": ("yes", ""),
                    "chaina": ("no", "off-topic"),  # not in the codebook: title-abstract
                    "greany2021": ("no", "not-retrieved"),
                    "bradley2020economics": ("no", "out-of-scope-topic"),  # full text
                    "foliano2020competition": ("no", "out-of-scope-topic"),
                    "abdulkadiroglu2014charters": ("no", "out-of-scope-country")})
    result = pipeline.validate(corpus, folder / "references.bib")
    assert not result.corpus.errors, [i.format() for i in result.corpus.errors]
    flow = dict(zip(result.tables["screening_flow"]["count_of"],
                    result.tables["screening_flow"]["n"]))
    assert [flow[f"records identified: {db}"] for db in ("ERIC", "Web of Science",
                                                         "Scopus")] == [4, 6, 4]
    assert flow["records identified"] == 14 and flow["duplicate records removed"] == 3
    # identified - duplicates = screened + awaiting + errors
    assert flow["records identified"] - flow["duplicate records removed"] == \
        flow["records screened"] + flow["awaiting screening"] + \
        flow["records with validation errors"]
    assert flow["awaiting screening"] == 4 and flow["records screened"] == 7
    assert flow["records excluded"] == 1 and flow["records excluded: off-topic"] == 1
    assert flow["reports sought for retrieval"] == flow["records screened"] - 1 == 6
    assert flow["reports not retrieved"] == 1
    assert flow["reports assessed for eligibility"] == 5
    assert flow["reports excluded"] == 3
    assert flow["reports excluded: out-of-scope-topic"] == 2
    assert flow["reports assessed for eligibility"] - flow["reports excluded"] == \
        flow["new studies included"] == flow["included in the synthesis"] == 2
    prisma = result.tables["prisma2020"]
    assert list(prisma.columns) == PRISMA_COLUMNS
    n = dict(zip(prisma["data"], prisma["n"]))
    assert n["database_results"] == "14"
    assert n["database_specific_results"] == "ERIC, 4; Web of Science, 6; Scopus, 4"
    assert (n["duplicates"], n["records_screened"], n["records_excluded"]) == ("3", "7", "1")
    assert (n["dbr_sought_reports"], n["dbr_notretrieved_reports"]) == ("6", "1")
    assert (n["dbr_assessed"], n["new_studies"], n["total_studies"]) == ("5", "2", "2")
    assert n["dbr_excluded"] == "out-of-scope-country, 1; out-of-scope-topic, 2"
    assert int(n["database_results"]) - int(n["duplicates"]) - flow["awaiting screening"] == \
        int(n["records_screened"])
    assert int(n["records_screened"]) - int(n["records_excluded"]) == \
        int(n["dbr_sought_reports"])
    assert int(n["dbr_sought_reports"]) - int(n["dbr_notretrieved_reports"]) == \
        int(n["dbr_assessed"])


def test_a_record_deleted_from_the_studies_table_is_an_error(review, cli):
    folder, _ = review
    corpus = folder / "corpus"
    table = pd.read_csv(corpus / "studies.csv", dtype=str, keep_default_na=False)
    table[table["study_id"] != "chaina"].to_csv(corpus / "studies.csv", index=False,
                                                 lineterminator="\n")
    code, _, err = cli("validate", "--corpus", corpus, "--bib", folder / "references.bib")
    assert code == 1
    assert "records.csv:10, study 'chaina', field 'record': the record of the search " \
        "wos.bib is neither a study nor a merged duplicate" in err


def test_changes_after_adding_a_search_and_screening(review, cli):
    """The comparison of two runs' tables, in-process (the whole runs are below)."""
    from trustreview.run import pipeline
    from trustreview.synthesis.changes import compare_runs, summary_lines

    folder, _ = review
    corpus, bib = folder / "corpus", folder / "references.bib"
    screen(corpus, {"ED559231": ("yes", ""), "chain": ("no", "out-of-scope-topic")})
    before = pipeline.validate(corpus, bib).tables
    assert compare_runs(before, before).empty
    assert cli("add", "--corpus", corpus, "--bib", bib, "--from", SEARCHES / "bei.ris",
               "--database", "BEI", "--date", "2027-02-01")[0] == 0
    screen(corpus, {"greany2025constant": ("yes", ""), "chain": ("yes", "")})
    after = pipeline.validate(corpus, bib).tables
    changes = compare_runs(before, after)
    assert list(changes.columns) == ["what", "study_id", "before", "after"]
    rows = set(changes.itertuples(index=False, name=None))
    assert ("search added", "", "", "bei.ris (BEI, 2027-02-01, 2 records)") in rows
    assert ("study added", "greany2025constant", "", "included") in rows
    assert ("decision changed", "chain", "excluded (out-of-scope-topic)", "included") in rows
    assert ("count changed: screening_flow: records identified", "", "14", "16") in rows
    assert ("count changed: screening_flow: duplicate records removed", "", "3", "4") in rows
    lines = summary_lines(changes, before, after)
    assert lines[0] == "Searches added: bei.ris (BEI, 2027-02-01, 2 records)."
    assert "Newly included: 2 (chain, greany2025constant)." in lines


@pytest.mark.slow
def test_a_second_run_says_what_changed_and_a_first_run_does_not(review, tmp_path, cli):
    folder, _ = review
    corpus = folder / "corpus"
    screen(corpus, {sid: ("yes", "") for sid in ("ED559231", "chain", "adolfsson2020power")})
    with open(corpus / "codes.csv", "a", encoding="utf-8") as codes:
        codes.write("ED559231,reconciled,governance\nchain,reconciled,education\n"
                    "adolfsson2020power,reconciled,governance\n")

    def run(out):
        code, _, err = cli("run", "--out", out, "-p", "cv_repeats", "1", cwd=folder)
        assert code == 0, err

    run("out")
    assert not (folder / "out" / "tables" / "changes.csv").exists()
    assert "What changed" not in (folder / "out" / "report.html").read_text()
    code, _, err = cli("add", "--from", SEARCHES / "bei.ris", "--date", "2027-02-01",
                       cwd=folder)
    assert code == 0, err
    screen(corpus, {"greany2025constant": ("yes", "")})
    run("out")
    changes = rows(folder / "out" / "tables" / "changes.csv")
    assert {"what": "study added", "study_id": "greany2025constant", "before": "",
            "after": "included"} in changes
    page = (folder / "out" / "report.html").read_text()
    assert "What changed since the previous run" in page and "bei.ris (bei, 2027-02-01" in page
    from docx import Document
    text = "\n".join(p.text for p in Document(folder / "out" / "report.docx").paragraphs)
    assert "What changed since the previous run" in text
    assert "Newly included: 1 (greany2025constant)." in text


def test_a_record_said_same_as_two_studies_joins_the_first_only():
    """Found trying the tool as a user: two check pairs shared a record, both answered yes,
    and the record was merged into both studies (counted twice as a duplicate in PRISMA)."""
    from trustreview.searches.duplicate_sheet import decide
    from trustreview.io.workbook import Filled

    duplicates = pd.DataFrame({"study_id": ["a", "b"], "record": ["r", "r"],
                               "source": ["s.ris", "s.ris"], "status": ["check", "check"],
                               "reason": ["title 0.95", "title 0.95"], "score": ["0.8", "0.8"]})
    studies = pd.DataFrame({"study_id": ["a", "b", "r"], "included": ["", "", ""]})
    empty = pd.DataFrame({"study_id": []}, dtype=str)
    rows = pd.DataFrame({"row": [2, 3], "study_id": ["a", "b"], "record": ["r", "r"],
                         "same": ["yes", "yes"]})
    result = decide(Filled("dups.xlsx", "duplicates", "duplicates", list(rows.columns), rows),
                    duplicates, studies, empty, empty)
    merged = result.duplicates[result.duplicates["status"] == "merged"]
    assert list(zip(merged["study_id"], merged["record"])) == [("a", "r")]
    assert result.removed == ["r"] and list(result.studies["study_id"]) == ["a", "b"]
    assert result.duplicates["status"].tolist() == ["merged", "check"]
    assert len(result.conflicts) == 1 and "was merged into a on an earlier row" in \
        result.conflicts[0]
