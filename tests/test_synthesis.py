"""Synthesis tables for the nine-study fixture corpus, against counts worked out by hand from
its reconciled codes (see conftest.FIXTURE_IDS):

  hutchings2018chain   England      high    2018  education, governance
  greany2018hierarchy  England      medium  2018  education, governance, improvement
  baxter2021governing  England      medium  2021  civic, governance
  torres2016workload   US           medium  2016  workforce
  honingh2020boardsmatter Netherlands medium 2020 education, governance
  townsleyeconomic     England      medium  n.d.  finance
  ofsted2019mats       England      medium  2019  finance, governance, improvement,
                                                  leadership, workforce
  bergh2025stress, cst2023building: excluded (not-empirical)
"""

import pytest

from trustreview.synthesis import tables as synthesis
from trustreview.model.evaluation import tag_studies
from trustreview.corpus.validate import open_corpus


@pytest.fixture
def data(tiny):
    corpus = open_corpus(*tiny)
    tagged = tag_studies(corpus, seed=0)
    return corpus, tagged, synthesis.select_for_synthesis(corpus, tagged.predictions)


def as_dict(table):
    return table.set_index(table.columns[0]).to_dict("index")


def test_domain_by_country(data):
    table = synthesis.domain_by_country(data[2])
    assert list(table.columns) == ["domain", "England", "US", "Netherlands", "Sweden", "multi",
                                   "total"]
    rows = as_dict(table)
    assert rows["governance"] == {"England": 4, "US": 0, "Netherlands": 1, "Sweden": 0,
                                  "multi": 0, "total": 5}
    assert rows["education"] == {"England": 2, "US": 0, "Netherlands": 1, "Sweden": 0,
                                 "multi": 0, "total": 3}
    assert rows["workforce"]["England"] == 1 and rows["workforce"]["US"] == 1
    assert rows["civic"]["total"] == 1 and rows["leadership"]["total"] == 1
    assert rows["total"] == {"England": 5, "US": 1, "Netherlands": 1, "Sweden": 0, "multi": 0,
                             "total": 7}
    shares = as_dict(synthesis.share_by_column(table))
    assert shares["governance"]["England"] == pytest.approx(4 / 5)
    assert shares["governance"]["Sweden"] == 0.0


def test_domain_by_weight_and_design(data):
    weight = as_dict(synthesis.domain_by_weight(data[2]))
    assert weight["governance"] == {"high": 1, "medium": 4, "low": 0, "total": 5}
    assert weight["total"] == {"high": 1, "medium": 6, "low": 0, "total": 7}
    design = as_dict(synthesis.domain_by_design(data[2]))
    # governance: hutchings, honingh quantitative; greany mixed; baxter, ofsted qualitative
    assert design["governance"]["quantitative"] == 2
    assert design["governance"]["mixed"] == 1
    assert design["governance"]["qualitative"] == 2
    cbd = as_dict(synthesis.country_by_design(data[2]))
    assert cbd["England"]["quantitative"] == 2  # hutchings, townsley
    assert cbd["total"]["total"] == 7


def test_cooccurrence_and_period(data):
    co = as_dict(synthesis.domain_cooccurrence(data[2]))
    assert co["governance"]["governance"] == 5
    assert co["governance"]["education"] == 3
    assert co["education"]["governance"] == 3
    assert co["governance"]["improvement"] == 2
    assert co["civic"]["finance"] == 0
    period = as_dict(synthesis.domain_by_period(data[2]))
    assert list(period["governance"]) == ["2015-2019", "2020-2024", "n.d.", "total"]
    assert period["governance"]["2015-2019"] == 3
    assert period["governance"]["2020-2024"] == 2
    assert period["finance"] == {"2015-2019": 1, "2020-2024": 0, "n.d.": 1, "total": 2}
    assert period["total"] == {"2015-2019": 4, "2020-2024": 2, "n.d.": 1, "total": 7}


