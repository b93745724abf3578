"""Validation: one malformed input per defect; each is reported with its file, line or study,
and field, and the CLI exits 1 on errors (0 with warnings only), never with a traceback."""

from __future__ import annotations

import pytest

from conftest import FIXTURE_IDS, REPO, make_corpus
from trustreview.corpus.validate import open_corpus


def rewrite(path, old, new, count=1):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def test_bundled_corpus_is_valid_and_complete(cli):
    code, out, err = cli("validate", "--corpus", REPO / "corpus", "--bib",
                         REPO / "references.bib")
    assert code == 0, err
    import csv

    with open(REPO / "corpus" / "studies.csv", encoding="utf-8", newline="") as handle:
        decisions = [r["included"] for r in csv.DictReader(handle)]
    assert f"included: {decisions.count('yes')}" in out
    assert f"excluded: {decisions.count('no')}" in out
    assert f"studies table rows: {len(decisions)}" in out
    assert "errors: 0" in out


def test_fixture_partitions_every_record(tiny):
    corpus = open_corpus(*tiny)
    assert corpus.records["status"].value_counts().to_dict() == {"included": 7, "excluded": 2}
    assert set(corpus.records["study_id"]) == set(FIXTURE_IDS)


STUDY_DEFECTS = [
    # (name, file, old text, new text, field named, study or line text named, exit code)
    ("unknown country", "studies", "honingh2020boardsmatter,Netherlands",
     "honingh2020boardsmatter,Holland", "country", "honingh2020boardsmatter", 1),
    ("unknown design", "studies", "torres2016workload,US,quantitative",
     "torres2016workload,US,survey", "design", "torres2016workload", 1),
    ("unknown weight", "studies", ",yes,,high,", ",yes,,strong,", "weight",
     "hutchings2018chain", 1),
    ("excluded without reason", "studies", ",no,not-empirical,,", ",no,,,",
     "exclusion_reason", "bergh2025stress", 1),
    ("malformed study_id", "studies", "torres2016workload,US", "torres 2016,US", "study_id",
     "torres 2016", 1),
    ("empty study_id", "studies", "torres2016workload,US", ",US", "study_id",
     "corpus/studies.csv:", 1),
    ("duplicate study_id", "studies", "townsleyeconomic,England", "torres2016workload,England",
     "study_id", "torres2016workload", 1),
    ("study without bib entry", "bib", "@techreport{townsleyeconomic,",
     "@techreport{townsley_economic,", "study_id", "townsleyeconomic", 1),
    ("bib entry without study", "bib", "@techreport{townsleyeconomic,",
     "@techreport{townsleyeconomic,\n  note = {x}\n}\n@misc{orphan2020, title = {An orphan "
     "entry}, year = {2020}}\n@techreport{townsleyeconomic2,", "key", "orphan2020", 0),
    ("unknown domain", "codes", "torres2016workload,reconciled,workforce",
     "torres2016workload,reconciled,staffing", "domain", "torres2016workload", 1),
    ("codes for an excluded study", "codes", "torres2016workload,reconciled,workforce",
     "torres2016workload,reconciled,workforce\nbergh2025stress,reconciled,finance", "domain",
     "bergh2025stress", 1),
    ("codes for an unknown study", "codes", "torres2016workload,reconciled,workforce",
     "torres2016workload,reconciled,workforce\nnobody2020,reconciled,finance", "study_id",
     "nobody2020", 1),
    ("missing column", "studies", "study_id,country,design", "study_id,nation,design",
     "country", "corpus/studies.csv:1", 1),
    ("unexpected codes column", "codes", "study_id,coder,domain", "study_id,coder,domain,extra",
     "extra", "corpus/codes.csv:1", 0),
    ("unparseable bib block", "bib", "@article{honingh2020boardsmatter,",
     "@article{honingh2020boardsmatter, title = {unclosed\n@article{honingh2020boardsmatterX,",
     "", "references.bib:", 1),
    ("duplicate bib key", "bib", "@techreport{townsleyeconomic,",
     "@misc{torres2016workload, title = {Duplicate}}\n@techreport{townsleyeconomic,", "",
     "duplicate key 'torres2016workload'", 1),
    ("year out of range", "bib", "year = {2016}", "year = {2216}", "year", "torres2016workload",
     1),
    ("missing year", "bib", "year = {2016}", "note = {no year}", "year", "torres2016workload",
     0),
    ("duplicate DOI", "bib", "doi = {10.1177/0042085914549367}",
     "doi = {10.1080/14719037.2019.1699945}", "doi", "torres2016workload", 0),
    ("near-duplicate title", "bib",
     "title = {Is This Work Sustainable? Teacher Turnover and Perceptions of Workload in "
     "Charter Management Organizations}",
     "title = {Governing collaborations: How boards engage with their communities in "
     "multi-academy trusts in England.}", "title", "torres2016workload", 0),
]


