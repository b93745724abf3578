"""Coding workbooks: `trustreview sheet` writes a coder's (or the reconciler's) Excel form,
`trustreview merge` takes it back into the corpus, checked row by row, atomically and
idempotently. The end-to-end test walks a review of 30 real studies from a reference export
to a double-coded, reconciled synthesis, outside the repository."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import REPO, _subset_bib, make_corpus

DOMAINS = ["governance", "leadership", "education", "improvement", "workforce", "finance",
           "civic"]
# the bundled codebook's own fields come before weight: a multi field as one column per value
GROUP = [f"group_type: {v}" for v in ("multi-academy trust", "charter network",
                                      "district or local authority", "school board",
                                      "municipality", "independent school group", "other")]
FORM = ["included", "exclusion_reason", "country", "design", "sample", "summary", *GROUP,
        "phase", "weight"]
HEADERS = ["study_id", "title", "year", "authors", "abstract", *FORM, *DOMAINS, "note"]


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def bundled() -> tuple[dict[str, dict], dict[tuple[str, str], set[str]]]:
    studies = {r["study_id"]: r for r in read_csv(REPO / "corpus" / "studies.csv")}
    codes: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in read_csv(REPO / "corpus" / "codes.csv"):
        codes[(row["study_id"], row["coder"])].add(row["domain"])
    return studies, codes


def thirty_studies() -> list[str]:
    """24 coded included studies and 6 excluded ones of the bundled corpus, fixed."""
    studies, codes = bundled()
    coded = sorted(s for s, r in studies.items() if r["included"] == "yes"
                   and (s, "reconciled") in codes)
    excluded = sorted(s for s, r in studies.items() if r["included"] == "no")
    return coded[::3][:24] + excluded[:6]


def sheet_rows(path: Path):
    workbook = load_workbook(path)
    sheet = workbook["coding"]
    header = [c.value for c in sheet[1]]
    return workbook, sheet, header


def fill(path: Path, decide) -> dict[str, dict]:
    """Fill every row of a workbook with ``decide(study_id) -> dict`` (form values and a
    ``domains`` set); returns what was written, by study."""
    workbook, sheet, header = sheet_rows(path)
    column = {name: i + 1 for i, name in enumerate(header)}
    written = {}
    for row in range(2, sheet.max_row + 1):
        sid = sheet.cell(row, 1).value
        values = decide(sid)
        for name in FORM:
            sheet.cell(row, column[name]).value = values.get(name) or None
        for domain in DOMAINS:
            sheet.cell(row, column[domain]).value = 1 if domain in values["domains"] else None
        written[sid] = values
    workbook.save(path)
    return written


def from_bundle(sid: str, coder: str) -> dict:
    studies, codes = bundled()
    row = studies[sid]
    marked = {v.strip() for v in row["group_type"].split(";")}
    values = {name: ("1" if name.split(": ", 1)[1] in marked else "") if name in GROUP
              else row[name] for name in FORM}
    values["domains"] = codes.get((sid, coder), set()) - {"none"}
    return values


def kappa(a: list[int], b: list[int]) -> float:
    """Cohen's kappa from the 2x2 table, by hand."""
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b)) / n
    pa, pb = sum(a) / n, sum(b) / n
    expected = pa * pb + (1 - pa) * (1 - pb)
    return (observed - expected) / (1 - expected) if expected < 1 else float("nan")


def run_review(cli, review: Path) -> str:
    """``trustreview run`` in the review's folder, as its README says; returns its stderr."""
    code, _, err = cli("run", "--out", "outputs", "-p", "cv_repeats", "1", cwd=review)
    assert code == 0, err
    return err


