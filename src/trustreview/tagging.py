"""Multi-label domain tagging that combines the codebook with the coded studies.

:class:`DomainTagger` is a scikit-learn estimator. For every domain it fits one ridge
classifier (least squares on the 0/1 code, classes balanced) over

* TF-IDF word and word-pair features of the study text, and
* codebook features: for each domain, how often its signal terms occur in the text
  (log-scaled), so that what the codebook says carries over to words no coded study used;

trained on the coded studies plus one pseudo-study per domain written from the codebook (its
label, definition and signal terms). With no coded studies it is a codebook-only tagger; as
codes accumulate the data take over. An internal cross-validation on the coded studies gives
every coded study an out-of-fold score; from those, each domain's score is turned into a
probability (Platt scaling) and its decision threshold is chosen (``threshold="cv"``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import (ENGLISH_STOP_WORDS, CountVectorizer,
                                             TfidfTransformer)
from sklearn.linear_model import LogisticRegression, RidgeClassifier

from trustreview.codebook import Codebook
from trustreview.folds import MultilabelStratifiedKFold

DEFAULT_THRESHOLD = 0.5


def study_texts(records: pd.DataFrame) -> list[str]:
    """The text the tagger reads for each study: title, keywords and summary."""
    parts = [records[name].fillna("").astype("str") if name in records.columns
             else pd.Series("", index=records.index, dtype="str")
             for name in ("title", "keywords", "summary")]
    text = parts[0] + ". " + parts[1] + ". " + parts[2]
    strip = re.compile(r"[{}\\]")
    return [strip.sub("", t) for t in text.tolist()]


_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_STOP = frozenset(ENGLISH_STOP_WORDS)


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens (two letters or more), English stop words removed.

    Study texts and signal terms go through the same function, so a signal term matches
    whatever the stop words between its words were (``economies of scale``)."""
    return [w for w in _TOKEN.findall(text.lower()) if w not in _STOP]


def ngrams(tokens: list[str], longer: frozenset = frozenset(), longest: int = 2) -> list[str]:
    """Unigrams and bigrams of a token list, plus any longer n-gram (up to ``longest`` words)
    that is in ``longer`` (multi-word signal terms)."""
    out = list(tokens)
    out.extend([a + " " + b for a, b in zip(tokens, tokens[1:])])
    for n in range(3, longest + 1):
        for i in range(len(tokens) - n + 1):
            gram = " ".join(tokens[i:i + n])
            if gram in longer:
                out.append(gram)
    return out


def analyse(text: str, longer: frozenset = frozenset(), longest: int = 2) -> list[str]:
    """The features of a text: :func:`ngrams` of its :func:`tokenize` tokens."""
    return ngrams(tokenize(text), longer, longest)


