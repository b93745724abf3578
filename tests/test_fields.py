"""The codebook's own fields: parsed as data, checked in the studies table, and tabled."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from conftest import REPO, make_corpus
from trustreview.errors import InputError, ParameterError
from trustreview.io.codebook import parse_codebook
from trustreview.params import Params

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
    from trustreview.validate import open_corpus

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
    from trustreview.validate import open_corpus

    corpus, bib = corpus_with_fields(tmp_path, {})
    studies = pd.read_csv(corpus / "studies.csv", dtype=str, keep_default_na=False)
    studies.drop(columns="rct").to_csv(corpus / "studies.csv", index=False)
    errors = [i for i in open_corpus(corpus, bib).errors if i.field == "rct"]
    assert errors and "field 'rct' has no column in the studies table" in errors[0].found


def test_tables_by_a_multi_and_a_number_field_equal_a_hand_count(tmp_path):
    from trustreview.synthesis import tables as synthesis
    from trustreview.model.evaluation import tag_studies
    from trustreview.validate import open_corpus

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
