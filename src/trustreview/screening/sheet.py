"""Screening in Excel: ``trustreview sheet --screen --coder A [--batch N]`` writes the next
``N`` records awaiting A's decision, most likely relevant first, and ``trustreview merge``
takes the filled sheet back (every row checked first; nothing written when one is wrong;
merging the same sheet twice changes nothing). The next sheet is ranked again with what
was merged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from trustreview.errors import InputError, SheetError
from trustreview.model.relevance import (UNKNOWN, RelevanceModel, most_relevant_first,
                                         record_texts)
from trustreview.schema import NO, NOTE, YES
from trustreview.screening import decisions as screening

KIND = "screen"
BATCH = 50
CONTEXT = ["study_id", "title", "abstract", "year", "venue", "authors", "relevance"]
FORM = ["included", "exclusion_reason", NOTE]


@dataclass
class ScreenSheet:
    """The records to screen, in the shape :func:`trustreview.io.workbook
    .coding_workbook_bytes` writes (``included``, ``exclusion_reason`` and ``note`` are the
    form)."""

    frame: pd.DataFrame
    codebook: object
    coder: str
    kind: str = KIND
    editable: list[str] = field(default_factory=lambda: list(FORM))
    choices: dict[str, list[str]] = field(default_factory=dict)
    disputed: list[tuple[int, str]] = field(default_factory=list)
    coders: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Ranking:
    """The relevance of every record of a review for one coder: ``records`` (those a
    validation error does not keep out), and a label and a score for each, by position."""

    records: pd.DataFrame
    labels: np.ndarray
    scores: np.ndarray
    model: RelevanceModel

    @cached_property
    def study_ids(self) -> list[str]:
        return self.records["study_id"].tolist()

    @property
    def awaiting(self) -> list[int]:
        """Positions of the records awaiting the coder, most relevant first."""
        return most_relevant_first(self.scores, self.labels)


def rank(records: pd.DataFrame, decisions: pd.DataFrame, codebook, coder: str,
         seed: int = 0) -> Ranking:
    """Rank every record of a validated corpus (``records``) for ``coder``; records a
    validation error keeps out are left out."""
    usable = records[records["status"] != "error"].reset_index(drop=True)
    labels = screening.labels(usable, decisions, coder)
    model = RelevanceModel(seed=seed, scope=codebook.screening_scope).fit_texts(
        record_texts(usable))
    return Ranking(usable, labels, model.scores(labels), model)


def build_sheet(corpus, coder: str, batch: int = BATCH, seed: int = 0
                ) -> tuple[ScreenSheet, str]:
    """The next ``batch`` records awaiting ``coder`` in a validated corpus, most relevant
    first."""
    from trustreview.base.text import decode_latex

    ranking = rank(corpus.records, corpus.decisions, corpus.codebook, coder, seed)
    awaiting = ranking.awaiting
    rows = []
    for i in awaiting[:batch]:
        record = ranking.records.iloc[i]
        rows.append({"study_id": record["study_id"],
                     "title": decode_latex(str(record["title"])),
                     "abstract": decode_latex(str(record["abstract"] or record["summary"])),
                     "year": str(record["year"]), "venue": decode_latex(str(record["venue"])),
                     "authors": decode_latex(str(record["authors"])),
                     "relevance": f"{ranking.scores[i]:.3f}", "included": "",
                     "exclusion_reason": "", NOTE: ""})
    frame = pd.DataFrame(rows, columns=[*CONTEXT, *FORM]).fillna("")
    reasons = [r.id for r in corpus.codebook.exclusion_reasons]
    sheet = ScreenSheet(frame, corpus.codebook, coder,
                        choices={"included": [YES, NO], "exclusion_reason": reasons})
    left = len(awaiting)
    decided = int((ranking.labels != UNKNOWN).sum())
    return sheet, (f"{len(frame)} record(s) for {coder} to screen, most likely relevant "
                   f"first ({left:,} awaiting {coder}, {decided:,} decided so far)")


def merge_screen_workbook(filled, corpus_dir, replace: bool = False):
    """Check a filled screening sheet against the corpus (any problem: a
    :class:`~trustreview.errors.SheetError`, nothing written), then write ``studies.csv`` and
    ``decisions.csv`` together. Returns the merge and the files written."""
    from trustreview.io.load import find_table, read_codebook, read_decisions, read_table

    corpus_dir = Path(corpus_dir)
    studies_path = find_table(corpus_dir, "studies")
    if not corpus_dir.is_dir() or studies_path is None:
        raise InputError(f"{corpus_dir}: no studies.csv (or studies.xlsx) there; give the "
                         "corpus folder with --corpus")
    studies = read_table(studies_path).frame.drop(columns="line")
    decisions = read_decisions(corpus_dir)
    codebook = read_codebook(corpus_dir / "codebook.yml")
    problems = list(filled.problems) + screening.check_rows(
        filled.rows, filled.source, set(studies["study_id"]))
    if problems:
        raise SheetError(filled.source, problems)
    result = screening.apply(filled.rows.to_dict("records"), studies, decisions, filled.coder,
                             list(codebook.decision_columns), replace=replace)
    return result, screening.write(result, studies_path, corpus_dir)
