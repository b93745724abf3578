"""The tagger's decision layer: from raw scores to probabilities (Platt scaling), tags
(per-domain thresholds that maximise F1, then ``min_domains``) and bands (``sure`` where
decisions agreed with the codes 95% of the time). Fitted on out-of-fold scores and the codes
alone: no text, no features."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_curve


DEFAULT_THRESHOLD = 0.5


SURE_AGREEMENT = 0.95  # a "sure" decision must agree with the reconciled codes this often


def assign_tags(scores: np.ndarray, thresholds, min_domains: int = 1) -> np.ndarray:
    """0/1 tags (studies x domains): a domain is tagged where its score reaches its threshold,
    and each study gets at least ``min_domains`` domains, the missing ones taken by margin
    over the threshold (ties to the earlier domain)."""
    scores = np.asarray(scores, dtype=float)
    margin = scores - np.broadcast_to(np.asarray(thresholds, dtype=float), scores.shape)
    tags = (margin >= 0).astype(int)
    wanted = min(int(min_domains), scores.shape[1]) if scores.ndim == 2 else 0
    if wanted > 0:
        short = np.flatnonzero(tags.sum(axis=1) < wanted)
        if len(short):
            best = np.argsort(-margin[short], axis=1, kind="stable")[:, :wanted]
            tags[short[:, None], best] = 1
    return tags


def platt_fit(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(slope, intercept) of a logistic curve from scores to the chance of a code (Platt
    scaling, with Platt's smoothed targets so that a handful of codes does not give a
    vertical curve). NaN, NaN when it cannot be fitted or the slope is not positive."""
    scores = np.asarray(scores, dtype=float)
    truth = np.asarray(truth, dtype=int)
    positives = int(truth.sum())
    negatives = len(truth) - positives
    if positives == 0 or negatives == 0:
        return np.array([np.nan, np.nan])
    high, low = (positives + 1) / (positives + 2), 1 / (negatives + 2)
    target = np.where(truth == 1, high, low)
    slope, intercept = _logistic_1d(scores, target, penalty=1e-4)
    return np.array([slope, intercept]) if slope > 0 else np.array([np.nan, np.nan])


def _logistic_1d(x: np.ndarray, target: np.ndarray, penalty: float) -> tuple[float, float]:
    """Slope and intercept of a logistic regression of soft targets on one feature, with
    an L2 penalty ``penalty / 2 * slope**2`` (what ``LogisticRegression(C=1/penalty)``
    minimises; a soft target t counts as class 1 with weight t and class 0 with 1 - t),
    solved by Newton's method: two parameters, so a 2 x 2 system per step, far faster than
    a general solver called hundreds of times per run."""
    a, b = 0.0, float(np.log(target.mean() / (1 - target.mean())))

    def loss(a, b):
        z = a * x + b
        return float(np.sum(np.logaddexp(0, z) - target * z) + penalty / 2 * a * a)

    current = loss(a, b)
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(a * x + b)))
        r = p - target
        grad = np.array([np.dot(r, x) + penalty * a, r.sum()])
        w = p * (1 - p)
        hess = np.array([[np.dot(w, x * x) + penalty, np.dot(w, x)],
                         [np.dot(w, x), w.sum()]])
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        scale = 1.0
        while scale > 1e-8:  # backtracking: never increase the loss
            na, nb = a - scale * step[0], b - scale * step[1]
            new = loss(na, nb)
            if new <= current + 1e-12:
                break
            scale /= 2
        if scale <= 1e-8:
            break
        a, b = na, nb
        done = current - new < 1e-12 * max(1.0, abs(current))
        current = new
        if done or np.abs(step * scale).max() < 1e-10:
            break
    return float(a), float(b)


def band_edges(margins: np.ndarray, truth: np.ndarray,
               target: float = SURE_AGREEMENT) -> tuple[float, float]:
    """(low, high): the widest bands of margins (probability minus threshold) in which the
    model's decision agreed with ``truth`` at least ``target`` of the time: tags with margin
    >= high, and untags with margin <= low. An empty band is +inf (or -inf)."""
    margins = np.asarray(margins, dtype=float)
    truth = np.asarray(truth, dtype=int)
    high = np.inf
    above = margins >= 0
    if above.any():
        order = np.argsort(-margins[above], kind="stable")
        values, right = margins[above][order], truth[above][order]
        share = np.cumsum(right) / np.arange(1, len(right) + 1)
        last = np.r_[values[1:] != values[:-1], True]  # a cut only between distinct values
        ok = np.flatnonzero((share >= target) & last)
        if len(ok):
            high = float(values[ok[-1]])
    low = -np.inf
    below = ~above
    if below.any():
        order = np.argsort(margins[below], kind="stable")
        values, right = margins[below][order], 1 - truth[below][order]
        share = np.cumsum(right) / np.arange(1, len(right) + 1)
        last = np.r_[values[1:] != values[:-1], True]
        ok = np.flatnonzero((share >= target) & last)
        if len(ok):
            low = float(values[ok[-1]])
    return low, high


