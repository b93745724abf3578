"""Why the tagger tags: each domain's strongest terms, and the terms of a study that pushed it
towards a domain, both read off the fitted coefficients (weight x feature value)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp


def explain_cells(X: sp.csr_matrix, coef: np.ndarray, names: np.ndarray, mask: np.ndarray,
                  n: int = 5) -> list[tuple[int, int, list[str]]]:
    """For each cell (study ``i``, domain ``j``) where ``mask`` is true, the ``n`` features
    of row ``i`` whose weight x value pushed most towards ``j`` (largest first, ties in
    feature order; only those that pushed towards it): ``(i, j, names)``. Every cell at
    once, with array operations: no loop over the cells."""
    X = sp.csr_matrix(X)
    rows, cols = np.nonzero(mask)
    if not len(rows):
        return []
    indptr, indices, data = X.indptr, X.indices, X.data
    counts = indptr[rows + 1] - indptr[rows]
    cell = np.repeat(np.arange(len(rows)), counts)  # each stored value of each cell's row
    first = np.repeat(indptr[rows] - np.r_[0, np.cumsum(counts)[:-1]], counts)
    position = first + np.arange(counts.sum())
    feature = indices[position]
    contribution = coef[feature, cols[cell]] * data[position]
    keep = contribution > 0
    cell, feature, contribution = cell[keep], feature[keep], contribution[keep]
    order = np.lexsort((np.flatnonzero(keep), -contribution, cell))
    cell, feature = cell[order], feature[order]
    start = np.searchsorted(cell, cell, side="left")
    rank = np.arange(len(cell)) - start
    top = rank < n
    cell, feature = cell[top], feature[top]
    bounds = np.searchsorted(cell, np.arange(len(rows) + 1))
    labels = names[feature].tolist()
    return [(int(rows[c]), int(cols[c]), labels[bounds[c]:bounds[c + 1]])
            for c in range(len(rows))]


def top_terms(coef: np.ndarray, names: np.ndarray, domains: list[str], n: int = 10
              ) -> pd.DataFrame:
    """The ``n`` features with the largest positive weight per domain (ties in name
    order): domain, rank, term, weight."""
    rows = []
    for j, domain in enumerate(domains):
        weights = coef[:, j]
        order = np.lexsort((names, -weights))[:n]
        rows.extend({"domain": domain, "rank": rank + 1, "term": names[i],
                     "weight": float(weights[i])} for rank, i in enumerate(order)
                    if weights[i] > 0)
    return pd.DataFrame(rows, columns=["domain", "rank", "term", "weight"])