@pytest.mark.slow
def test_a_review_from_a_reference_export_to_a_reconciled_synthesis(tmp_path, cli,
                                                                      monkeypatch):
    ids = thirty_studies()
    refs = tmp_path / "export.bib"
    _subset_bib(REPO / "references.bib", refs, ids)
    review = tmp_path / "review"
    assert cli("new", review, "--from", refs)[0] == 0
    run_review(cli, review)  # nothing screened or coded yet
    monkeypatch.chdir(review)

    # coder A screens and codes everything, as the bundled corpus's coder A did
    code, _, err = cli("sheet", "--coder", "A", "--out", "a.xlsx")
    assert code == 0, err
    _, sheet, header = sheet_rows(review / "a.xlsx")
    assert header == HEADERS
    assert sheet.max_row - 1 == 30
    a = fill(review / "a.xlsx", lambda s: from_bundle(s, "A"))
    code, out, err = cli("merge", "a.xlsx")
    assert code == 0, err
    assert "merged 30 row(s), skipped 0" in out

    # coder B gets every study A decided (A's decisions hidden), disagrees on one inclusion
    # and one weight, and codes domains as the bundled coder B did
    code, _, err = cli("sheet", "--coder", "B", "--out", "b.xlsx")
    assert code == 0, err
    workbook, sheet, header = sheet_rows(review / "b.xlsx")
    assert sheet.max_row - 1 == 30
    assert all(sheet.cell(r, header.index("included") + 1).value is None
               for r in range(2, sheet.max_row + 1))
    included = [s for s in ids if a[s]["included"] == "yes"]
    out_by_b, lighter = included[0], included[1]

    def decide_b(sid):
        values = from_bundle(sid, "B")
        if sid == out_by_b:
            values.update(included="no", exclusion_reason="out-of-scope-topic", weight="",
                          domains=set())
        if sid == lighter:
            values["weight"] = "low" if values["weight"] != "low" else "high"
        return values

    b = fill(review / "b.xlsx", decide_b)
    code, out, err = cli("merge", "b.xlsx")
    assert code == 0, err
    assert f"{out_by_b}: included is 'yes' in studies.csv, B says 'no'" in err

    # the reconciliation sheet lists exactly the studies where A and B differ
    differ = sorted(s for s in ids if (a[s]["included"], a[s]["domains"])
                    != (b[s]["included"], b[s]["domains"]) or a[s]["weight"] != b[s]["weight"])
    code, _, err = cli("sheet", "--reconcile", "--out", "r.xlsx")
    assert code == 0, err
    _, sheet, header = sheet_rows(review / "r.xlsx")
    assert header == ["study_id", "title", "year", "authors", "abstract", "A", "B",
                      *HEADERS[5:]]
    assert sorted(sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)) == differ
    assert out_by_b in differ and lighter in differ and len(differ) >= 4
    final = fill(review / "r.xlsx", lambda s: from_bundle(s, "reconciled"))
    code, out, err = cli("merge", "r.xlsx")
    assert code == 0, err
    assert f"merged {len(differ)} row(s)" in out
    # reconciled codes: the filled form where A and B differed, their shared codes elsewhere
    for sid in ids:
        if sid not in final and a[sid]["included"] == "yes":
            final[sid] = a[sid]

    run_review(cli, review)
    tables = review / "outputs" / "tables"

    # domain x country equals a count by hand from the filled sheets
    expected = defaultdict(int)
    for sid, values in final.items():
        if values["included"] == "yes":
            for domain in values["domains"]:
                expected[(domain, values["country"])] += 1
    table = {r["domain"]: r for r in read_csv(tables / "domain_by_country.csv")}
    for domain in DOMAINS:
        for country in ("England", "US", "Netherlands", "Sweden", "multi"):
            assert int(table[domain][country]) == expected[(domain, country)], (domain, country)
    n_included = sum(v["included"] == "yes" for v in final.values())
    reasons = defaultdict(int)
    for sid in ids:
        decision = final.get(sid, a[sid])
        if decision["included"] == "no":
            reasons[decision["exclusion_reason"]] += 1
    flow = {r["count_of"]: int(r["n"]) for r in read_csv(tables / "screening_flow.csv")}
    assert flow["included in the synthesis"] == n_included
    assert flow["coded by humans"] == n_included
    assert flow["records excluded"] + flow["reports not retrieved"] + \
        flow["reports excluded"] == 30 - n_included
    assert flow["awaiting screening"] == 0
    for reason, n in reasons.items():
        assert flow.get(f"records excluded: {reason}", 0) + \
            flow.get(f"reports excluded: {reason}", 0) == n

    # kappa A vs B per domain equals a hand computation over the studies both coded
    both = [s for s in ids if a[s]["included"] == "yes" and b[s]["included"] == "yes"]
    agreement = {r["domain"]: r for r in read_csv(tables / "coder_agreement.csv")
                 if r["pair"] == "A vs B"}
    checked = 0
    for domain in DOMAINS:
        first = [int(domain in a[s]["domains"]) for s in both]
        second = [int(domain in b[s]["domains"]) for s in both]
        assert int(agreement[domain]["n"]) == len(both)
        by_hand = kappa(first, second)
        if by_hand == by_hand:
            assert float(agreement[domain]["kappa"]) == pytest.approx(by_hand, abs=1e-4)
            checked += 1
    assert checked >= 5


