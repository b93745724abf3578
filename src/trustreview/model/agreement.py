"""Agreement statistics: Cohen's kappa, percent agreement, precision, recall and F1 per domain.

All functions take 0/1 indicator matrices (studies x domains) and return DataFrames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trustreview.schema import RECONCILED



AGREEMENT_COLUMNS = ["pair", "domain", "n", "prevalence_1", "prevalence_2", "agreement", "kappa"]


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two binary ratings; 1.0 when both raters agree on a constant rating
    (where scikit-learn's ``cohen_kappa_score``, the tests' oracle, is undefined).

    kappa = (p_o - p_e) / (1 - p_e), with p_e from each rater's marginal rate. Written out
    rather than imported: notebook 01 would otherwise load scikit-learn (1.2 s) for it.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if len(a) == 0:
        return float("nan")
    observed = float(np.mean(a == b))
    pa, pb = a.mean(), b.mean()
    expected = pa * pb + (1 - pa) * (1 - pb)
    if expected >= 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return float((observed - expected) / (1 - expected))


def code_matrix(codes: pd.DataFrame, coder: str, domains: list[str],
                studies: list[str] | None = None) -> pd.DataFrame:
    """0/1 matrix (study_id x domain) of one coder's codes; ``none`` rows give all zeros.

    Only studies the coder coded are rows, unless ``studies`` fixes the rows.
    """
    mine = codes[codes["coder"] == coder]
    ids = sorted(set(mine["study_id"].tolist())) if studies is None else list(studies)
    known = mine[mine["domain"].isin(domains) & mine["study_id"].isin(ids)]
    counts = pd.crosstab(known["study_id"], known["domain"])
    matrix = counts.clip(upper=1).reindex(index=ids, columns=list(domains), fill_value=0)
    matrix.index = pd.Index(ids, name="study_id", dtype="str" if ids else None)
    matrix.columns = list(domains)
    return matrix.astype("int64")


def compare_matrices(predicted: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Per-domain agreement of ``predicted`` against ``reference`` on their shared studies.

    Columns: domain, n, support (reference positives), predicted (positives), precision,
    recall, f1, kappa, agreement (share of studies on which both agree). Two summary rows
    follow: ``macro`` (mean over domains) and ``micro`` (pooled counts).
    """
    shared = predicted.index.intersection(reference.index)
    p = predicted.loc[shared, reference.columns].to_numpy()
    r = reference.loc[shared].to_numpy()
    rows = []
    for j, domain in enumerate(reference.columns):
        rows.append({"domain": domain, **_scores(p[:, j], r[:, j])})
    per_domain = pd.DataFrame(rows)
    macro = {"domain": "macro", "n": len(shared), "support": int(r.sum()),
             "predicted": int(p.sum())}
    for name in ("precision", "recall", "f1", "kappa", "agreement"):
        macro[name] = float(per_domain[name].mean())
    micro = {"domain": "micro", **_scores(p.ravel(), r.ravel())}
    micro["n"] = len(shared)
    return pd.concat([per_domain, pd.DataFrame([macro, micro])], ignore_index=True)


