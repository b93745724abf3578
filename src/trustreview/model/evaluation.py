"""Tagging the corpus and measuring the tagger against the human coders: out-of-fold
predictions (the one fold loop, :func:`trustreview.model.folds.out_of_fold`), repeated
cross-validation, a learning curve, the coders' own agreement beside it, and the lists a
reviewer acts on.

Every function takes the tagging settings by the names :class:`~trustreview.run.params.Params`
uses: ``seed``, ``cv_folds``, ``cv_repeats``, ``tag_threshold``, ``min_domains``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone

from trustreview.model.agreement import code_matrix, coded_matrix, compare_matrices, reference_coder
from trustreview.io.codebook import Codebook
from trustreview.model.folds import out_of_fold
from trustreview.model.decision import assign_tags
from trustreview.model.tagging import DomainTagger, study_texts
from trustreview.corpus.validate import ValidatedCorpus
from trustreview.schema import CHECK_DOMAINS, SUGGESTED_DOMAINS

METRICS = ["precision", "recall", "f1", "kappa"]
PREDICTION_COLUMNS = ["study_id", "domain", "probability", "tagged", "source", "band",
                      "oof_probability", "terms"]
TARGET_F1 = 0.95  # "as good as a second human coder": coders score 0.95-0.98


def make_tagger(codebook: Codebook, seed: int = 0, cv_folds: int = 5,
                tag_threshold: float | None = None, min_domains: int = 1) -> DomainTagger:
    """The tagger a run uses: ``tag_threshold`` None means per-domain thresholds chosen by
    cross-validation, a number is every domain's threshold."""
    return DomainTagger(codebook=codebook, random_state=seed, cv_folds=cv_folds,
                        threshold="cv" if tag_threshold is None else float(tag_threshold),
                        min_domains=min_domains)


def out_of_fold_predictions(tagger: DomainTagger, texts: list[str], Y: np.ndarray,
                            cv_folds: int, seed: int, method: str = "predict") -> np.ndarray:
    """Each coded study's ``predict`` (0/1 tags) or ``predict_proba`` from a copy of
    ``tagger`` that did not see it. Folds are stratified on every domain. With fewer than two
    studies: tags 0, probabilities NaN."""
    folds = min(cv_folds, len(texts))
    if folds < 2:
        return np.zeros(Y.shape, dtype=int) if method == "predict" else np.full(Y.shape, np.nan)
    texts = list(texts)

    def predict(train, test):
        model = clone(tagger).set_params(random_state=seed)
        model.fit([texts[i] for i in train], Y[train])
        return getattr(model, method)([texts[i] for i in test])

    return out_of_fold(predict, Y, folds, seed)


def out_of_fold_decisions(tagger: DomainTagger, texts: list[str], Y: np.ndarray,
                          cv_folds: int, seed: int):
    """Each coded study's probabilities, tags, ``sure`` flags and thresholds from a copy of
    ``tagger`` fitted without it, each fold with its own thresholds and band edges (the
    folds of :func:`out_of_fold_predictions`). With fewer than two studies: NaN, 0, False, 0.5."""
    folds = min(cv_folds, len(texts))
    if folds < 2:
        return np.full(Y.shape, np.nan), np.zeros(Y.shape, dtype=int), \
            np.zeros(Y.shape, dtype=bool), np.full(Y.shape, 0.5)
    texts = list(texts)

    def decide(train, test):
        model = clone(tagger).set_params(random_state=seed)
        model.fit([texts[i] for i in train], Y[train])
        p = model.predict_proba([texts[i] for i in test])
        t = assign_tags(p, model.thresholds_, model.min_domains)
        return p, t, model.sure(p, t), np.tile(model.thresholds_, (len(test), 1))

    return out_of_fold(decide, Y, folds, seed)


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


