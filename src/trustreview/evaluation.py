"""Tagging the corpus and measuring the tagger against the human coders: out-of-fold
predictions (scikit-learn's ``cross_val_predict`` over stratified multi-label folds), repeated
cross-validation, a learning curve, the coders' own agreement beside it, and the lists a
reviewer acts on.

Every function takes the tagging settings by the names :class:`~trustreview.params.Params`
uses: ``seed``, ``cv_folds``, ``cv_repeats``, ``tag_threshold``, ``min_domains``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import cross_val_predict

from trustreview.agreement import code_matrix, coded_matrix, compare_matrices, reference_coder
from trustreview.codebook import Codebook
from trustreview.folds import MultilabelStratifiedKFold
from trustreview.tagging import DomainTagger, assign_tags, study_texts
from trustreview.validate import ValidatedCorpus

METRICS = ["precision", "recall", "f1", "kappa"]
PREDICTION_COLUMNS = ["study_id", "domain", "probability", "tagged", "source",
                      "oof_probability", "terms"]


def make_tagger(codebook: Codebook, seed: int = 0, cv_folds: int = 5,
                tag_threshold: float | None = None, min_domains: int = 1) -> DomainTagger:
    """The tagger a run uses: ``tag_threshold`` None means per-domain thresholds chosen by
    cross-validation, a number is every domain's threshold."""
    return DomainTagger(codebook=codebook, random_state=seed, cv_folds=cv_folds,
                        threshold="cv" if tag_threshold is None else float(tag_threshold),
                        min_domains=min_domains)


def out_of_fold(tagger: DomainTagger, texts: list[str], Y: np.ndarray, cv_folds: int,
                seed: int, method: str = "predict") -> np.ndarray:
    """Each coded study's ``predict`` (0/1 tags) or ``predict_proba`` from a copy of
    ``tagger`` that did not see it. Folds are stratified on every domain. With fewer than two
    studies: tags 0, probabilities NaN."""
    folds = min(cv_folds, len(texts))
    if folds < 2:
        return np.zeros(Y.shape, dtype=int) if method == "predict" else np.full(Y.shape, np.nan)
    splitter = MultilabelStratifiedKFold(folds, random_state=seed)
    return cross_val_predict(clone(tagger).set_params(random_state=seed), list(texts), Y,
                             cv=splitter, method=method)


def coded_texts(corpus: ValidatedCorpus) -> tuple[pd.DataFrame, list[str]]:
    """The reference codes (studies x domains) and the texts of those studies."""
    coded = coded_matrix(corpus)
    included = corpus.included.set_index("study_id")
    return coded, study_texts(included.loc[list(coded.index)].reset_index())


def evaluation_gap(corpus: ValidatedCorpus, cv_folds: int) -> str | None:
    """Why the tagger cannot be cross-validated yet (one sentence), or None if it can."""
    n = len(coded_matrix(corpus))
    if n < cv_folds:
        return (f"There is no cross-validated evaluation yet: {n} included "
                f"stud{'y has' if n == 1 else 'ies have'} reference codes and "
                f"{cv_folds}-fold cross-validation needs at least {cv_folds}; the tags below "
                "come from the codebook" + (" and those codes." if n else " alone."))
    return None


def cross_validate_tagger(corpus: ValidatedCorpus, cv_folds: int = 5, cv_repeats: int = 3,
                          seed: int = 0, tag_threshold: float | None = None,
                          min_domains: int = 1) -> pd.DataFrame:
    """Repeated stratified k-fold cross-validation against the reference codes.

    Each repeat predicts every coded study once from a model that did not see it (the same
    tagger a run uses, thresholds chosen inside the training folds); metrics are computed
    per repeat and averaged. Columns: domain, support, precision, recall, f1, kappa, f1_sd
    (the standard deviation of F1 between repeats); rows: domains, macro, micro.
    """
    coded, texts = coded_texts(corpus)
    Y = coded.to_numpy()
    if len(Y) < cv_folds:
        raise ValueError(evaluation_gap(corpus, cv_folds))
    results = []
    for repeat in range(cv_repeats):
        tagger = make_tagger(corpus.codebook, seed + repeat, cv_folds, tag_threshold,
                             min_domains)
        pred = out_of_fold(tagger, texts, Y, cv_folds, seed + repeat)
        frame = pd.DataFrame(pred, index=coded.index, columns=coded.columns)
        results.append(compare_matrices(frame, coded).set_index("domain"))
    mean = sum(r[METRICS] for r in results) / len(results)
    mean.insert(0, "support", results[0]["support"])
    f1 = np.array([r["f1"].to_numpy(dtype=float) for r in results])
    mean["f1_sd"] = f1.std(axis=0)  # spread of F1 between repeats (0 with one repeat)
    return mean.reset_index()


