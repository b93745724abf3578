"""Agreement statistics against values computed by hand."""

import numpy as np
import pandas as pd
import pytest

from trustreview.model.agreement import cohen_kappa, compare_matrices, compute_coder_agreement
from trustreview.validate import open_corpus


def test_kappa_by_hand():
    a = [1, 1, 0, 0, 1, 0, 0, 0, 1, 0]
    b = [1, 0, 0, 0, 1, 0, 1, 0, 1, 0]
    # p_o = 8/10; p_e = 0.4*0.4 + 0.6*0.6 = 0.52; kappa = 0.28 / 0.48
    assert cohen_kappa(a, b) == pytest.approx(0.28 / 0.48)


def test_kappa_perfect_and_constant():
    assert cohen_kappa([1, 0, 1], [1, 0, 1]) == 1.0
    assert cohen_kappa([0, 0, 0], [0, 0, 0]) == 1.0


def test_bundled_civic_kappa_matches_hand_computation():
    import csv

    corpus = open_corpus("corpus", "references.bib")
    table = compute_coder_agreement(corpus.codes, corpus.codebook.domain_ids)
    row = table[(table["pair"] == "A vs B") & (table["domain"] == "civic")].iloc[0]
    # count by hand from codes.csv: studies both A and B coded, and who coded civic
    with open("corpus/codes.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    coded = {c: {r["study_id"] for r in rows if r["coder"] == c} for c in ("A", "B")}
    civic = {c: {r["study_id"] for r in rows if r["coder"] == c and r["domain"] == "civic"}
             for c in ("A", "B")}
    both = coded["A"] & coded["B"]
    n = len(both)
    a, b = len(civic["A"] & both), len(civic["B"] & both)
    agree = n - len((civic["A"] ^ civic["B"]) & both)
    expected_pe = (a / n) * (b / n) + ((n - a) / n) * ((n - b) / n)
    assert n >= 100 and a >= 10  # the rebuilt corpus: 108 double-coded, civic no longer rare
    assert row["n"] == n
    assert row["agreement"] == pytest.approx(100 * agree / n)
    assert row["prevalence_1"] == pytest.approx(a / n)
    assert row["kappa"] == pytest.approx((agree / n - expected_pe) / (1 - expected_pe))


def test_compare_matrices_precision_recall():
    ref = pd.DataFrame({"x": [1, 1, 0, 0], "y": [0, 0, 0, 1]}, index=list("abcd"))
    pred = pd.DataFrame({"x": [1, 0, 1, 0], "y": [0, 0, 0, 1]}, index=list("abcd"))
    table = compare_matrices(pred, ref).set_index("domain")
    assert table.loc["x", "precision"] == 0.5 and table.loc["x", "recall"] == 0.5
    assert table.loc["y", "f1"] == 1.0
    assert table.loc["macro", "f1"] == pytest.approx(0.75)
    # micro: tp=2, fp=1, fn=1
    assert table.loc["micro", "f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert np.isclose(table.loc["micro", "kappa"], cohen_kappa([1, 0, 0, 0, 1, 0, 0, 1],
                                                               [1, 0, 1, 0, 0, 0, 0, 1]))
