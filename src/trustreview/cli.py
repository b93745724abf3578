"""Command line: ``trustreview run | validate | tag | new | add | sheet | merge | simulate``. It parses the
arguments, calls the package, and reports (messages, exit codes); the work is done in the
modules it calls."""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from trustreview import __version__
from trustreview.errors import ParameterError, TrustreviewError

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 130
# A command builds millions of objects that it keeps to the end (the entries of a large
# BibTeX file, every study's words), and Python's default cycle collector rescans them again
# and again: a fifth of the CPU time of `trustreview tag` on 100,000 studies. Commands
# collect only the youngest objects, rarely (measured: as fast as no collector at all).
COLLECTOR_THRESHOLDS = (500_000, 1000, 1000)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trustreview", description=(
        "Evidence reviews of school trusts: validate a coded corpus, tag studies with the "
        "codebook's domains, and run the review's notebooks."))
    parser.add_argument("--version", action="version", version=f"trustreview {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True)

    def corpus_args(p):
        p.add_argument("--corpus", default="corpus", metavar="DIR",
                       help="corpus folder (default: corpus)")
        p.add_argument("--bib", default="references.bib", metavar="FILE",
                       help="reference file (default: references.bib)")

    def param_args(p):
        p.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                       metavar=("NAME", "VALUE"), help="set a parameter (repeatable); lists "
                       "comma-separated: -p countries England,US")
        p.add_argument("--params", metavar="FILE.yaml", help="parameters from a YAML file")

    run = sub.add_parser("run", help="validate, then execute every notebook with papermill")
    corpus_args(run)
    run.add_argument("--out", default="outputs", metavar="DIR",
                     help="output folder (default: outputs)")
    run.add_argument("--notebooks", default=None, metavar="DIR",
                     help="folder of the stage notebooks (default: the ones installed with "
                          "trustreview)")
    param_args(run)

    validate = sub.add_parser("validate", help="check the corpus and report every problem")
    corpus_args(validate)

    def search_args(p, required):
        p.add_argument("--from", dest="refs", nargs="+", default=[], required=required,
                       metavar="FILE", help="search exports (BibTeX, RIS or CSV as Scopus, "
                       "Lens, OpenAlex or ASReview write it), one file per search")
        p.add_argument("--database", action="extend", nargs="+", default=None,
                       metavar="NAME", help="the database each file was searched in, in the "
                       "order of --from: --database ERIC Scopus, or --database once per file "
                       "(default: the file's name)")
        p.add_argument("--date", default=None, metavar="YYYY-MM-DD",
                       help="the date the searches were run (default: today)")

    new = sub.add_parser("new", help="start a review folder of your own from search exports "
                         "(or from an EPPI-Reviewer JSON export)")
    new.add_argument("folder", metavar="DIR", help="the review folder to create (new or empty)")
    search_args(new, required=False)
    new.add_argument("--domains", metavar="NAME", default=None,
                     help="for an EPPI-Reviewer export: the code set or code whose child codes "
                          "are the review's domains (not needed for a file trustreview wrote)")

    add = sub.add_parser("add", help="add a later search to a review: only new studies are "
                         "added, duplicates of earlier ones recorded")
    corpus_args(add)
    search_args(add, required=True)

    sheet = sub.add_parser("sheet", help="write an Excel coding workbook for one coder (or "
                           "for reconciling two coders, or for deciding doubtful duplicates)")
    corpus_args(sheet)
    who = sheet.add_mutually_exclusive_group(required=True)
    who.add_argument("--duplicates", action="store_true", help="the pairs of records that "
                     "may be the same study, side by side, to decide (same: yes/no)")
    who.add_argument("--coder", metavar="NAME", help="the coder the workbook is for")
    who.add_argument("--reconcile", action="store_true", help="a reconciliation workbook: "
                     "every study where the coders differ")
    sheet.add_argument("--screen", action="store_true", help="with --coder: the next records "
                       "awaiting the coder's screening, most likely relevant first")
    sheet.add_argument("--batch", type=int, default=None, metavar="N",
                       help="with --screen: how many records (default: 50)")
    sheet.add_argument("--seed", type=int, default=0, help="with --screen: the relevance "
                       "model's seed (default: 0)")
    sheet.add_argument("--out", required=True, metavar="FILE.xlsx", help="the workbook to write")
    sheet.add_argument("--suggest", action="store_true", help="add the model's suggested "
                       "domains and probabilities (read-only columns after note)")
    sheet.add_argument("--all", dest="all_studies", action="store_true",
                       help="every study, not only those still needing this coder's decision")

    merge = sub.add_parser("merge", help="merge a filled coding workbook into the corpus")
    merge.add_argument("workbook", metavar="FILE.xlsx", help="the filled workbook")
    merge.add_argument("--corpus", default="corpus", metavar="DIR",
                       help="corpus folder (default: corpus)")
    merge.add_argument("--bib", default="references.bib", metavar="FILE",
                       help="reference file (default: references.bib; a duplicates workbook "
                            "removes the merged records' entries from it)")
    merge.add_argument("--replace", action="store_true", help="overwrite codes and decisions "
                       "this coder already has that differ from the workbook")

    simulate = sub.add_parser("simulate", help="replay a finished review's screening in "
                              "relevance order: how much work it saves, where to stop")
    corpus_args(simulate)
    simulate.add_argument("--out", required=True, metavar="FILE.csv", help="the screening "
                          "order (rank, study_id, included, batch, stop); the recall curve "
                          "goes beside it as FILE.png")
    simulate.add_argument("--prior-included", type=int, default=1, metavar="K",
                          help="included records known at the start, drawn at random "
                               "(default: 1)")
    simulate.add_argument("--prior-excluded", type=int, default=1, metavar="K",
                          help="excluded records known at the start (default: 1)")
    simulate.add_argument("--batch", type=int, default=1, metavar="N", help="records "
                          "screened between retrainings (default: 1, as the JupyterLab "
                          "screener; 50 is the Excel sheet's)")
    simulate.add_argument("--seed", type=int, default=0, help="draws the priors (default: 0)")

    tag = sub.add_parser("tag", help="tag included studies with the codebook's domains")
    corpus_args(tag)
    tag.add_argument("--out", required=True, metavar="FILE.csv", help="predictions file")
    tag.add_argument("--seed", type=int, default=None, help="random seed (default: 0)")
    param_args(tag)
    return parser


