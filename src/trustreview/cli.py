"""Command line: ``trustreview run | validate | tag``. Argument parsing and exit codes only."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from trustreview import __version__
from trustreview.errors import ParameterError, TrustreviewError

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
                       help="BibTeX file (default: references.bib)")

    run = sub.add_parser("run", help="validate, then execute every notebook with papermill")
    corpus_args(run)
    run.add_argument("--out", default="outputs", metavar="DIR",
                     help="output folder (default: outputs)")
    run.add_argument("--notebooks", default="notebooks", metavar="DIR",
                     help="folder of the stage notebooks (default: notebooks)")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                     metavar=("NAME", "VALUE"), help="set a notebook parameter (repeatable)")
    run.add_argument("--params", metavar="FILE.yaml", help="parameters from a YAML file")

    validate = sub.add_parser("validate", help="check the corpus and report every problem")
    corpus_args(validate)

    tag = sub.add_parser("tag", help="tag included studies with the codebook's domains")
    corpus_args(tag)
    tag.add_argument("--out", required=True, metavar="FILE.csv", help="predictions file")
    tag.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    return parser


def _read_params_file(path: str) -> dict:
    import yaml

    from trustreview.load import read_text

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


def _validate(args) -> int:
    from trustreview.review import open_corpus, screening_summary

    corpus = open_corpus(args.corpus, args.bib)
    _report_issues(corpus)
    print(screening_summary(corpus))
    return EXIT_ERROR if corpus.errors else EXIT_OK


def _tag(args) -> int:
    from trustreview.export import atomic_write, table_csv
    from trustreview.review import open_corpus, require_valid, tag_studies

    corpus = require_valid(open_corpus(args.corpus, args.bib))
    predictions = tag_studies(corpus, seed=args.seed).predictions
    columns = ["study_id", "domain", "probability", "tagged", "source"]
    atomic_write(args.out, table_csv(predictions[columns]))
    print(f"trustreview: wrote {len(predictions)} rows to {args.out}", file=sys.stderr)
    return EXIT_OK


def _run(args) -> int:
    from trustreview.export import build_manifest, prepare_output_dir, write_manifest
    from trustreview.load import find_table
    from trustreview.params import DEFAULTS, resolve_params
    from trustreview.review import open_corpus, require_valid
    from trustreview.runner import execute_notebooks, list_notebooks, stderr_progress

    given = _read_params_file(args.params) if args.params else {}
    given.update({name: value for name, value in args.parameter})
    for reserved in ("corpus_dir", "bib_path", "out_dir"):
        if reserved in given:
            raise ParameterError(f"parameter {reserved!r} is set by --corpus, --bib and "
                                 "--out; use those options instead")
    params = resolve_params(given)
    notebooks = list_notebooks(args.notebooks)
    started = time.perf_counter()
    stderr_progress(f"validating {args.corpus} and {args.bib}")
    corpus = open_corpus(args.corpus, args.bib)
    if corpus.warnings:
        stderr_progress(f"{len(corpus.warnings)} warning(s); see "
                        "tables/validation_issues.csv")
    require_valid(corpus)
    out = prepare_output_dir(args.out, args.corpus)
    kernel_dir = notebooks[0].parent.resolve()
    paths = {"corpus_dir": os.path.relpath(Path(args.corpus).resolve(), kernel_dir),
             "bib_path": os.path.relpath(Path(args.bib).resolve(), kernel_dir),
             "out_dir": os.path.relpath(out.resolve(), kernel_dir)}
    execute_notebooks(notebooks, out / "notebooks", {**paths, **params},
                      progress=stderr_progress)
    inputs = {"studies": find_table(Path(args.corpus), "studies"),
              "codes": find_table(Path(args.corpus), "codes"),
              "codebook": Path(args.corpus) / "codebook.yml", "bib": Path(args.bib)}
    effective = {k: v for k, v in {**DEFAULTS, **params}.items() if k not in paths}
    manifest = build_manifest(out, {k: v for k, v in inputs.items() if v is not None},
                              effective, notebooks)
    write_manifest(out, manifest)
    stderr_progress(f"done in {time.perf_counter() - started:.1f} s; outputs in {args.out}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"run": _run, "validate": _validate, "tag": _tag}
    try:
        return handlers[args.command](args)
    except TrustreviewError as error:
        if args.debug:
            raise
        print(f"trustreview: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("trustreview: interrupted; outputs of this run are incomplete (no "
              "manifest.json)", file=sys.stderr)
        return EXIT_INTERRUPTED
