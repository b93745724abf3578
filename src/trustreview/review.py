"""The review's steps as functions the notebooks and the CLI share: open a corpus, tag it."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trustreview.agreement import RECONCILED, code_matrix
from trustreview.codebook import Codebook
from trustreview.errors import ValidationError
from trustreview.folds import MultilabelStratifiedKFold
from trustreview.load import read_corpus
from trustreview.tagging import DomainTagger, assign_tags, study_texts
from trustreview.validate import ValidatedCorpus, validate_corpus

PREDICTION_COLUMNS = ["study_id", "domain", "probability", "tagged", "source",
                      "oof_probability", "terms"]


def open_corpus(corpus_dir: str | os.PathLike, bib_path: str | os.PathLike) -> ValidatedCorpus:
    """Read and validate a corpus; never raises for problems in the data (see ``.issues``)."""
    return validate_corpus(read_corpus(corpus_dir, bib_path))


def require_valid(corpus: ValidatedCorpus) -> ValidatedCorpus:
    """Return ``corpus`` if it has no errors, else raise :class:`ValidationError`."""
    if corpus.errors:
        raise ValidationError(corpus.issues)
    return corpus


def reference_coder(codes: pd.DataFrame) -> str | None:
    """The coder whose codes are the truth: ``reconciled``, or the only coder there is."""
    coders = sorted(set(codes["coder"]))
    if RECONCILED in coders:
        return RECONCILED
    return coders[0] if len(coders) == 1 else None


def screening_summary(corpus: ValidatedCorpus) -> str:
    """One line per count of the screening flow, for the terminal."""
    records = corpus.records
    lines = [f"bib entries: {corpus.bib_entries}",
             f"studies table rows: {len(records)}",
             f"  included: {int((records['status'] == 'included').sum())}",
             f"  excluded: {int((records['status'] == 'excluded').sum())}"]
    reasons = records.loc[records["status"] == "excluded", "exclusion_reason"].value_counts()
    lines += [f"    {reason}: {count}" for reason, count in sorted(reasons.items())]
    lines.append(f"  errors: {int((records['status'] == 'error').sum())}")
    return "\n".join(lines)


@dataclass
class TaggedStudies:
    """Tags of every included study: human codes where they exist, the model's elsewhere."""

    predictions: pd.DataFrame  # PREDICTION_COLUMNS, one row per study and domain
    model: DomainTagger
    coded_ids: list[str]
    uncoded_ids: list[str]
    thresholds: dict[str, float]  # the threshold each domain's model tags were cut at


def coded_matrix(corpus: ValidatedCorpus) -> pd.DataFrame:
    """0/1 matrix of the reference coder's codes for included studies it coded."""
    coder = reference_coder(corpus.codes)
    domains = corpus.codebook.domain_ids
    if coder is None:
        return pd.DataFrame(columns=domains, dtype="int64").rename_axis("study_id")
    included = set(corpus.included["study_id"])
    matrix = code_matrix(corpus.codes, coder, domains)
    return matrix[matrix.index.isin(included)]


def out_of_fold(params: dict, texts: list[str], Y: np.ndarray, folds: int, seed: int,
                train_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and 0/1 tags for each coded study from a model that did not see it.

    ``params`` are :class:`DomainTagger` parameters (``random_state`` is set to ``seed``).
    Folds are stratified on every domain (:class:`MultilabelStratifiedKFold`). With
    ``train_size``, each training fold is subsampled to that many studies (for a learning
    curve). With fewer than two studies, probabilities are NaN and tags 0.
    """
    proba = np.full(Y.shape, np.nan)
    tags = np.zeros(Y.shape, dtype=int)
    folds = min(folds, len(texts))
    if folds < 2:
        return proba, tags
    texts_arr = np.array(texts, dtype=object)
    rng = np.random.default_rng(seed)
    for train, test in MultilabelStratifiedKFold(folds, random_state=seed).split(texts_arr, Y):
        if train_size is not None:
            train = np.sort(rng.choice(train, size=min(train_size, len(train)), replace=False))
        model = DomainTagger(**{**params, "random_state": seed})
        model.fit(list(texts_arr[train]), Y[train])
        proba[test] = model.predict_proba(list(texts_arr[test]))
        tags[test] = assign_tags(proba[test], model.thresholds_, model.min_domains)
    return proba, tags


def tag_studies(corpus: ValidatedCorpus, seed: int = 0, threshold: float | None = None,
                folds: int = 5, min_domains: int = 1) -> TaggedStudies:
    """Train on the reference codes; tag every included study and domain.

    ``threshold`` None uses the model's cross-validated per-domain thresholds; every study
    gets at least ``min_domains`` domains (see :class:`DomainTagger`).
    """
    codebook: Codebook = corpus.codebook
    domains = codebook.domain_ids
    included = corpus.included.sort_values("study_id", ignore_index=True)
    coded = coded_matrix(corpus)
    coded_ids = [sid for sid in included["study_id"] if sid in coded.index]
    uncoded_ids = [sid for sid in included["study_id"] if sid not in coded.index]
    texts = dict(zip(included["study_id"], study_texts(included)))
    Y = coded.loc[coded_ids, domains].to_numpy() if coded_ids else \
        np.zeros((0, len(domains)), dtype=int)
    model = DomainTagger(codebook, random_state=seed, cv_folds=folds, min_domains=min_domains)
    model.fit([texts[s] for s in coded_ids], Y)
    thresholds = model.thresholds_ if threshold is None else np.full(len(domains), threshold)
    oof, _ = out_of_fold(model.get_params(), [texts[s] for s in coded_ids], Y, folds, seed)
    frames = []
    if coded_ids:
        frames.append(pd.DataFrame({
            "study_id": np.repeat(coded_ids, len(domains)),
            "domain": np.tile(domains, len(coded_ids)),
            "probability": Y.ravel().astype(float),
            "tagged": Y.ravel().astype(int),
            "source": "human",
            "oof_probability": oof.ravel(),
            "terms": "",
        }))
    if uncoded_ids:
        uncoded_texts = [texts[s] for s in uncoded_ids]
        features = model.transform(uncoded_texts)
        proba = model.predict_proba_features(features)
        tagged = assign_tags(proba, thresholds, min_domains)
        explained = model.explain_features(features, tagged.astype(bool))
        terms = ["; ".join(cell) for row in explained for cell in row]
        frames.append(pd.DataFrame({
            "study_id": np.repeat(uncoded_ids, len(domains)),
            "domain": np.tile(domains, len(uncoded_ids)),
            "probability": proba.ravel(),
            "tagged": tagged.ravel(),
            "source": "model",
            "oof_probability": np.nan,
            "terms": terms,
        }))
    if frames:
        predictions = pd.concat(frames, ignore_index=True)
    else:
        predictions = pd.DataFrame(columns=PREDICTION_COLUMNS)
    order = {d: i for i, d in enumerate(domains)}
    predictions = predictions.sort_values(["study_id", "domain"], key=lambda s: s.map(order)
                                          if s.name == "domain" else s, kind="stable",
                                          ignore_index=True)
    return TaggedStudies(predictions[PREDICTION_COLUMNS], model, coded_ids, uncoded_ids,
                         dict(zip(domains, map(float, thresholds))))