def repeated_predictions(corpus: ValidatedCorpus, cv_folds: int = 5, cv_repeats: int = 3,
                         seed: int = 0, tag_threshold: float | None = None,
                         min_domains: int = 1) -> list[np.ndarray]:
    """For each repeat (seed ``seed + repeat``), every coded study's 0/1 tags (studies x
    domains, in the order of :func:`coded_texts`) from the run's tagger fitted on the other
    folds: what :func:`cross_validate_tagger` scores, and the full-size point of
    :func:`learning_curve`, which can be given them instead of fitting the same models again."""
    coded, texts = coded_texts(corpus)
    Y = coded.to_numpy()
    if len(Y) < cv_folds:
        raise ValueError(evaluation_gap(corpus, cv_folds))
    return [out_of_fold_predictions(make_tagger(corpus.codebook, seed + repeat, cv_folds,
                                                tag_threshold, min_domains),
                                    texts, Y, cv_folds, seed + repeat)
            for repeat in range(cv_repeats)]


def cross_validate_tagger(corpus: ValidatedCorpus, cv_folds: int = 5, cv_repeats: int = 3,
                          seed: int = 0, tag_threshold: float | None = None,
                          min_domains: int = 1,
                          predictions: list[np.ndarray] | None = None) -> pd.DataFrame:
    """Repeated stratified k-fold cross-validation against the reference codes.

    Each repeat predicts every coded study once from a model that did not see it (the same
    tagger a run uses, thresholds chosen inside the training folds); metrics are computed
    per repeat and averaged. Columns: domain, support, precision, recall, f1, kappa, f1_sd
    (the standard deviation of F1 between repeats); rows: domains, macro, micro.
    ``predictions``: :func:`repeated_predictions` of the same arguments, if already made.
    """
    if predictions is None:
        predictions = repeated_predictions(corpus, cv_folds, cv_repeats, seed, tag_threshold,
                                           min_domains)
    coded = coded_matrix(corpus)
    results = [compare_matrices(pd.DataFrame(pred, index=coded.index, columns=coded.columns),
                                coded).set_index("domain") for pred in predictions]
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
                   min_domains: int = 1,
                   predictions: list[np.ndarray] | None = None) -> pd.DataFrame:
    """Macro- and micro-F1 on held-out studies against the number of coded training studies.

    The folds are those of :func:`cross_validate_tagger`; each training fold is subsampled
    (seeded) to the size. Size 0 is the codebook-only tagger. A fold whose training studies
    are no more than the size is used whole: with ``predictions`` (:func:`repeated_predictions`
    of the same arguments) its studies' tags are taken from there, the same model's.
    Columns: n_coded, macro_f1, micro_f1.
    """
    coded, texts = coded_texts(corpus)
    Y = coded.to_numpy()
    texts_arr = np.array(texts, dtype=object)
    rows = []
    for size in sizes:
        macro, micro = [], []
        for repeat in range(cv_repeats):
            rng = np.random.default_rng(seed + repeat)

            def predict(train, test, repeat=repeat, rng=rng):
                whole = size >= len(train)
                # drawn even when whole: the draws of the folds after it stay the same
                train = np.sort(rng.choice(train, size=min(size, len(train)), replace=False))
                if whole and predictions is not None:
                    return predictions[repeat][test]
                model = make_tagger(corpus.codebook, seed + repeat, cv_folds, tag_threshold,
                                    min_domains).fit(list(texts_arr[train]), Y[train])
                return model.predict(list(texts_arr[test]))

            pred = out_of_fold(predict, Y, cv_folds, seed + repeat)
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
    # out-of-fold decisions on the coded studies (coded_ids x domains), fold thresholds
    truth: np.ndarray | None = None
    oof_tags: np.ndarray | None = None
    oof_sure: np.ndarray | None = None
    oof_proba: np.ndarray | None = None
    oof_cut: np.ndarray | None = None  # each decision's fold threshold


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
    oof, oof_tags, oof_sure, oof_cut = out_of_fold_decisions(model, coded_list, Y, cv_folds,
                                                             seed)
    model.fit(coded_list, Y)
    frames = []
    if coded_ids:
        frames.append(pd.DataFrame({
            "study_id": [s for s in coded_ids for _ in domains],
            "domain": domains * len(coded_ids),
            "probability": Y.ravel().astype(float),
            "tagged": Y.ravel().astype(int),
            "source": "human",
            "band": "human",
            "oof_probability": oof.ravel(),
            "terms": "",
        }))
    if uncoded_ids:
        features = model.transform([texts[s] for s in uncoded_ids])
        proba = model.predict_proba_features(features)
        tagged = assign_tags(proba, model.thresholds_, model.min_domains)
        sure = model.sure(proba, tagged)
        terms = [""] * tagged.size  # the terms behind each model tag, cell by cell
        for i, j, names in model.explain_cells(features, tagged.astype(bool)):
            terms[i * len(domains) + j] = "; ".join(names)
        frames.append(pd.DataFrame({
            "study_id": [s for s in uncoded_ids for _ in domains],
            "domain": domains * len(uncoded_ids),
            "probability": proba.ravel(),
            "tagged": tagged.ravel(),
            "source": "model",
            "band": ["sure" if s else "check" for s in sure.ravel().tolist()],
            "oof_probability": np.nan,
            "terms": terms,
        }))
    predictions = pd.concat(frames, ignore_index=True) if frames else \
        pd.DataFrame(columns=PREDICTION_COLUMNS)
    # by study (the included studies' order), each study's domains in codebook order as built
    rank = {sid: i for i, sid in enumerate(included["study_id"].tolist())}
    order = np.argsort(np.array([rank[s] for s in predictions["study_id"].tolist()],
                                dtype=np.int64), kind="stable")
    predictions = predictions.iloc[order].reset_index(drop=True)
    return TaggedStudies(predictions[PREDICTION_COLUMNS], model, coded_ids, uncoded_ids,
                         dict(zip(domains, map(float, model.thresholds_))), Y, oof_tags,
                         oof_sure, oof, oof_cut)


