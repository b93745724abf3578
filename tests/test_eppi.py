"""outputs/eppi.json: the review in EPPI-Reviewer's JSON format, for EPPI-Reviewer and
EPPI-Mapper."""

from __future__ import annotations

import json

import pandas as pd

from conftest import make_corpus
from trustreview.io.eppi import REFERENCE_KEYS, SUGGESTIONS_SET, eppi_json, stable_id


def exported(tmp_path, uncoded=()):
    from trustreview.model.evaluation import tag_studies
    from trustreview.synthesis.citations import add_citations
    from trustreview.validate import open_corpus

    corpus_dir, bib = make_corpus(tmp_path)
    codes = pd.read_csv(corpus_dir / "codes.csv", dtype=str, keep_default_na=False)
    codes[~codes["study_id"].isin(uncoded)].to_csv(corpus_dir / "codes.csv", index=False)
    corpus = open_corpus(corpus_dir, bib)
    predictions = tag_studies(corpus, seed=0).predictions
    included = add_citations(corpus.included.sort_values("study_id", ignore_index=True))
    return corpus, predictions, json.loads(eppi_json(included, predictions, corpus.codebook))


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
    assert stable_id("trustreview domains", "Strategic governance") == \
        stable_id("trustreview domains", "Strategic governance")
    assert all(10_000_000 <= i < 100_000_000 for i in ids)
