"""Which records to screen first: a model of "included" against "excluded" learnt from the
screening decisions made so far, ranking every record awaiting screening by its probability
of inclusion.

Features: TF-IDF over the words and word pairs of each record's title, abstract (or
summary), keywords and venue (:func:`record_texts`), fitted once on every record of the
review (no decision is needed for that, as in ASReview), so that retraining after a
decision only refits the classifier: a few milliseconds at 10,000 records.

Classifiers (``model``), compared in ``benchmarks/screening``:
- ``logistic`` (the default): logistic regression, classes balanced, each fit starting
  from the last one's weights;
- ``svm``: a linear SVM, classes balanced (ASReview's default, ELAS u4, is TF-IDF word
  pairs with a linear SVM); its decision value squashed to 0-1;
- ``nb``: complement naive Bayes;
- ``ensemble``: the mean of the three's ranks.

Cold start: until the decisions hold both an included and an excluded record, there is
nothing to learn from, and a record's relevance is its likeness (cosine, 0-1) to the
review's scope (``screening: scope:`` of the codebook) and to the records included so far,
less its likeness to those excluded. Everything is deterministic for a given ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

MODELS = ("logistic", "svm", "nb", "ensemble")
INCLUDED, EXCLUDED, UNKNOWN = 1, 0, -1


def record_texts(records: pd.DataFrame) -> list[str]:
    """Each record's text for the model: title, abstract (else the summary), keywords and
    venue, whichever it has."""
    def column(name):
        if name not in records:
            return [""] * len(records)
        return records[name].fillna("").astype(str).tolist()

    abstracts = [a or s for a, s in zip(column("abstract"), column("summary"))]
    return [" ".join(part for part in parts if part) for parts in
            zip(column("title"), abstracts, column("keywords"), column("venue"))]


@dataclass
class RelevanceModel:
    """Relevance of every record of a review: :meth:`fit_texts` once, then :meth:`scores`
    after each decision (or batch of decisions)."""

    model: str = "logistic"
    seed: int = 0
    scope: str = ""
    vectorizer_: object = field(default=None, repr=False)
    X_: sp.csr_matrix | None = field(default=None, repr=False)
    scope_: np.ndarray | None = field(default=None, repr=False)
    weights_: np.ndarray | None = field(default=None, repr=False)
    logistic_: object = field(default=None, repr=False)

    def fit_texts(self, texts: list[str]) -> "RelevanceModel":
        from sklearn.feature_extraction.text import TfidfVectorizer

        if self.model not in MODELS:
            raise ValueError(f"model {self.model!r}: use one of {', '.join(MODELS)}")
        self.vectorizer_ = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True,
                                           stop_words="english", min_df=2 if len(texts) > 2000
                                           else 1, max_df=0.95 if len(texts) > 20 else 1.0,
                                           dtype=np.float32)
        try:
            self.X_ = self.vectorizer_.fit_transform(texts).tocsr()
        except ValueError:  # no word at all (empty texts): every record alike
            self.vectorizer_ = None
            self.X_ = sp.csr_matrix((len(texts), 1), dtype=np.float32)
        self.scope_ = self._vector(self.scope) if self.scope.strip() else None
        return self

    def _vector(self, text: str) -> np.ndarray:
        if self.vectorizer_ is None:
            return np.zeros(self.X_.shape[1], dtype=np.float32)
        return np.asarray(self.vectorizer_.transform([text]).todense()).ravel()

    def scores(self, labels) -> np.ndarray:
        """Relevance 0-1 of every record, given ``labels`` (1 included, 0 excluded, -1 not
        yet screened), one per record in :meth:`fit_texts` order."""
        labels = np.asarray(labels)
        known = np.flatnonzero(labels != UNKNOWN)
        y = labels[known]
        if len(set(y.tolist())) < 2:
            return self._likeness(labels)
        if self.model == "ensemble":
            ranks = [_rank01(self._classifier(name, known, y)) for name in MODELS[:3]]
            return np.mean(ranks, axis=0)
        return self._classifier(self.model, known, y)

    def _classifier(self, name: str, known: np.ndarray, y: np.ndarray) -> np.ndarray:
        X = self.X_
        if name == "logistic":
            if self.logistic_ is None:
                from sklearn.linear_model import LogisticRegression
                # warm-started: the next fit starts from this one's weights (one decision
                # more moves them little): 3.6x faster over a screening, the same order
                self.logistic_ = LogisticRegression(C=1.0, class_weight="balanced",
                                                    solver="lbfgs", max_iter=1000,
                                                    warm_start=True)
            clf = self.logistic_
            clf.fit(X[known], y)
            self.weights_ = clf.coef_.ravel()  # the words' pull, for :meth:`terms`
            return clf.predict_proba(X)[:, 1]
        if name == "svm":
            from sklearn.svm import LinearSVC
            clf = LinearSVC(C=0.11, class_weight="balanced", random_state=self.seed,
                            max_iter=5000)
            clf.fit(X[known], y)
            return 1 / (1 + np.exp(-2 * clf.decision_function(X)))
        from sklearn.naive_bayes import ComplementNB
        clf = ComplementNB(alpha=0.5)
        clf.fit(X[known], y)
        return clf.predict_proba(X)[:, 1]

    def _likeness(self, labels: np.ndarray) -> np.ndarray:
        """Cold start: likeness to the scope and the included records, less likeness to the
        excluded ones, 0-1."""
        X = self.X_
        target = np.zeros(X.shape[1], dtype=np.float32)
        if self.scope_ is not None:
            target += self.scope_
        included = np.flatnonzero(labels == INCLUDED)
        if len(included):
            target += np.asarray(X[included].mean(axis=0)).ravel()
        score = X @ _unit(target)
        excluded = np.flatnonzero(labels == EXCLUDED)
        if len(excluded):
            score = score - 0.5 * (X @ _unit(np.asarray(X[excluded].mean(axis=0)).ravel()))
        return np.clip(np.asarray(score, dtype=np.float64).ravel(), 0.0, 1.0)

    def terms(self, row: int, labels, top: int = 8) -> tuple[list[str], list[str]]:
        """The words of record ``row`` that raise its relevance most and those that lower
        it most (the logistic model of the last :meth:`scores` with these ``labels``, or
        one fitted on them; the scope's words at cold start)."""
        if self.vectorizer_ is None:
            return [], []
        names = self.vectorizer_.get_feature_names_out()
        x = self.X_[row]
        labels = np.asarray(labels)
        known = np.flatnonzero(labels != UNKNOWN)
        if len(set(labels[known].tolist())) < 2:
            weights = self.scope_ if self.scope_ is not None else np.zeros(len(names))
        elif self.model == "logistic" and self.weights_ is not None:
            weights = self.weights_  # the model that made the last scores
        else:
            from sklearn.linear_model import LogisticRegression
            clf = LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear",
                                     random_state=self.seed, max_iter=1000)
            clf.fit(self.X_[known], labels[known])
            weights = clf.coef_.ravel()
        contributions = [(float(weights[j]) * float(v), names[j])
                         for j, v in zip(x.indices, x.data)]
        raising = [n for c, n in sorted(contributions, key=lambda t: (-t[0], t[1]))
                   if c > 0][:top]
        lowering = [n for c, n in sorted(contributions, key=lambda t: (t[0], t[1]))
                    if c < 0][:top]
        return raising, lowering


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def _rank01(values: np.ndarray) -> np.ndarray:
    """Ranks scaled to 0-1 (ties share the mean rank)."""
    from scipy.stats import rankdata
    if len(values) < 2:
        return np.ones(len(values))
    return (rankdata(values) - 1) / (len(values) - 1)


def most_relevant_first(scores: np.ndarray, labels) -> list[int]:
    """The positions of the records not yet screened, most relevant first (ties by
    position, so the order is the same every time)."""
    labels = np.asarray(labels)
    waiting = np.flatnonzero(labels == UNKNOWN)
    return waiting[np.lexsort((waiting, -scores[waiting]))].tolist()
