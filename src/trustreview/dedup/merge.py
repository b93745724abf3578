"""The clusters of merged pairs, each kept as one study: a record joins a cluster only when
its own pair with the cluster's kept record is merged, and a person's decisions win over
the rules."""

from __future__ import annotations

import pandas as pd

from trustreview.dedup.match import decide
from trustreview.base.frames import frame_rows
from trustreview.schema import CHECK, MERGED


def resolve(prepared: pd.DataFrame, pairs: pd.DataFrame,
            decided: dict[tuple[str, str], str] | None = None,
            fixed: int = 0) -> tuple[dict[int, int], list]:
    """Clusters of merged pairs, each kept as its first row.

    Returns (``kept``: row -> the row it is merged into, for every merged row; ``rows``:
    (kept row, other row, status, reason, score) for every pair row of duplicates.csv).
    A row joins a cluster only when its own pair with the kept row is merged (a chain
    A-B-C does not merge A and C unless A and C agree); pairs a person decided
    (``decided``: (key, key) -> merged/distinct) win over the rules. The first ``fixed``
    rows are studies already in the review: none of them is ever merged into another (two
    of them alike both to a new record are a ``check``).
    """
    decided = decided or {}
    keys = prepared["key"].tolist()
    records = list(frame_rows(prepared))
    parent = list(range(len(prepared)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    status = {}
    for i, j, s, reason, score in pairs.itertuples(index=False):
        person = decided.get((keys[i], keys[j])) or decided.get((keys[j], keys[i]))
        if person:
            s, reason = person, f"decided by a person ({reason})"
        status[(i, j)] = (s, reason, score)
        if s == MERGED:
            a, b = root(i), root(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    kept: dict[int, int] = {}
    rows = []
    for i in range(len(prepared)):
        top = root(i)
        if top == i:
            continue
        own = status.get((top, i))
        if own is None:
            direct = decide(records[top], records[i])
            own = (direct.status, direct.reason, direct.score)
        if own[0] == MERGED and i >= fixed:
            kept[i] = top
            rows.append((top, i, *own))
        else:
            why = ("both already studies of the review" if i < fixed and own[0] == MERGED
                   else "alike to a record of this study, not enough to it")
            rows.append((top, i, CHECK, f"{why} ({own[1]})", own[2]))
    seen = {(a, b) for a, b, *_ in rows}
    for (i, j), (s, reason, score) in sorted(status.items()):
        if s == MERGED:
            continue
        a, b = sorted((kept.get(i, i), kept.get(j, j)))
        if a != b and (a, b) not in seen:
            seen.add((a, b))
            rows.append((a, b, s, reason, score))
    return kept, sorted(rows, key=lambda row: (row[0], row[1]))
