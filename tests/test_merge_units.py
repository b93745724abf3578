"""`coding.check_rows` and `coding.merge` called directly on small tables (no workbook, no
CLI): what a coder's sheet and a reconciliation sheet change, and every refusal."""

import pandas as pd
import pytest

from trustreview import coding
from trustreview.io.codebook import parse_codebook
from trustreview.io.workbook import Filled

CODEBOOK = parse_codebook({"domains": [
    {"id": "money", "label": "Money", "definition": "Budgets."},
    {"id": "people", "label": "People", "definition": "Staff."}]}, "codebook.yml")
STUDIES = pd.DataFrame({"study_id": ["s1", "s2", "s3"], "country": ["", "US", ""],
                        "design": ["", "", ""], "sample": ["", "", ""],
                        "summary": ["", "", ""], "included": ["", "", ""],
                        "exclusion_reason": ["", "", ""], "weight": ["", "", ""]}).astype("str")
NO_CODES = pd.DataFrame({"study_id": [], "coder": [], "domain": []}).astype("str")
COLUMNS = ["study_id", *coding.FIELDS, "money", "people", "note"]


def sheet(rows: list[dict], coder: str = "A", kind: str = "coder") -> Filled:
    frame = pd.DataFrame([{"row": i + 2, **{c: "" for c in COLUMNS}, **r}
                          for i, r in enumerate(rows)], columns=["row", *COLUMNS])
    return Filled("a.xlsx", kind, coder, COLUMNS, frame.astype({c: "str" for c in COLUMNS}))


INCLUDED = {"included": "yes", "country": "US", "design": "mixed", "weight": "high"}


@pytest.mark.parametrize("row, column, words", [
    ({"study_id": "nope", **INCLUDED}, "study_id", "no study with this id"),
    ({"study_id": "s1", **INCLUDED, "money": "2"}, "money", "not a domain mark"),
    ({"study_id": "s1", **INCLUDED, "country": "Mars"}, "country", "unknown country"),
    ({"study_id": "s1", "included": "maybe"}, "included", "not yes or no"),
    ({"study_id": "s1", "money": "1"}, "included", "included is empty"),
    ({"study_id": "s1", "included": "no", "exclusion_reason": "x", "money": "1"}, "money",
     "excluded but has domains"),
    ({"study_id": "s1", "included": "no"}, "exclusion_reason", "no reason"),
    ({"study_id": "s1", "included": "no", "exclusion_reason": "x", "weight": "low"},
     "weight", "excluded study has a weight"),
    ({"study_id": "s1", "included": "yes", "country": "US", "design": "mixed"}, "weight",
     "no weight"),
    ({"study_id": "s1", "included": "yes", "design": "mixed", "weight": "low"}, "country",
     "no country"),
    ({"study_id": "s1", **INCLUDED, "exclusion_reason": "x"}, "exclusion_reason",
     "has an exclusion reason"),
])
def test_check_rows_names_the_row_column_and_problem(row, column, words):
    problems = coding.check_rows(sheet([row]), STUDIES, CODEBOOK)
    assert [(p.row, p.column) for p in problems] == [(2, column)]
    assert words in problems[0].found and problems[0].fix


def test_check_rows_refuses_a_study_twice_and_a_missing_column():
    twice = sheet([{"study_id": "s1", **INCLUDED}, {"study_id": "s1", **INCLUDED}])
    assert [(p.row, p.column) for p in coding.check_rows(twice, STUDIES, CODEBOOK)] == \
        [(3, "study_id")]
    filled = sheet([{"study_id": "s1", **INCLUDED}])
    filled.columns = [c for c in COLUMNS if c != "people"]
    problems = coding.check_rows(filled, STUDIES, CODEBOOK)
    assert [p.column for p in problems] == ["people"]
    assert coding.check_rows(sheet([{"study_id": "s1", **INCLUDED, "money": "x"}]), STUDIES,
                             CODEBOOK) == []


def test_a_coders_merge_fills_empty_fields_keeps_differing_ones_and_codes_included():
    filled = sheet([{"study_id": "s1", **INCLUDED, "money": "1"},
                    {"study_id": "s2", **INCLUDED, "country": "England"},
                    {"study_id": "s3", "included": "no", "exclusion_reason": "off-topic"}])
    result = coding.merge(filled, STUDIES, NO_CODES, coding.empty_decisions(), CODEBOOK)
    studies = result.studies.set_index("study_id")
    assert studies.loc["s1", "weight"] == "high" and studies.loc["s1", "country"] == "US"
    assert studies.loc["s2", "country"] == "US"  # not overwritten ...
    assert result.kept == ["s2: country is 'US' in studies.csv, A says 'England'"]  # ... said
    assert studies.loc["s3", "included"] == "no"
    assert sorted(map(tuple, result.codes.to_numpy().tolist())) == [
        ("s1", "A", "money"), ("s2", "A", "none")]
    assert list(result.decisions["study_id"]) == ["s1", "s2", "s3"]
    assert result.merged == ["s1", "s2", "s3"] and result.coder == "A"
    again = coding.merge(filled, result.studies, result.codes, result.decisions, CODEBOOK)
    assert again.codes.equals(result.codes) and again.studies.equals(result.studies)
    assert again.decisions.equals(result.decisions) and not again.conflicts


def test_different_codes_are_a_conflict_unless_replace():
    first = coding.merge(sheet([{"study_id": "s1", **INCLUDED, "money": "1"}]), STUDIES,
                         NO_CODES, coding.empty_decisions(), CODEBOOK)
    changed = sheet([{"study_id": "s1", **INCLUDED, "people": "1"}])
    kept = coding.merge(changed, first.studies, first.codes, first.decisions, CODEBOOK)
    assert len(kept.conflicts) == 1 and kept.codes.equals(first.codes)
    replaced = coding.merge(changed, first.studies, first.codes, first.decisions, CODEBOOK,
                            replace=True)
    assert replaced.codes.values.tolist() == [["s1", "A", "people"]]


def test_reconciliation_writes_reconciled_codes_and_drops_codes_of_an_exclusion():
    a = coding.merge(sheet([{"study_id": "s1", **INCLUDED, "money": "1"},
                            {"study_id": "s2", **INCLUDED, "people": "1"},
                            {"study_id": "s3", **INCLUDED, "money": "1"}]),
                     STUDIES, NO_CODES, coding.empty_decisions(), CODEBOOK)
    b = coding.merge(sheet([{"study_id": "s1", **INCLUDED, "money": "1", "people": "1"},
                            {"study_id": "s2", **INCLUDED, "people": "1"},
                            {"study_id": "s3", "included": "no", "exclusion_reason": "x"}],
                           coder="B"), a.studies, a.codes, a.decisions, CODEBOOK)
    form = sheet([{"study_id": "s1", **INCLUDED, "people": "1"},
                  {"study_id": "s3", "included": "no", "exclusion_reason": "x"}],
                 coder="reconciled", kind="reconcile")
    result = coding.merge(form, b.studies, b.codes, b.decisions, CODEBOOK)
    reconciled = result.codes[result.codes["coder"] == "reconciled"]
    assert reconciled[["study_id", "domain"]].values.tolist() == [["s1", "people"],
                                                                  ["s2", "people"]]
    assert "s3" not in set(result.codes["study_id"])  # excluded: every coder's codes go
    assert set(result.decisions[result.decisions["study_id"] == "s3"]["coder"]) == \
        {"A", "B", "reconciled"}  # but their decisions stay
    assert result.studies.set_index("study_id").loc["s3", "included"] == "no"
    assert any("agree" in n for n in result.notes)
