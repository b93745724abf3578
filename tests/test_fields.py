"""The codebook's own fields: parsed as data, checked in the studies table, and tabled."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from conftest import REPO, make_corpus
from trustreview.errors import InputError, ParameterError
from trustreview.io.codebook import parse_codebook
from trustreview.run.params import Params

FIELDS = """
fields:
  - {id: country, label: Country, type: choice, values: [England, US, Netherlands, Sweden, multi]}
  - {id: design, label: Design, type: choice,
     values: [quantitative, qualitative, mixed, review, theory]}
  - {id: weight, label: Weight, type: choice, values: [high, medium, low]}
  - {id: group_type, label: Kind of group, type: multi, required: true,
     values: [multi-academy trust, charter network, school board]}
  - {id: phase, label: Phase, type: choice, values: [primary, secondary]}
  - {id: rct, label: Randomised, type: yes-no}
  - {id: schools, label: Schools in the group, type: number, min: 1, max: 1000, bins: [1, 10, 1000]}
  - {id: outcome, label: Outcome measured, type: text}
"""


def codebook_with(extra: str):
    data = yaml.safe_load((REPO / "corpus" / "codebook.yml").read_text())
    data.pop("fields")
    data.update(yaml.safe_load(extra))
    return data


def corpus_with_fields(tmp_path, values: dict[str, dict[str, str]]):
    corpus, bib = make_corpus(tmp_path)
    (corpus / "codebook.yml").write_text(yaml.safe_dump(codebook_with(FIELDS)))
    studies = pd.read_csv(corpus / "studies.csv", dtype=str, keep_default_na=False)
    studies = studies.drop(columns=["group_type", "phase"])
    for name in ("group_type", "phase", "rct", "schools", "outcome"):
        studies[name] = studies["study_id"].map(lambda s: values.get(s, {}).get(name, ""))
    studies.to_csv(corpus / "studies.csv", index=False)
    return corpus, bib


def test_each_field_type_is_parsed_and_a_codebook_without_fields_gets_the_three():
    codebook = parse_codebook(codebook_with(FIELDS))
    kinds = {f.id: f.type for f in codebook.fields}
    assert kinds == {"country": "choice", "design": "choice", "weight": "choice",
                     "group_type": "multi", "phase": "choice", "rct": "yes-no",
                     "schools": "number", "outcome": "text"}
    assert codebook.field("schools").bins == (1.0, 10.0, 1000.0)
    assert codebook.field("rct").allowed == ("yes", "no")
    plain = codebook_with("{}")
    plain.pop("fields", None)
    old = parse_codebook(plain)
    assert [f.id for f in old.fields] == ["country", "design", "weight"]
    assert old.field("weight").values == ("high", "medium", "low")
    for bad, message in (("{id: x, label: X, type: colour}", "type 'colour'"),
                         ("{id: x, label: X, type: choice}", "no 'values'"),
                         ("{id: X1, label: X, type: text}", "'id' is 'X1'")):
        with pytest.raises(InputError, match=message):
            parse_codebook(codebook_with(FIELDS.replace(
                "  - {id: outcome, label: Outcome measured, type: text}", "  - " + bad)))


def test_validation_refuses_each_kind_of_wrong_value(tmp_path):
    from trustreview.corpus.validate import open_corpus

    corpus, bib = corpus_with_fields(tmp_path, {
        "baxter2021governing": {"group_type": "multi-academy trust; charter netwrk"},
        "cst2023building": {"group_type": "school board", "phase": "tertiary"},
        "greany2018hierarchy": {"group_type": "school board", "rct": "maybe"},
        "honingh2020boardsmatter": {"group_type": "school board", "schools": "12 schools"},
        "hutchings2018chain": {"group_type": "multi-academy trust", "schools": "5000"},
        "ofsted2019mats": {"group_type": ""},
        "torres2016workload": {"group_type": "charter network", "schools": "12",
                               "outcome": "anything at all"},
    })
    found = {(i.study_id, i.field): i for i in open_corpus(corpus, bib).errors}
    assert "charter netwrk" in found[("baxter2021governing", "group_type")].found
    assert "did you mean 'charter network'" in found[("baxter2021governing", "group_type")].fix
    assert found[("cst2023building", "phase")].allowed == "primary, secondary"
    assert found[("greany2018hierarchy", "rct")].allowed == "yes, no"
    assert "not a number" in found[("honingh2020boardsmatter", "schools")].found
    assert "out of range" in found[("hutchings2018chain", "schools")].found
    assert "group_type is empty" in found[("ofsted2019mats", "group_type")].found
    assert not any(sid == "torres2016workload" for sid, _ in found)
    line = found[("cst2023building", "phase")].line
    assert line and found[("cst2023building", "phase")].file.endswith("studies.csv")


def test_a_field_without_a_column_is_an_error_naming_both(tmp_path):
    from trustreview.corpus.validate import open_corpus

    corpus, bib = corpus_with_fields(tmp_path, {})
    studies = pd.read_csv(corpus / "studies.csv", dtype=str, keep_default_na=False)
    studies.drop(columns="rct").to_csv(corpus / "studies.csv", index=False)
    errors = [i for i in open_corpus(corpus, bib).errors if i.field == "rct"]
    assert errors and "field 'rct' has no column in the studies table" in errors[0].found


def test_tables_by_a_multi_and_a_number_field_equal_a_hand_count(tmp_path):
    from trustreview.synthesis import tables as synthesis
    from trustreview.model.evaluation import tag_studies
    from trustreview.corpus.validate import open_corpus

    values = {"baxter2021governing": {"group_type": "multi-academy trust; school board",
                                      "schools": "3"},
              "cst2023building": {"group_type": "multi-academy trust", "schools": "40"},
              "greany2018hierarchy": {"group_type": "multi-academy trust", "schools": "10"},
              "honingh2020boardsmatter": {"group_type": "school board"},
              "hutchings2018chain": {"group_type": "multi-academy trust", "schools": "7"},
              "ofsted2019mats": {"group_type": "multi-academy trust"},
              "torres2016workload": {"group_type": "charter network", "schools": "20"},
              "townsleyeconomic": {"group_type": "charter network; school board"}}
    corpus_dir, bib = corpus_with_fields(tmp_path, values)
    corpus = open_corpus(corpus_dir, bib)
    assert not corpus.errors, [i.format() for i in corpus.errors]
    tagged = tag_studies(corpus, seed=0)
    data = synthesis.select_for_synthesis(corpus, tagged.predictions,
                                          by=["group_type", "schools"])
    tables = synthesis.build_synthesis_tables(data)
    included = set(data.studies["study_id"])
    tags = data.tags
    for field, table in (("group_type", tables["domain_by_group_type"]),
                         ("schools", tables["domain_by_schools"])):
        cells = table.set_index("domain")
        for domain in data.domains:
            studies = set(tags.loc[tags["domain"] == domain, "study_id"])
            assert cells.loc[domain, "total"] == len(studies)
            if field == "group_type":
                for value in ("multi-academy trust", "school board", "charter network"):
                    hand = sum(value in values[s]["group_type"].split("; ") for s in studies)
                    assert cells.loc[domain, value] == hand, (domain, value)
        assert cells.loc["total", "total"] == len(included)
    evidence = tables["evidence_governance"]
    assert list(evidence.columns[:7]) == ["citation", "study_id", "country", "design", "weight",
                                          "group_type", "schools"]
    profile = tables["domain_profiles"].set_index("domain").loc["governance", "profile"]
    assert "By kind of group: " in profile and "(a study may count under several)" in profile
    schools = tables["domain_by_schools"].set_index("domain")
    assert list(schools.columns) == ["1-10", "10-1000", "not recorded", "total"]
    numbers = {s: float(v["schools"]) for s, v in values.items() if v.get("schools")
               and s in included}
    assert schools.loc["total", "1-10"] == sum(n <= 10 for n in numbers.values())
    assert schools.loc["total", "10-1000"] == sum(n > 10 for n in numbers.values())
    multi = tables["domain_by_group_type"].set_index("domain")
    assert multi.loc["total", "multi-academy trust"] + multi.loc["total", "school board"] > \
        multi.loc["total", "total"] - multi.loc["total", "charter network"]  # counted per value


def test_by_is_checked_against_the_codebook():
    codebook = parse_codebook(codebook_with(FIELDS))
    Params.from_values(by="group_type,schools").check(codebook)
    with pytest.raises(ParameterError, match="'grup_type'.*did you mean 'group_type'"):
        Params.from_values(by="grup_type").check(codebook)
    with pytest.raises(ParameterError, match="'outcome'"):
        Params.from_values(by="outcome").check(codebook)  # a text field is not tabled


def set_cells(path, study: str, values: dict) -> None:
    from openpyxl import load_workbook
    workbook = load_workbook(path)
    sheet = workbook["coding"]
    header = [c.value for c in sheet[1]]
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, 1).value == study:
            for name, value in values.items():
                sheet.cell(row, header.index(name) + 1).value = value
    workbook.save(path)


TINY = {"baxter2021governing": {"group_type": "multi-academy trust"},
        "cst2023building": {"group_type": "multi-academy trust"},
        "greany2018hierarchy": {"group_type": "multi-academy trust"},
        "honingh2020boardsmatter": {"group_type": "school board"},
        "hutchings2018chain": {"group_type": "multi-academy trust"},
        "ofsted2019mats": {"group_type": "multi-academy trust"},
        "torres2016workload": {"group_type": "charter network"},
        "townsleyeconomic": {"group_type": "charter network"}}


def test_sheets_ask_the_fields_merge_writes_them_and_reconcile_shades_differences(
        tmp_path, cli):
    from openpyxl import load_workbook

    corpus, bib = corpus_with_fields(tmp_path, TINY)
    study = "hutchings2018chain"  # not coded yet: its codes are left out
    codes = pd.read_csv(corpus / "codes.csv", dtype=str, keep_default_na=False)
    codes[codes["study_id"] != study].to_csv(corpus / "codes.csv", index=False)
    where = ["--corpus", corpus, "--bib", bib]
    sheet = tmp_path / "a.xlsx"
    code, _, err = cli("sheet", "--coder", "A", "--all", "--out", sheet, *where)
    assert code == 0, err
    workbook = load_workbook(sheet)
    coding = workbook["coding"]
    header = [c.value for c in coding[1]]
    group = [f"group_type: {v}" for v in ("multi-academy trust", "charter network",
                                          "school board")]
    assert header[header.index("summary") + 1:header.index("weight")] == \
        [*group, "phase", "rct", "schools", "outcome"]
    rules = {}
    for rule in coding.data_validations.dataValidation:
        for ref in str(rule.sqref).split():
            rules[header[coding[ref.split(":")[0]].column - 1]] = rule
    assert rules["phase"].type == "list" and rules["rct"].type == "list"
    assert rules["schools"].type == "decimal"
    assert (rules["schools"].formula1, rules["schools"].formula2) == ("1", "1000")
    assert all(rules[name].type == "list" for name in group)
    about = dict(workbook["about"].iter_rows(values_only=True, max_col=2))
    assert about["group_type"].startswith("Kind of group (mark 1 under each that applies")
    form = {"included": "yes", "country": "England", "design": "quantitative",
            "weight": "high", "governance": 1, group[0]: 1, group[2]: "x",
            "phase": "secondary", "rct": "no", "schools": "12"}
    set_cells(sheet, study, form)
    code, out, err = cli("merge", sheet, "--corpus", corpus)
    assert code == 0, err
    decisions = pd.read_csv(corpus / "decisions.csv", dtype=str, keep_default_na=False)
    mine = decisions[(decisions["study_id"] == study) & (decisions["coder"] == "A")].iloc[0]
    assert mine["group_type"] == "multi-academy trust; school board"
    assert (mine["phase"], mine["rct"], mine["schools"]) == ("secondary", "no", "12")
    studies = pd.read_csv(corpus / "studies.csv", dtype=str, keep_default_na=False)
    row = studies[studies["study_id"] == study].iloc[0]
    assert (row["phase"], row["schools"]) == ("secondary", "12")  # empty cells filled
    assert row["group_type"] == "multi-academy trust"  # a different value is kept
    assert "group_type is 'multi-academy trust' in studies.csv" in err

    b_sheet = tmp_path / "b.xlsx"
    assert cli("sheet", "--coder", "B", "--all", "--out", b_sheet, *where)[0] == 0
    set_cells(b_sheet, study, {**form, group[2]: None, "phase": "tertiary"})
    code, _, err = cli("merge", b_sheet, "--corpus", corpus)
    assert code == 1 and "column 'phase'" in err and "primary, secondary" in err
    set_cells(b_sheet, study, {group[1]: "y", "phase": "secondary"})
    code, _, err = cli("merge", b_sheet, "--corpus", corpus)
    assert code == 1 and "column 'group_type: charter network'" in err
    set_cells(b_sheet, study, {group[1]: None})
    assert cli("merge", b_sheet, "--corpus", corpus)[0] == 0
    reconcile = tmp_path / "r.xlsx"
    code, _, err = cli("sheet", "--reconcile", "--out", reconcile, *where)
    assert code == 0, err
    coding = load_workbook(reconcile)["coding"]
    header = [c.value for c in coding[1]]
    shaded = {header[c.column - 1] for c in coding[2] if c.fill.fgColor.rgb == "00F4B084"}
    assert group[2] in shaded and group[0] not in shaded  # they differ on school board only
    assert coding.cell(2, header.index(group[0]) + 1).value == "1"


def test_field_kappa_equals_scikit_learn():
    from sklearn.metrics import cohen_kappa_score

    from trustreview.model.agreement import compute_field_agreement

    codebook = parse_codebook(codebook_with(FIELDS))
    a_phase = ["primary", "secondary", "primary", "secondary", "primary", "secondary"]
    b_phase = ["primary", "secondary", "secondary", "secondary", "primary", "primary"]
    a_group = ["school board", "multi-academy trust; school board", "charter network",
               "school board", "multi-academy trust", "charter network"]
    b_group = ["school board", "multi-academy trust", "charter network", "school board",
               "multi-academy trust; charter network", "charter network"]
    rows = []
    for coder, phases, groups in (("A", a_phase, a_group), ("B", b_phase, b_group)):
        rows += [{"study_id": f"s{i}", "coder": coder, "included": "yes", "phase": p,
                  "group_type": g, "rct": "yes" if i % 2 else "no"}
                 for i, (p, g) in enumerate(zip(phases, groups))]
    table = compute_field_agreement(pd.DataFrame(rows), codebook.extra_fields)
    kappa = dict(zip(table["domain"], table["kappa"]))
    assert kappa["phase"] == pytest.approx(cohen_kappa_score(a_phase, b_phase))
    for value in ("multi-academy trust", "charter network", "school board"):
        x = [value in g.split("; ") for g in a_group]
        y = [value in g.split("; ") for g in b_group]
        assert kappa[f"group_type: {value}"] == pytest.approx(cohen_kappa_score(x, y))
    assert kappa["rct"] == 1.0


def test_the_gap_map_by_a_multi_field_and_where(tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from trustreview.model.evaluation import tag_studies
    from trustreview.synthesis import tables as synthesis
    from trustreview.synthesis.figures import plot_evidence_gap_map
    from trustreview.corpus.validate import open_corpus

    corpus_dir, bib = corpus_with_fields(tmp_path, {
        **TINY, "baxter2021governing": {"group_type": "multi-academy trust; school board"}})
    corpus = open_corpus(corpus_dir, bib)
    tagged = tag_studies(corpus, seed=0)
    data = synthesis.select_for_synthesis(corpus, tagged.predictions, map_columns="group_type",
                                          map_slices="phase")
    cells = synthesis.gap_map_cells(data)
    assert list(cells.columns) == ["domain", "group_type", "study_id", "citation", "design",
                                   "weight"]
    tags = data.tags.merge(data.studies, on="study_id")
    for value in ("multi-academy trust", "school board", "charter network"):
        hand = sum(value in g.split("; ") for g in tags["group_type"])
        assert (cells["group_type"] == value).sum() == hand
    figure = plot_evidence_gap_map(data, {d.id: d.label for d in corpus.codebook.domains})
    FigureCanvasAgg(figure).draw()
    box = figure.bbox
    ax = figure.axes[0]
    labels = [*ax.get_xticklabels(), *ax.get_yticklabels(), figure._suptitle]
    assert "kind of group" in figure._suptitle.get_text()
    shown = {t.get_text().replace("-\n", "-").replace("\n", " ") for t in ax.get_xticklabels()}
    assert shown >= \
        {"multi-academy trust", "school board", "charter network"}
    columns = sorted((t.get_window_extent() for t in ax.get_xticklabels()), key=lambda e: e.x0)
    assert all(a.x1 <= b.x0 for a, b in zip(columns, columns[1:]))  # no label over another
    for text in labels:
        extent = text.get_window_extent()
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1, text.get_text()
        assert box.y0 <= extent.y0 and extent.y1 <= box.y1, text.get_text()
    board = synthesis.select_for_synthesis(corpus, tagged.predictions,
                                           where={"group_type": ["school board"]})
    assert set(board.studies["study_id"]) == {"baxter2021governing", "honingh2020boardsmatter"}
    sentence = synthesis.describe_filters(board.filters, corpus.codebook.weights)
    assert "studies whose group_type is school board" in sentence
    params = Params.from_values(where="group_type: school board, charter network")
    assert params.where == (("group_type", ("school board", "charter network")),)
    with pytest.raises(ParameterError, match="'school bord'.*did you mean 'school board'"):
        Params.from_values(where="group_type: school bord").check(corpus.codebook)
    with pytest.raises(ParameterError, match="map_columns"):
        Params.from_values(map_columns="outcome").check(corpus.codebook)


def test_a_column_that_is_not_a_field_is_an_error_naming_both(tmp_path):
    from trustreview.corpus.validate import open_corpus

    corpus, bib = corpus_with_fields(tmp_path, TINY)
    studies = pd.read_csv(corpus / "studies.csv", dtype=str, keep_default_na=False)
    studies.assign(phse="").to_csv(corpus / "studies.csv", index=False)
    errors = [i for i in open_corpus(corpus, bib).errors if i.field == "phse"]
    assert errors and "column 'phse' of the studies table is not a field" in errors[0].found
    assert "did you mean 'phase'" in errors[0].fix and "kept_columns" in errors[0].fix


def test_the_bundled_gap_map_by_kind_of_group_has_no_label_over_another(bundled):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from trustreview.model.evaluation import tag_studies
    from trustreview.synthesis import tables as synthesis
    from trustreview.synthesis.figures import plot_evidence_gap_map

    data = synthesis.select_for_synthesis(bundled, tag_studies(bundled, seed=0).predictions,
                                          map_columns="group_type", map_slices="phase")
    figure = plot_evidence_gap_map(data)
    FigureCanvasAgg(figure).draw()
    ax = figure.axes[0]
    columns = sorted((t.get_window_extent() for t in ax.get_xticklabels()), key=lambda e: e.x0)
    assert len(columns) == 7
    assert all(a.x1 <= b.x0 for a, b in zip(columns, columns[1:]))
    assert all(figure.bbox.x0 <= e.x0 and e.x1 <= figure.bbox.x1 for e in columns)


OWN = """
fields:
  - {id: jurisdiction, label: Jurisdiction, type: choice, required: true,
     values: [England, US, Netherlands, Sweden, multi]}
  - {id: phase, label: Phase, type: choice, values: [primary, secondary, all phases, not stated]}