def _read_params_file(path: str) -> dict:
    import yaml

    from trustreview.io.files import read_text

    file = Path(path)
    if not file.is_file():
        raise ParameterError(f"{path}: parameters file not found; give a YAML file of "
                             "name: value lines")
    try:
        data = yaml.safe_load(read_text(file, path))
    except yaml.YAMLError as error:
        raise ParameterError(f"{path}: not valid YAML ({error}); write name: value lines") \
            from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected name: value lines, found "
                             f"{type(data).__name__}")
    return {str(k): v for k, v in data.items()}


def _report_issues(corpus) -> None:
    for issue in corpus.issues:
        print(issue.format(), file=sys.stderr)
    print(f"trustreview: {len(corpus.errors)} error(s), {len(corpus.warnings)} warning(s)",
          file=sys.stderr)


def _params(args, notebooks=None):
    """The run's :class:`Params` from ``--params`` and ``-p`` (``-p`` wins); with
    ``notebooks``, every name given must be declared by one of them."""
    from trustreview.run.params import PATH_DEFAULTS, Params

    given = _read_params_file(args.params) if args.params else {}
    given.update({name: value for name, value in args.parameter})
    for reserved in PATH_DEFAULTS:
        if reserved in given:
            raise ParameterError(f"parameter {reserved!r} is set by --corpus, --bib and "
                                 "--out; use those options instead")
    if getattr(args, "seed", None) is not None:
        given["seed"] = args.seed
    params = Params.from_values(given)
    if notebooks is not None:
        from trustreview.run.runner import check_declared
        check_declared(notebooks, given)
    return params


def _validate(args) -> int:
    from trustreview.corpus.validate import open_corpus, screening_summary

    corpus = open_corpus(args.corpus, args.bib)
    _report_issues(corpus)
    print(screening_summary(corpus))
    return EXIT_ERROR if corpus.errors else EXIT_OK


def _tag(args) -> int:
    from trustreview.run import pipeline
    from trustreview.io.export import table_csv
    from trustreview.io.files import atomic_write
    from trustreview.corpus.validate import open_corpus, require_valid

    params = _params(args)
    corpus = require_valid(open_corpus(args.corpus, args.bib))
    predictions = pipeline.tag(corpus, params, evaluate=False).predictions
    from trustreview.model.evaluation import PREDICTION_COLUMNS

    columns = [c for c in PREDICTION_COLUMNS if c not in ("oof_probability", "terms")]
    atomic_write(args.out, table_csv(predictions[columns]))
    print(f"trustreview: wrote {len(predictions)} rows to {args.out}", file=sys.stderr)
    return EXIT_OK


