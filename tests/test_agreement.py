"""Agreement statistics, with scikit-learn's metrics as the oracle."""

import csv

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score, f1_score, precision_score, recall_score

from conftest import REPO
from trustreview.model.agreement import (code_matrix, cohen_kappa, compare_matrices,
                                         compute_coder_agreement)


def test_kappa_is_scikit_learns_and_defined_for_constant_ratings():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(2, 50))
        a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
        if len(set(a) | set(b)) == 2 and not (len(set(a)) == 1 and len(set(b)) == 1):
            assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    # where scikit-learn's kappa is undefined (one rating only): agreeing on it is 1
    assert cohen_kappa([0, 0, 0], [0, 0, 0]) == 1.0 and cohen_kappa([1, 1], [1, 1]) == 1.0
    assert cohen_kappa([0, 0], [1, 1]) == 0.0
    assert np.isnan(cohen_kappa([], []))


def test_bundled_civic_kappa_matches_scikit_learn_on_the_codes_file(bundled):
    table = compute_coder_agreement(bundled.codes, bundled.codebook.domain_ids)
    with open(REPO / "corpus" / "codes.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    coded = {c: {r["study_id"] for r in rows if r["coder"] == c} for c in ("A", "B")}
    both = sorted(coded["A"] & coded["B"])
    assert len(both) >= 100
    for domain in bundled.codebook.domain_ids:
        marks = {c: {r["study_id"] for r in rows if r["coder"] == c and r["domain"] == domain}
                 for c in ("A", "B")}
        a = [int(s in marks["A"]) for s in both]
        b = [int(s in marks["B"]) for s in both]
        row = table[(table["pair"] == "A vs B") & (table["domain"] == domain)].iloc[0]
        assert row["n"] == len(both)
        assert row["kappa"] == pytest.approx(cohen_kappa_score(a, b))
        assert row["agreement"] == pytest.approx(100 * np.mean(np.array(a) == np.array(b)))


def test_compare_matrices_is_scikit_learns_precision_recall_f1():
    rng = np.random.default_rng(1)
    ref = pd.DataFrame(rng.integers(0, 2, (40, 3)), columns=list("xyz"),
                       index=[f"s{i}" for i in range(40)])
    pred = pd.DataFrame(rng.integers(0, 2, (40, 3)), columns=list("xyz"), index=ref.index)
    table = compare_matrices(pred, ref).set_index("domain")
    for d in "xyz":
        assert table.loc[d, "precision"] == pytest.approx(precision_score(ref[d], pred[d]))
        assert table.loc[d, "recall"] == pytest.approx(recall_score(ref[d], pred[d]))
        assert table.loc[d, "f1"] == pytest.approx(f1_score(ref[d], pred[d]))
        assert table.loc[d, "kappa"] == pytest.approx(cohen_kappa_score(ref[d], pred[d]))
    assert table.loc["macro", "f1"] == pytest.approx(f1_score(ref, pred, average="macro"))
    assert table.loc["micro", "f1"] == pytest.approx(f1_score(ref, pred, average="micro"))


def test_code_matrix_marks_each_coded_domain_once_and_none_as_no_domain():
    codes = pd.DataFrame({"study_id": ["a", "a", "a", "b", "c"],
                          "coder": ["A", "A", "A", "A", "B"],
                          "domain": ["x", "y", "x", "none", "x"]}).astype("str")
    matrix = code_matrix(codes, "A", ["x", "y"])
    assert matrix.to_dict("index") == {"a": {"x": 1, "y": 1}, "b": {"x": 0, "y": 0}}
    assert code_matrix(codes, "A", ["x"], studies=["c", "a"]).to_dict("index") == \
        {"c": {"x": 0}, "a": {"x": 1}}