def check_these(tagged: TaggedStudies, n: int = 20) -> pd.DataFrame:
    """Coded studies whose out-of-fold model decision (each fold's own thresholds, as the
    bands use) differs from the human code, the largest disagreements first."""
    columns = ["study_id", "domain", "human_code", "oof_probability", "oof_band",
               "disagreement"]
    if tagged.oof_tags is None or not len(tagged.coded_ids) or \
            np.isnan(tagged.oof_proba).all():
        return pd.DataFrame(columns=columns)
    domains = list(tagged.thresholds)
    k = len(domains)
    table = pd.DataFrame({
        "study_id": np.repeat(tagged.coded_ids, k), "domain": np.tile(domains, len(
            tagged.coded_ids)),
        "human_code": tagged.truth.ravel().astype(int),
        "oof_probability": tagged.oof_proba.ravel(),
        "oof_tag": tagged.oof_tags.ravel(),
        "oof_band": np.where(tagged.oof_sure.ravel(), "sure", "check"),
    })
    table["disagreement"] = (table["human_code"] - table["oof_probability"]).abs()
    table = table[table["oof_tag"] != table["human_code"]]
    table = table.sort_values(["disagreement", "study_id", "domain"],
                              ascending=[False, True, True], kind="stable")
    return table.head(n)[columns].reset_index(drop=True)


def review_curve(truth: np.ndarray, tags: np.ndarray, order: np.ndarray) -> np.ndarray:
    """F1 of the final codes against ``truth`` after a reviewer has checked (and corrected)
    the first k decisions of ``order``, for k = 0..n (all arrays flat)."""
    truth = truth.astype(bool)[order]
    tags = tags.astype(bool)[order]
    tp0 = int((truth & tags).sum())
    fp0 = int((~truth & tags).sum())
    fn0 = int((truth & ~tags).sum())
    fixed_fn = np.r_[0, np.cumsum(truth & ~tags)]
    fixed_fp = np.r_[0, np.cumsum(~truth & tags)]
    tp = tp0 + fixed_fn
    wrong = (fp0 - fixed_fp) + (fn0 - fixed_fn)
    return np.divide(2 * tp, 2 * tp + wrong, out=np.ones(len(tp)), where=(2 * tp + wrong) > 0)


def work_saved(curve: np.ndarray, target: float = TARGET_F1) -> float:
    """The share of decisions left unchecked when the reviewer stops at the first point
    where F1 reaches ``target`` (``curve`` from :func:`review_curve`)."""
    n = len(curve) - 1
    reached = np.flatnonzero(curve >= target)
    return 1.0 - (reached[0] / n if len(reached) and n else 1.0)