@pytest.fixture
def coded(tmp_path, monkeypatch):
    """A copy of a small real corpus in a temporary folder, as the working directory."""
    make_corpus(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def set_cells(path: Path, row: int, **values) -> None:
    workbook, sheet, header = sheet_rows(path)
    for name, value in values.items():
        sheet.cell(row, header.index(name) + 1).value = value
    workbook.save(path)


def test_sheet_writes_the_form_with_drop_downs_frozen_header_and_the_coder(coded, cli):
    code, _, err = cli("sheet", "--coder", "C", "--out", "c.xlsx", "--suggest")
    assert code == 0, err
    workbook, sheet, header = sheet_rows(coded / "c.xlsx")
    assert header[:len(HEADERS)] == HEADERS
    assert header[len(HEADERS):] == ["suggested_domains", "check_domains",
                                     *(f"p_{d}" for d in DOMAINS)]
    assert sheet.freeze_panes == "B2"
    assert all(c.font.bold for c in sheet[1])
    assert dict(workbook["about"].iter_rows(values_only=True, max_col=2, max_row=2)) == \
        {"coder": "C", "sheet": "coder"}
    from openpyxl.utils import column_index_from_string

    validated = set()
    for rule in sheet.data_validations.dataValidation:
        assert rule.type == "list" and rule.formula1.startswith("lists!") or \
            rule.formula1.startswith("=lists!")
        for ref in str(rule.sqref).split():
            letters = "".join(ch for ch in ref.split(":")[0] if ch.isalpha())
            validated.add(header[column_index_from_string(letters) - 1])
    assert validated == {"included", "exclusion_reason", "country", "design", "weight",
                         "phase", *GROUP, *DOMAINS}
    lists = workbook["lists"]
    included_list = [c.value for c in lists["A"] if c.value][1:]
    assert included_list == ["yes", "no"]
    assert sheet.protection.sheet
    assert not sheet.cell(2, header.index("included") + 1).protection.locked
    assert sheet.cell(2, header.index("p_civic") + 1).protection.locked
    # without --suggest the model's view stays out, so double coding stays independent
    assert cli("sheet", "--coder", "C", "--out", "c2.xlsx")[0] == 0
    assert sheet_rows(coded / "c2.xlsx")[2] == HEADERS


def test_sheet_lists_only_studies_needing_this_coder_in_code_next_order(coded, cli):
    rows = read_csv(coded / "corpus" / "codes.csv")
    coded_by_a = {r["study_id"] for r in rows if r["coder"] == "A"}
    studies = read_csv(coded / "corpus" / "studies.csv")
    included = {r["study_id"] for r in studies if r["included"] == "yes"}
    assert cli("sheet", "--coder", "A", "--out", "a.xlsx")[0] == 0
    _, sheet, _ = sheet_rows(coded / "a.xlsx")
    listed = [sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)]
    assert set(listed) == included - coded_by_a
    assert cli("sheet", "--coder", "A", "--all", "--out", "all.xlsx", "--suggest")[0] == 0
    _, sheet, header = sheet_rows(coded / "all.xlsx")
    assert sheet.max_row - 1 == len(studies)
    # the order is the model's: most uncertain first
    from trustreview.model.evaluation import rank_for_coding
    from trustreview.corpus.validate import open_corpus

    corpus = open_corpus("corpus", "references.bib")
    ranking = rank_for_coding(corpus, list(corpus.records["study_id"]))
    assert [sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)] == \
        list(ranking["study_id"])