class DomainTagger(BaseEstimator):
    """Tag studies with codebook domains (multi-label).

    Parameters
    ----------
    codebook : Codebook
        The domains; ``Y`` columns follow ``codebook.domain_ids``.
    alpha : float
        Regularisation strength of each domain's ridge classifier.
    prior_weight : float
        Scale of the codebook signal-term features relative to the TF-IDF features.
    pseudo_weight : float
        Sample weight of each domain's codebook pseudo-study.
    threshold : "cv" or float
        ``"cv"`` chooses each domain's threshold by internal cross-validation (a domain with
        fewer coded positives than ``cv_folds`` takes the threshold that is best over all
        domains pooled); a number uses that threshold for every domain.
    min_domains : int
        Every study gets at least this many domains: where fewer pass their thresholds, the
        domains whose score is furthest above (or least below) their threshold are added.
        Coders code every domain a study reports evidence on, and an included study almost
        always reports on one; 0 lets the model tag a study with none.
    cv_folds : int
        Folds of the internal cross-validation that picks thresholds (stratified on every
        domain, see :class:`~trustreview.folds.MultilabelStratifiedKFold`).
    random_state : int
        Seed for the internal fold split.

    Attributes
    ----------
    domains_ : list of str
    counter_ : CountVectorizer (words, word pairs and signal terms)
    tfidf_ : TfidfTransformer
    term_domain_ : scipy.sparse matrix (vocabulary x domains), 1 where a word is a signal term
    models_ : list of RidgeClassifier (None where a domain had only one class)
    constant_ : list of float, the probability used where models_ is None
    calibration_ : numpy.ndarray (domains x 2), Platt slope and intercept per domain (NaN:
        the raw 0-1 score is reported, as with no coded studies)
    thresholds_ : numpy.ndarray, on the scale :meth:`predict_proba` reports
    n_coded_ : int
    """

    def __init__(self, codebook: Codebook, alpha: float = 1.0, prior_weight: float = 1.0,
                 pseudo_weight: float = 1.0, threshold="cv", min_domains: int = 1,
                 cv_folds: int = 5, random_state: int = 0):
        self.codebook = codebook
        self.alpha = alpha
        self.prior_weight = prior_weight
        self.pseudo_weight = pseudo_weight
        self.threshold = threshold
        self.min_domains = min_domains
        self.cv_folds = cv_folds
        self.random_state = random_state

    # -- features --------------------------------------------------------------------------
    def _pseudo_texts(self) -> list[str]:
        return [f"{d.label}. {d.definition} " + ". ".join(d.signal_terms)
                for d in self.codebook.domains]

    def _fit_features(self, texts: Sequence[str]) -> None:
        """One count vocabulary (the texts' words and word pairs, plus every signal term);
        TF-IDF weights over all of it, and each domain's signal-term count, both from the same
        count matrix, so each text is tokenised and counted once, as it streams by."""
        self.domains_ = self.codebook.domain_ids
        by_domain = [{" ".join(tokenize(t)) for t in d.signal_terms} - {""}
                     for d in self.codebook.domains]
        terms = set().union(*by_domain)
        longest = max((len(t.split()) for t in terms), default=2)
        analyzer = partial(analyse, longer=frozenset(t for t in terms if t.count(" ") >= 2),
                           longest=longest)
        training = list(texts) + self._pseudo_texts()
        words = sorted(set().union(*(analyzer(t) for t in training)) | terms)
        self.counter_ = CountVectorizer(analyzer=analyzer, vocabulary=words, dtype=np.float32)
        self.tfidf_ = TfidfTransformer(sublinear_tf=True).fit(
            self.counter_.transform(training))
        index = self.counter_.vocabulary_
        rows = [index[t] for terms_j in by_domain for t in sorted(terms_j)]
        cols = [j for j, terms_j in enumerate(by_domain) for _ in terms_j]
        self.term_domain_ = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                                          shape=(len(words), len(self.domains_)))

    def _features(self, texts: Sequence[str]) -> sp.csr_matrix:
        counts = self.counter_.transform(texts)
        hits = (counts @ self.term_domain_).toarray()
        prior = sp.csr_matrix(np.log1p(hits) * self.prior_weight, dtype=np.float32)
        tfidf = self.tfidf_.transform(counts)
        del counts
        return sp.hstack([tfidf, prior], format="csr")

    # -- fitting ---------------------------------------------------------------------------
    def _fit_models(self, X: sp.csr_matrix, Y: np.ndarray, pseudo: sp.csr_matrix):
        n_domains = len(self.domains_)
        X_all = sp.vstack([X, pseudo], format="csr")
        weights = np.concatenate([np.ones(X.shape[0]),
                                  np.full(n_domains, self.pseudo_weight)])
        models, constant = [], []
        for j in range(n_domains):
            y = np.concatenate([Y[:, j], (np.arange(n_domains) == j).astype(int)])
            model = RidgeClassifier(alpha=self.alpha, class_weight="balanced")
            model.fit(X_all, y, sample_weight=weights)
            models.append(model)
            constant.append(float(y.mean()))
        return models, constant

    def _predict_models(self, models, constant, X: sp.csr_matrix) -> np.ndarray:
        """Each domain's least-squares estimate of the (class-balanced) code, clipped to
        0..1: 0.5 is the classifier's own boundary."""
        out = np.empty((X.shape[0], len(models)))
        for j, model in enumerate(models):
            if model is None:
                out[:, j] = constant[j]
            else:
                out[:, j] = np.clip((model.decision_function(X) + 1.0) / 2.0, 0.0, 1.0)
        return out

    def fit(self, texts: Sequence[str], Y=None):
        """Fit on study texts and a 0/1 matrix ``Y`` (studies x domains); ``Y`` may have
        zero rows (``texts`` empty), giving a codebook-only tagger."""
        texts = list(texts)
        n_domains = len(self.codebook.domains)
        Y = np.zeros((0, n_domains), dtype=int) if Y is None else np.asarray(Y, dtype=int)
        if Y.shape != (len(texts), n_domains):
            raise ValueError(f"Y must have shape ({len(texts)}, {n_domains}); got {Y.shape}")
        self._fit_features(texts)
        pseudo = self._features(self._pseudo_texts())
        X = self._features(texts) if texts else pseudo[:0]
        self.models_, self.constant_ = self._fit_models(X, Y, pseudo)
        self.n_coded_ = len(texts)
        oof = self._inner_scores(X, Y, pseudo)
        self.calibration_ = self._fit_calibration(oof, Y)
        self.thresholds_ = self._choose_thresholds(oof, Y)
        return self

    def _inner_folds(self, Y) -> int:
        return min(self.cv_folds, len(Y))

    def _inner_scores(self, X, Y, pseudo) -> np.ndarray | None:
        """Each coded study's scores from models fitted without it (inner stratified CV);
        None with fewer than two coded studies."""
        folds = self._inner_folds(Y)
        if folds < 2:
            return None
        oof = np.zeros(Y.shape, dtype=float)
        splitter = MultilabelStratifiedKFold(folds, random_state=self.random_state)
        for train, test in splitter.split(X, Y):
            models, constant = self._fit_models(X[train], Y[train], pseudo)
            oof[test] = self._predict_models(models, constant, X[test])
        return oof

    def _per_domain(self, fit, oof, Y) -> list:
        """``fit(scores, truth)`` for each domain's out-of-fold scores. A domain with fewer
        positive studies than inner folds (some fold has none to find) cannot have a fit of
        its own: it gets the one over every domain's scores pooled."""
        pooled = fit(oof.ravel(), Y.ravel())
        enough = Y.sum(axis=0) >= self._inner_folds(Y)
        return [fit(oof[:, j], Y[:, j]) if enough[j] else pooled for j in range(Y.shape[1])]

    def _fit_calibration(self, oof, Y) -> np.ndarray:
        """Platt scaling of each domain's score, fitted on the inner out-of-fold scores:
        rows (slope, intercept), NaN where the score is left as it is (no coded studies, or
        no sign that higher scores mean more codes)."""
        if oof is None:
            return np.full((Y.shape[1], 2), np.nan)
        return np.array(self._per_domain(platt_fit, oof, Y)).reshape(Y.shape[1], 2)

    def _calibrate(self, scores: np.ndarray) -> np.ndarray:
        slope, intercept = self.calibration_[:, 0], self.calibration_[:, 1]
        known = ~np.isnan(slope)
        out = scores.copy()
        out[:, known] = 1.0 / (1.0 + np.exp(-(scores[:, known] * slope[known]
                                              + intercept[known])))
        return out

    def _choose_thresholds(self, oof, Y) -> np.ndarray:
        n_domains = Y.shape[1]
        if self.threshold != "cv":
            return np.full(n_domains, float(self.threshold))
        if oof is None:
            return np.full(n_domains, DEFAULT_THRESHOLD)
        # on the calibrated scale, the one predict_proba reports (0.5 for a domain that
        # borrows the pooled threshold when no domain has a positive)
        return np.array(self._per_domain(best_threshold, self._calibrate(oof), Y))

    # -- prediction ------------------------------------------------------------------------
    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The feature matrix of ``texts`` (TF-IDF columns, then one codebook column per
        domain); pass it to :meth:`predict_proba_features` and :meth:`explain_features` to
        compute features once."""
        return self._features(list(texts))

    def predict_proba_features(self, X: sp.csr_matrix) -> np.ndarray:
        return self._calibrate(self._predict_models(self.models_, self.constant_, X))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probability of each domain (studies x domains)."""
        return self.predict_proba_features(self.transform(texts))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """0/1 tags (studies x domains), using the per-domain thresholds."""
        return assign_tags(self.predict_proba(texts), self.thresholds_, self.min_domains)

    def top_terms(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` features with the largest positive weight per domain."""
        names = self._feature_names()
        rows = []
        for domain, model in zip(self.domains_, self.models_):
            coef = np.ravel(model.coef_)
            order = np.lexsort((names, -coef))[:n]
            rows.extend({"domain": domain, "rank": rank + 1, "term": names[i],
                         "weight": float(coef[i])} for rank, i in enumerate(order) if coef[i] > 0)
        return pd.DataFrame(rows, columns=["domain", "rank", "term", "weight"])

    def _feature_names(self) -> np.ndarray:
        return np.concatenate([self.counter_.get_feature_names_out(),
                               np.array([f"[codebook:{d}]" for d in self.domains_])])

    def explain(self, text: str, domain: str, n: int = 5) -> list[str]:
        """The terms of ``text`` that pushed most towards ``domain`` (weight x value)."""
        mask = np.zeros((1, len(self.domains_)), dtype=bool)
        mask[0, self.domains_.index(domain)] = True
        return self.explain_tags([text], mask, n)[0][self.domains_.index(domain)]

    def explain_tags(self, texts: Sequence[str], mask: np.ndarray, n: int = 5
                     ) -> list[list[list[str]]]:
        """For each text and domain where ``mask`` is true, the ``n`` terms that pushed most
        towards the domain; other cells get an empty list. Features are computed once."""
        return self.explain_features(self.transform(texts), mask, n)

    def explain_features(self, X: sp.csr_matrix, mask: np.ndarray, n: int = 5
                         ) -> list[list[list[str]]]:
        """:meth:`explain_tags` on a feature matrix from :meth:`transform`."""
        names = self._feature_names()
        coefs = [np.ravel(model.coef_) for model in self.models_]
        out = [[[] for _ in self.domains_] for _ in range(X.shape[0])]
        indptr, indices, data = X.indptr, X.indices, X.data
        for i, j in zip(*np.nonzero(mask)):
            cols = indices[indptr[i]:indptr[i + 1]]
            contrib = coefs[j][cols] * data[indptr[i]:indptr[i + 1]]
            top = np.argsort(-contrib, kind="stable")[:n]
            out[i][j] = [str(names[cols[k]]) for k in top if contrib[k] > 0]
        return out


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
    # a soft target t is a case of class 1 with weight t and of class 0 with weight 1 - t
    x = np.concatenate([scores, scores])[:, None]
    y = np.concatenate([np.ones(len(scores)), np.zeros(len(scores))])
    weight = np.concatenate([target, 1 - target])
    model = LogisticRegression(C=1e4, max_iter=1000).fit(x, y, sample_weight=weight)
    slope, intercept = float(model.coef_[0, 0]), float(model.intercept_[0])
    return np.array([slope, intercept]) if slope > 0 else np.array([np.nan, np.nan])


def best_threshold(probabilities: np.ndarray, truth: np.ndarray) -> float:
    """The threshold that maximises F1 on out-of-fold probabilities.

    Candidates are midpoints between sorted distinct probabilities; ties go to the threshold
    nearest 0.5. With no positive case, returns :data:`DEFAULT_THRESHOLD`.
    """
    truth = np.asarray(truth, dtype=int)
    if truth.sum() == 0 or truth.sum() == len(truth):
        return DEFAULT_THRESHOLD
    values = np.unique(probabilities)
    candidates = np.concatenate([[values[0] - 1e-9], (values[:-1] + values[1:]) / 2])
    best, best_f1 = DEFAULT_THRESHOLD, -1.0
    for t in candidates:
        pred = probabilities >= t
        tp = int((pred & (truth == 1)).sum())
        f1 = 2 * tp / (pred.sum() + truth.sum())
        if f1 > best_f1 + 1e-12 or (abs(f1 - best_f1) <= 1e-12 and abs(t - 0.5) < abs(best - 0.5)):
            best, best_f1 = float(t), f1
    return best
