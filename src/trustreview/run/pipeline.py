"""The review's three stages, chained one way only.

``validate`` reads and checks the corpus; ``begin`` gives stages 02 and 03 the valid corpus
and the checked :class:`~trustreview.run.params.Params`; ``tag`` tags every included study;
``synthesise`` takes the corpus, the tagging stage's predictions and the params, and builds
every table and figure of the synthesis. Under ``trustreview run`` the corpus is validated
and the params checked once, by the run, and handed to each notebook
(:func:`trustreview.run.outputs.handed_on`). Each stage returns a result object and writes
nothing: :mod:`trustreview.run.outputs` writes a stage's result (and owns the file names).
The notebooks, the CLI, the benchmarks and the tests all call these functions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from trustreview.model import agreement
from trustreview.io.codebook import BUILT_IN
from trustreview.run.params import Params
from trustreview.synthesis import tables as synthesis
from trustreview.corpus.validate import (ValidatedCorpus, issues_frame, open_corpus,
                                         require_valid)
from trustreview.run import outputs

if TYPE_CHECKING:  # scikit-learn is imported by the tagging stage only (1.2 s at import)
    from trustreview.model import evaluation

RECORDS_SHOWN = ["study_id", "status", "exclusion_reason", "country", "design", "weight",
                  "year"]


def records_shown(corpus: ValidatedCorpus) -> pd.DataFrame:
    """The records table as written: :data:`RECORDS_SHOWN`, without the built-in fields the
    codebook does not code."""
    codebook = corpus.codebook
    return corpus.records[[c for c in RECORDS_SHOWN if codebook is None or c not in BUILT_IN
                           or codebook.has(c)]]


@dataclass
class Validation:
    """The corpus as read and checked, and the tables of stage 01."""

    corpus: ValidatedCorpus
    tables: dict[str, pd.DataFrame]


def validate(corpus_dir: str | os.PathLike, bib_path: str | os.PathLike) -> Validation:
    """Stage 01: read and check the corpus (never raises for problems in the data; see
    ``.corpus.issues``), account for every record, and measure the coders' agreement.
    Under ``trustreview run`` the corpus is the one the run validated."""
    run = outputs.handed_on(corpus_dir, bib_path)
    corpus = run.corpus if run else open_corpus(corpus_dir, bib_path)
    tables = {"validation_issues": issues_frame(corpus.issues),
              "records": records_shown(corpus),
              "searches": corpus.searches}
    if corpus.codebook is not None and not corpus.errors:
        tables["screening_flow"] = synthesis.compute_screening_flow(corpus)
        tables["prisma2020"] = synthesis.prisma2020(corpus)
        tables["corpus_counts"] = synthesis.compute_corpus_counts(corpus)
        tables["coder_agreement"] = agreement.compute_coder_agreement(
            corpus.codes, corpus.codebook.domain_ids)
        if corpus.codebook.extra_fields:  # each coder's values, from decisions.csv
            fields = agreement.compute_field_agreement(corpus.decisions,
                                                       corpus.codebook.extra_fields)
            if len(fields):
                tables["coder_agreement"] = pd.concat([tables["coder_agreement"], fields],
                                                      ignore_index=True)
    return Validation(corpus, tables)


def begin(corpus_dir: str | os.PathLike, bib_path: str | os.PathLike,
          **values) -> tuple[ValidatedCorpus, Params]:
    """What stages 02 and 03 start from: the valid corpus and the run's :class:`Params`
    (from ``values``, a notebook's parameters), checked against its codebook. Under
    ``trustreview run`` both are the ones the run validated and checked (its notebooks are
    given the same values); otherwise they are read and checked here, and an invalid corpus
    raises :class:`~trustreview.errors.ValidationError`."""
    run = outputs.handed_on(corpus_dir, bib_path)
    if run:
        return run.corpus, run.params
    params = Params.from_values(values)
    corpus = require_valid(open_corpus(corpus_dir, bib_path))
    return corpus, params.check(corpus.codebook)


@dataclass
class Tagging:
    """Stage 02: the tags of every included study, and how far to trust them."""

    tagged: evaluation.TaggedStudies
    tables: dict[str, pd.DataFrame]
    figures: dict[str, object] = field(default_factory=dict)
    no_evaluation: str | None = None  # why there is no cross-validated evaluation, if so

    @property
    def predictions(self) -> pd.DataFrame:
        return self.tagged.predictions


def tag(corpus: ValidatedCorpus, params: Params, evaluate: bool = True) -> Tagging:
    """Stage 02: evaluate the tagger by repeated cross-validation (when there are enough coded
    studies and ``evaluate``), draw its learning curve, and tag every included study with the
    same tagger."""
    from trustreview.model import evaluation

    params.check(corpus.codebook)  # at once when checked before
    settings = params.tagging()
    tagged = evaluation.tag_studies(corpus, **settings)
    tables: dict[str, pd.DataFrame] = {}
    shown: dict[str, object] = {}
    gap = evaluation.evaluation_gap(corpus, params.cv_folds)
    if gap is None and evaluate:
        # the models of the cross-validation are those of the curve's last point: fitted once
        full = evaluation.repeated_predictions(corpus, cv_repeats=params.cv_repeats,
                                               **settings)
        scores = evaluation.cross_validate_tagger(corpus, cv_repeats=params.cv_repeats,
                                                  predictions=full, **settings)
        tables["tagger_evaluation"] = evaluation.model_vs_coders(
            scores, evaluation.compare_coders(corpus))
        n_coded = len(tagged.coded_ids)
        curve = evaluation.learning_curve(
            corpus, evaluation.learning_curve_sizes(n_coded, params.cv_folds),
            cv_repeats=params.cv_repeats, predictions=full, **settings)
        from trustreview.synthesis import figures  # matplotlib: only when there is a curve

        tables["learning_curve"] = curve
        shown["learning_curve"] = figures.plot_learning_curve(curve)
        tables["triage"], tables["work_saved"] = evaluation.triage(tagged)
        shown["work_saved"] = figures.plot_work_saved(tables["work_saved"],
                                                      evaluation.TARGET_F1)
    tables["predictions"] = tagged.predictions
    tables["check_these"] = evaluation.check_these(tagged)
    tables["top_terms"] = tagged.model.top_terms(8)
    tables["code_next"] = evaluation.code_next(tagged)
    return Tagging(tagged, tables, shown, gap)


@dataclass
class Synthesis:
    """Stage 03: the filtered studies, every synthesis table and figure, the per-domain BibTeX
    and the report page."""

    data: synthesis.SynthesisInput
    tables: dict[str, pd.DataFrame]
    figures: dict[str, object]
    bib: dict[str, str]
    report_html: str
    ris: dict[str, str] = field(default_factory=dict)
    report_docx: bytes = b""
    eppi_json: bytes = b""  # every included study for EPPI-Reviewer and EPPI-Mapper (UTF-8)
    png: dict[str, bytes] = field(default_factory=dict)  # the figures as drawn for the reports

    @property
    def field_tables(self) -> list[str]:
        """The names of the tables by the codebook's own fields (``domain_by_<field>``,
        country, design and weight left out: they have tables of their own)."""
        return [name for _, name in synthesis.field_tables(self.data, self.tables)]


def synthesise(corpus: ValidatedCorpus, predictions: pd.DataFrame, params: Params,
               previous: dict[str, pd.DataFrame] | None = None) -> Synthesis:
    """Stage 03: apply the filters to the tagged studies and build the synthesis. With the
    tables of the ``previous`` run this one replaces, say what changed since (the
    ``changes`` table and the reports' first section)."""
    from trustreview.synthesis.changes import compare_runs, summary_lines
    from trustreview.io.export import figure_bytes
    from trustreview.io.reference_export import domain_reference_files
    from trustreview.synthesis import figures, report, word

    params.check(corpus.codebook)
    data = synthesis.select_for_synthesis(
        corpus, predictions, countries=list(params.countries), domains=list(params.domains),
        min_weight=params.min_weight, human_codes_only=params.human_codes_only,
        by=list(params.by), where=dict(params.where), map_columns=params.map_columns,
        map_slices=params.map_slices)
    tables = synthesis.build_synthesis_tables(data)
    flow = synthesis.compute_screening_flow(corpus, predictions)
    tables["screening_flow"] = flow
    changed = None
    if previous is not None:
        current = {"searches": corpus.searches, "records": records_shown(corpus),
                   "predictions": predictions, **tables}
        tables["changes"] = compare_runs(previous, current)
        changed = summary_lines(tables["changes"], previous, current)
    labels = {d.id: d.label for d in corpus.codebook.domains}
    shown = {"evidence_gap_map": figures.plot_evidence_gap_map(data, labels),
             "screening_flow": figures.plot_screening_flow(flow)}
    gap_png = figure_bytes(shown["evidence_gap_map"], "png")  # drawn once, for both reports
    flow_png = figure_bytes(shown["screening_flow"], "png")
    png = {"evidence_gap_map": gap_png, "screening_flow": flow_png}
    stop = screening_stop(corpus, tables, shown, png)
    page = report.build_review_report(data, tables, flow, gap_png, flow_png, changed, stop)
    bib, ris = domain_reference_files(data.studies, data.tags, data.domains, corpus.bib_strings,
                                      corpus.bib_parents)
    document = word.report_docx(data, tables, flow, gap_png, flow_png, changed, stop)
    from trustreview.io.eppi import eppi_json
    from trustreview.synthesis.citations import add_citations
    # EPPI-Reviewer gets every included study, whatever the filters; when they kept every
    # one, the synthesis already has their citations (the same table: filters only drop rows)
    everyone = (data.studies if len(data.studies) == len(corpus.included) else
                add_citations(corpus.included.sort_values("study_id", ignore_index=True)))
    eppi = eppi_json(everyone, predictions, corpus.codebook, corpus.quotes)
    return Synthesis(data, tables, shown, bib, page, ris, document, eppi, png)


def screening_stop(corpus: ValidatedCorpus, tables: dict, shown: dict, png: dict):
    """For a review screened in relevance order (decisions with a ``sequence``): the
    ``screening_progress`` table and figure, and the stopping verdict for the reports
    (``(verdict, figure PNG)``); None otherwise (the outputs are then as before)."""
    from trustreview.io.export import figure_bytes
    from trustreview.screening.progress import progress_table, verdict
    from trustreview.synthesis import figures

    total = int((corpus.records["status"] != "error").sum())
    progress = progress_table(corpus.decisions, total)
    if progress.empty:
        return None
    tables["screening_progress"] = progress
    stops = {}
    for rule, column in (("hypergeometric", "hypergeometric"), ("knee", "knee"),
                         ("in_a_row", "in_a_row")):
        said = progress.index[progress[column] == "yes"]
        stops[rule] = int(progress["screened"].iat[said[0]]) if len(said) else None
    shown["screening_progress"] = figures.plot_recall_curve(
        progress["included"].eq("yes"), stops,
        f"{len(progress):,} of {total:,} records screened")
    png["screening_progress"] = figure_bytes(shown["screening_progress"], "png")
    return verdict(progress, total), png["screening_progress"]
