"""Text features for the domain tagger: TF-IDF over words and word pairs, plus, for each domain,
a count of the codebook's signal terms in the text.

:class:`TextFeatures` is a scikit-learn transformer; :class:`VocabularyCounter` counts a
fitted vocabulary's entries in many texts at once (as scikit-learn's CountVectorizer would).
Texts are tokenised once per process (:func:`tokenize` keeps a bounded cache), so the many
fits of a cross-validation count words without splitting the same text again.
"""

from __future__ import annotations

import re
from functools import lru_cache, partial
from itertools import chain

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfTransformer
from sklearn.utils.validation import check_array, check_is_fitted

from trustreview.base.parallel import PER_PROCESS, run_parts, start_method, workers_for

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_STOP = frozenset(ENGLISH_STOP_WORDS)
TOKEN_CACHE_SIZE = 50_000
SPAWN_HEAD_START = 0.07  # the extra share of the texts this process takes (see _in_parallel)


@lru_cache(maxsize=TOKEN_CACHE_SIZE)
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(w for w in _TOKEN.findall(text.lower()) if w not in _STOP)


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens (two letters or more), English stop words removed.

    Study texts and signal terms go through the same function, so a signal term matches
    whatever the stop words between its words were (``economies of scale``)."""
    return list(_tokens(text))


def ngrams(tokens, longer: frozenset = frozenset(), longest: int = 2) -> list[str]:
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
    return ngrams(_tokens(text), longer, longest)


class VocabularyCounter:
    """How often each entry of a fixed vocabulary (words, word pairs, longer signal terms;
    sorted, an entry's column is its place) occurs in each text: the counts scikit-learn's
    ``CountVectorizer(analyzer=analyse, vocabulary=entries)`` gives (a test checks that they
    are equal), with the look-ups done for all texts at once by numpy instead of one
    feature at a time (1.6x faster with the tokenising; the counting was most of
    ``trustreview tag``'s time on 100,000 studies)."""

    def __init__(self, entries: list[str]):
        self.entries = list(entries)
        self.vocabulary_ = dict(zip(self.entries, range(len(self.entries))))
        # every entry's words, looked up at once (a loop over the entries was 15 ms of each
        # of the ~110 fits a run makes on a hundred studies)
        flat = " ".join(self.entries).split(" ") if self.entries else []
        size = np.fromiter((entry.count(" ") + 1 for entry in self.entries), dtype=np.int64,
                           count=len(self.entries))
        present = set(flat)
        if "" in present:  # an empty entry, or words with more than one space between them
            split = [[w for w in entry.split(" ") if w] for entry in self.entries]
            flat = list(chain.from_iterable(split))
            size = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
            present.discard("")
        words = sorted(present)
        self.word_id = dict(zip(words, range(len(words))))
        self.n_words = len(words)
        ids = np.fromiter(map(self.word_id.__getitem__, flat), dtype=np.int64, count=len(flat))
        start = np.cumsum(size) - size
        column = np.arange(len(self.entries), dtype=np.int64)
        self.single = np.full(self.n_words + 1, -1, dtype=np.int64)  # id -1 (unknown): -1
        self.single[ids[start[size == 1]]] = column[size == 1]
        first = ids[start[size == 2]]
        codes = first * self.n_words + ids[start[size == 2] + 1]
        order = np.lexsort((column[size == 2], codes))
        self.pair_codes, self.pair_columns = codes[order], column[size == 2][order]
        self.longer: dict[int, list[tuple[tuple[int, ...], int]]] = {}
        for c in np.flatnonzero(size > 2).tolist():
            term = tuple(ids[start[c]:start[c] + size[c]].tolist())
            self.longer.setdefault(term[0], []).append((term, c))

    def counts(self, texts: list[str]) -> sp.csr_matrix:
        """texts x entries, float32 counts, canonical CSR (sorted, no duplicates)."""
        tokens = [_tokens(t) for t in texts]
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        get = self.word_id.get
        ids = np.array([get(w, -1) for t in tokens for w in t], dtype=np.int64)
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        column = self.single[ids]
        rows, columns = [doc[column >= 0]], [column[column >= 0]]
        if len(ids) > 1 and len(self.pair_codes):
            first, second = ids[:-1], ids[1:]
            at = np.flatnonzero((first >= 0) & (second >= 0) & (doc[:-1] == doc[1:]))
            codes = first[at] * self.n_words + second[at]
            found = np.minimum(np.searchsorted(self.pair_codes, codes), len(self.pair_codes) - 1)
            hit = self.pair_codes[found] == codes
            rows.append(doc[at[hit]])
            columns.append(self.pair_columns[found[hit]])
        if self.longer:  # signal terms of three words or more: few, looked at one by one
            extra_rows, extra_columns = [], []
            for p in np.flatnonzero(np.isin(ids, list(self.longer))).tolist():
                for term, col in self.longer[int(ids[p])]:
                    end = p + len(term)
                    if end <= len(ids) and doc[end - 1] == doc[p] and \
                            tuple(ids[p:end].tolist()) == term:
                        extra_rows.append(doc[p])
                        extra_columns.append(col)
            rows.append(np.array(extra_rows, dtype=np.int64))
            columns.append(np.array(extra_columns, dtype=np.int64))
        row, col = np.concatenate(rows), np.concatenate(columns)
        counts = sp.csr_matrix((np.ones(len(row), dtype=np.float32), (row, col)),
                               shape=(len(texts), len(self.entries)))
        counts.sum_duplicates()
        counts.sort_indices()
        return counts


def as_texts(X) -> tuple[list[str], int]:
    """The texts in ``X`` and its width: a sequence of strings is one column of texts; a dense
    2-D array gives one text per row (its cells joined by spaces)."""
    if sp.issparse(X):
        raise TypeError("TextFeatures: sparse input is not supported; give texts (a list of "
                        "strings) or a dense 2-D array")
    if isinstance(X, str):
        raise ValueError("TextFeatures: expected a sequence of texts, got a single string")
    if isinstance(X, (list, tuple, pd.Series, np.ndarray)) and np.ndim(X) == 1:
        items = list(X)
        if items and all(isinstance(t, str) for t in items):
            return items, 1
    array = check_array(X, dtype=None, ensure_min_samples=1, ensure_min_features=1)
    return [" ".join(str(v) for v in row) for row in array], array.shape[1]


class TextFeatures(TransformerMixin, BaseEstimator):
    """TF-IDF word and word-pair features, then one column per domain: log(1 + the number of
    the domain's signal terms in the text), scaled by ``prior_weight``.

    Parameters
    ----------
    signal_terms : tuple of tuples of str
        Each domain's signal terms (one tuple per domain; may be empty).
    prior_weight : float
        Scale of the signal-term columns relative to the TF-IDF columns.

    Attributes
    ----------
    counter_ : VocabularyCounter of the fitted vocabulary (words, word pairs, signal terms)
    tfidf_ : TfidfTransformer
    term_domain_ : sparse (vocabulary x domains), 1 where a vocabulary entry is a signal term
    n_domains_ : int
    """

    def __init__(self, signal_terms: tuple = (), prior_weight: float = 1.0):
        self.signal_terms = signal_terms
        self.prior_weight = prior_weight

    def fit(self, X, y=None):
        self._fit(X)
        return self

    def fit_transform(self, X, y=None) -> sp.csr_matrix:
        """``fit(X).transform(X)``, with the words of ``X`` counted once."""
        return self._from_counts(self._fit(X))

    def _fit(self, X) -> sp.csr_matrix:
        """Fit on ``X``; return its word counts."""
        texts, self.n_features_in_ = as_texts(X)
        by_domain = [{" ".join(tokenize(t)) for t in terms} - {""}
                     for terms in self.signal_terms]
        terms = set().union(*by_domain)
        longest = max((len(t.split()) for t in terms), default=2)
        analyzer = partial(analyse, longer=frozenset(t for t in terms if t.count(" ") >= 2),
                           longest=max(longest, 2))
        words = sorted(set().union(*(analyzer(t) for t in texts)) | terms)
        if not words:
            words = [""]  # texts without a single word still give a (zero) feature
        self.counter_ = VocabularyCounter(words)
        counts = self.counter_.counts(texts)
        self.tfidf_ = TfidfTransformer(sublinear_tf=True).fit(counts)
        index = self.counter_.vocabulary_
        rows = [index[t] for terms_j in by_domain for t in sorted(terms_j)]
        cols = [j for j, terms_j in enumerate(by_domain) for _ in terms_j]
        self.n_domains_ = len(by_domain)
        self.term_domain_ = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)),
            shape=(len(words), self.n_domains_))
        return counts

    def transform(self, X) -> sp.csr_matrix:
        """The features of each text (rows in order). Many texts (at least
        :data:`trustreview.base.parallel.PER_PROCESS`) are split between this process and one more per free
        core: counting words is pure Python, and the result is the same matrix."""
        check_is_fitted(self, "counter_")
        texts, width = as_texts(X)
        if width != self.n_features_in_:
            raise ValueError(f"X has {width} features, but TextFeatures is expecting "
                             f"{self.n_features_in_} features as input")
        workers = workers_for(len(texts), PER_PROCESS)
        if workers > 1:
            return _in_parallel(self, texts, workers)
        return self._features(texts)

    def _features(self, texts: list[str]) -> sp.csr_matrix:
        return self._from_counts(self.counter_.counts(texts))

    def _from_counts(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        hits = (counts @ self.term_domain_).toarray()
        prior = sp.csr_matrix(np.log1p(hits) * self.prior_weight, dtype=np.float32)
        tfidf = self.tfidf_.transform(counts)
        del counts
        return sp.hstack([tfidf, prior], format="csr")

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "counter_")
        return np.concatenate([np.array(self.counter_.entries, dtype=object),
                               np.array([f"[codebook:{j}]" for j in range(self.n_domains_)])])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.sparse = False
        tags.transformer_tags.preserves_dtype = []
        tags.requires_fit = True
        return tags


def _in_parallel(features: TextFeatures, texts: list[str], workers: int) -> sp.csr_matrix:
    """``features._features(texts)`` with the texts in ``workers`` contiguous parts (see
    :func:`trustreview.base.parallel.run_parts`)."""
    # this process starts at once; spawned ones first spend a second or two importing
    # scikit-learn, so this one then takes a larger part (only the speed depends on it)
    head_start = SPAWN_HEAD_START if start_method() == "spawn" else 0.0
    first = min(1.0, 1 / workers + head_start)
    bounds = np.r_[0, np.linspace(first * len(texts), len(texts), workers).astype(int)]
    parts = [(features, texts[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    return sp.vstack(run_parts(TextFeatures._features, parts), format="csr")