"""


def test_a_codebook_may_drop_and_rename_country_design_and_weight(tmp_path, cli):
    """A review that calls country 'jurisdiction' and codes no design or weight: its studies
    table has exactly its fields, and validation, sheets, merge and the whole synthesis
    follow the codebook."""
    from openpyxl import load_workbook

    from trustreview.run import pipeline
    from trustreview.model.evaluation import tag_studies
    from trustreview.corpus.validate import open_corpus

    corpus_dir, bib = make_corpus(tmp_path)
    codebook = codebook_with(OWN)
    (corpus_dir / "codebook.yml").write_text(yaml.safe_dump(codebook))
    assert parse_codebook(codebook).study_columns == (
        "study_id", "sample", "summary", "included", "exclusion_reason", "jurisdiction",
        "phase")
    studies = pd.read_csv(corpus_dir / "studies.csv", dtype=str, keep_default_na=False)
    own = studies.rename(columns={"country": "jurisdiction"}).drop(
        columns=["design", "weight", "group_type"])
    own.to_csv(corpus_dir / "studies.csv", index=False)
    corpus = open_corpus(corpus_dir, bib)
    assert not corpus.errors, corpus.errors
    studies.drop(columns=["group_type"]).to_csv(corpus_dir / "studies.csv", index=False)
    named = {i.field for i in open_corpus(corpus_dir, bib).errors}
    assert {"country", "design", "weight", "jurisdiction"} <= named  # both ways round
    own.to_csv(corpus_dir / "studies.csv", index=False)

    validation = pipeline.validate(corpus_dir, bib)
    assert "country" not in validation.tables["records"].columns
    counts = validation.tables["corpus_counts"]
    assert counts.iloc[-1]["total"] == len(own[own["included"].isin(["yes", "no"])])
    with pytest.raises(ParameterError, match="codes no country"):
        Params.from_values(countries="England").check(corpus.codebook)
    with pytest.raises(ParameterError, match="codes no weight"):
        Params.from_values(min_weight="high").check(corpus.codebook)
    tagged = tag_studies(corpus, seed=0)
    result = pipeline.synthesise(corpus, tagged.predictions, Params())
    tables = result.tables
    assert not {"domain_by_country", "domain_by_design", "domain_by_weight",
                "country_by_design"} & set(tables)
    by = tables["domain_by_jurisdiction"].set_index("domain")
    included = own[own["included"] == "yes"]
    for value in ("England", "US", "Netherlands", "Sweden"):
        assert by.loc["total", value] == (included["jurisdiction"] == value).sum()
    assert result.data.map_columns == "jurisdiction" and result.data.map_slices == ""
    assert list(tables["gap_map_cells"].columns) == ["domain", "jurisdiction", "study_id",
                                                     "citation"]
    evidence = tables[f"evidence_{result.data.domains[0]}"]
    assert not {"country", "design", "weight"} & set(evidence.columns)
    assert "jurisdiction" in evidence.columns
    profile = " ".join(tables["domain_profiles"]["profile"])
    assert "By jurisdiction:" in profile and "By country" not in profile
    assert "Studies by domain and jurisdiction" in result.report_html
    assert "domain-by-country" not in result.report_html and len(result.report_docx) > 10_000

    sheet = tmp_path / "a.xlsx"
    where = ["--corpus", corpus_dir, "--bib", bib]
    code, _, err = cli("sheet", "--coder", "A", "--all", "--out", sheet, *where)
    assert code == 0, err
    header = [c.value for c in load_workbook(sheet)["coding"][1]]
    assert not {"country", "design", "weight"} & set(header)
    study = "hutchings2018chain"
    set_cells(sheet, study, {"included": "yes", "jurisdiction": "England",
                             "phase": "secondary", "governance": 1})
    code, _, err = cli("merge", sheet, "--corpus", corpus_dir)
    assert code == 0, err
    after = pd.read_csv(corpus_dir / "studies.csv", dtype=str, keep_default_na=False)
    assert list(after.columns) == list(own.columns)
    assert after.set_index("study_id").loc[study, "phase"] == "not stated"  # kept, as it was
    decisions = pd.read_csv(corpus_dir / "decisions.csv", dtype=str, keep_default_na=False)
    mine = decisions[decisions["study_id"] == study].iloc[0]
    assert (mine["jurisdiction"], mine["phase"], mine["weight"]) == ("England", "secondary", "")