@pytest.mark.parametrize("name, which, old, new, field, named, code", STUDY_DEFECTS,
                         ids=[d[0] for d in STUDY_DEFECTS])
def test_each_defect_is_reported(tmp_path, cli, name, which, old, new, field, named, code):
    corpus_dir, bib = make_corpus(tmp_path)
    target = {"studies": corpus_dir / "studies.csv", "codes": corpus_dir / "codes.csv",
              "bib": bib}[which]
    rewrite(target, old, new)
    exit_code, out, err = cli("validate", "--corpus", corpus_dir, "--bib", bib)
    assert exit_code == code, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if named in line]
    assert lines, err
    line = lines[0]
    file_name = {"studies": "studies.csv", "codes": "codes.csv", "bib": "references.bib"}[which]
    assert file_name in err
    if field:
        assert any(f"field {field!r}" in ln for ln in lines), lines
    corpus = open_corpus(corpus_dir, bib)
    rows = (corpus_dir / "studies.csv").read_text(encoding="utf-8").strip().splitlines()[1:]
    if name != "missing column":  # every row of studies.csv is one record, none dropped
        assert len(corpus.records) == len(rows)
    assert set(corpus.records["status"]) <= {"included", "excluded", "error"}
    status = dict(zip(corpus.records["study_id"], corpus.records["status"]))
    if which == "studies" and code == 1 and named in status:
        assert status[named] == "error"  # the faulty study is not silently included
    if code == 0:
        assert "error" not in status.values()
    assert line.startswith(("error:", "warning:"))


def test_empty_studies_file(tmp_path, cli):
    corpus_dir, bib = make_corpus(tmp_path)
    (corpus_dir / "studies.csv").write_text("", encoding="utf-8")
    code, _, err = cli("validate", "--corpus", corpus_dir, "--bib", bib)
    assert code == 1
    assert "studies.csv" in err and "empty" in err


def test_not_utf8_says_which_encoding(tmp_path, cli):
    corpus_dir, bib = make_corpus(tmp_path)
    path = corpus_dir / "studies.csv"
    path.write_bytes(path.read_text(encoding="utf-8").replace("communities", "communitiés")
                     .encode("cp1252"))
    code, _, err = cli("validate", "--corpus", corpus_dir, "--bib", bib)
    assert code == 1
    assert "studies.csv:" in err and "not UTF-8" in err and "save it as UTF-8" in err


