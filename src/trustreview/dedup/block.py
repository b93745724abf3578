"""Candidate pairs: records that share a block (the DOI, the whole title, its first and last
25 characters, the first author's surname with the year and two title words). A block of
more than :data:`MAX_BLOCK` records is too generic to mean a duplicate and is only paired
within the same year."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from trustreview.base.text import STOP_WORDS

MAX_BLOCK = 60


def candidate_pairs(prepared: pd.DataFrame, new_from: int = 0) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of rows sharing a block; with ``new_from``, only pairs with
    at least one row at or after it (earlier rows were compared before)."""
    years = prepared["y"].tolist()
    rows = list(zip(prepared["t"].tolist(), prepared["names"].tolist(), years,
                    prepared["doi"].tolist()))
    # with new_from, only blocks holding a new row matter: their keys first
    wanted = {key for row in rows[new_from:] for key in block_keys(*row)} \
        if new_from else None
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows[:new_from] if new_from else rows):
        for key in block_keys(*row):
            if wanted is None or key in wanted:
                blocks[key].append(i)
    for i, row in enumerate(rows[new_from:], start=new_from) if new_from else ():
        for key in block_keys(*row):
            blocks[key].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2 or members[-1] < new_from:
            continue
        groups = [members]
        if len(members) > MAX_BLOCK:
            by_year: dict[int, list[int]] = defaultdict(list)
            for i in members:
                by_year[years[i]].append(i)
            groups = [g for g in by_year.values() if 2 <= len(g) <= MAX_BLOCK]
        for group in groups:
            for a in range(len(group)):
                for b in range(a + 1, len(group)):
                    i, j = group[a], group[b]
                    if j >= new_from or i >= new_from:
                        pairs.add((i, j) if i < j else (j, i))
    return sorted(pairs)


def block_keys(t: str, names: tuple[str, ...], y: int, doi: str) -> list[str]:
    """The blocks a record is in: its DOI, its whole title, the title's first and last 25
    characters (long titles), first author + year + two title words."""
    keys = ["d" + doi] if doi else []
    if t:
        keys.append("t" + t)
        if len(t) > 30:
            keys += ["p" + t[:25], "e" + t[-25:]]
        words = [w for w in t.split() if w not in STOP_WORDS][:2]
        if names and words:
            keys.append(f"a{names[0]}|{y}|{' '.join(words)}")
    return keys