def _report_plan(plan) -> None:
    for line in plan.skipped:
        print(f"skipped: {line}", file=sys.stderr)
    for line in plan.warnings:
        print(f"warning: {line}", file=sys.stderr)


def _new(args) -> int:
    from trustreview.searches.folder import new_review

    plan = new_review(args.folder, args.refs, args.database, args.date, args.domains)
    if not hasattr(plan, "searches"):  # an EPPI-Reviewer import
        for line in plan.warnings:
            print(f"warning: {line}", file=sys.stderr)
        for line in plan.left_out:
            print(f"left out: {line}", file=sys.stderr)
        counts = plan.counts
        print(f"trustreview: created {args.folder} from EPPI-Reviewer: {counts['references']} "
              f"references, {counts['studies']} studies, {counts['codes']} domain codes, "
              f"{counts['quotes']} quotes, {counts['left out']} left out (listed above); next: "
              f"cd {args.folder} && trustreview validate", file=sys.stderr)
        return EXIT_OK
    _report_plan(plan)
    n = len(plan.studies)
    print(f"trustreview: created {args.folder}: {plan.summary()}; "
          f"{n} stud{'y' if n == 1 else 'ies'} awaiting screening; "
          f"next: cd {args.folder} && trustreview validate", file=sys.stderr)
    return EXIT_OK


def _add(args) -> int:
    from trustreview.searches.folder import add_searches

    plan, written = add_searches(args.corpus, args.bib, args.refs, args.database, args.date)
    _report_plan(plan)
    if plan.searches.empty:
        print("trustreview: nothing added (every file was added before)", file=sys.stderr)
        return EXIT_OK
    from trustreview.schema import SEARCHES_DIR

    names = [f"{SEARCHES_DIR}/{p.name}" if p.parent.name == SEARCHES_DIR else p.name
             for p in written]  # a search's copy apart from the tables (both may be records.csv)
    print(f"trustreview: added {plan.summary()} ({', '.join(names)})", file=sys.stderr)
    return EXIT_OK


def _sheet(args) -> int:
    from trustreview import coding
    from trustreview.io.files import atomic_write
    from trustreview.io.workbook import coding_workbook_bytes
    from trustreview.corpus.validate import open_corpus, require_valid

    if not str(args.out).lower().endswith(".xlsx"):
        raise ParameterError(f"--out {args.out}: the workbook's name must end in .xlsx")
    if args.coder is not None and (not args.coder.strip() or args.coder != args.coder.strip()
                                   or args.coder == coding.RECONCILED):
        raise ParameterError(f"--coder {args.coder!r}: give the coder's name or initials "
                             f"(not empty, no spaces around it, not {coding.RECONCILED!r}, "
                             "which is what --reconcile writes)")
    if args.screen or args.batch is not None:
        if not args.screen or args.coder is None:
            raise ParameterError("--screen goes with --coder NAME (and --batch N with "
                                 "--screen): trustreview sheet --screen --coder A --out s.xlsx")
        if args.batch is not None and args.batch < 1:
            raise ParameterError(f"--batch {args.batch}: give 1 or more records")
        from trustreview.screening.sheet import BATCH, build_sheet

        corpus = require_valid(open_corpus(args.corpus, args.bib))
        sheet, what = build_sheet(corpus, args.coder, args.batch or BATCH, args.seed)
        atomic_write(args.out, coding_workbook_bytes(sheet))
        print(f"trustreview: wrote {args.out}: {what}", file=sys.stderr)
        return EXIT_OK
    if args.duplicates:
        sheet, what = _duplicates_sheet(args)
        atomic_write(args.out, coding_workbook_bytes(sheet))
        print(f"trustreview: wrote {args.out}: {what}", file=sys.stderr)
        return EXIT_OK
    corpus = require_valid(open_corpus(args.corpus, args.bib))
    sheet, what = coding.build_sheet(corpus, args.corpus, None if args.reconcile else args.coder,
                                     suggest=args.suggest, all_studies=args.all_studies)
    atomic_write(args.out, coding_workbook_bytes(sheet))
    print(f"trustreview: wrote {args.out}: {what}", file=sys.stderr)
    return EXIT_OK


