"""How far the tagger agrees with the human coders: repeated cross-validation, a learning
curve, the coders' own agreement beside it, and the lists a reviewer acts on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trustreview.agreement import code_matrix, compare_matrices
from trustreview.review import TaggedStudies, coded_matrix, out_of_fold, reference_coder
from trustreview.tagging import study_texts
from trustreview.validate import ValidatedCorpus

METRICS = ["precision", "recall", "f1", "kappa"]


def _coded_texts(corpus: ValidatedCorpus) -> tuple[pd.DataFrame, np.ndarray]:
    coded = coded_matrix(corpus)
    included = corpus.included.set_index("study_id")
    texts = np.array(study_texts(included.loc[list(coded.index)].reset_index()), dtype=object)
    return coded, texts


def _oof_predictions(corpus, texts, Y, folds, seed, train_size=None, **tagger_params):
    params = {"codebook": corpus.codebook, "cv_folds": folds, **tagger_params}
    return out_of_fold(params, list(texts), Y, folds, seed, train_size)[1]


def cross_validate_tagger(corpus: ValidatedCorpus, folds: int = 5, repeats: int = 3,
                          seed: int = 0, **tagger_params) -> pd.DataFrame:
    """Repeated stratified k-fold cross-validation against the reference codes.

    Folds are stratified on every domain at once (iterative stratification), so each test
    fold holds its share of a rare domain's studies. Each repeat predicts every coded study
    once from a model that did not see it (thresholds chosen inside the training folds);
    metrics are computed per repeat and averaged.
    Columns: domain, support, precision, recall, f1, kappa, f1_sd (the standard deviation of
    F1 between repeats); rows: domains, macro, micro.
    """
    coded, texts = _coded_texts(corpus)
    Y = coded.to_numpy()
    if len(Y) < folds:
        raise ValueError(f"cross-validation needs at least {folds} coded studies; "
                         f"there are {len(Y)}")
    results = []
    for repeat in range(repeats):
        pred = _oof_predictions(corpus, texts, Y, folds, seed + repeat, **tagger_params)
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


def learning_curve(corpus: ValidatedCorpus, sizes: list[int], folds: int = 5,
                   repeats: int = 3, seed: int = 0, **tagger_params) -> pd.DataFrame:
    """Macro- and micro-F1 on held-out studies against the number of coded training studies.

    Size 0 is the codebook-only tagger. Columns: n_coded, macro_f1, micro_f1.
    """
    coded, texts = _coded_texts(corpus)
    Y = coded.to_numpy()
    rows = []
    for size in sizes:
        macro, micro = [], []
        for repeat in range(repeats):
            pred = _oof_predictions(corpus, texts, Y, folds, seed + repeat, train_size=size,
                                    **tagger_params)
            frame = pd.DataFrame(pred, index=coded.index, columns=coded.columns)
            scores = compare_matrices(frame, coded).set_index("domain")["f1"]
            macro.append(scores["macro"])
            micro.append(scores["micro"])
        rows.append({"n_coded": size, "macro_f1": float(np.mean(macro)),
                     "micro_f1": float(np.mean(micro))})
    return pd.DataFrame(rows)


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
    room = np.where(probability >= cut, 1.0 - cut, cut)  # distance from the cut to the end
    distance = np.abs(probability - cut)
    certainty = np.divide(distance, room, out=np.ones_like(distance), where=room > 0)
    table = model_rows.assign(uncertainty=1.0 - np.clip(certainty, 0.0, 1.0))
    summary = table.groupby("study_id", sort=True).agg(
        uncertainty=("uncertainty", "mean"))
    worst = table.sort_values(["study_id", "uncertainty", "domain"],
                              ascending=[True, False, True]).groupby("study_id").first()
    summary["most_uncertain_domain"] = worst["domain"]
    return summary.reset_index().sort_values(["uncertainty", "study_id"],
                                             ascending=[False, True],
                                             kind="stable").head(n).reset_index(drop=True)