def triage(tagged: TaggedStudies) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How far a reviewer can lean on the model, measured out of fold on the coded studies.

    ``triage``: per domain and overall, the decisions (study x domain), the share in the
    ``sure`` band, how often those agreed with the reconciled codes, the F1 of the model's
    decisions, and ``work_saved``: the share of decisions a reviewer can leave to the model
    while the final codes still reach F1 >= :data:`TARGET_F1`, checking the least certain
    first. ``curve``: F1 against the share of decisions checked (overall and per domain).
    """
    domains = list(tagged.thresholds)
    columns = ["domain", "decisions", "sure_share", "sure_agreement", "model_f1",
               "work_saved"]
    if tagged.oof_tags is None or not len(tagged.coded_ids) or \
            np.isnan(tagged.oof_proba).all():
        return pd.DataFrame(columns=columns), pd.DataFrame(
            columns=["share_checked", "domain", "f1"])
    truth, tags, sure = tagged.truth, tagged.oof_tags, tagged.oof_sure
    # least certain first (each fold's threshold, as code_next ranks), sure decisions last
    certainty = 1.0 - uncertainty(tagged.oof_proba, tagged.oof_cut) + sure.astype(float)
    rows, curves = [], []
    steps = np.linspace(0, 1, 21)

    def add(name, t, g, s, c):
        order = np.argsort(c.ravel(), kind="stable")
        curve = review_curve(t.ravel(), g.ravel(), order)
        n = t.size
        agree = (t.ravel() == g.ravel())[s.ravel()]
        tp = int((t.ravel().astype(bool) & g.ravel().astype(bool)).sum())
        f1 = 2 * tp / max(int(t.sum() + g.sum()), 1)
        rows.append({"domain": name, "decisions": n, "sure_share": float(s.mean()),
                     "sure_agreement": float(agree.mean()) if len(agree) else float("nan"),
                     "model_f1": f1, "work_saved": work_saved(curve)})
        curves.extend({"share_checked": float(x), "domain": name,
                       "f1": float(curve[int(round(x * n))])} for x in steps)

    for j, domain in enumerate(domains):
        add(domain, truth[:, [j]], tags[:, [j]], sure[:, [j]], certainty[:, [j]])
    add("overall", truth, tags, sure, certainty)
    return pd.DataFrame(rows, columns=columns), pd.DataFrame(curves)


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
    joined by ``;``), check_domains (the domains whose decision is in the ``check`` band),
    ``p_<domain>`` for each domain.
    """
    codebook: Codebook = corpus.codebook
    domains = codebook.domain_ids
    coded, coded_list = coded_texts(corpus)
    Y = coded[domains].to_numpy() if len(coded) else np.zeros((0, len(domains)), dtype=int)
    model = make_tagger(codebook, seed, cv_folds, tag_threshold, min_domains)
    model.fit(coded_list, Y)
    records = corpus.records.set_index("study_id").loc[list(study_ids)].reset_index()
    if not len(records):
        return pd.DataFrame(columns=["study_id", "uncertainty", SUGGESTED_DOMAINS,
                                     CHECK_DOMAINS, *(f"p_{d}" for d in domains)])
    proba = model.predict_proba(study_texts(records))
    tags = assign_tags(proba, model.thresholds_, model.min_domains)
    sure = model.sure(proba, tags)
    cut = np.broadcast_to(np.asarray(model.thresholds_, dtype=float), proba.shape)
    table = pd.DataFrame({
        "study_id": records["study_id"].tolist(),
        "uncertainty": uncertainty(proba, cut).mean(axis=1),
        SUGGESTED_DOMAINS: [";".join(d for d, t in zip(domains, row) if t) for row in tags],
        CHECK_DOMAINS: [";".join(d for d, ok in zip(domains, row) if not ok)
                          for row in sure],
        **{f"p_{d}": proba[:, j] for j, d in enumerate(domains)},
    })
    return table.sort_values(["uncertainty", "study_id"], ascending=[False, True],
                             kind="stable", ignore_index=True)