def _duplicates_sheet(args):
    from trustreview.searches.duplicate_sheet import build_sheet
    from trustreview.io.files import display_path
    from trustreview.io.load import (read_bib, read_codebook, read_duplicates,
                                     read_search_records)
    from trustreview.schema import DUPLICATES_FILE

    corpus = Path(args.corpus)
    if not (corpus / DUPLICATES_FILE).exists():
        raise ParameterError(f"{display_path(corpus / DUPLICATES_FILE)}: not found; a review "
                             "has it when trustreview new or add made it from searches")
    return build_sheet(read_duplicates(corpus), read_bib(args.bib).entries,
                       read_search_records(corpus),
                       read_codebook(corpus / "codebook.yml"))


def _merge(args) -> int:
    from trustreview.coding import merge_workbook
    from trustreview.io.workbook import read_coding_workbook

    filled = read_coding_workbook(args.workbook)
    if filled.kind == "duplicates":
        from trustreview.searches.duplicate_sheet import merge_duplicates_workbook
        result, written = merge_duplicates_workbook(filled, args.corpus, args.bib)
    elif filled.kind == "screen":
        from trustreview.screening.sheet import merge_screen_workbook
        result, written = merge_screen_workbook(filled, args.corpus, replace=args.replace)
    else:
        result, written = merge_workbook(args.workbook, args.corpus, replace=args.replace)
    for line in result.conflicts:
        print(f"conflict: {line}", file=sys.stderr)
    for line in result.kept:
        print(f"kept for reconciliation: {line}", file=sys.stderr)
    for line in result.notes:
        print(f"note: {line}", file=sys.stderr)
    changed = ", ".join(p.name for p in written) or "nothing changed"
    print(f"trustreview: {result.coder}: {result.summary()} ({changed})")
    return EXIT_OK


def _simulate(args) -> int:
    from trustreview.io.files import atomic_write
    from trustreview.screening.simulate import simulate_review

    if not str(args.out).lower().endswith(".csv"):
        raise ParameterError(f"--out {args.out}: the file's name must end in .csv")
    if args.batch < 1 or args.prior_included < 1 or args.prior_excluded < 0:
        raise ParameterError("--batch and --prior-included must be 1 or more, "
                             "--prior-excluded 0 or more")
    from trustreview.io.export import figure_bytes, table_csv
    from trustreview.synthesis.figures import plot_recall_curve

    try:
        result = simulate_review(args.corpus, args.bib, args.prior_included,
                                 args.prior_excluded, args.batch, args.seed)
    except ValueError as error:
        raise ParameterError(str(error)) from None
    out = Path(args.out)
    figure = plot_recall_curve(result.order["included"].eq("yes"), result.stops,
                               f"{result.total:,} records, {result.relevant:,} included")
    atomic_write(out, table_csv(result.order))
    atomic_write(out.with_suffix(".png"), figure_bytes(figure, "png"))
    for line in result.lines():
        print(line)
    print(f"trustreview: wrote {out} and {out.with_suffix('.png')}", file=sys.stderr)
    return EXIT_OK


def _run(args) -> int:
    from trustreview.run.review import Interrupted, run_review
    from trustreview.run.runner import list_notebooks, stderr_progress

    notebooks = list_notebooks(args.notebooks)
    params = _params(args, notebooks)
    try:
        outcome = run_review(args.corpus, args.bib, args.out, notebooks, params,
                             stderr_progress)
    except Interrupted as stop:
        print(f"trustreview: interrupted; {args.out} is as it was before this run "
              f"(partial outputs: {stop.staging})", file=sys.stderr)
        return EXIT_INTERRUPTED
    if outcome.kept:
        n = len(outcome.kept)
        stderr_progress(f"kept {n} file{'' if n == 1 else 's'} trustreview did not write: "
                        f"{', '.join(outcome.kept)}")
    stderr_progress(f"done in {outcome.seconds:.1f} s; outputs in {args.out}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"run": _run, "validate": _validate, "tag": _tag, "new": _new, "add": _add,
                "sheet": _sheet, "merge": _merge, "simulate": _simulate}
    thresholds = gc.get_threshold()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    try:
        return handlers[args.command](args)
    except TrustreviewError as error:
        if args.debug:
            raise
        print(f"trustreview: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("trustreview: interrupted; no output folder was changed", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        gc.set_threshold(*thresholds)
