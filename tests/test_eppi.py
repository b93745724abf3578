"""outputs/eppi.json: the review in EPPI-Reviewer's JSON format, for EPPI-Reviewer and
EPPI-Mapper."""

from __future__ import annotations

import json

import pandas as pd

from conftest import make_corpus
from trustreview.io.eppi import REFERENCE_KEYS, SUGGESTIONS_SET, eppi_json, stable_id
from trustreview.synthesis.citations import add_citations


def exported(tmp_path, uncoded=()):
    from trustreview.model.evaluation import tag_studies
    from trustreview.corpus.validate import open_corpus

    corpus_dir, bib = make_corpus(tmp_path)
    codes = pd.read_csv(corpus_dir / "codes.csv", dtype=str, keep_default_na=False)
    codes[~codes["study_id"].isin(uncoded)].to_csv(corpus_dir / "codes.csv", index=False)
    corpus = open_corpus(corpus_dir, bib)
    predictions = tag_studies(corpus, seed=0).predictions
    included = add_citations(corpus.included.sort_values("study_id", ignore_index=True))
    return corpus, predictions, json.loads(eppi_json(included, predictions, corpus.codebook))


def test_the_export_holds_every_included_study_whatever_the_synthesis_filters(tmp_path):
    # filters choose what the tables show; EPPI-Reviewer gets the whole review, with the
    # citations of the whole review (a letter suffix depends on which studies are in)
    from trustreview.run import pipeline
    from trustreview.run.params import Params

    corpus, predictions, _ = exported(tmp_path)
    unfiltered = pipeline.synthesise(corpus, predictions, Params())
    england = pipeline.synthesise(corpus, predictions, Params(countries=["England"]))
    assert len(england.data.studies) < len(unfiltered.data.studies) == len(corpus.included)
    assert england.eppi_json == unfiltered.eppi_json
    included = add_citations(corpus.included.sort_values("study_id", ignore_index=True))
    assert unfiltered.eppi_json == eppi_json(included, predictions, corpus.codebook,
                                             corpus.quotes)


def test_the_export_has_eppi_reviewers_shape_codes_and_suggestions(tmp_path):
    corpus, predictions, data = exported(tmp_path, uncoded=["torres2016workload"])
    assert list(data) == ["CodeSets", "References"]
    sets = {s["SetName"]: s for s in data["CodeSets"]}
    domains = sets["trustreview domains"]["Attributes"]["AttributesList"]
    assert [c["AttributeName"] for c in domains] == [d.label for d in corpus.codebook.domains]
    for code in domains:
        assert {"AttributeId", "AttributeSetId", "AttributeName", "AttributeDescription",
                "AttributeType"} <= set(code)
        assert code["AttributeType"] == "Selectable (show checkbox)"
    assert "trustreview field: Kind of school group" in sets
    by_id = {c["AttributeId"]: (s["SetName"], c["AttributeName"]) for s in data["CodeSets"]
             for c in s["Attributes"]["AttributesList"]}
    references = {r["OldItemId"]: r for r in data["References"]}
    assert set(references) == set(corpus.included["study_id"])
    for reference in references.values():
        assert list(reference)[:len(REFERENCE_KEYS)] == list(REFERENCE_KEYS)
        assert reference["ItemStatus"] == "I" and reference["DateCreated"] == ""
        assert all(c["AttributeId"] in by_id for c in reference["Codes"])
    labels = {d.id: d.label for d in corpus.codebook.domains}
    reconciled = corpus.codes[corpus.codes["coder"] == "reconciled"]
    coded = references["hutchings2018chain"]
    human = {labels[d] for d in reconciled.loc[reconciled["study_id"] == "hutchings2018chain",
                                                "domain"] if d in labels}
    assert {by_id[c["AttributeId"]][1] for c in coded["Codes"]
            if by_id[c["AttributeId"]][0] == "trustreview domains"} == human
    assert not any(by_id[c["AttributeId"]][0] == SUGGESTIONS_SET for c in coded["Codes"])
    assert coded["Authors"] == "Hutchings, M.; Francis, B."
    assert coded["TypeName"] == "Report"
    suggested = [c for c in references["torres2016workload"]["Codes"]
                 if by_id[c["AttributeId"]][0] == SUGGESTIONS_SET]
    model = predictions[(predictions["study_id"] == "torres2016workload")
                        & (predictions["tagged"] == 1)]
    assert len(suggested) == len(model) > 0
    assert all(c["AdditionalText"].startswith("probability 0.") or
               c["AdditionalText"].startswith("probability 1.") for c in suggested)
    assert all("; band " in c["AdditionalText"] for c in suggested)