def _scores(p: np.ndarray, r: np.ndarray) -> dict:
    tp = int(((p == 1) & (r == 1)).sum())
    fp = int(((p == 1) & (r == 0)).sum())
    fn = int(((p == 0) & (r == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else (1.0 if fn == 0 else 0.0)
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = (2 * precision * recall / (precision + recall)) if precision + recall else 0.0
    return {"n": len(r), "support": int(r.sum()), "predicted": int(p.sum()),
            "precision": precision, "recall": recall, "f1": f1,
            "kappa": cohen_kappa(p, r), "agreement": float(np.mean(p == r)) if len(r) else
            float("nan")}


def compute_coder_agreement(codes: pd.DataFrame, domains: list[str]) -> pd.DataFrame:
    """Per domain: kappa, percent agreement and prevalence for every pair of coders.

    Pairs are each coder against each other coder, reconciled last. Rows are limited to
    studies both coders coded. Columns: pair, domain, n, prevalence_1, prevalence_2, agreement
    (percent), kappa.
    """
    coders = sorted(set(codes["coder"].tolist()) - {RECONCILED})
    pairs = [(a, b) for i, a in enumerate(coders) for b in coders[i + 1:]]
    if RECONCILED in set(codes["coder"].tolist()):
        pairs += [(coder, RECONCILED) for coder in coders]
    rows = []
    for first, second in pairs:
        m1 = code_matrix(codes, first, domains)
        m2 = code_matrix(codes, second, domains)
        shared = m1.index.intersection(m2.index)
        for domain in domains:
            a = m1.loc[shared, domain].to_numpy()
            b = m2.loc[shared, domain].to_numpy()
            rows.append({
                "pair": f"{first} vs {second}", "domain": domain, "n": len(shared),
                "prevalence_1": float(a.mean()) if len(a) else float("nan"),
                "prevalence_2": float(b.mean()) if len(b) else float("nan"),
                "agreement": 100.0 * float(np.mean(a == b)) if len(a) else float("nan"),
                "kappa": cohen_kappa(a, b),
            })
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def category_kappa(a: list[str], b: list[str]) -> float:
    """Cohen's kappa of two raters' categories (p_e from each rater's category shares)."""
    if not a:
        return float("nan")
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    observed = float(np.mean(a == b))
    expected = sum(float(np.mean(a == k)) * float(np.mean(b == k)) for k in set(a) | set(b))
    if expected >= 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return float((observed - expected) / (1 - expected))


def compute_field_agreement(decisions: pd.DataFrame, fields) -> pd.DataFrame:
    """Coder agreement on the codebook's own fields, in the rows of
    :func:`compute_coder_agreement`: a ``choice`` or ``yes-no`` field as one row (kappa over
    its categories; no prevalence), a ``multi`` field as one row per value (``field: value``,
    kappa of marked or not). Each pair of coders (reconciled last) over the studies both
    included and gave a value."""
    rows = []
    fields = [f for f in fields if f.type in ("choice", "yes-no", "multi")
              and f.id in decisions.columns]
    if not fields or decisions.empty:
        return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)
    included = decisions[decisions["included"].str.lower() == "yes"]
    coders = sorted(set(included["coder"]) - {RECONCILED})
    pairs = [(a, b) for i, a in enumerate(coders) for b in coders[i + 1:]]
    if RECONCILED in set(included["coder"]):
        pairs += [(coder, RECONCILED) for coder in coders]
    by = {coder: group.set_index("study_id") for coder, group in included.groupby("coder")}
    for first, second in pairs:
        for item in fields:
            one, two = by[first][item.id], by[second][item.id]
            shared = sorted(set(one[one != ""].index) & set(two[two != ""].index))
            a, b = one.reindex(shared).tolist(), two.reindex(shared).tolist()
            pair = f"{first} vs {second}"
            if item.type != "multi":
                rows.append({"pair": pair, "domain": item.id, "n": len(shared),
                             "prevalence_1": float("nan"), "prevalence_2": float("nan"),
                             "agreement": 100.0 * float(np.mean(np.asarray(a, dtype=object)
                                                                == np.asarray(b, dtype=object)))
                             if shared else float("nan"),
                             "kappa": category_kappa(a, b)})
                continue
            for value in item.values:
                x = np.array([value in [v.strip() for v in t.split(";")] for t in a], float)
                y = np.array([value in [v.strip() for v in t.split(";")] for t in b], float)
                rows.append({"pair": pair, "domain": f"{item.id}: {value}", "n": len(shared),
                             "prevalence_1": float(x.mean()) if len(x) else float("nan"),
                             "prevalence_2": float(y.mean()) if len(y) else float("nan"),
                             "agreement": 100.0 * float(np.mean(x == y)) if len(x)
                             else float("nan"),
                             "kappa": cohen_kappa(x, y)})
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def field_rows(codebook) -> list[str]:
    """The rows :func:`compute_field_agreement` gives the codebook's own fields, in order."""
    rows = []
    for item in codebook.extra_fields:
        if item.type == "multi":
            rows += [f"{item.id}: {value}" for value in item.values]
        elif item.type in ("choice", "yes-no"):
            rows.append(item.id)
    return rows


def kappa_table(agreement: pd.DataFrame, domains: list[str]) -> pd.DataFrame:
    """Kappa per domain (rows, codebook order) and coder pair (columns); no columns when
    fewer than two coders coded the same studies."""
    if agreement.empty:
        return pd.DataFrame(index=pd.Index(domains, name="domain"))
    table = agreement.pivot(index="domain", columns="pair", values="kappa")
    return table.reindex(domains)


def reference_coder(codes: pd.DataFrame) -> str | None:
    """The coder whose codes are the truth: ``reconciled``, or the only coder there is."""
    coders = sorted(set(codes["coder"].tolist()))
    if RECONCILED in coders:
        return RECONCILED
    return coders[0] if len(coders) == 1 else None


def coded_matrix(corpus) -> pd.DataFrame:
    """0/1 matrix of the reference coder's codes for the included studies it coded (a
    :class:`~trustreview.corpus.validate.ValidatedCorpus`)."""
    coder = reference_coder(corpus.codes)
    domains = corpus.codebook.domain_ids
    if coder is None:
        return pd.DataFrame(columns=domains, dtype="int64").rename_axis("study_id")
    included = set(corpus.included["study_id"])
    matrix = code_matrix(corpus.codes, coder, domains)
    return matrix[matrix.index.isin(included)]