def test_evidence_table_citations_and_order(data):
    table = synthesis.evidence_table(data[2], "governance")
    assert table["citation"].tolist() == [
        "Hutchings and Francis (2018)",  # high weight first
        "Baxter and Cornforth (2021)", "Greany and Higham (2018)", "Honingh et al. (2020)",
        "Ofsted (2019)"]
    assert set(table["source"]) == {"human"}
    finance = synthesis.evidence_table(data[2], "finance")
    assert "Townsley and Andrews (n.d.)" in finance["citation"].tolist()


def test_screening_flow(data):
    corpus, tagged, _ = data
    flow = synthesis.compute_screening_flow(corpus, tagged.predictions)
    counts = dict(zip(flow["count_of"], flow["n"]))
    assert counts["records identified"] == 9  # no searches: the studies table
    assert counts["duplicate records removed"] == 0
    assert counts["entries in the bib file"] == 9
    assert counts["records screened"] == 9
    assert counts["records excluded"] == 0  # the codebook: not-empirical is a full-text reason
    assert counts["reports assessed for eligibility"] == 9
    assert counts["reports excluded"] == 2
    assert counts["reports excluded: not-empirical"] == 2
    assert counts["new studies included"] == counts["included in the synthesis"] == 7
    assert counts["coded by humans"] == 7
    assert counts["tagged by the model"] == 0


def test_filters(data):
    corpus, tagged, _ = data
    only_us = synthesis.select_for_synthesis(corpus, tagged.predictions, countries=["US"])
    assert only_us.studies["study_id"].tolist() == ["torres2016workload"]
    high = synthesis.select_for_synthesis(corpus, tagged.predictions, min_weight="high")
    assert high.studies["study_id"].tolist() == ["hutchings2018chain"]
    civic = synthesis.select_for_synthesis(corpus, tagged.predictions, domains=["civic"])
    assert as_dict(synthesis.domain_by_country(civic))["civic"]["England"] == 1
    with pytest.raises(ValueError, match="allowed: England"):
        synthesis.select_for_synthesis(corpus, tagged.predictions, countries=["France"])


def test_human_codes_only_drops_model_tags(tiny):
    corpus_dir, bib = tiny
    codes = corpus_dir / "codes.csv"
    kept = [l for l in codes.read_text().splitlines() if not l.startswith("torres2016workload")]
    codes.write_text("\n".join(kept) + "\n")
    corpus = open_corpus(corpus_dir, bib)
    tagged = tag_studies(corpus, seed=0, tag_threshold=0.01)
    model_rows = tagged.predictions[tagged.predictions["source"] == "model"]
    assert set(model_rows["study_id"]) == {"torres2016workload"}
    assert model_rows["tagged"].sum() > 0
    both = synthesis.select_for_synthesis(corpus, tagged.predictions)
    human = synthesis.select_for_synthesis(corpus, tagged.predictions, human_codes_only=True)
    assert "torres2016workload" in set(both.tags["study_id"])
    assert "torres2016workload" not in set(human.tags["study_id"])


def test_reference_list_apa(data):
    refs = synthesis.reference_list(data[2])
    first = refs.iloc[0]["reference"]
    assert first.startswith("Baxter, J. A., & Cornforth, C. (2021). Governing collaborations")
    assert "Public Management Review, 23(4), 567–589. https://doi.org/10.1080/" in first
    ofsted = refs[refs["study_id"] == "ofsted2019mats"]["reference"].iloc[0]
    assert ofsted.startswith("Ofsted. (2019). Multi-academy trusts")


def test_domain_bibtex_round_trips(data):
    import bibtexparser

    from trustreview.io.reference_export import domain_reference_files

    bib, ris = domain_reference_files(data[2].studies, data[2].tags, data[2].domains)
    keys = sorted(e.key for e in bibtexparser.parse_string(bib["education"]).entries)
    assert keys == ["greany2018hierarchy", "honingh2020boardsmatter", "hutchings2018chain"]
    from trustreview.io.load import parse_references

    again = parse_references(ris["education"], "education.ris")
    assert again.format == "RIS" and list(again.entries["key"]) == keys