def test_text_that_looks_like_a_formula_stays_text(coded, cli):
    path = coded / "corpus" / "studies.csv"
    rows = read_csv(path)
    rows[0]["sample"] = '=HYPERLINK("http://example.org","click")'
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    assert cli("sheet", "--coder", "C", "--all", "--out", "c.xlsx")[0] == 0
    _, sheet, header = sheet_rows(coded / "c.xlsx")
    samples = [c.value for c in sheet[chr(ord("A") + header.index("sample"))]]
    assert rows[0]["sample"] in samples
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"


def test_merge_is_idempotent_and_writes_codes_in_the_corpus_format(coded, cli):
    assert cli("sheet", "--coder", "C", "--out", "c.xlsx")[0] == 0
    set_cells(coded / "c.xlsx", 2, education=1, finance="x")
    set_cells(coded / "c.xlsx", 3, note="examined none of the domains")
    rows = sheet_rows(coded / "c.xlsx")[1].max_row - 1
    code, out, err = cli("merge", "c.xlsx")
    assert code == 0, err
    assert f"merged 2 row(s), skipped {rows - 2} (nothing decided)" in out
    before = {p.name: p.read_bytes() for p in (coded / "corpus").iterdir()}
    code, out, err = cli("merge", "c.xlsx")
    assert code == 0, err
    assert "nothing changed" in out
    assert {p.name: p.read_bytes() for p in (coded / "corpus").iterdir()} == before
    codes = [r for r in read_csv(coded / "corpus" / "codes.csv") if r["coder"] == "C"]
    assert sorted(r["domain"] for r in codes) == ["education", "finance", "none"]
    decisions = read_csv(coded / "corpus" / "decisions.csv")
    assert [r["coder"] for r in decisions] == ["C", "C"]
    assert cli("validate")[0] == 0


def test_merge_writes_xlsx_codes_when_the_corpus_uses_xlsx(coded, cli):
    from trustreview.io.export import workbook_bytes
    import pandas as pd

    codes = pd.read_csv(coded / "corpus" / "codes.csv", dtype=str)
    (coded / "corpus" / "codes.xlsx").write_bytes(workbook_bytes({"codes": codes}))
    (coded / "corpus" / "codes.csv").unlink()
    assert cli("sheet", "--coder", "C", "--out", "c.xlsx")[0] == 0
    set_cells(coded / "c.xlsx", 2, civic=1)
    assert cli("merge", "c.xlsx")[0] == 0
    assert not (coded / "corpus" / "codes.csv").exists()
    back = pd.read_excel(coded / "corpus" / "codes.xlsx", dtype=str)
    assert len(back) == len(codes) + 1 and back.iloc[-1]["coder"] == "C"
    assert cli("validate")[0] == 0


@pytest.mark.parametrize("cells, column, words", [
    ({"study_id": "nosuchstudy2020"}, "study_id", "no study with this id"),
    ({"included": "maybe"}, "included", "not yes or no"),
    ({"included": "no", "exclusion_reason": "off-topic", "weight": None, "civic": 1},
     "civic", "excluded but has domains marked"),
    ({"included": "no", "exclusion_reason": None, "weight": None}, "exclusion_reason",
     "excluded but has no reason"),
    ({"weight": None, "civic": 1}, "weight", "included but has no weight"),
    ({"country": "Narnia", "civic": 1}, "country", "unknown country"),
    ({"design": "vibes", "civic": 1}, "design", "unknown design"),
    ({"civic": "yes please"}, "civic", "not a domain mark"),
    ({"included": None, "civic": 1}, "included", "domains are marked but included is empty"),
])
def test_merge_refuses_a_bad_row_and_writes_nothing(coded, cli, cells, column, words):
    assert cli("sheet", "--coder", "C", "--out", "c.xlsx")[0] == 0
    set_cells(coded / "c.xlsx", 3, **cells)
    before = {p.name: p.read_bytes() for p in (coded / "corpus").iterdir()}
    code, _, err = cli("merge", "c.xlsx")
    assert code == 1
    assert f"row 3, column {column!r}" in err and words in err, err
    assert "allowed:" in err and "fix:" in err and "nothing was merged" in err
    assert {p.name: p.read_bytes() for p in (coded / "corpus").iterdir()} == before


