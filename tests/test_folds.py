"""Stratified folds for multi-label codes: every study tested once, rare domains spread."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trustreview.model.folds import MultilabelStratifiedKFold


def spread(Y, fold, n_splits):
    """Per domain, most minus fewest positives in a test fold."""
    counts = np.array([Y[fold == f].sum(axis=0) for f in range(n_splits)])
    return counts.max(axis=0) - counts.min(axis=0)


def test_every_study_is_tested_exactly_once_and_never_trained_on_in_its_fold():
    Y = np.random.default_rng(3).integers(0, 2, size=(37, 4))
    seen = []
    for train, test in MultilabelStratifiedKFold(5, random_state=0).split(None, Y):
        assert not set(train) & set(test)
        assert sorted(np.concatenate([train, test])) == list(range(37))
        seen.extend(test)
    assert sorted(seen) == list(range(37))


def test_a_rare_domain_gets_one_positive_per_fold():
    # 25 studies, a common domain and a rare one (5 positives, clustered at the start)
    Y = np.zeros((25, 2), dtype=int)
    Y[::2, 0] = 1
    Y[:5, 1] = 1
    for seed in range(20):
        fold = MultilabelStratifiedKFold(5, random_state=seed).fold_of(Y)
        assert [int(Y[fold == f, 1].sum()) for f in range(5)] == [1, 1, 1, 1, 1]
        assert spread(Y, fold, 5)[0] <= 1
        assert sorted(np.bincount(fold)) == [5, 5, 5, 5, 5]


def test_stratifies_better_than_plain_kfold_on_the_bundled_codes(bundled_codes):
    from sklearn.model_selection import KFold
    Y = bundled_codes.to_numpy()
    stratified, plain_total = 0, 0
    for seed in range(10):
        fold = MultilabelStratifiedKFold(5, random_state=seed).fold_of(Y)
        plain = np.empty(len(Y), dtype=int)
        for f, (_, test) in enumerate(KFold(5, shuffle=True, random_state=seed).split(Y)):
            plain[test] = f
        rare = Y.sum(axis=0) < len(Y) / 5  # under one positive in five studies
        assert (spread(Y, fold, 5)[rare] <= 1).all()
        stratified += spread(Y, fold, 5).sum()
        plain_total += spread(Y, plain, 5).sum()
    assert stratified * 2 < plain_total


def test_same_seed_same_folds_other_seed_other_folds():
    Y = np.random.default_rng(0).integers(0, 2, size=(40, 3))
    a = MultilabelStratifiedKFold(4, random_state=1).fold_of(Y)
    b = MultilabelStratifiedKFold(4, random_state=1).fold_of(Y)
    c = MultilabelStratifiedKFold(4, random_state=2).fold_of(Y)
    assert (a == b).all()
    assert (a != c).any()


def test_studies_with_no_domain_are_still_placed():
    Y = np.zeros((12, 3), dtype=int)
    fold = MultilabelStratifiedKFold(3, random_state=0).fold_of(Y)
    assert sorted(np.bincount(fold)) == [4, 4, 4]


@pytest.mark.parametrize("n_splits, rows, message", [
    (1, 10, "at least 2"), (5, 4, "cannot make 5 folds from 4 studies")])
def test_bad_requests_are_refused(n_splits, rows, message):
    with pytest.raises(ValueError, match=message):
        list(MultilabelStratifiedKFold(n_splits).split(None, np.zeros((rows, 2))))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(Y=arrays(np.int8, st.tuples(st.integers(5, 60), st.integers(1, 6)),
                elements=st.integers(0, 1)),
       n_splits=st.integers(2, 5), seed=st.integers(0, 2**16))
def test_any_code_matrix_gives_a_partition_and_spreads_the_rarest_domain(Y, n_splits, seed):
    fold = MultilabelStratifiedKFold(n_splits, random_state=seed).fold_of(Y)
    assert set(fold) == set(range(n_splits))  # no empty fold
    counts = Y.sum(axis=0)
    if counts.any():
        rarest = np.flatnonzero(counts == counts[counts > 0].min())[0]
        assert spread(Y, fold, n_splits)[rarest] <= 1
