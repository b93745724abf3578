"""Multi-label domain tagging that combines the codebook with the coded studies.

:class:`DomainTagger` is a scikit-learn estimator. For every domain it fits one ridge
classifier (least squares on the code written -1/+1, classes balanced) over

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

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.linear_model import RidgeClassifier

from trustreview.io.codebook import Codebook
from trustreview.base.text import decode_latex
from trustreview.model.features import TextFeatures, as_texts
from trustreview.model.decision import DecisionLayer
from trustreview.model.explain import explain_cells, top_terms
from trustreview.model.folds import out_of_fold

DUAL_MAX_ROWS = 3000  # up to this many training rows, ridge is solved exactly in the dual


def study_texts(records: pd.DataFrame) -> list[str]:
    """The text the tagger reads for each study: title, keywords and summary. The title and
    keywords come from the reference file, so their LaTeX is decoded (``{\\"o}`` reads
    ``ö``); the summary is the studies table's plain text."""
    def column(name: str) -> list[str]:
        if name not in records.columns:
            return [""] * len(records)
        return records[name].fillna("").astype("str").tolist()

    return [f"{decode_latex(title)}. {decode_latex(keywords)}. {summary}" for title, keywords,
            summary in zip(column("title"), column("keywords"), column("summary"))]


def _balanced_weights(y: np.ndarray, sample_weight: np.ndarray) -> np.ndarray:
    """Sample weights times scikit-learn's ``class_weight="balanced"`` weights, n / (2 x the
    class's count), written out: a run asks for them about 4,000 times, and
    ``compute_sample_weight`` (the tests' oracle) spent 7.6 s of notebook 02 validating its
    arguments."""
    n, positives = len(y), int(y.sum())
    weight = np.where(y == 1, n / (2 * max(positives, 1)), n / (2 * max(n - positives, 1)))
    return sample_weight * weight


def ridge_dual(gram: np.ndarray, y: np.ndarray, weight: np.ndarray, alpha: float
               ) -> tuple[np.ndarray, float]:
    """Weighted ridge regression with an intercept, solved exactly from the Gram matrix
    ``gram = X X^T`` of the training rows (fast when rows are few and features many).

    Targets are ``y`` coded -1/+1. Returns ``(v, intercept)``: the coefficients are
    ``X^T v`` and a row ``x`` scores ``x X^T v + intercept``; this is the solution
    ``RidgeClassifier(alpha, class_weight=...)`` approximates with its iterative solver.
    """
    target = np.where(y == 1, 1.0, -1.0)
    p = weight / weight.sum()
    kp = gram @ p
    centred = gram - kp[None, :] - kp[:, None] + p @ kp
    root = np.sqrt(weight)
    mean = p @ target
    system = root[:, None] * centred * root[None, :]
    system[np.diag_indices_from(system)] += alpha
    a = root * np.linalg.solve(system, root * (target - mean))
    v = a - p * a.sum()
    return v, float(mean - p @ (gram @ v))


class DomainTagger(BaseEstimator):
    """Tag studies with codebook domains (multi-label).

    Parameters
    ----------
    codebook : Codebook
        The domains; ``Y`` columns follow ``codebook.domain_ids`` (keyword argument).
    alpha : float
        Regularisation strength of each domain's ridge classifier.
    prior_weight : float
        Scale of the codebook signal-term features relative to the TF-IDF features.
    pseudo_weight : float
        Sample weight of each domain's codebook pseudo-study.
    boundary_weight : float
        Sample weight of each contrastive pseudo-study made from the codebook's ``leans_to``
        boundaries (0: not used).
    threshold : "cv" or float
        ``"cv"`` chooses each domain's threshold by internal cross-validation (a domain with
        fewer coded positives than ``cv_folds`` takes the threshold that is best over all
        domains pooled); a number between 0 and 1 is every domain's threshold. Whatever it
        is, :meth:`predict` and everything built on it use it.
    min_domains : int
        Every study gets at least this many domains: where fewer pass their thresholds, the
        domains whose score is furthest above (or least below) their threshold are added.
        Coders code every domain a study reports evidence on, and an included study almost
        always reports on one; 0 lets the model tag a study with none.
    cv_folds : int
        Folds of the internal cross-validation that picks thresholds and calibration
        (stratified on every domain, see :class:`~trustreview.folds.MultilabelStratifiedKFold`).
    random_state : int
        Seed for the internal fold split.

    Attributes
    ----------
    domains_ : list of str
    features_ : TextFeatures, fitted on the coded studies and the pseudo-studies
    coef_ : numpy.ndarray (features x domains)
    intercept_ : numpy.ndarray (domains)
    calibration_ : numpy.ndarray (domains x 2), Platt slope and intercept per domain (NaN:
        the raw 0-1 score is reported, as with no coded studies)
    thresholds_ : numpy.ndarray, on the scale :meth:`predict_proba` reports
    band_edges_ : numpy.ndarray (domains x 2), margins from the threshold beyond which a
        decision is ``sure`` (see :meth:`sure`)
    n_coded_ : int
    """

    def __init__(self, *, codebook: Codebook | None = None, alpha: float = 1.0,
                 prior_weight: float = 1.0, pseudo_weight: float = 1.0,
                 boundary_weight: float = 1.0, threshold="cv", min_domains: int = 1,
                 cv_folds: int = 5, random_state: int = 0):
        self.codebook = codebook
        self.alpha = alpha
        self.prior_weight = prior_weight
        self.pseudo_weight = pseudo_weight
        self.boundary_weight = boundary_weight
        self.threshold = threshold
        self.min_domains = min_domains
        self.cv_folds = cv_folds
        self.random_state = random_state

    def _pseudo_studies(self, n_coded: int) -> tuple[list[str], np.ndarray, np.ndarray]:
        """The codebook as training rows: one study per domain (its label, definition and
        signal terms; that domain only), and, with ``boundary_weight`` and coded studies, one
        per ``leans_to`` entry (its terms; coded with the domain it leans to, not the one it
        leans from).
        Returns (texts, codes, sample weights)."""
        domains = self.codebook.domains
        ids = [d.id for d in domains]
        texts = [f"{d.label}. {d.definition} " + ". ".join(d.signal_terms) for d in domains]
        rows = [np.eye(len(domains), dtype=int)]
        weights = [np.full(len(domains), self.pseudo_weight)]
        # With no coded studies the boundary studies are left out: beside one study per
        # domain, their extra negatives only pull every domain's intercept down (a plainly
        # financial text fell below the finance threshold).
        if self.boundary_weight > 0 and n_coded:
            for domain in domains:
                for lean in domain.leans_to:
                    texts.append(". ".join(lean.terms))
                    code = np.zeros(len(domains), dtype=int)
                    if lean.to:
                        code[ids.index(lean.to)] = 1
                    rows.append(code[None, :])
                    weights.append(np.array([self.boundary_weight]))
        return texts, np.vstack(rows), np.concatenate(weights)

    # -- fitting ---------------------------------------------------------------------------
    def _solve(self, X: sp.csr_matrix, gram: np.ndarray | None, Y: np.ndarray,
               weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """One ridge model per domain on rows ``X`` (or their Gram matrix). Returns
        ``(W, intercepts, dual)``: with ``dual`` the coefficients are ``X^T W``, otherwise
        ``W`` is the coefficients (features x domains)."""
        dual = gram is not None
        W = np.zeros((len(Y) if dual else X.shape[1], Y.shape[1]))
        intercepts = np.zeros(Y.shape[1])
        for j in range(Y.shape[1]):
            y = Y[:, j]
            if not 0 < y.sum() < len(y):  # one class only: a constant score
                intercepts[j] = 1.0 if y.sum() else -1.0
            elif dual:
                W[:, j], intercepts[j] = ridge_dual(gram, y, _balanced_weights(y, weight),
                                                    self.alpha)
            else:
                model = RidgeClassifier(alpha=self.alpha, class_weight="balanced")
                model.fit(X, y, sample_weight=weight)
                W[:, j], intercepts[j] = np.ravel(model.coef_), float(model.intercept_[0])
        return W, intercepts, dual

    @staticmethod
    def _raw(decision: np.ndarray) -> np.ndarray:
        """Each domain's least-squares estimate of the (class-balanced) -1/+1 code, mapped to
        0..1 and clipped: 0.5 is the classifier's own boundary."""
        return np.clip((decision + 1.0) / 2.0, 0.0, 1.0)

    def fit(self, texts: Sequence[str], Y=None):
        """Fit on study texts and a 0/1 matrix ``Y`` (studies x domains); ``Y`` may have
        zero rows (``texts`` empty), giving a codebook-only tagger."""
        if self.codebook is None:
            raise ValueError("DomainTagger needs a codebook: DomainTagger(codebook=...)")
        texts = as_texts(texts)[0] if len(texts) else []
        domains = self.codebook.domains
        n_domains = len(domains)
        Y = np.zeros((0, n_domains), dtype=int) if Y is None else np.asarray(Y, dtype=int)
        if Y.shape != (len(texts), n_domains):
            raise ValueError(f"Y must have shape ({len(texts)}, {n_domains}); got {Y.shape}")
        self.domains_ = self.codebook.domain_ids
        self.classes_ = np.array(self.domains_)  # one output per domain (multi-label)
        pseudo_texts, pseudo_codes, pseudo_weights = self._pseudo_studies(len(texts))
        training = texts + pseudo_texts
        self.features_ = TextFeatures(
            signal_terms=tuple(tuple(d.signal_terms) for d in domains),
            prior_weight=self.prior_weight)
        X = self.features_.fit_transform(training)
        Y_all = np.vstack([Y, pseudo_codes])
        weight = np.concatenate([np.ones(len(texts)), pseudo_weights])
        gram = (X @ X.T).toarray().astype(float) if X.shape[0] <= DUAL_MAX_ROWS else None
        W, self.intercept_, dual = self._solve(X, gram, Y_all, weight)
        self.coef_ = np.asarray(X.T @ W) if dual else W
        self.n_coded_ = len(texts)
        oof = self._inner_scores(X, gram, Y_all, weight, len(texts))
        self.decision_ = DecisionLayer(self.threshold, self.min_domains,
                                       self._inner_folds(Y)).fit(oof, Y)
        return self

    @property
    def calibration_(self) -> np.ndarray:
        return self.decision_.calibration_

    @property
    def thresholds_(self) -> np.ndarray:
        return self.decision_.thresholds_

    @property
    def band_edges_(self) -> np.ndarray:
        return self.decision_.band_edges_

    def sure(self, proba: np.ndarray, tags: np.ndarray) -> np.ndarray:
        """True where a decision (probability ``proba``, 0/1 ``tags``) is in the ``sure``
        band: tagged and far enough above the threshold, or untagged and far enough below."""
        return self.decision_.sure(proba, tags)

    def _inner_folds(self, Y) -> int:
        return min(self.cv_folds, len(Y))

    def _inner_scores(self, X, gram, Y_all, weight, n_coded) -> np.ndarray | None:
        """Each coded study's raw scores from models fitted without it (inner stratified CV,
        the pseudo-studies always in training); None with fewer than two coded studies."""
        Y = Y_all[:n_coded]
        folds = self._inner_folds(Y)
        if folds < 2:
            return None
        pseudo = np.arange(n_coded, len(Y_all))

        def scores(train, test):
            rows = np.concatenate([train, pseudo])
            if gram is not None:
                W, b, _ = self._solve(None, gram[np.ix_(rows, rows)], Y_all[rows],
                                      weight[rows])
                return self._raw(gram[np.ix_(test, rows)] @ W + b)
            W, b, _ = self._solve(X[rows], None, Y_all[rows], weight[rows])
            return self._raw(np.asarray(X[test] @ W) + b)

        return out_of_fold(scores, Y, folds, self.random_state).astype(float)

    # -- prediction ------------------------------------------------------------------------
    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The feature matrix of ``texts`` (TF-IDF columns, then one codebook column per
        domain); pass it to :meth:`predict_proba_features` and :meth:`explain_features` to
        compute features once."""
        return self.features_.transform(as_texts(texts)[0])

    def predict_proba_features(self, X: sp.csr_matrix) -> np.ndarray:
        return self.decision_.calibrate(self._raw(np.asarray(X @ self.coef_) + self.intercept_))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probability of each domain (studies x domains)."""
        return self.predict_proba_features(self.transform(texts))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """0/1 tags (studies x domains): each domain's threshold, then ``min_domains``."""
        return self.decision_.tags(self.predict_proba(texts))

    def top_terms(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` features with the largest positive weight per domain."""
        return top_terms(self.coef_, self._feature_names(), self.domains_, n)

    def _feature_names(self) -> np.ndarray:
        names = self.features_.get_feature_names_out()
        names[-len(self.domains_):] = [f"[codebook:{d}]" for d in self.domains_]
        return names

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
        out = [[[] for _ in self.domains_] for _ in range(X.shape[0])]
        for i, j, terms in self.explain_cells(X, mask, n):
            out[i][j] = terms
        return out

    def explain_cells(self, X: sp.csr_matrix, mask: np.ndarray, n: int = 5
                      ) -> list[tuple[int, int, list[str]]]:
        """``(study, domain, terms)`` for each cell where ``mask`` is true (see
        :func:`trustreview.model.explain.explain_cells`)."""
        return explain_cells(X, self.coef_, self._feature_names(), mask, n)