def test_merge_refuses_a_study_twice_and_a_date_excel_made(coded, cli):
    import datetime

    assert cli("sheet", "--coder", "C", "--out", "c.xlsx")[0] == 0
    workbook, sheet, header = sheet_rows(coded / "c.xlsx")
    sheet.cell(3, 1).value = sheet.cell(2, 1).value
    sheet.cell(2, header.index("sample") + 1).value = datetime.datetime(2024, 3, 5)
    workbook.save(coded / "c.xlsx")
    code, _, err = cli("merge", "c.xlsx")
    assert code == 1
    assert "row 3, column 'study_id': the study is also on row 2" in err
    assert "row 2, column 'sample': Excel turned this cell into a date" in err


def test_merge_names_a_missing_workbook(coded, cli):
    code, _, err = cli("merge", "nowhere.xlsx")
    assert code == 1 and "nowhere.xlsx: file not found; give the path of the filled" in err
    assert "--bib" not in err


def test_merge_refuses_a_workbook_it_did_not_write(coded, cli):
    from trustreview.io.export import workbook_bytes
    import pandas as pd

    (coded / "other.xlsx").write_bytes(workbook_bytes({"coding": pd.DataFrame({"a": ["1"]})}))
    code, _, err = cli("merge", "other.xlsx")
    assert code == 1 and "not a coding workbook written by trustreview sheet" in err


def test_a_coder_whose_codes_differ_is_a_conflict_unless_replace(coded, cli):
    assert cli("sheet", "--coder", "A", "--all", "--out", "a.xlsx")[0] == 0
    workbook, sheet, header = sheet_rows(coded / "a.xlsx")
    rows = read_csv(coded / "corpus" / "codes.csv")
    coded_by_a = {r["study_id"] for r in rows if r["coder"] == "A"}
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value in coded_by_a)
    sid = sheet.cell(row, 1).value
    had = sorted(r["domain"] for r in rows if r["coder"] == "A" and r["study_id"] == sid)
    for domain in DOMAINS:
        sheet.cell(row, header.index(domain) + 1).value = None if domain in had else 1
    workbook.save(coded / "a.xlsx")
    code, out, err = cli("merge", "a.xlsx")
    assert code == 0 and "conflicts 1" in out and f"conflict: {sid}" in err
    after = sorted(r["domain"] for r in read_csv(coded / "corpus" / "codes.csv")
                   if r["coder"] == "A" and r["study_id"] == sid)
    assert after == had
    code, out, err = cli("merge", "a.xlsx", "--replace")
    assert code == 0 and "conflicts 0" in out
    after = sorted(r["domain"] for r in read_csv(coded / "corpus" / "codes.csv")
                   if r["coder"] == "A" and r["study_id"] == sid)
    assert after == sorted(set(DOMAINS) - set(had))


def test_sheet_refuses_a_reserved_or_empty_coder_name(coded, cli):
    assert cli("sheet", "--coder", "reconciled", "--out", "x.xlsx")[0] == 1
    assert cli("sheet", "--coder", " ", "--out", "x.xlsx")[0] == 1
    assert cli("sheet", "--coder", "A", "--out", "x.csv")[0] == 1
    assert not (coded / "x.xlsx").exists()


def test_merge_refuses_a_sheet_whose_domains_are_not_the_codebooks(coded, cli):
    assert cli("sheet", "--coder", "C", "--out", "c.xlsx")[0] == 0
    workbook, sheet, header = sheet_rows(coded / "c.xlsx")
    sheet.cell(1, header.index("civic") + 1).value = "community"
    workbook.save(coded / "c.xlsx")
    code, _, err = cli("merge", "c.xlsx")
    assert code == 1
    assert "column 'civic': column is missing" in err
    assert "column 'community': this domain column is not in the codebook" in err
