"""Duplicates on messy records as databases export them: what contradicts a merge (issue,
article and report numbers, editions, pages beyond a typo) and what must still be found (a
subtitle glued on, a venue split into the volume, a correction notice, a page typo). The
records are this project's own, written in the shapes seen in real exports."""

import pandas as pd
import pytest

from trustreview import dedup
from trustreview.dedup.prepare import notice_title, number_key, page_range, title_key

AUTHORS = "Lindqvist, Maja and Okafor, Daniel and Brennan, Siobhan"


def records(*rows: dict) -> pd.DataFrame:
    base = {"key": "", "entry_type": "article", "author": AUTHORS, "title": "", "year": "2019",
            "journal": "Journal of School Networks", "volume": "", "number": "", "pages": "",
            "doi": "", "eid": "", "edition": "", "editor": ""}
    return pd.DataFrame([{**base, "key": f"r{i}", **row} for i, row in enumerate(rows)])


def decided(*rows: dict) -> dedup.Decision:
    prepared = dedup.prepare(records(*rows))
    first, second = prepared.to_dict("records")
    return dedup.decide(first, second)


def statuses(*rows: dict) -> dict[tuple[int, int], str]:
    prepared = dedup.prepare(records(*rows))
    pairs = dedup.find_pairs(prepared)
    return {(i, j): s for i, j, s in zip(pairs["i"], pairs["j"], pairs["status"])}


COLUMN = {"title": "Remarks from the Editor - Editor's Comments", "author": "Hartmann, Rolf",
          "journal": "Quarterly of Information Systems", "volume": "38", "year": "2014"}


def test_a_recurring_column_in_four_issues_is_four_works():
    found = statuses(*({**COLUMN, "number": str(n)} for n in (1, 2, 3, 4)))
    assert len(found) == 6 and set(found.values()) == {dedup.DISTINCT}
    prepared = dedup.prepare(records(*({**COLUMN, "number": str(n)} for n in (1, 2, 3, 4))))
    kept, _ = dedup.resolve(prepared, dedup.find_pairs(prepared))
    assert kept == {}
    assert "issue 1 and 2" in decided({**COLUMN, "number": "1"}, {**COLUMN, "number": "2"}).reason


def test_the_same_issue_given_twice_or_once_still_merges():
    assert decided({**COLUMN, "number": "3"}, {**COLUMN, "number": "03"}).status == dedup.MERGED
    assert decided({**COLUMN, "number": "3"}, {**COLUMN}).status == dedup.MERGED
    assert decided({**COLUMN, "number": "3-4"}, {**COLUMN, "number": "4"}).status == dedup.MERGED


@pytest.mark.parametrize("field, first, second, said", [
    ("eid", "e0231145", "e0231187", "article number"),
    ("edition", "2nd", "3rd", "edition"),
])
def test_article_numbers_and_editions_tell_works_apart(field, first, second, said):
    work = {"title": "Peer review between schools of one trust: a comparative study",
            "pages": ""}
    decision = decided({**work, field: first}, {**work, field: second})
    assert decision.status == dedup.DISTINCT and said in decision.reason


def test_two_reports_of_a_series_with_their_numbers_are_two_works():
    report = {"entry_type": "techreport", "journal": "", "title":
              "Trust performance measures: technical annex on progress scores",
              "author": "{Office for School Statistics}", "year": "2021"}
    decision = decided({**report, "number": "RR-2021-04"}, {**report, "number": "RR-2021-07"})
    assert decision.status == dedup.DISTINCT and "report number" in decision.reason


def test_a_differing_issue_with_the_same_doi_or_pages_is_checked_not_merged():
    work = {"title": "Growing a trust from three schools to thirty: the first decade",
            "volume": "12", "pages": "101-118"}
    assert decided({**work, "number": "2"}, {**work, "number": "3"}).status == dedup.CHECK
    doi = {**work, "pages": "", "volume": "", "doi": "10.9999/jsn.2019.0042"}
    assert decided({**doi, "number": "2"}, {**doi, "number": "3"}).status == dedup.CHECK


GLUED = ("Central services and school autonomy in chronic underperformance "
         "statesthe examples of three regional trusts")
ALONE = "Central services and school autonomy in chronic underperformance states"


def test_a_subtitle_glued_on_by_a_database_is_the_same_work_when_pages_agree():
    decision = decided({"title": GLUED, "volume": "7", "pages": "33-51"},
                       {"title": ALONE, "volume": "7", "pages": "33-51"})
    assert decision.status == dedup.MERGED and "one the start of the other" in decision.reason


def test_a_glued_prefix_with_nothing_else_behind_it_is_checked():
    assert decided({"title": GLUED}, {"title": ALONE}).status == dedup.CHECK


