"""The domain tagger: scikit-learn's estimator rules, codebook-only start, determinism, and a
different codebook end to end."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from conftest import REPO, make_corpus

from trustreview.io.codebook import parse_codebook
from trustreview.model.features import TextFeatures
from trustreview.model.decision import assign_tags, best_threshold
from trustreview.model.tagging import DomainTagger

SMALL = parse_codebook({"domains": [
    {"id": "money", "label": "Money", "definition": "Budgets and costs of school groups.",
     "signal_terms": ["budget", "cost", "funding", "finance"]},
    {"id": "people", "label": "People", "definition": "Teachers and staff of school groups.",
     "signal_terms": ["teachers", "staff", "turnover", "workload"]},
]})

TEXTS = ["Budget pressures and the cost of central services in trusts",
         "Teacher turnover and workload in charter networks",
         "Funding formulas and finance of school groups",
         "Staff retention and teachers' careers across schools",
         "Costs, reserves and budgets of academy chains",
         "Teachers' workload and staff wellbeing"]
Y = np.array([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [0, 1]])


def test_estimator_contract():
    model = DomainTagger(codebook=SMALL, random_state=3)
    assert model.get_params()["random_state"] == 3
    assert not any(k.endswith("_") for k in vars(model))  # __init__ only stores parameters
    assert model.fit(TEXTS, Y) is model
    assert model.thresholds_.shape == (2,) and model.n_coded_ == 6
    assert not hasattr(clone(model), "coef_")  # a clone is unfitted, with the same settings


def test_codebook_only_tagger_works_from_zero_codes():
    model = DomainTagger(codebook=SMALL).fit([], None)
    proba = model.predict_proba(["The budget and funding of the trust",
                                 "Teachers and staff turnover"])
    assert proba[0, 0] > proba[0, 1] and proba[1, 1] > proba[1, 0]


def test_learns_from_codes_and_is_deterministic():
    a = DomainTagger(codebook=SMALL, random_state=0).fit(TEXTS, Y)
    b = DomainTagger(codebook=SMALL, random_state=0).fit(TEXTS, Y)
    new = ["Reserves and procurement in chains", "Recruitment of teachers"]
    assert np.array_equal(a.predict_proba(new), b.predict_proba(new))
    assert a.predict(new).tolist() == [[1, 0], [0, 1]]
    assert "budget" in " ".join(a.top_terms(5).query("domain == 'money'")["term"])
    explained = str(a.explain("Budget and cost of services", "money"))
    assert "budget" in explained and "teachers" not in explained


def test_best_threshold_maximises_f1():
    assert best_threshold(np.array([0.1, 0.2, 0.8, 0.9]), np.array([0, 0, 1, 1])) == \
        pytest.approx(0.5)
    assert best_threshold(np.array([0.1, 0.3]), np.array([0, 0])) == 0.5


def every_cut(probabilities, truth):
    """The definition, by brute force: every cut between distinct probabilities (and one
    below them all), F1 by scikit-learn, the best one, ties to the cut nearest 0.5."""
    from sklearn.metrics import f1_score

    values = np.unique(probabilities)
    cuts = np.concatenate([[values[0] - 1e-9], (values[:-1] + values[1:]) / 2])
    scores = [f1_score(truth, probabilities >= c, zero_division=0.0) for c in cuts]
    best = max(scores)
    tied = [c for c, s in zip(cuts, scores) if abs(s - best) <= 1e-12]
    return min(tied, key=lambda c: (abs(c - 0.5), c))


def test_best_threshold_is_the_best_of_every_cut_with_ties_nearest_one_half():
    rng = np.random.default_rng(0)
    for _ in range(80):
        n = int(rng.integers(2, 30))
        probabilities = np.round(rng.random(n), int(rng.integers(1, 3)))  # ties included
        truth = (rng.random(n) < rng.random()).astype(int)
        if 0 < truth.sum() < n:
            assert best_threshold(probabilities, truth) == \
                pytest.approx(every_cut(probabilities, truth), abs=1e-12)


def test_platt_fit_is_scikit_learns_logistic_regression_on_platts_targets():
    from sklearn.linear_model import LogisticRegression

    from trustreview.model.decision import platt_fit

    rng = np.random.default_rng(1)
    for n, rate in ((30, 0.2), (200, 0.5), (80, 0.1)):
        truth = (rng.random(n) < rate).astype(int)
        truth[:2] = [0, 1]
        scores = np.clip(0.5 * truth + rng.normal(0.3, 0.2, n), 0, 1)
        positives, negatives = truth.sum(), n - truth.sum()
        target = np.where(truth == 1, (positives + 1) / (positives + 2), 1 / (negatives + 2))
        # a soft target t: the row counts as class 1 with weight t and as class 0 with 1 - t
        X = np.r_[scores, scores][:, None]
        y = np.r_[np.ones(n), np.zeros(n)]
        weight = np.r_[target, 1 - target]
        reference = LogisticRegression(C=1e4, tol=1e-12, max_iter=10_000).fit(
            X, y, sample_weight=weight)
        slope, intercept = platt_fit(scores, truth)
        assert slope == pytest.approx(reference.coef_[0, 0], abs=1e-4)
        assert intercept == pytest.approx(reference.intercept_[0], abs=1e-4)


def test_class_balanced_weights_are_scikit_learns():
    from sklearn.utils.class_weight import compute_sample_weight

    from trustreview.model.tagging import _balanced_weights

    rng = np.random.default_rng(2)
    for _ in range(50):
        n = int(rng.integers(2, 40))
        y = (rng.random(n) < rng.random()).astype(int)
        y[0], y[-1] = 0, 1
        weight = rng.random(n) + 0.5
        assert _balanced_weights(y, weight) == pytest.approx(
            weight * compute_sample_weight("balanced", y))


def test_tag_cli_writes_required_columns(tmp_path, cli):
    corpus, bib = make_corpus(tmp_path)
    codes = corpus / "codes.csv"
    kept = [l for l in codes.read_text().splitlines() if not l.startswith("ofsted2019mats")]
    codes.write_text("\n".join(kept) + "\n")
    out = tmp_path / "tags.csv"
    code, _, err = cli("tag", "--corpus", corpus, "--bib", bib, "--out", out)
    assert code == 0, err
    table = pd.read_csv(out)
    assert list(table.columns) == ["study_id", "domain", "probability", "tagged", "source",
                                   "band"]
    assert set(table["band"]) <= {"human", "sure", "check"}
    assert set(table.loc[table["source"] == "human", "band"]) == {"human"}
    assert len(table) == 7 * 7  # every included study and domain
    assert set(table.loc[table["study_id"] == "ofsted2019mats", "source"]) == {"model"}
    first = out.read_bytes()
    cli("tag", "--corpus", corpus, "--bib", bib, "--out", out)
    assert out.read_bytes() == first


@pytest.mark.slow
def test_a_different_codebook_end_to_end(tmp_path, cli):
    corpus, bib = make_corpus(tmp_path)
    (corpus / "codebook.yml").write_text(
        "domains:\n"
        "  - id: money\n    label: Money\n    definition: Budgets and costs.\n"
        "    signal_terms: [budget, cost, finance]\n"
        "  - id: people\n    label: People\n    definition: Teachers and staff.\n"
        "    signal_terms: [teachers, staff, workforce]\n", encoding="utf-8")
    codes = "study_id,coder,domain\n" + "".join(
        f"{sid},reconciled,{dom}\n" for sid, dom in [
            ("townsleyeconomic", "money"), ("ofsted2019mats", "money"),
            ("ofsted2019mats", "people"), ("torres2016workload", "people"),
            ("hutchings2018chain", "none"), ("greany2018hierarchy", "none")])
    (corpus / "codes.csv").write_text(codes, encoding="utf-8")
    code, _, err = cli("validate", "--corpus", corpus, "--bib", bib)
    assert code == 0, err
    out = tmp_path / "out"
    code, _, err = cli("run", "--corpus", corpus, "--bib", bib, "--out", out,
                       "--notebooks", REPO / "notebooks",
                       "-p", "cv_repeats", "1", "-p", "cv_folds", "2")
    assert code == 0, err
    table = pd.read_csv(out / "tables" / "domain_by_country.csv")
    assert table["domain"].tolist() == ["money", "people", "total"]
    # the two human-coded English money studies, plus any the model tagged
    tags = pd.read_csv(out / "tables" / "predictions.csv")
    money = set(tags.query("domain == 'money' and tagged == 1")["study_id"])
    assert {"townsleyeconomic", "ofsted2019mats"} <= money
    studies = pd.read_csv(corpus / "studies.csv").set_index("study_id")
    english = sum(studies.loc[sid, "country"] == "England" for sid in money)
    assert table.set_index("domain").loc["money", "England"] == english >= 2


def test_a_domain_with_too_few_codes_borrows_the_pooled_threshold(monkeypatch):
    import trustreview.model.decision as decision

    # three positives per domain: enough for three inner folds, too few for five
    estimated = DomainTagger(codebook=SMALL, cv_folds=3, random_state=0).fit(TEXTS, Y).thresholds_
    assert estimated[0] != estimated[1]  # each domain its own
    calls = []

    def recording(probabilities, truth):
        calls.append((len(truth), best_threshold(probabilities, truth)))
        return calls[-1][1]

    monkeypatch.setattr(decision, "best_threshold", recording)
    model = DomainTagger(codebook=SMALL, cv_folds=5, random_state=0).fit(TEXTS, Y)
    pooled = [value for size, value in calls if size == Y.size]  # every domain's scores
    assert len(pooled) == 1
    assert model.thresholds_.tolist() == [pooled[0], pooled[0]]
    # with no positive study at all there is nothing to estimate from
    none = DomainTagger(codebook=SMALL, cv_folds=5, random_state=0).fit(TEXTS, np.zeros_like(Y))
    assert none.thresholds_.tolist() == [0.5, 0.5]


def test_every_study_gets_at_least_min_domains_by_margin_over_threshold():
    scores = np.array([[0.9, 0.2, 0.1],    # passes one threshold
                       [0.3, 0.45, 0.1],   # passes none: 0.45 is nearest its threshold
                       [0.1, 0.1, 0.1]])   # passes none: a tie goes to the first domain
    thresholds = np.array([0.5, 0.5, 0.2])
    assert assign_tags(scores, thresholds, 0).tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 0]]
    assert assign_tags(scores, thresholds, 1).tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert assign_tags(scores, thresholds, 2).tolist() == [[1, 0, 1], [0, 1, 1], [1, 0, 1]]
    assert assign_tags(scores, thresholds, 9).tolist() == [[1, 1, 1]] * 3
    assert assign_tags(np.zeros((0, 3)), thresholds, 1).shape == (0, 3)


def test_a_codebook_only_tagger_tags_every_study_unless_told_not_to():
    from trustreview.io.load import read_codebook

    codebook = read_codebook(REPO / "corpus" / "codebook.yml")
    texts = ["An account of the weather in the north",
             "Budget and funding cuts: costs, reserves and deficits of academy trusts"]
    strict = DomainTagger(codebook=codebook, min_domains=0).fit([], None)
    lenient = DomainTagger(codebook=codebook).fit([], None)
    assert strict.predict(texts)[0].sum() == 0  # no domain's threshold is reached
    assert lenient.predict(texts)[0].sum() == 1  # its best domain is added
    assert strict.predict(texts)[1].tolist() == [0, 0, 0, 0, 0, 1, 0]  # finance
    assert lenient.predict(texts)[1].tolist() == [0, 0, 0, 0, 0, 1, 0]


def test_code_next_ranks_by_closeness_to_each_domains_threshold():
    from trustreview.model.evaluation import code_next
    from trustreview.model.evaluation import TaggedStudies

    predictions = pd.DataFrame({
        "study_id": ["a", "b", "c"], "domain": ["money"] * 3,
        "probability": [0.5, 0.31, 0.99], "tagged": [1, 1, 1], "source": "model",
        "oof_probability": np.nan, "terms": ""})
    tagged = TaggedStudies(predictions, None, [], ["a", "b", "c"], {"money": 0.3})
    table = code_next(tagged)
    # b sits on the threshold; a is at 0.5, well above it; c is nearly certain
    assert table["study_id"].tolist() == ["b", "a", "c"]
    assert table["uncertainty"].tolist() == pytest.approx([1 - 0.01 / 0.7, 1 - 0.2 / 0.7,
                                                           1 - 0.69 / 0.7])
    assert table["most_uncertain_domain"].tolist() == ["money"] * 3


def test_uncoded_studies_are_tagged_explained_and_ranked_for_coding(tmp_path):
    from trustreview.model.evaluation import check_these, code_next
    from trustreview.model.evaluation import tag_studies
    from trustreview.corpus.validate import open_corpus

    corpus_dir, bib = make_corpus(tmp_path)
    uncoded = {"baxter2021governing", "ofsted2019mats", "torres2016workload"}
    codes = corpus_dir / "codes.csv"
    lines = codes.read_text().splitlines()
    codes.write_text("\n".join(l for l in lines if l.split(",")[0] not in uncoded) + "\n")
    tagged = tag_studies(open_corpus(corpus_dir, bib), cv_folds=3)
    assert set(tagged.uncoded_ids) == uncoded
    model_rows = tagged.predictions.query("source == 'model'")
    assert set(model_rows["study_id"]) == uncoded
    assert (model_rows.groupby("study_id")["tagged"].sum() >= 1).all()  # min_domains=1
    assert (model_rows.loc[model_rows["tagged"] == 1, "terms"] != "").all()
    ranked = code_next(tagged)
    assert set(ranked["study_id"]) == uncoded
    assert ranked["uncertainty"].between(0, 1).all()
    assert ranked["uncertainty"].is_monotonic_decreasing
    assert not set(check_these(tagged)["study_id"]) & uncoded


def coded_ids(corpus) -> list[str]:
    from trustreview.model.agreement import coded_matrix

    return list(coded_matrix(corpus).index)


def test_cross_validation_beats_tagging_everything_and_reports_its_spread(bundled):
    from trustreview.model.evaluation import compare_coders, cross_validate_tagger, model_vs_coders

    corpus = bundled
    scores = cross_validate_tagger(corpus, cv_folds=5, cv_repeats=2, seed=0).set_index("domain")
    domains = corpus.codebook.domain_ids
    assert list(scores.index) == [*domains, "macro", "micro"]
    n = len(coded_ids(corpus))  # coded, included studies
    support = scores.loc[domains, "support"]
    everything = (2 * support / (support + n)).mean()  # F1 of tagging every study
    assert scores.loc["macro", "f1"] > everything + 0.2
    assert (scores["f1_sd"] >= 0).all() and scores["f1_sd"].max() < 0.2
    again = cross_validate_tagger(corpus, cv_folds=5, cv_repeats=2, seed=0).set_index("domain")
    pd.testing.assert_frame_equal(scores, again)
    one = cross_validate_tagger(corpus, cv_folds=5, cv_repeats=1, seed=0)
    assert (one["f1_sd"] == 0).all()
    table = model_vs_coders(scores.reset_index(), compare_coders(corpus))
    assert {"model_f1", "model_f1_sd", "coder_A_f1", "coder_B_kappa"} <= set(table.columns)


def test_the_curves_whole_folds_reuse_the_cross_validations_models(bundled):
    """pipeline.tag fits the cross-validation's models once and gives them to the learning
    curve for the folds it uses whole: the curve and the scores are those made without."""
    from trustreview.model import evaluation

    settings = {"cv_folds": 5, "cv_repeats": 2, "seed": 0}
    full = evaluation.repeated_predictions(bundled, **settings)
    # training folds of 84, 88, 87, 86, 87 and 86, 85, 87, 87, 87 studies: at 86, some are
    # used whole (their tags taken from ``full``), some subsampled, one after a whole one
    sizes = [86]
    pd.testing.assert_frame_equal(
        evaluation.learning_curve(bundled, sizes, predictions=full, **settings),
        evaluation.learning_curve(bundled, sizes, **settings))
    scores = evaluation.cross_validate_tagger(bundled, predictions=full, **settings)
    assert list(scores["domain"]) == [*bundled.codebook.domain_ids, "macro", "micro"]


def test_platt_fit_maps_scores_to_the_chance_of_a_code():
    from trustreview.model.decision import platt_fit

    scores = np.linspace(0, 1, 20)
    truth = (scores > 0.6).astype(int)
    slope, intercept = platt_fit(scores, truth)
    assert slope > 0
    chance = 1 / (1 + np.exp(-(slope * np.array([0.1, 0.6, 0.95]) + intercept)))
    assert chance[0] < 0.1 < chance[1] < chance[2] and chance[2] > 0.8
    assert np.isnan(platt_fit(scores, np.zeros(20, dtype=int))).all()  # nothing to fit
    assert np.isnan(platt_fit(scores, 1 - truth)).all()  # higher score, fewer codes


def test_probabilities_match_how_often_domains_are_coded(bundled, bundled_codes):
    # out of fold, the mean probability of each domain is close to its share of coded
    # studies: a probability, not just a score (the raw scores overshot by up to 0.06)
    from trustreview.model.evaluation import make_tagger, out_of_fold_predictions
    from trustreview.model.tagging import study_texts

    corpus = bundled
    included = corpus.included.set_index("study_id").loc[list(bundled_codes.index)]
    Y = bundled_codes.to_numpy()
    proba = out_of_fold_predictions(make_tagger(corpus.codebook), study_texts(included.reset_index()),
                        Y, 5, 0, method="predict_proba")
    assert np.abs(proba.mean(axis=0) - Y.mean(axis=0)).max() < 0.04
    codebook_only = DomainTagger(codebook=corpus.codebook).fit([], None)
    assert np.isnan(codebook_only.calibration_).all()


def test_the_exact_ridge_solution_matches_scikit_learns_ridge_classifier(monkeypatch):
    # small corpora are solved exactly from the Gram matrix; large ones by RidgeClassifier:
    # both must give the same model
    import trustreview.model.tagging as tagging

    dual = DomainTagger(codebook=SMALL, cv_folds=3, random_state=0).fit(TEXTS, Y)
    monkeypatch.setattr(tagging, "DUAL_MAX_ROWS", 0)
    primal = DomainTagger(codebook=SMALL, cv_folds=3, random_state=0).fit(TEXTS, Y)
    assert np.abs(dual.coef_ - primal.coef_).max() < 1e-3
    assert np.abs(dual.intercept_ - primal.intercept_).max() < 1e-3
    new = ["the trust board and its governance", "teacher pay and money"]
    assert np.abs(dual.predict_proba(new) - primal.predict_proba(new)).max() < 1e-3


def test_a_fixed_tag_threshold_is_the_models_own(bundled):
    # predict(), the predictions table and the cross-validated evaluation all use it
    from trustreview.model.evaluation import coded_texts, cross_validate_tagger, make_tagger, \
        tag_studies

    coded, texts = coded_texts(bundled)
    model = make_tagger(bundled.codebook, tag_threshold=0.9, min_domains=0).fit(
        texts[:40], coded.to_numpy()[:40])
    assert model.thresholds_.tolist() == [0.9] * len(bundled.codebook.domains)
    proba = model.predict_proba(texts[40:])
    assert (model.predict(texts[40:]) == (proba >= 0.9)).all()
    tagged = tag_studies(bundled, tag_threshold=0.9)
    assert set(tagged.thresholds.values()) == {0.9}
    strict = cross_validate_tagger(bundled, cv_repeats=1, tag_threshold=0.99, min_domains=0)
    default = cross_validate_tagger(bundled, cv_repeats=1)
    micro = {"strict": strict.set_index("domain").loc["micro"],
             "default": default.set_index("domain").loc["micro"]}
    assert micro["strict"]["recall"] < micro["default"]["recall"]


@parametrize_with_checks([TextFeatures(),
                          TextFeatures(signal_terms=(("board", "trust board"), ("teacher pay",)))])
def test_text_features_pass_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


def test_texts_are_tokenised_once_for_every_fold():
    from trustreview.model.features import _tokens

    _tokens.cache_clear()
    DomainTagger(codebook=SMALL, cv_folds=3, random_state=0).fit(TEXTS, Y)
    first = _tokens.cache_info()
    DomainTagger(codebook=SMALL, cv_folds=3, random_state=1).fit(TEXTS, Y)
    second = _tokens.cache_info()
    assert second.misses == first.misses  # the second fit split no text again


# -- boundaries from the codebook, and bands a reviewer can act on --------------------------

def test_leans_to_is_parsed_and_checked():
    from trustreview.errors import InputError

    base = {"domains": [
        {"id": "leadership", "label": "L", "definition": "d",
         "leans_to": [{"to": "workforce", "terms": ["teacher leadership"]},
                      {"terms": ["national policy"]}]},
        {"id": "workforce", "label": "W", "definition": "d"}]}
    codebook = parse_codebook(base)
    leans = codebook.domains[0].leans_to
    assert [(l.to, l.terms) for l in leans] == [("workforce", ("teacher leadership",)),
                                               ("", ("national policy",))]
    base["domains"][0]["leans_to"][0]["to"] = "wrokforce"
    with pytest.raises(InputError, match="'wrokforce', which is not another domain"):
        parse_codebook(base)


def test_boundary_studies_move_a_boundary_term_to_the_domain_it_leans_to(bundled,
                                                                       bundled_codes):
    from trustreview.model.evaluation import coded_texts

    coded, texts = coded_texts(bundled)
    Y = coded[bundled.codebook.domain_ids].to_numpy()
    text = ["A leadership development programme for teachers: teacher leadership and middle "
            "leaders in the trust's schools"]
    domains = bundled.codebook.domain_ids
    without = DomainTagger(codebook=bundled.codebook, boundary_weight=0).fit(texts, Y)
    with_ = DomainTagger(codebook=bundled.codebook, boundary_weight=1).fit(texts, Y)
    lead, work = domains.index("leadership"), domains.index("workforce")
    before, after = without.predict_proba(text)[0], with_.predict_proba(text)[0]
    assert after[work] - after[lead] > before[work] - before[lead]


def test_band_edges_keep_sure_decisions_at_95_percent_agreement():
    from trustreview.model.decision import band_edges, sure_decisions

    rng = np.random.default_rng(0)
    margins = rng.uniform(-0.5, 0.5, 400)
    truth = (rng.uniform(0, 1, 400) < 0.5 + margins).astype(int)  # errors near 0
    low, high = band_edges(margins, truth)
    assert low < 0 < high
    tags = (margins >= 0).astype(int)
    sure = sure_decisions(margins[:, None] + 0.5, tags[:, None], np.array([0.5]),
                          np.array([[low, high]]))[:, 0]
    assert sure.any() and not sure.all()
    assert (tags[sure & (tags == 1)] == truth[sure & (tags == 1)]).mean() >= 0.95
    assert (tags[sure & (tags == 0)] == truth[sure & (tags == 0)]).mean() >= 0.95
    assert band_edges(np.array([0.1, -0.1]), np.array([0, 1])) == (-np.inf, np.inf)


def test_review_curve_and_work_saved_by_hand():
    from trustreview.model.evaluation import review_curve, work_saved

    truth = np.array([1, 0, 1, 0, 1])
    tags = np.array([0, 1, 1, 0, 1])  # two wrong: positions 0 and 1
    curve = review_curve(truth, tags, np.array([1, 0, 2, 3, 4]))
    # k=0: tp 2, fp 1, fn 1 -> 4/6; k=1 fixes the false positive: 4/5; k=2 fixes the miss
    assert curve.tolist() == pytest.approx([4 / 6, 4 / 5, 1, 1, 1, 1])
    assert work_saved(curve, 0.95) == pytest.approx(1 - 2 / 5)
    assert work_saved(curve, 0.5) == 1.0


def test_predictions_bands_triage_and_check_these_agree(bundled):
    from trustreview.model.evaluation import check_these, tag_studies, triage

    tagged = tag_studies(bundled, seed=0)
    bands = tagged.predictions.groupby("source")["band"].agg(set).to_dict()
    assert bands["human"] == {"human"}
    table, curve = triage(tagged)
    assert list(table["domain"]) == [*bundled.codebook.domain_ids, "overall"]
    overall = table.set_index("domain").loc["overall"]
    assert 0 < overall["sure_share"] < 1 and 0 <= overall["work_saved"] <= 1
    assert overall["decisions"] == len(tagged.coded_ids) * len(bundled.codebook.domain_ids)
    # the sure decisions' agreement, recomputed from the out-of-fold decisions
    agree = (tagged.oof_tags == tagged.truth)[tagged.oof_sure]
    assert overall["sure_agreement"] == pytest.approx(agree.mean())
    first = curve[curve["domain"] == "overall"]
    assert first["f1"].iloc[-1] == 1.0 and first["f1"].is_monotonic_increasing
    check = check_these(tagged)
    wrong = int((tagged.oof_tags != tagged.truth).sum())
    assert len(check) == min(20, wrong) and wrong > 0  # the 20 largest, or all of them
    rows = {(s, d) for s, d in zip(check["study_id"], check["domain"])}
    domains = list(tagged.thresholds)
    for (sid, domain) in rows:  # every listed decision is one the fold's model got wrong
        i, j = tagged.coded_ids.index(sid), domains.index(domain)
        assert tagged.oof_tags[i, j] != tagged.truth[i, j]


def test_explaining_every_cell_at_once_is_the_cell_by_cell_definition():
    import scipy.sparse as sp

    from trustreview.model.explain import explain_cells

    rng = np.random.default_rng(0)
    X = sp.random(60, 30, density=0.2, random_state=1, format="lil")
    X[5] = 0  # a study without a single feature
    X = X.tocsr()
    coef = np.round(rng.normal(size=(30, 4)), 1)  # ties among contributions
    names = np.array([f"t{i}" for i in range(30)])
    mask = rng.random((60, 4)) < 0.4
    mask[5] = True
    got = {(i, j): terms for i, j, terms in explain_cells(X, coef, names, mask, 5)}
    assert set(got) == set(zip(*np.nonzero(mask)))
    for i, j in got:
        cols = X.indices[X.indptr[i]:X.indptr[i + 1]]
        contrib = coef[cols, j] * X.data[X.indptr[i]:X.indptr[i + 1]]
        top = np.argsort(-contrib, kind="stable")[:5]
        assert got[(i, j)] == [str(names[cols[k]]) for k in top if contrib[k] > 0]
    assert got[(5, 0)] == []


def test_the_decision_layer_is_fitted_on_scores_and_codes_alone():
    from trustreview.model.decision import DecisionLayer, platt_fit

    rng = np.random.default_rng(3)
    Y = (rng.random((60, 3)) < [0.5, 0.3, 0.04]).astype(int)  # the third domain: rare
    Y[:2, 2] = 1
    scores = np.clip(0.35 * Y + rng.normal(0.3, 0.15, Y.shape), 0, 1)
    layer = DecisionLayer(folds=5).fit(scores, Y)
    assert layer.calibration_[0].tolist() == platt_fit(scores[:, 0], Y[:, 0]).tolist()
    pooled = platt_fit(scores.ravel(), Y.ravel())
    assert Y[:, 2].sum() < 5 and layer.calibration_[2].tolist() == pooled.tolist()
    proba = layer.calibrate(scores)
    assert best_threshold(proba[:, 0], Y[:, 0]) == layer.thresholds_[0]
    tags = layer.tags(proba)
    assert (tags.sum(axis=1) >= 1).all()  # min_domains
    sure = layer.sure(proba, tags)
    assert ((tags == Y)[sure]).mean() >= 0.95  # in-sample, the bands keep their promise
    fixed = DecisionLayer(threshold=0.7).fit(None, Y)
    assert fixed.thresholds_.tolist() == [0.7] * 3 and np.isnan(fixed.calibration_).all()
    assert not fixed.sure(scores, fixed.tags(scores)).any()  # no scores: every one a check


@pytest.mark.slow  # spawns a process for the second part
def test_features_of_many_texts_counted_in_parts_are_the_features_counted_at_once(
        monkeypatch, bundled):
    from trustreview.model import features
    from trustreview.model.tagging import study_texts

    texts = study_texts(bundled.records)
    fitted = features.TextFeatures(signal_terms=(("budget",), ("teacher workload",))).fit(
        texts[:60])
    whole = fitted.transform(texts)
    monkeypatch.setattr(features, "workers_for", lambda n, per: 2)
    in_parts = fitted.transform(texts)
    assert (in_parts != whole).nnz == 0 and in_parts.shape == whole.shape
    assert in_parts.dtype == whole.dtype


def test_vocabulary_counts_are_scikit_learns_count_vectorizer(bundled):
    # the vectorised counter against the oracle it replaces: scikit-learn's CountVectorizer
    # with the same analyser and vocabulary; fitted on some studies, counting the others
    # (unknown words and pairs), with a three-word signal term, a pair across a stop word,
    # texts without a word or with only stop words, and a term at the very end of a text
    from functools import partial

    from sklearn.feature_extraction.text import CountVectorizer

    from trustreview.model import features
    from trustreview.model.tagging import study_texts

    texts = study_texts(bundled.records)
    terms = (("budget", "school improvement partner"), ("teacher workload", "economies of scale"))
    fitted = features.TextFeatures(signal_terms=terms).fit(texts[:40])
    longer = frozenset({"school improvement partner"})
    oracle = CountVectorizer(analyzer=partial(features.analyse, longer=longer, longest=3),
                             vocabulary=fitted.counter_.entries, dtype=np.float32)
    extra = ["", "the of and", "Economies of scale, economies of SCALE!",
             "a school improvement partner", "school improvement partner school improvement",
             "budget budget teacher workload"]
    for sample in (texts[40:], extra, texts[:40] + extra):
        got, expected = fitted.counter_.counts(sample), oracle.transform(sample)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        assert (got != expected).nnz == 0 and got.has_canonical_format
    counts = fitted.counter_.counts(extra)
    column = fitted.counter_.vocabulary_
    assert counts[2, column["economies scale"]] == 2
    assert counts[3, column["school improvement partner"]] == 1
    assert counts[4, column["school improvement partner"]] == 1
    assert counts[:2].nnz == 0
    # a vocabulary with an empty entry (what texts without a single word are fitted to)
    entries = ["", "budget", "economies scale", "teacher workload"]
    oracle = CountVectorizer(analyzer=features.analyse, vocabulary=entries, dtype=np.float32)
    got = features.VocabularyCounter(entries).counts(extra)
    assert (got != oracle.transform(extra)).nnz == 0 and got.sum() == 5
