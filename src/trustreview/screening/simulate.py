"""A finished review's screening replayed with the relevance model, as ``asreview
simulate`` does: a few records drawn as priors (``prior_included`` included and
``prior_excluded`` excluded, drawn with ``seed``), then the most relevant records in
batches of ``batch`` (1: retrain after every decision, as the JupyterLab screener does)
until every record is screened. The result says where each stopping rule first says stop
and how much screening the order saves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trustreview.model.relevance import (EXCLUDED, INCLUDED, UNKNOWN, RelevanceModel,
                                         most_relevant_first)
from trustreview.screening.stopping import RECOMMENDED, RULES, first_stops

COLUMNS = ("rank", "study_id", "included", "batch", "stop")


@dataclass
class Simulation:
    order: pd.DataFrame  # COLUMNS, rank 1 first
    stops: dict[str, int | None]  # each rule's first stop (records screened), or None
    total: int
    relevant: int

    def screened_for(self, recall: float) -> int:
        """Records screened when ``recall`` of the included records were found."""
        needed = max(1, int(np.ceil(recall * self.relevant - 1e-9)))
        found = np.cumsum(self.order["included"].eq("yes").to_numpy())
        return int(np.searchsorted(found, needed) + 1)

    @property
    def wss95(self) -> float:
        """Work saved over sampling at 95% recall: the share of records not screened when
        95% of the included ones are found, less 0.05."""
        return (self.total - self.screened_for(0.95)) / self.total - 0.05

    def recall_at(self, share: float) -> float:
        n = int(round(share * self.total))
        return float(self.order["included"].head(n).eq("yes").sum()) / self.relevant

    def recall_after(self, screened: int | None) -> float | None:
        if screened is None:
            return None
        return float(self.order["included"].head(screened).eq("yes").sum()) / self.relevant

    def lines(self) -> list[str]:
        """The summary printed by ``trustreview simulate``."""
        out = [f"records: {self.total:,}, included: {self.relevant:,}",
               f"WSS@95: {self.wss95:.3f}",
               f"recall after 10% of the records: {self.recall_at(0.10):.3f}",
               f"records screened to reach 95% recall: {self.screened_for(0.95):,}; "
               f"100%: {self.screened_for(1.0):,}"]
        for rule in RULES:
            at = self.stops[rule]
            label = rule + (" (recommended)" if rule == RECOMMENDED else "")
            out.append(f"stop, {label}: " + (
                "never" if at is None else
                f"after {at:,} records ({at / self.total:.1%}), recall "
                f"{self.recall_after(at):.3f}"))
        return out


def simulate(study_ids: list[str], texts: list[str], included: list[bool], *,
             prior_included: int = 1, prior_excluded: int = 1, batch: int = 1, seed: int = 0,
             scope: str = "", model: str = "logistic") -> Simulation:
    """Replay the screening of records whose decisions are all known (see the module
    docstring). Raises ValueError when there are fewer included or excluded records than
    priors asked for."""
    truth = np.array([INCLUDED if i else EXCLUDED for i in included])
    n_in, n_out = int((truth == INCLUDED).sum()), int((truth == EXCLUDED).sum())
    if n_in < max(prior_included, 1) or n_out < prior_excluded:
        raise ValueError(f"the review has {n_in} included and {n_out} excluded records; "
                         f"the simulation needs at least {max(prior_included, 1)} included "
                         f"and {prior_excluded} excluded (fewer priors with "
                         "--prior-included / --prior-excluded)")
    if batch < 1:
        raise ValueError("batch must be 1 or more")
    rng = np.random.default_rng(seed)
    priors = [*rng.choice(np.flatnonzero(truth == INCLUDED), prior_included, replace=False),
              *rng.choice(np.flatnonzero(truth == EXCLUDED), prior_excluded, replace=False)]
    ranker = RelevanceModel(model=model, seed=seed, scope=scope).fit_texts(texts)
    labels = np.full(len(truth), UNKNOWN)
    order: list[tuple[int, int]] = []  # (record, batch)
    for i in priors:
        labels[i] = truth[i]
        order.append((int(i), 0))
    number = 0
    while len(order) < len(truth):
        number += 1
        for i in most_relevant_first(ranker.scores(labels), labels)[:batch]:
            labels[i] = truth[i]
            order.append((i, number))
    decisions = [int(truth[i]) for i, _ in order]
    stops = first_stops(decisions, len(truth))
    stop_at = stops[RECOMMENDED]
    frame = pd.DataFrame({
        "rank": range(1, len(order) + 1),
        "study_id": [study_ids[i] for i, _ in order],
        "included": ["yes" if truth[i] == INCLUDED else "no" for i, _ in order],
        "batch": [b for _, b in order],
        "stop": ["yes" if stop_at is not None and n == stop_at else ""
                 for n in range(1, len(order) + 1)]}, columns=list(COLUMNS))
    return Simulation(frame, stops, len(truth), n_in)


def simulate_review(corpus_dir, bib_path, prior_included: int = 1, prior_excluded: int = 1,
                    batch: int = 1, seed: int = 0) -> Simulation:
    """:func:`simulate` on a review folder where every study has a screening decision:
    ``included`` yes/no in its studies table and, for an exclusion, a reason (nothing else is
    checked: the studies need not be coded). Raises :class:`InputError` naming the file,
    line, study and field of every study that lacks them."""
    from trustreview.errors import InputError
    from trustreview.io.load import read_corpus
    from trustreview.base.frames import first_filled
    from trustreview.model.relevance import record_texts
    from trustreview.schema import VENUE_FIELDS

    raw = read_corpus(corpus_dir, bib_path)
    if raw.file_errors:
        raise InputError("\n".join(message for _, message in raw.file_errors))
    studies = raw.studies.frame
    problems = []
    for sid, included, reason, line in zip(studies["study_id"], studies["included"],
                                           studies["exclusion_reason"], studies["line"]):
        decision = str(included).strip().lower()
        where = f"{raw.studies.path}:{line}, study {sid!r}"
        if decision not in ("yes", "no"):
            problems.append(f"{where}, field 'included': {included!r} is not yes or no; a "
                            "simulation replays a finished screening: decide every study")
        elif decision == "no" and not str(reason).strip():
            problems.append(f"{where}, field 'exclusion_reason': an excluded study without "
                            "a reason; write the reason")
    if problems:
        shown = problems[:20]
        if len(problems) > len(shown):
            shown.append(f"... and {len(problems) - len(shown):,} more studies like these "
                         "(the first 20 are listed)")
        raise InputError("\n".join(shown))
    entries = raw.bib.entries.set_index("key")
    known = set(entries.index)
    missing = [sid for sid in studies["study_id"] if sid not in known]
    if missing:
        raise InputError(f"{raw.bib.path}: no entry for {len(missing)} stud"
                         f"{'y' if len(missing) == 1 else 'ies'} ({', '.join(missing[:5])}"
                         f"{', ...' if len(missing) > 5 else ''}); run trustreview validate")
    entries = entries.loc[studies["study_id"]]
    # the venue as validation makes it for the sheet and the screener: one ranking's texts
    venue = first_filled(entries, VENUE_FIELDS)
    records = pd.DataFrame({"title": entries["title"].tolist(),
                            "abstract": entries["abstract"].tolist(),
                            "summary": studies["summary"].tolist() if "summary" in studies
                            else "", "keywords": entries["keywords"].tolist(),
                            "venue": venue})
    return simulate(studies["study_id"].tolist(), record_texts(records),
                    [str(v).strip().lower() == "yes" for v in studies["included"]],
                    prior_included=prior_included, prior_excluded=prior_excluded,
                    batch=batch, seed=seed, scope=raw.codebook.screening_scope
                    if raw.codebook is not None else "")
