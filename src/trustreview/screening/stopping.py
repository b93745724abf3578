"""When screening in relevance order may stop: three rules over the decisions in the order
they were made (1 included, 0 excluded), the records not yet screened counted in.

- :func:`hypergeometric_test` (the recommended rule; Callaghan & Müller-Hansen 2020,
  "Statistical stopping criteria for automated screening in systematic reviews",
  Systematic Reviews 9:273): treat the last ``k`` records screened as a sample drawn at
  random from themselves and every record not yet screened, and test the hypothesis "recall
  is below the target". If it were, at least ``floor(found / target) + 1`` included records
  would exist, so at least ``floor(found / target) + 1 - (found - found_in_sample)`` of them
  would be among the sample and the unscreened; the chance of seeing as few as
  ``found_in_sample`` in the sample is a hypergeometric tail. The smallest such p-value
  over ``k`` below ``1 - confidence`` says stop. Screening in relevance order puts more
  included records in the sample than chance would, which only makes the test stricter.
- :func:`knee_method` (Cormack & Grossman 2016): the slope of the curve of included records
  found against records screened, before its knee, divided by the slope after it; stop
  when the ratio is at least 6 and at least 150 records are screened (the knee is the
  point of the curve farthest from the line from the origin to its end).
- :func:`excluded_in_a_row`: the last ``n`` decisions were all exclusions (ASReview's
  rule of thumb), with ``n`` 5% of the records and at least 50.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TARGET_RECALL = 0.95
CONFIDENCE = 0.95
KNEE_RATIO = 6.0
KNEE_MIN_SCREENED = 150
RULES = ("hypergeometric", "knee", "in_a_row")
RECOMMENDED = "hypergeometric"


def sample_sizes(screened: int, steps: int = 60) -> np.ndarray:
    """The sample sizes ``k`` tried at one point: every size up to 20, then about ``steps``
    sizes spaced evenly on a log scale up to all the records screened (the test's p-value
    changes slowly with ``k``; trying every ``k`` at every point of 10,000 would take
    minutes)."""
    if screened <= 0:
        return np.array([], dtype=int)
    small = np.arange(1, min(screened, 20) + 1)
    large = np.unique(np.geomspace(20, screened, steps).astype(int)) if screened > 20 else []
    return np.unique(np.concatenate([small, large, [screened]])).astype(int)


def hypergeometric_p(decisions, total: int, target: float = TARGET_RECALL) -> float:
    """The p-value of "recall is below ``target``" after ``decisions`` (1/0 in screening
    order) of ``total`` records; 1.0 when nothing is found yet or nothing tried."""
    from scipy.stats import hypergeom

    decisions = np.asarray(decisions, dtype=int)
    screened = len(decisions)
    found = int(decisions.sum())
    if found == 0 or screened == 0:
        return 1.0
    k = sample_sizes(screened)
    cumulative = np.concatenate([[0], np.cumsum(decisions[::-1])])
    in_sample = cumulative[k]  # included records among the last k screened
    urn = k + (total - screened)
    least = math.floor(found / target) + 1 - (found - in_sample)
    least = np.minimum(least, urn)
    p = hypergeom.cdf(in_sample, urn, least, k)
    return float(np.min(p))


def hypergeometric_test(decisions, total: int, target: float = TARGET_RECALL,
                        confidence: float = CONFIDENCE) -> bool:
    """Whether the hypergeometric test says stop (see the module docstring)."""
    if len(decisions) >= total:
        return True
    return hypergeometric_p(decisions, total, target) < 1 - confidence


def knee_ratio(decisions) -> float:
    """The slope ratio at the curve's knee (``nan`` before any included record)."""
    found = np.cumsum(np.asarray(decisions, dtype=float))
    screened = len(found)
    if screened == 0 or found[-1] == 0:
        return float("nan")
    x = np.arange(1, screened + 1, dtype=float)
    distance = found - x * (found[-1] / screened)
    knee = int(np.argmax(distance))
    before = found[knee] / x[knee]
    after = (found[-1] - found[knee] + 1) / max(screened - x[knee], 1.0)
    return float(before / after)


def knee_method(decisions, min_screened: int = KNEE_MIN_SCREENED,
                ratio: float = KNEE_RATIO) -> bool:
    return len(decisions) >= min_screened and knee_ratio(decisions) >= ratio


def in_a_row_needed(total: int) -> int:
    """How many exclusions in a row :func:`excluded_in_a_row` waits for."""
    return max(50, round(0.05 * total))


def excluded_in_a_row(decisions, total: int) -> bool:
    decisions = np.asarray(decisions, dtype=int)
    n = in_a_row_needed(total)
    return len(decisions) >= n and not decisions[-n:].any() and bool(decisions.any())


@dataclass(frozen=True)
class Verdict:
    """Each rule's state after the decisions so far."""

    screened: int
    total: int
    found: int
    since_last: int  # exclusions since the last inclusion
    p_value: float
    hypergeometric: bool
    knee: bool
    in_a_row: bool

    @property
    def stop(self) -> bool:
        """What the recommended rule says."""
        return self.hypergeometric


def verdict(decisions, total: int) -> Verdict:
    decisions = np.asarray(decisions, dtype=int)
    last = int(np.flatnonzero(decisions)[-1]) if decisions.any() else -1
    return Verdict(len(decisions), total, int(decisions.sum()), len(decisions) - last - 1,
                   hypergeometric_p(decisions, total) if len(decisions) < total else 0.0,
                   hypergeometric_test(decisions, total), knee_method(decisions),
                   excluded_in_a_row(decisions, total))


def first_stops(decisions, total: int) -> dict[str, int | None]:
    """For each rule, the number of records screened when it first says stop (None when
    it never does)."""
    decisions = np.asarray(decisions, dtype=int)  # slices below are views, not copies
    stops: dict[str, int | None] = {rule: None for rule in RULES}
    found = 0
    run = 0
    for n, d in enumerate(decisions.tolist(), start=1):
        found += d
        run = 0 if d else run + 1
        part = decisions[:n]
        if stops["in_a_row"] is None and found and run >= in_a_row_needed(total):
            stops["in_a_row"] = n
        if stops["knee"] is None and n >= KNEE_MIN_SCREENED and d == 0 and \
                knee_method(part):
            stops["knee"] = n
        if stops["hypergeometric"] is None and found and d == 0 and \
                hypergeometric_test(part, total):
            stops["hypergeometric"] = n
        if all(v is not None for v in stops.values()):
            break
    return stops