def test_a_venue_split_into_the_volume_field_still_agrees():
    split = {"title": "Drug-free interventions for attention in the classroom: a review",
             "journal": "Nature Reviews", "volume": "Drug Discovery. 9", "pages": "203-214"}
    whole = {**split, "journal": "Nature Reviews Drug Discovery.", "volume": "9"}
    decision = decided(split, whole)
    assert decision.status == dedup.MERGED and "volume" in decision.reason
    assert "venue" in decision.reason.split("same ", 1)[1]


@pytest.mark.parametrize("volume", ["Vol. 12", "12 (Suppl 1)", "Volume 12", "v12"])
def test_a_number_in_the_volume_with_words_around_it(volume):
    work = {"title": "Teacher retention across the schools of a charter network",
            "pages": "88-97"}
    assert decided({**work, "volume": volume}, {**work, "volume": "12"}).status == dedup.MERGED


@pytest.mark.parametrize("notice", [
    "Erratum: School trusts and the middle tier in three regions",
    "Correction to: School trusts and the middle tier in three regions",
    "Corrigendum to 'School trusts and the middle tier in three regions'",
    "School trusts and the middle tier in three regions (vol 360, pg 542, 2009)",
])
def test_a_correction_notice_is_paired_with_its_article_for_a_person(notice):
    article = {"title": "School trusts and the middle tier in three regions", "volume": "360",
               "pages": "542-551", "year": "2009"}
    decision = decided(article, {"title": notice, "year": "2010", "volume": "361",
                                 "pages": "12"})
    assert decision.status == dedup.CHECK
    assert decision.reason.startswith("correction notice")


def test_a_medline_note_on_the_article_itself_is_not_a_notice():
    article = {"title": "School trusts and the middle tier in three regions", "volume": "360",
               "pages": "542-551"}
    noted = {**article, "title": article["title"] + ". [Erratum appears in J Sch Netw. "
                                                    "2010;361:12]"}
    assert decided(article, noted).status == dedup.MERGED
    assert notice_title(noted["title"])[1] is False


@pytest.mark.parametrize("typo", ["2297-2108", "2097-2118"])
def test_pages_apart_by_one_mistyped_digit_agree(typo):
    work = {"title": "Instructional coaching at scale in a district network", "volume": "41"}
    if typo == "2097-2118":  # the last page mistyped: the first pages agree anyway
        assert decided({**work, "pages": typo}, {**work, "pages": "2097-2108"}).status == \
            dedup.MERGED
        return
    decision = decided({**work, "pages": typo}, {**work, "pages": "2097-2108"})
    assert decision.status == dedup.MERGED and "typing error" in decision.reason


def test_pages_that_differ_beyond_a_typo_contradict():
    work = {"title": "Instructional coaching at scale in a district network", "volume": "41"}
    assert decided({**work, "pages": "2097-2108"}, {**work, "pages": "3097-3108"}).status == \
        dedup.CHECK
    assert decided({**work, "pages": "2197-2208"}, {**work, "pages": "2097-2108"}).status == \
        dedup.CHECK


def test_names_as_databases_write_them_still_share_surnames():
    from trustreview.dedup.prepare import surnames
    glued = "Lindqvist M.Okafor D.O'Brennan S. C."  # a list glued without separators
    assert surnames(glued) == ("lindqvist", "okafor", "obrennan")
    assert surnames("Lindqvist M and Okafor DJ") == ("lindqvist", "okafor")  # MEDLINE's
    assert surnames("Maja Lindqvist and van der Berg, A.") == ("lindqvist", "berg")
    work = {"title": "Peer review between schools of one trust: a comparative study",
            "volume": "4", "pages": "10-19"}
    assert decided({**work, "author": glued},
                   {**work, "author": "Lindqvist, Maja and Okafor, D. and O'Brennan, S."}
                   ).status == dedup.MERGED


def test_the_normalisers():
    assert page_range("2097--2108") == ("2097", "2108")
    assert page_range("123-9") == ("123", "129")
    assert page_range("e1234") == ("e1234", "")
    assert page_range("") == ("", "")
    assert number_key("Drug Discovery. 9") == "9"
    assert number_key("012") == "12"
    assert number_key("Suppl") == "suppl"
    assert title_key("HPV testing: review of the literature. [Review] [45 refs]") == \
        "hpv testing review of the literature"
    assert title_key("{School} trusts &amp; <i>networks</i> [French]") == \
        "school trusts and networks"


def test_validation_and_dedup_read_titles_alike():
    from trustreview.corpus.validate import find_near_duplicate_titles
    titles = pd.Series({"a": "School Trusts: a review. [Review] [12 refs]",
                        "b": "School trusts - a review"})
    assert find_near_duplicate_titles(titles) == [("a", "b")]
