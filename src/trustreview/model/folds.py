"""Cross-validation folds for multi-label codes: iterative stratification.

Plain k-fold on a corpus where a domain has four positive studies can put two of them in one
test fold and none in another, so a fold's model may never see the domain, and scores swing
from split to split. :class:`MultilabelStratifiedKFold` spreads the positives of every domain
as evenly as it can across the folds, rarest domain first (Sechidis, Tsoumakas and Vlahavas,
2011, "On the stratification of multi-label data", ECML PKDD), and keeps fold sizes close.
"""

from __future__ import annotations

import numpy as np


class MultilabelStratifiedKFold:
    """K folds over the rows of a 0/1 matrix ``Y`` (studies x domains), stratified on every
    column at once. Same ``random_state``, same folds. A scikit-learn splitter: ``split``
    yields (train indices, test indices); ``get_n_splits`` gives ``n_splits``.

    The algorithm: repeatedly take the domain with the fewest positives still unplaced; give
    each of its studies (in a random order) to the fold that still wants the most positives
    of that domain, ties to the fold that wants the most studies, then at random. Studies with
    no domain go last, each to the fold that wants the most studies.
    """

    def __init__(self, n_splits: int = 5, random_state: int = 0):
        if int(n_splits) < 2:
            raise ValueError(f"n_splits must be at least 2; got {n_splits}")
        self.n_splits = int(n_splits)
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def fold_of(self, Y) -> np.ndarray:
        """The test fold (0 .. n_splits-1) of each row of ``Y``."""
        Y = np.asarray(Y, dtype=bool)
        if Y.ndim != 2:
            raise ValueError(f"Y must be a 2-d 0/1 matrix; got {Y.ndim} dimension(s)")
        n, k = Y.shape
        if n < self.n_splits:
            raise ValueError(f"cannot make {self.n_splits} folds from {n} studies")
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(n)  # a random but reproducible order for the studies
        rank = np.empty(n, dtype=int)
        rank[order] = np.arange(n)
        wants = np.full(self.n_splits, n / self.n_splits)
        wants_label = np.outer(np.full(self.n_splits, 1 / self.n_splits),
                               Y.sum(axis=0).astype(float))
        fold = np.full(n, -1)
        unplaced = np.ones(n, dtype=bool)

        def place(i: int, candidates: np.ndarray) -> None:
            best = candidates[wants[candidates] == wants[candidates].max()]
            f = int(best[rng.integers(len(best))]) if len(best) > 1 else int(best[0])
            fold[i] = f
            unplaced[i] = False
            wants[f] -= 1
            wants_label[f] -= Y[i]

        while True:
            remaining = Y[unplaced].sum(axis=0)
            labels = np.flatnonzero(remaining > 0)
            if len(labels) == 0:
                break
            label = labels[np.argmin(remaining[labels])]  # first of the rarest, stable
            rows = np.flatnonzero(unplaced & Y[:, label])
            for i in rows[np.argsort(rank[rows])]:
                column = wants_label[:, label]
                place(int(i), np.flatnonzero(column == column.max()))
        rest = np.flatnonzero(unplaced)
        for i in rest[np.argsort(rank[rest])]:
            place(int(i), np.arange(self.n_splits))
        return fold

    def split(self, X=None, Y=None, groups=None):
        """Yield (train, test) index arrays, one pair per fold; ``Y`` is required."""
        if Y is None:
            raise ValueError("MultilabelStratifiedKFold needs the label matrix Y")
        fold = self.fold_of(Y)
        for f in range(self.n_splits):
            yield np.flatnonzero(fold != f), np.flatnonzero(fold == f)


def out_of_fold(predict_fold, Y, n_splits: int, random_state: int = 0):
    """The one cross-validation loop: for each fold of :class:`MultilabelStratifiedKFold`
    over ``Y``, ``predict_fold(train, test)`` (index arrays) gives the test rows' results (an
    array, or a tuple of arrays), which land in the rows of ``test``. Returns the assembled
    array (or tuple of arrays), one row per row of ``Y``, every row predicted by a model
    that did not see it."""
    Y = np.asarray(Y)
    outputs, single = None, True
    for train, test in MultilabelStratifiedKFold(n_splits, random_state).split(
            np.zeros(len(Y)), Y):
        result = predict_fold(train, test)
        single = not isinstance(result, tuple)
        parts = [np.asarray(p) for p in ((result,) if single else result)]
        if outputs is None:
            outputs = [np.zeros((len(Y), *p.shape[1:]), dtype=p.dtype) for p in parts]
        for out, part in zip(outputs, parts):
            out[test] = part
    return outputs[0] if single else tuple(outputs)
