"""Command line: ``trustreview run | validate | tag | new | sheet | merge``. Argument parsing and exit codes only."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from trustreview import __version__
from trustreview.errors import ParameterError, RunError, TrustreviewError

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 130


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

    new = sub.add_parser("new", help="start a review folder of your own from reference files")
    new.add_argument("folder", metavar="DIR", help="the review folder to create (new or empty)")
    new.add_argument("--from", dest="refs", nargs="+", default=[], metavar="REFS",
                     help="reference files (BibTeX or RIS) to start from: one study per reference")

    sheet = sub.add_parser("sheet", help="write an Excel coding workbook for one coder (or "
                           "for reconciling two coders)")
    corpus_args(sheet)
    who = sheet.add_mutually_exclusive_group(required=True)
    who.add_argument("--coder", metavar="NAME", help="the coder the workbook is for")
    who.add_argument("--reconcile", action="store_true", help="a reconciliation workbook: "
                     "every study where the coders differ")
    sheet.add_argument("--out", required=True, metavar="FILE.xlsx", help="the workbook to write")
    sheet.add_argument("--suggest", action="store_true", help="add the model's suggested "
                       "domains and probabilities (read-only columns after note)")
    sheet.add_argument("--all", dest="all_studies", action="store_true",
                       help="every study, not only those still needing this coder's decision")

    merge = sub.add_parser("merge", help="merge a filled coding workbook into the corpus")
    merge.add_argument("workbook", metavar="FILE.xlsx", help="the filled workbook")
    merge.add_argument("--corpus", default="corpus", metavar="DIR",
                       help="corpus folder (default: corpus)")
    merge.add_argument("--replace", action="store_true", help="overwrite codes and decisions "
                       "this coder already has that differ from the workbook")

    tag = sub.add_parser("tag", help="tag included studies with the codebook's domains")
    corpus_args(tag)
    tag.add_argument("--out", required=True, metavar="FILE.csv", help="predictions file")
    tag.add_argument("--seed", type=int, default=None, help="random seed (default: 0)")
    param_args(tag)
    return parser


def _read_params_file(path: str) -> dict:
    import yaml

    from trustreview.io.load import read_text

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
    from trustreview.params import PATH_DEFAULTS, Params

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
    from trustreview.validate import open_corpus, screening_summary

    corpus = open_corpus(args.corpus, args.bib)
    _report_issues(corpus)
    print(screening_summary(corpus))
    return EXIT_ERROR if corpus.errors else EXIT_OK


def _tag(args) -> int:
    from trustreview import pipeline
    from trustreview.io.export import atomic_write, table_csv
    from trustreview.validate import open_corpus, require_valid

    params = _params(args)
    corpus = require_valid(open_corpus(args.corpus, args.bib))
    predictions = pipeline.tag(corpus, params, evaluate=False).predictions
    columns = ["study_id", "domain", "probability", "tagged", "source", "band"]
    atomic_write(args.out, table_csv(predictions[columns]))
    print(f"trustreview: wrote {len(predictions)} rows to {args.out}", file=sys.stderr)
    return EXIT_OK


def _new(args) -> int:
    from trustreview.scaffold import new_review

    n = new_review(args.folder, args.refs)
    print(f"trustreview: created {args.folder} with {n} stud{'y' if n == 1 else 'ies'} "
          f"awaiting screening; next: cd {args.folder} && trustreview validate",
          file=sys.stderr)
    return EXIT_OK


def _sheet(args) -> int:
    from trustreview import coding
    from trustreview.model.evaluation import rank_for_coding
    from trustreview.io.export import atomic_write, coding_workbook_bytes
    from trustreview.validate import open_corpus, require_valid

    if not str(args.out).lower().endswith(".xlsx"):
        raise ParameterError(f"--out {args.out}: the workbook's name must end in .xlsx")
    if args.coder is not None and (not args.coder.strip() or args.coder != args.coder.strip()
                                   or args.coder == coding.RECONCILED):
        raise ParameterError(f"--coder {args.coder!r}: give the coder's name or initials "
                             f"(not empty, no spaces around it, not {coding.RECONCILED!r}, "
                             "which is what --reconcile writes)")
    corpus = require_valid(open_corpus(args.corpus, args.bib))
    decisions = _read_decisions(Path(args.corpus))
    if args.reconcile:
        sheet = coding.reconcile_sheet(corpus, decisions)
        counts = sheet.counts
        what = (f"{counts['differ']} stud{'y' if counts['differ'] == 1 else 'ies'} where the "
                f"coders differ; {counts['agree']} where they agree (reconciled as they are "
                f"when this sheet is merged); {counts['single']} with one coder only")
    else:
        wanted = list(corpus.records.loc[corpus.records["status"] != "error", "study_id"])
        ranking = rank_for_coding(corpus, wanted)
        sheet = coding.coder_sheet(corpus, decisions, args.coder, ranking,
                                   all_studies=args.all_studies, suggest=args.suggest)
        what = f"{len(sheet.frame)} stud{'y' if len(sheet.frame) == 1 else 'ies'} for {args.coder}"
    atomic_write(args.out, coding_workbook_bytes(sheet))
    print(f"trustreview: wrote {args.out}: {what}", file=sys.stderr)
    return EXIT_OK


DECISIONS_FILE = "decisions.csv"


def _read_decisions(corpus_dir: Path):
    from trustreview.coding import DECISIONS_COLUMNS, empty_decisions
    from trustreview.io.load import read_table

    path = corpus_dir / DECISIONS_FILE
    if not path.exists():
        return empty_decisions()
    frame = read_table(path).frame.drop(columns="line")
    missing = [c for c in DECISIONS_COLUMNS if c not in frame.columns]
    if missing:
        raise TrustreviewError(f"{path}: columns {', '.join(missing)} are missing; this file "
                               "is written by trustreview merge, restore it from a backup or "
                               "delete it and merge the coders' workbooks again")
    return frame[DECISIONS_COLUMNS]


def _merge(args) -> int:
    from trustreview import coding
    from trustreview.errors import InputError, SheetError
    from trustreview.io.export import corpus_table_bytes, replace_files
    import pandas as pd

    from trustreview.io.load import (CODES_COLUMNS, find_table, read_codebook,
                                  read_coding_workbook, read_table)

    corpus_dir = Path(args.corpus)
    studies_path = find_table(corpus_dir, "studies")
    if not corpus_dir.is_dir() or studies_path is None:
        raise InputError(f"{corpus_dir}: no studies.csv (or studies.xlsx) there; give the "
                         "corpus folder with --corpus")
    filled = read_coding_workbook(args.workbook)
    studies = read_table(studies_path).frame.drop(columns="line")
    codes_path = find_table(corpus_dir, "codes") or corpus_dir / "codes.csv"
    codes = read_table(codes_path).frame.drop(columns="line") if codes_path.exists() else \
        pd.DataFrame({c: pd.Series(dtype="str") for c in CODES_COLUMNS})
    codebook = read_codebook(corpus_dir / "codebook.yml")
    decisions = _read_decisions(corpus_dir)
    problems = coding.check_rows(filled, studies, codebook)
    if problems:
        raise SheetError(filled.source, problems)
    result = coding.merge(filled, studies, codes, decisions, codebook, replace=args.replace)
    written = replace_files({
        studies_path: corpus_table_bytes(result.studies, studies_path),
        codes_path: corpus_table_bytes(result.codes, codes_path),
        corpus_dir / DECISIONS_FILE: corpus_table_bytes(result.decisions, DECISIONS_FILE)})
    for line in result.conflicts:
        print(f"conflict: {line}", file=sys.stderr)
    for line in result.kept:
        print(f"kept for reconciliation: {line}", file=sys.stderr)
    for line in result.notes:
        print(f"note: {line}", file=sys.stderr)
    changed = ", ".join(p.name for p in written) or "nothing changed"
    print(f"trustreview: {filled.coder}: {result.summary()} ({changed})")
    return EXIT_OK


def _run(args) -> int:
    from trustreview.run import outputs
    from trustreview.io.load import find_table
    from trustreview.run.runner import execute_notebooks, list_notebooks, stderr_progress
    from trustreview.validate import open_corpus, require_valid

    notebooks = list_notebooks(args.notebooks)
    params = _params(args, notebooks)
    started = time.perf_counter()
    stderr_progress(f"validating {args.corpus} and {args.bib}")
    corpus = open_corpus(args.corpus, args.bib)
    if corpus.warnings:
        stderr_progress(f"{len(corpus.warnings)} warning(s); see "
                        "tables/validation_issues.csv")
    require_valid(corpus)
    params.check(corpus.codebook)
    injected = {"corpus_dir": str(args.corpus), "bib_path": str(args.bib),
                "out_dir": str(args.out), **params.as_dict()}
    with outputs.staged_output(args.out, args.corpus) as staging:
        try:
            execute_notebooks(notebooks, staging / "notebooks", injected, cwd=os.getcwd(),
                              progress=stderr_progress)
        except KeyboardInterrupt:
            print(f"trustreview: interrupted; {args.out} is as it was before this run "
                  f"(partial outputs: {staging})", file=sys.stderr)
            return EXIT_INTERRUPTED
        except TrustreviewError as error:
            raise RunError(f"{error}\n{args.out} is as it was before this run; the partial "
                              f"outputs are in {staging}") from None
        corpus_dir = Path(args.corpus)
        inputs = {"studies": find_table(corpus_dir, "studies"),
                  "codes": find_table(corpus_dir, "codes"),
                  "codebook": corpus_dir / "codebook.yml", "bib": Path(args.bib)}
        outputs.write_manifest(staging, {k: v for k, v in inputs.items() if v is not None},
                               params.as_dict(), notebooks)
    outputs.publish(staging, args.out)
    stderr_progress(f"done in {time.perf_counter() - started:.1f} s; outputs in {args.out}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"run": _run, "validate": _validate, "tag": _tag, "new": _new,
                "sheet": _sheet, "merge": _merge}
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