def test_ids_are_stable_and_the_same_inputs_give_the_same_bytes(tmp_path):
    first = exported(tmp_path / "a")[2]
    second = exported(tmp_path / "b")[2]
    assert first == second
    ids = [c["AttributeId"] for s in first["CodeSets"] for c in s["Attributes"]["AttributesList"]]
    assert len(ids) == len(set(ids))
    # the same name gives the same id in every process and version (EPPI-Reviewer keeps
    # the ids of a file it imported): pinned, and names apart give ids apart
    assert stable_id("trustreview domains", "Strategic governance") == 11565262
    assert stable_id("trustreview domains", "Workforce") != \
        stable_id("trustreview domains", "Strategic governance")
    assert all(10_000_000 <= i < 100_000_000 for i in ids)


def test_the_file_is_the_json_modules_text_written_faster(tmp_path):
    # eppi.json is written by orjson; its text must stay json.dumps(indent=2)'s, byte for
    # byte, also for hostile strings and a number past 64 bits (the json module then)
    from trustreview.io.eppi import json_bytes

    corpus, predictions, data = exported(tmp_path, uncoded=("torres2016workload",))
    assert json_bytes(data) == (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode()
    hostile = {"Title": "\x00\x1f\x7f\u2028 \"quoted\" back\\slash / é 😀 \t\n\r\b\f",
               "Codes": [], "Attributes": {}, "Nested": [[], {"a": [1, -2, 0]}],
               "ItemId": 10**30, "Flag": True, "None": None}
    for value in (hostile, {k: v for k, v in hostile.items() if k != "ItemId"}):
        assert json_bytes(value) == (json.dumps(value, ensure_ascii=False, indent=2)
                                     + "\n").encode()


def test_a_review_goes_out_and_back_unchanged(tmp_path, cli):
    corpus, predictions, data = exported(tmp_path / "out")
    path = tmp_path / "export.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code, _, err = cli("new", tmp_path / "back", "--from", path)
    assert code == 0, err
    assert f"{len(corpus.included)} references, {len(corpus.included)} studies" in err
    back = tmp_path / "back" / "corpus"
    studies = pd.read_csv(back / "studies.csv", dtype=str, keep_default_na=False)
    before = corpus.included.set_index("study_id")
    assert sorted(studies["study_id"]) == sorted(before.index)
    for row in studies.to_dict("records"):
        original = before.loc[row["study_id"]]
        for name in ("country", "design", "weight", "summary", "group_type", "phase"):
            assert row[name] == original[name], (row["study_id"], name)
        assert row["included"] == "yes"
    codes = pd.read_csv(back / "codes.csv", dtype=str, keep_default_na=False)
    reconciled = corpus.codes[(corpus.codes["coder"] == "reconciled")
                              & (corpus.codes["domain"] != "none")]
    assert sorted(zip(codes["study_id"], codes["domain"])) == \
        sorted(zip(reconciled["study_id"], reconciled["domain"]))
    import yaml
    codebook = yaml.safe_load((back / "codebook.yml").read_text())
    assert [d["id"] for d in codebook["domains"]] == corpus.codebook.domain_ids
    from trustreview.io.load import read_bib
    entries = read_bib(tmp_path / "back" / "references.bib").entries.set_index("key")
    assert entries.loc["hutchings2018chain", "title"] == "Chain Effects 2018"
    assert "eppi-itemid" in entries.loc["hutchings2018chain", "raw"]
    code, _, err = cli("validate", "--corpus", back, "--bib", tmp_path / "back" / "references.bib")
    assert code == 0, err


def test_an_eppi_reviewer_export_becomes_a_review(tmp_path, cli):
    """A fixture in EPPI-Reviewer's shape: nested codes, both date forms, missing keys, a
    quote with a page marker, an unknown AttributeId, an excluded and a shadow item."""
    from pathlib import Path
    source = Path(__file__).parent / "fixtures" / "eppi" / "review.json"
    code, _, err = cli("new", tmp_path / "r", "--from", source)
    assert code == 1 and "--domains" in err and "School groups map" in err
    code, _, err = cli("new", tmp_path / "r", "--from", source, "--domains", "Domains")
    assert code == 0, err
    assert "4 references, 3 studies, 2 domain codes, 2 quotes, 2 left out" in err
    assert "AttributeId 999999 is in no code set" in err
    assert "a duplicate (shadow) in EPPI-Reviewer" in err
    corpus = tmp_path / "r" / "corpus"
    studies = pd.read_csv(corpus / "studies.csv", dtype=str, keep_default_na=False)
    rows = studies.set_index("study_id")
    assert rows.loc["hutchings2018chain", "phase"] == "Secondary > Upper secondary"
    assert rows.loc["hutchings2018chain", "uses-administrative-data"] == "yes"
    assert rows.loc["torres2016teacher", "phase"] == "Primary"
    assert rows.loc["ofsted2019multi", "included"] == "no"
    assert rows.loc["ofsted2019multi", "exclusion_reason"] == "excluded in EPPI-Reviewer"
    quotes = pd.read_csv(corpus / "quotes.csv", dtype=str, keep_default_na=False)
    assert list(quotes.columns) == ["study_id", "code", "text", "document"]
    marked = quotes[quotes["document"] == "chain-effects-2018.pdf"].iloc[0]
    assert marked["text"].startswith("[¬p]12 chains") and marked["study_id"] == \
        "hutchings2018chain"
    import yaml
    codebook = yaml.safe_load((corpus / "codebook.yml").read_text())
    fields = {f["id"]: f for f in codebook["fields"]}
    assert fields["phase"]["type"] == "multi"
    assert fields["phase"]["values"] == ["Primary", "Secondary", "Secondary > Upper secondary"]
    assert fields["uses-administrative-data"]["type"] == "yes-no"
    assert [d["label"] for d in codebook["domains"]] == ["Strategic governance", "Workforce"]
    from trustreview.io.load import read_bib
    entry = read_bib(tmp_path / "r" / "references.bib").entries.set_index("key")
    assert "eppi-itemid = {43210001}" in entry.loc["hutchings2018chain", "raw"]
    assert entry.loc["hutchings2018chain", "institution"] == "The Sutton Trust"
    code, _, err = cli("validate", "--corpus", corpus, "--bib", tmp_path / "r" / "references.bib")
    assert code == 0, err
    # the way back keeps EPPI-Reviewer's ItemId
    from trustreview.io.eppi import item_id
    assert item_id("hutchings2018chain", entry.loc["hutchings2018chain", "raw"]) == 43210001


def test_quotes_show_in_the_evidence_tables_and_go_out_and_back(tmp_path, cli):
    from pathlib import Path

    from trustreview.model.evaluation import tag_studies
    from trustreview.synthesis import tables as synthesis
    from trustreview.synthesis.citations import add_citations
    from trustreview.corpus.validate import open_corpus

    source = Path(__file__).parent / "fixtures" / "eppi" / "review.json"
    assert cli("new", tmp_path / "r", "--from", source, "--domains", "Domains")[0] == 0
    review = tmp_path / "r"
    corpus = open_corpus(review / "corpus", review / "references.bib")
    predictions = tag_studies(corpus, seed=0).predictions
    data = synthesis.select_for_synthesis(corpus, predictions)
    evidence = synthesis.evidence_table(data, "strategic-governance")
    row = evidence.set_index("study_id").loc["hutchings2018chain"]
    assert "12 chains were above the national average" in row["quotes"]
    assert "(chain-effects-2018.pdf)" in row["quotes"]
    included = add_citations(corpus.included.sort_values("study_id", ignore_index=True))
    out = tmp_path / "out.json"
    out.write_bytes(eppi_json(included, predictions, corpus.codebook, corpus.quotes))
    assert cli("new", tmp_path / "back", "--from", out)[0] == 0
    before = pd.read_csv(review / "corpus" / "quotes.csv", dtype=str, keep_default_na=False)
    after = pd.read_csv(tmp_path / "back" / "corpus" / "quotes.csv", dtype=str,
                        keep_default_na=False)
    key = ["study_id", "code", "text", "document"]
    assert sorted(map(tuple, after[key].values)) == sorted(map(tuple, before[key].values))
    studies = pd.read_csv(tmp_path / "back" / "corpus" / "studies.csv", dtype=str,
                          keep_default_na=False).set_index("study_id")
    assert studies.loc["hutchings2018chain", "phase"] == "Secondary > Upper secondary"
    assert studies.loc["hutchings2018chain", "uses-administrative-data"] == "yes"
    entries = pd.read_csv(tmp_path / "back" / "corpus" / "codes.csv", dtype=str)
    assert set(entries["domain"]) == {"strategic-governance", "workforce"}


def test_screening_codes_decide_inclusion(tmp_path, cli):
    import copy
    from pathlib import Path

    source = Path(__file__).parent / "fixtures" / "eppi" / "review.json"
    data = json.loads(source.read_text())
    screening = copy.deepcopy(data["CodeSets"][0])
    screening.update({"SetName": "Screening", "SetId": 93700, "ReviewSetId": 93701,
                      "SetType": {"SetTypeName": "Screening", "SetTypeDescription": ""}})
    screening["Attributes"]["AttributesList"] = [
        {"AttributeId": 7000001, "AttributeSetId": 7000101, "AttributeType": "Include",
         "AttributeName": "Include on title and abstract", "AttributeDescription": ""},
        {"AttributeId": 7000002, "AttributeSetId": 7000102, "AttributeType": "Exclude",
         "AttributeName": "Not about school groups", "AttributeDescription": ""}]
    data["CodeSets"].append(screening)
    data["References"][1]["Codes"].append({"AttributeId": 7000002, "AdditionalText": "",
                                           "ArmId": 0, "ArmTitle": ""})
    path = tmp_path / "screened.json"
    path.write_text(json.dumps(data))
    code, _, err = cli("new", tmp_path / "r", "--from", path, "--domains", "Domains")
    assert code == 0, err
    studies = pd.read_csv(tmp_path / "r" / "corpus" / "studies.csv", dtype=str,
                          keep_default_na=False).set_index("study_id")
    assert studies.loc["torres2016teacher", "included"] == "no"
    assert studies.loc["torres2016teacher", "exclusion_reason"] == "Not about school groups"
    assert studies.loc["hutchings2018chain", "included"] == "yes"
    import yaml
    codebook = yaml.safe_load((tmp_path / "r" / "corpus" / "codebook.yml").read_text())
    reasons = {r["id"]: r["stage"] for r in codebook["exclusion_reasons"]}
    assert reasons["Not about school groups"] == "title-abstract"
    assert "screening" not in {f["id"] for f in codebook["fields"]}
    code, _, err = cli("validate", "--corpus", tmp_path / "r" / "corpus", "--bib",
                       tmp_path / "r" / "references.bib")
    assert code == 0, err


def test_two_values_of_a_choice_field_keep_the_first_with_a_warning(tmp_path, cli):
    _, _, data = exported(tmp_path / "out")
    sets = {s["SetName"]: s for s in data["CodeSets"]}
    phases = {c["AttributeName"]: c["AttributeId"]
              for c in sets["trustreview field: Phase of schooling"]["Attributes"]
              ["AttributesList"]}
    reference = next(r for r in data["References"] if r["OldItemId"] == "hutchings2018chain")
    reference["Codes"].append({"AttributeId": phases["primary"], "AdditionalText": "",
                               "ArmId": 0, "ArmTitle": ""})
    path = tmp_path / "two.json"
    path.write_text(json.dumps(data))
    code, _, err = cli("new", tmp_path / "r", "--from", path)
    assert code == 0, err
    assert "hutchings2018chain: several values of the choice field 'phase'" in err
    studies = pd.read_csv(tmp_path / "r" / "corpus" / "studies.csv", dtype=str,
                          keep_default_na=False).set_index("study_id")
    assert studies.loc["hutchings2018chain", "phase"] == "not stated"  # its own value first