def sure_decisions(proba: np.ndarray, tags: np.ndarray, thresholds: np.ndarray,
                   edges: np.ndarray) -> np.ndarray:
    """True where a decision is ``sure`` (see :func:`band_edges`)."""
    margins = np.asarray(proba, dtype=float) - np.asarray(thresholds, dtype=float)[None, :]
    tags = np.asarray(tags).astype(bool)
    return np.where(tags, margins >= edges[:, 1][None, :], margins <= edges[:, 0][None, :])


def best_threshold(probabilities: np.ndarray, truth: np.ndarray) -> float:
    """The threshold that maximises F1 on out-of-fold probabilities.

    Candidates are midpoints between sorted distinct probabilities; ties go to the threshold
    nearest 0.5. With no positive case, returns :data:`DEFAULT_THRESHOLD`.
    """
    truth = np.asarray(truth, dtype=int)
    probabilities = np.asarray(probabilities, dtype=float)
    if truth.sum() == 0 or truth.sum() == len(truth):
        return DEFAULT_THRESHOLD
    # tagging at or above each distinct probability (scikit-learn leaves out the cuts
    # below full recall: more false positives at the same recall, never the best F1)
    precision, recall, cuts = precision_recall_curve(truth, probabilities)
    precision, recall = precision[:len(cuts)], recall[:len(cuts)]
    f1 = np.divide(2 * precision * recall, precision + recall,
                   out=np.zeros_like(precision), where=(precision + recall) > 0)
    values = np.unique(probabilities)  # the cut reported is halfway to the next lower value
    below = np.searchsorted(values, cuts)
    candidates = np.where(below > 0, (values[np.maximum(below - 1, 0)] + cuts) / 2,
                          values[0] - 1e-9)
    best, best_f1 = DEFAULT_THRESHOLD, -1.0
    for t, score in zip(candidates, f1):
        if score > best_f1 + 1e-12 or (abs(score - best_f1) <= 1e-12
                                       and abs(t - 0.5) < abs(best - 0.5)):
            best, best_f1 = float(t), float(score)
    return best


class DecisionLayer:
    """Calibration, thresholds and bands of every domain, fitted on each coded study's
    out-of-fold raw scores (studies x domains, 0-1) and its 0/1 codes.

    ``threshold``: ``"cv"`` (each domain's best-F1 threshold) or a number for every domain.
    A domain with fewer positive studies than ``folds`` (the inner cross-validation's) gets
    the calibration, threshold and band edges fitted on every domain's scores pooled. With
    no scores (fewer than two coded studies) the raw score is the probability, the threshold
    0.5 (or the number given) and every decision ``check``.
    """

    def __init__(self, threshold="cv", min_domains: int = 1, folds: int = 5):
        self.threshold = threshold
        self.min_domains = min_domains
        self.folds = folds

    def fit(self, scores: np.ndarray | None, Y: np.ndarray) -> "DecisionLayer":
        Y = np.asarray(Y, dtype=int)
        k = Y.shape[1]
        if scores is None:
            self.calibration_ = np.full((k, 2), np.nan)
            self.thresholds_ = np.full(k, DEFAULT_THRESHOLD if self.threshold == "cv"
                                       else float(self.threshold))
            self.band_edges_ = np.tile([-np.inf, np.inf], (k, 1))
            return self
        self.calibration_ = np.array(self._per_domain(platt_fit, scores, Y)).reshape(k, 2)
        calibrated = self.calibrate(scores)
        if self.threshold != "cv":
            self.thresholds_ = np.full(k, float(self.threshold))
        else:
            # on the calibrated scale, the one the probabilities are reported on (0.5 for a
            # domain that borrows the pooled threshold when no domain has a positive)
            self.thresholds_ = np.array(self._per_domain(best_threshold, calibrated, Y))
        margins = calibrated - self.thresholds_[None, :]
        self.band_edges_ = np.array(self._per_domain(band_edges, margins, Y)).reshape(k, 2)
        return self

    def _per_domain(self, fit, values: np.ndarray, Y: np.ndarray) -> list:
        """``fit(values, truth)`` for each domain; a domain with fewer positive studies than
        folds (some fold has none to find) gets the fit over every domain pooled."""
        pooled = fit(values.ravel(), Y.ravel())
        enough = Y.sum(axis=0) >= min(self.folds, len(Y))
        return [fit(values[:, j], Y[:, j]) if enough[j] else pooled for j in range(Y.shape[1])]

    def calibrate(self, scores: np.ndarray) -> np.ndarray:
        """Raw 0-1 scores as probabilities (a domain without a calibration keeps its raw
        score)."""
        slope, intercept = self.calibration_[:, 0], self.calibration_[:, 1]
        known = ~np.isnan(slope)
        out = np.array(scores, dtype=float)
        out[:, known] = 1.0 / (1.0 + np.exp(-(out[:, known] * slope[known]
                                              + intercept[known])))
        return out

    def tags(self, proba: np.ndarray) -> np.ndarray:
        """0/1 tags: each domain's threshold, then ``min_domains``."""
        return assign_tags(proba, self.thresholds_, self.min_domains)

    def sure(self, proba: np.ndarray, tags: np.ndarray) -> np.ndarray:
        """True where a decision is in the ``sure`` band."""
        return sure_decisions(proba, tags, self.thresholds_, self.band_edges_)