def compare_coders(corpus: ValidatedCorpus) -> pd.DataFrame:
    """Each human coder against the reference codes (long: coder, domain, metrics)."""
    reference = reference_coder(corpus.codes)
    domains = corpus.codebook.domain_ids
    truth = coded_matrix(corpus)
    frames = []
    for coder in sorted(set(corpus.codes["coder"]) - {reference}):
        matrix = code_matrix(corpus.codes, coder, domains)
        matrix = matrix[matrix.index.isin(truth.index)]
        if len(matrix):
            frames.append(compare_matrices(matrix, truth).assign(coder=coder))
    if not frames:
        return pd.DataFrame(columns=["coder", "domain", "support", *METRICS])
    return pd.concat(frames, ignore_index=True)[["coder", "domain", "support", *METRICS]]


def model_vs_coders(model_scores: pd.DataFrame, coder_scores: pd.DataFrame) -> pd.DataFrame:
    """One row per domain: the model's scores (from :func:`cross_validate_tagger`) beside
    each coder's F1 and kappa."""
    table = model_scores[["domain", "support", *METRICS, "f1_sd"]].rename(
        columns={name: f"model_{name}" for name in [*METRICS, "f1_sd"]})
    for coder, scores in coder_scores.groupby("coder", sort=True):
        table = table.merge(scores[["domain", "f1", "kappa"]].rename(
            columns={"f1": f"coder_{coder}_f1", "kappa": f"coder_{coder}_kappa"}),
            on="domain", how="left")
    return table


def learning_curve_sizes(n_coded: int, cv_folds: int) -> list[int]:
    """Training-set sizes for the learning curve: 0 (codebook only), 5, 10, 20, 40 where
    smaller than a training fold, and a full training fold."""
    train_max = n_coded - n_coded // cv_folds
    return sorted({0, *[s for s in (5, 10, 20, 40) if s < train_max], train_max})


def learning_curve(corpus: ValidatedCorpus, sizes: list[int], cv_folds: int = 5,
                   cv_repeats: int = 3, seed: int = 0, tag_threshold: float | None = None,
                   min_domains: int = 1) -> pd.DataFrame:
    """Macro- and micro-F1 on held-out studies against the number of coded training studies.

    The folds are those of :func:`cross_validate_tagger`; each training fold is subsampled
    (seeded) to the size. Size 0 is the codebook-only tagger. Columns: n_coded, macro_f1,
    micro_f1.
    """
    coded, texts = coded_texts(corpus)
    Y = coded.to_numpy()
    texts_arr = np.array(texts, dtype=object)
    rows = []
    for size in sizes:
        macro, micro = [], []
        for repeat in range(cv_repeats):
            rng = np.random.default_rng(seed + repeat)
            pred = np.zeros(Y.shape, dtype=int)
            splitter = MultilabelStratifiedKFold(cv_folds, random_state=seed + repeat)
            for train, test in splitter.split(texts_arr, Y):
                train = np.sort(rng.choice(train, size=min(size, len(train)), replace=False))
                model = make_tagger(corpus.codebook, seed + repeat, cv_folds, tag_threshold,
                                    min_domains).fit(list(texts_arr[train]), Y[train])
                pred[test] = model.predict(list(texts_arr[test]))
            frame = pd.DataFrame(pred, index=coded.index, columns=coded.columns)
            scores = compare_matrices(frame, coded).set_index("domain")["f1"]
            macro.append(scores["macro"])
            micro.append(scores["micro"])
        rows.append({"n_coded": size, "macro_f1": float(np.mean(macro)),
                     "micro_f1": float(np.mean(micro))})
    return pd.DataFrame(rows)


@dataclass
class TaggedStudies:
    """Tags of every included study: human codes where they exist, the model's elsewhere."""

    predictions: pd.DataFrame  # PREDICTION_COLUMNS, one row per study and domain
    model: DomainTagger
    coded_ids: list[str]
    uncoded_ids: list[str]
    thresholds: dict[str, float]  # the threshold each domain's model tags were cut at