def test_bom_and_crlf_are_accepted(tmp_path):
    corpus_dir, bib = make_corpus(tmp_path)
    path = corpus_dir / "studies.csv"
    text = path.read_text(encoding="utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    corpus = open_corpus(corpus_dir, bib)
    assert not corpus.errors
    assert corpus.records["status"].value_counts().to_dict() == {"included": 7, "excluded": 2}


def test_xlsx_tables_are_accepted(tmp_path):
    import pandas as pd

    corpus_dir, bib = make_corpus(tmp_path)
    for stem in ("studies", "codes"):
        frame = pd.read_csv(corpus_dir / f"{stem}.csv", dtype=str, keep_default_na=False)
        frame.to_excel(corpus_dir / f"{stem}.xlsx", index=False)
        (corpus_dir / f"{stem}.csv").unlink()
    corpus = open_corpus(corpus_dir, bib)
    assert not corpus.errors, [i.format() for i in corpus.errors]
    assert len(corpus.included) == 7
    written = pd.read_excel(corpus_dir / "codes.xlsx", dtype=str)
    assert len(corpus.codes) == len(written)


def _add_column(path, name, value):
    import csv

    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[0].append(name)
    for row in rows[1:]:
        row.append(value)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def test_a_studies_column_named_as_a_reference_field_is_reported_not_read(tmp_path, cli):
    # found fuzzing: a studies.csv with a title (or year, doi, status) column of its own
    # crashed validation with a KeyError; the bib is the home of those facts
    corpus_dir, bib = make_corpus(tmp_path)
    before = open_corpus(corpus_dir, bib).records
    for name in ("title", "year", "status"):
        _add_column(corpus_dir / "studies.csv", name, "mine")
    corpus = open_corpus(corpus_dir, bib)
    warned = {i.field: i for i in corpus.issues if i.severity == "warning" and i.line == 1}
    assert {"title", "year", "status"} <= set(warned)
    assert "comes from its entry in the reference file" in warned["title"].found
    assert "rename the column" in warned["year"].fix
    assert corpus.records.equals(before)  # titles, years and statuses as before
    code, _, err = cli("validate", "--corpus", corpus_dir, "--bib", bib)
    assert code == 0 and "column 'title' of the studies table is not read" in err


def test_a_column_named_line_is_an_error_naming_the_fix(tmp_path, cli):
    corpus_dir, bib = make_corpus(tmp_path)
    _add_column(corpus_dir / "codes.csv", "line", "3")
    code, _, err = cli("validate", "--corpus", corpus_dir, "--bib", bib)
    assert code == 1 and "Traceback" not in err
    assert "codes.csv:1" in err and "column 'line'" in err and "rename the column" in err


@pytest.mark.parametrize("where", ["fields", "kept_columns"])
def test_a_codebook_may_not_name_a_column_trustreview_makes(tmp_path, where):
    import yaml

    from trustreview.errors import InputError
    from trustreview.io.codebook import parse_codebook

    data = yaml.safe_load((REPO / "corpus" / "codebook.yml").read_text(encoding="utf-8"))
    if where == "fields":
        data["fields"] = [*data.get("fields", []), {"id": "doi", "label": "DOI", "type": "text"}]
    else:
        data["kept_columns"] = ["doi"]
    with pytest.raises(InputError, match=rf"{where} names 'doi'.*call the column something"):
        parse_codebook(data, "codebook.yml")


def test_missing_corpus_folder_is_one_clear_message(tmp_path, cli):
    code, _, err = cli("validate", "--corpus", tmp_path / "nope", "--bib", tmp_path / "x.bib")
    assert code == 1
    assert "corpus folder not found" in err and "Traceback" not in err


def test_near_duplicate_titles_are_not_all_pairs():
    import pandas as pd

    from trustreview.corpus.validate import find_near_duplicate_titles

    titles = pd.Series({"a": "Chain Effects 2015: the impact of academy chains",
                        "b": "Chain effects 2015 - The Impact of Academy Chains.",
                        "c": "Chain Effects 2018",
                        "d": "Something else entirely about boards"})
    assert find_near_duplicate_titles(titles) == [("a", "b")]


def test_the_codebook_owns_the_weight_levels():
    from trustreview.errors import InputError, ParameterError
    from trustreview.io.codebook import parse_codebook
    from trustreview.run.params import Params

    domains = [{"id": "money", "label": "Money", "definition": "Budgets."}]
    default = parse_codebook({"domains": domains}, "codebook.yml")
    assert default.weights == ("high", "medium", "low")
    own = parse_codebook({"domains": domains, "weights": ["strong", "weak"]}, "codebook.yml")
    assert own.weights == ("strong", "weak")
    assert Params(min_weight="weak").check(own).min_weight == "weak"
    assert Params().check(own).min_weight == ""  # the default: every weight
    with pytest.raises(ParameterError, match="'low' is not one of the codebook's weights"):
        Params(min_weight="low").check(own)
    with pytest.raises(InputError, match="lists a level twice"):
        parse_codebook({"domains": domains, "weights": ["a", "a"]}, "codebook.yml")
