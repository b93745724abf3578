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
    feature order; only those that pushed towards it): ``(i, j, names)``.

    Domain by domain, with array operations over every tagged study at once: the positive
    contributions, then ``n`` rounds of each row's largest (``np.maximum.reduceat``), each
    taken out once found. No loop over studies."""
    X = sp.csr_matrix(X)
    if not X.has_sorted_indices:
        X = X.sorted_indices()
    labels = [str(name) for name in names]
    out = []
    for j in range(mask.shape[1]):
        rows = np.flatnonzero(mask[:, j])
        if not len(rows):
            continue
        sub = X[rows]
        values = sub.data * coef[sub.indices, j]
        row_of = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
        keep = values > 0
        values, features, row_of = values[keep], sub.indices[keep], row_of[keep]
        lengths = np.bincount(row_of, minlength=len(rows))
        live_rows = np.flatnonzero(lengths)
        chosen = np.full((len(rows), n), -1)
        if len(live_rows):
            starts = np.r_[0, np.cumsum(lengths)[:-1]][live_rows]
            sizes = lengths[live_rows]
            segment = np.repeat(np.arange(len(live_rows)), sizes)
            for k in range(n):
                best = np.maximum.reduceat(values, starts)
                live = best > 0
                if not live.any():
                    break
                hit = np.flatnonzero((values == best[segment]) & live[segment])
                first = hit[np.r_[True, segment[hit[1:]] != segment[hit[:-1]]]]
                chosen[live_rows[live], k] = features[first]
                values[first] = -np.inf
        out.extend((i, j, [labels[f] for f in picked if f >= 0])
                   for i, picked in zip(rows.tolist(), chosen.tolist()))
    return out


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