def tag_studies(corpus: ValidatedCorpus, seed: int = 0, cv_folds: int = 5,
                tag_threshold: float | None = None, min_domains: int = 1) -> TaggedStudies:
    """Train on the reference codes; tag every included study and domain.

    Coded studies keep their human codes (with the model's out-of-fold probability beside
    them); the others get the model's :meth:`~DomainTagger.predict`, so predictions,
    evaluation and the model agree.
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
    coded_list = [texts[s] for s in coded_ids]
    model = make_tagger(codebook, seed, cv_folds, tag_threshold, min_domains)
    oof = out_of_fold(model, coded_list, Y, cv_folds, seed, method="predict_proba")
    model.fit(coded_list, Y)
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
        features = model.transform([texts[s] for s in uncoded_ids])
        proba = model.predict_proba_features(features)
        tagged = assign_tags(proba, model.thresholds_, model.min_domains)
        explained = model.explain_features(features, tagged.astype(bool))
        frames.append(pd.DataFrame({
            "study_id": np.repeat(uncoded_ids, len(domains)),
            "domain": np.tile(domains, len(uncoded_ids)),
            "probability": proba.ravel(),
            "tagged": tagged.ravel(),
            "source": "model",
            "oof_probability": np.nan,
            "terms": ["; ".join(cell) for row in explained for cell in row],
        }))
    predictions = pd.concat(frames, ignore_index=True) if frames else \
        pd.DataFrame(columns=PREDICTION_COLUMNS)
    order = {d: i for i, d in enumerate(domains)}
    predictions = predictions.sort_values(["study_id", "domain"], key=lambda s: s.map(order)
                                          if s.name == "domain" else s, kind="stable",
                                          ignore_index=True)
    return TaggedStudies(predictions[PREDICTION_COLUMNS], model, coded_ids, uncoded_ids,
                         dict(zip(domains, map(float, model.thresholds_))))


def check_these(tagged: TaggedStudies, n: int = 20) -> pd.DataFrame:
    """Coded studies where the out-of-fold model disagrees most with the human code."""
    human = tagged.predictions[tagged.predictions["source"] == "human"].dropna(
        subset=["oof_probability"])
    gap = (human["tagged"] - human["oof_probability"]).abs()
    table = human.assign(disagreement=gap, human_code=human["tagged"])
    table = table.sort_values(["disagreement", "study_id", "domain"],
                              ascending=[False, True, True], kind="stable")
    return table[table["disagreement"] >= 0.5].head(n)[
        ["study_id", "domain", "human_code", "oof_probability", "disagreement"]
    ].reset_index(drop=True)


def code_next(tagged: TaggedStudies, n: int = 20) -> pd.DataFrame:
    """Uncoded studies ranked by how unsure the model is about them.

    A study-domain's uncertainty is 1 where its probability sits on the domain's threshold
    and falls to 0 at the far end of the 0-1 scale; a study's is the mean over domains.
    Columns: study_id, uncertainty, most_uncertain_domain.
    """
    model_rows = tagged.predictions[tagged.predictions["source"] == "model"]
    if model_rows.empty:
        return pd.DataFrame(columns=["study_id", "uncertainty", "most_uncertain_domain"])
    cut = model_rows["domain"].map(tagged.thresholds).to_numpy(dtype=float)
    probability = model_rows["probability"].to_numpy(dtype=float)
    table = model_rows.assign(uncertainty=uncertainty(probability, cut))
    summary = table.groupby("study_id", sort=True).agg(
        uncertainty=("uncertainty", "mean"))
    worst = table.sort_values(["study_id", "uncertainty", "domain"],
                              ascending=[True, False, True]).groupby("study_id").first()
    summary["most_uncertain_domain"] = worst["domain"]
    return summary.reset_index().sort_values(["uncertainty", "study_id"],
                                             ascending=[False, True],
                                             kind="stable").head(n).reset_index(drop=True)


def uncertainty(probability: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """1 where a probability sits on its threshold, falling to 0 at the far end of the
    0-1 scale (on either side of the threshold)."""
    room = np.where(probability >= cut, 1.0 - cut, cut)  # distance from the cut to the end
    distance = np.abs(probability - cut)
    certainty = np.divide(distance, room, out=np.ones_like(distance), where=room > 0)
    return 1.0 - np.clip(certainty, 0.0, 1.0)


def rank_for_coding(corpus: ValidatedCorpus, study_ids: list[str], seed: int = 0,
                    cv_folds: int = 5, tag_threshold: float | None = None,
                    min_domains: int = 1) -> pd.DataFrame:
    """The studies ``study_ids`` (any status) in "what to code next" order, most uncertain
    first, with the model's tags and probabilities.

    The tagger learns from the reference codes (the codebook alone when there are none),
    as :func:`tag_studies` does. Columns: study_id, uncertainty, suggested_domains (ids
    joined by ``;``), ``p_<domain>`` for each domain.
    """
    codebook: Codebook = corpus.codebook
    domains = codebook.domain_ids
    coded, coded_list = coded_texts(corpus)
    Y = coded[domains].to_numpy() if len(coded) else np.zeros((0, len(domains)), dtype=int)
    model = make_tagger(codebook, seed, cv_folds, tag_threshold, min_domains)
    model.fit(coded_list, Y)
    records = corpus.records.set_index("study_id").loc[list(study_ids)].reset_index()
    if not len(records):
        return pd.DataFrame(columns=["study_id", "uncertainty", "suggested_domains",
                                     *(f"p_{d}" for d in domains)])
    proba = model.predict_proba(study_texts(records))
    tags = assign_tags(proba, model.thresholds_, model.min_domains)
    cut = np.broadcast_to(np.asarray(model.thresholds_, dtype=float), proba.shape)
    table = pd.DataFrame({
        "study_id": records["study_id"].tolist(),
        "uncertainty": uncertainty(proba, cut).mean(axis=1),
        "suggested_domains": [";".join(d for d, t in zip(domains, row) if t) for row in tags],
        **{f"p_{d}": proba[:, j] for j, d in enumerate(domains)},
    })
    return table.sort_values(["uncertainty", "study_id"], ascending=[False, True],
                             kind="stable", ignore_index=True)
