"""Screening so far and whether it may stop: the decisions of ``decisions.csv`` in the order
they were made (each study's first screening decision, by ``sequence``), each stopping
rule's state after every one (``tables/screening_progress.csv``), and the verdict in words
for the reports ("Screening: can we stop?")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trustreview.screening import stopping
from trustreview.screening.decisions import screening_order

COLUMNS = ("screened", "study_id", "coder", "included", "found", "p_value", "hypergeometric",
           "knee_ratio", "knee", "excluded_in_a_row", "in_a_row")
ASSUMPTIONS = ("The test treats the records screened last as a random sample of themselves "
               "and of the records not yet screened; screening in relevance order puts more "
               "included records there than chance would, which makes the test stricter, "
               "but it cannot know of included records the searches missed, nor of wrong "
               "decisions.")


def progress_table(decisions: pd.DataFrame, total: int) -> pd.DataFrame:
    """One row per screening decision, in the order made: records screened, included found,
    and each rule's state after it (``yes`` where the rule says stop)."""
    order = screening_order(decisions)
    made = np.array([1 if str(v).lower() == "yes" else 0 for v in order["included"]],
                    dtype=int)
    found = np.cumsum(made)
    need = stopping.in_a_row_needed(total)
    ids, coders = order["study_id"].tolist(), order["coder"].tolist()
    rows = []
    run = 0
    for n in range(1, len(made) + 1):  # made[:n] is a view: each row costs O(n) in numpy
        part = made[:n]
        run = 0 if made[n - 1] else run + 1
        p = stopping.hypergeometric_p(part, total) if n < total else 0.0
        ratio = stopping.knee_ratio(part)
        knee = n >= stopping.KNEE_MIN_SCREENED and ratio >= stopping.KNEE_RATIO
        rows.append((n, ids[n - 1], coders[n - 1], "yes" if made[n - 1] else "no",
                     int(found[n - 1]), round(p, 6),
                     "yes" if p < 1 - stopping.CONFIDENCE or n >= total else "",
                     "" if np.isnan(ratio) else round(ratio, 4), "yes" if knee else "", run,
                     "yes" if run >= need and found[n - 1] else ""))
    return pd.DataFrame(rows, columns=list(COLUMNS))


@dataclass(frozen=True)
class StopVerdict:
    recommended: str  # the recommended rule's verdict in words
    assumptions: str
    others: list[str]  # the simpler rules, a sentence each
    stop: bool


def verdict(progress: pd.DataFrame, total: int) -> StopVerdict | None:
    """The verdict after the last decision of ``progress`` (None before any)."""
    if progress.empty:
        return None
    last = progress.iloc[-1]
    screened, found = int(last["screened"]), int(last["found"])
    since = int(last["excluded_in_a_row"])
    where = (f"{screened:,} of {total:,} screened, {found:,} included, "
             + ("the last one screened among them" if since == 0 else
                "the last one screened excluded" if since == 1 else
                f"none in the last {since:,}"))
    target, confidence = stopping.TARGET_RECALL, stopping.CONFIDENCE
    stop = last["hypergeometric"] == "yes"
    if stop:
        text = (f"{where}: at {confidence:.0%} confidence at least {target:.0%} of the "
                "included records have been found; you may stop.")
    else:
        text = (f"Not yet: {where}; the test cannot yet say, at {confidence:.0%} confidence, "
                f"that {target:.0%} of the included records have been found (p = "
                f"{float(last['p_value']):.3f}, stop below {1 - confidence:.2f}).")
    need = stopping.in_a_row_needed(total)
    ratio = last["knee_ratio"]
    others = [
        f"{need:,} excluded in a row: " + ("stop" if last["in_a_row"] == "yes" else
                                           f"not yet ({since:,} so far)") + ".",
        "Knee method (slope ratio at least 6, at least 150 screened): "
        + ("stop" if last["knee"] == "yes" else "not yet")
        + (f" (ratio {float(ratio):.1f})." if ratio != "" else ".")]
    return StopVerdict(text, ASSUMPTIONS, others, bool(stop))
