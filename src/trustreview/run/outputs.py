"""The output folder: where each stage's results are written, under which names, and how a
folder's ``manifest.json`` is kept honest; and what ``trustreview run`` hands its notebooks.

* ``trustreview run`` builds a whole run in a staging folder next to ``--out``
  (``OUT.partial``) and swaps it in only when every notebook has finished and the manifest is
  written (:func:`staged_output`, :func:`publish`): no stale file survives, and an
  interrupted or failed run leaves the previous complete outputs untouched.
* The run validates the corpus and checks the parameters once, reads the tables of the run
  it will replace once, and hands all three to its notebooks with the staging folder
  (:class:`Handoff`, written to ``OUT.partial/.handoff.pickle`` and named to the notebooks'
  kernels by one environment variable, :data:`RUN_ENV`). A notebook asks
  :func:`handed_on` for them; :func:`folder` sends its files to the staging folder.
* A notebook run any other way (JupyterLab, papermill, nbval) reads and checks its inputs
  itself and, writing into an output folder, first removes that folder's ``manifest.json``
  and leaves ``RUN-INCOMPLETE.txt`` (:func:`folder`), so a manifest is only ever next to
  exactly the files it hashes.

The stage writers (:func:`write_validation`, :func:`write_tagging`, :func:`write_synthesis`)
own every file name, each file one writer's; :func:`read_predictions` reads stage 02's
predictions back for stage 03.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pandas as pd

from trustreview.io import export
from trustreview.errors import OutputError
from trustreview.io.files import atomic_write
from trustreview.run.params import PATH_DEFAULTS, Params

if TYPE_CHECKING:
    from trustreview.corpus.validate import ValidatedCorpus

MARKER = export.MARKER
INCOMPLETE = export.INCOMPLETE
RUN_ENV = "TRUSTREVIEW_RUN"  # the path of the run's handoff, in its notebooks' kernels
HANDOFF = ".handoff.pickle"  # in the staging folder; removed before the manifest is written
PREDICTIONS = "tables/predictions.csv"
DIRECT_NOTE = (b"Files in this folder were written by a notebook run outside `trustreview "
               b"run` (JupyterLab, papermill, nbval): there is no manifest.json, and files "
               b"of earlier runs may remain. `trustreview run` writes a complete folder with "
               b"a manifest.\n")
STAGED_NOTE = (b"A run started here and has not finished: the files in this folder may be "
               b"partial. A complete run moves them into the output folder with "
               b"manifest.json.\n")


# -- paths -------------------------------------------------------------------------------------
def resolve_paths(corpus_dir: str, bib_path: str, out_dir: str) -> tuple[str, str, str]:
    """The notebooks' path parameters as usable paths.

    A path the user gave is taken as given (relative to the working directory). A default
    (``../corpus`` ...) is relative to the notebooks' folder: to the working directory when
    the kernel runs there (JupyterLab, nbval), or to ``./notebooks`` when it runs in the
    project root (plain ``papermill notebooks/NN.ipynb`` from the root). Returned paths are
    relative to the working directory where possible, so messages show short paths.
    """
    given = {"corpus_dir": corpus_dir, "bib_path": bib_path, "out_dir": out_dir}
    cwd = Path.cwd()
    base = next((b for b in (cwd, cwd / "notebooks")
                 if (b / PATH_DEFAULTS["corpus_dir"]).is_dir()), cwd)
    resolved = []
    for name, value in given.items():
        value = str(value)
        if value == PATH_DEFAULTS[name] and base != cwd:
            value = os.path.relpath(os.path.normpath(base / value), cwd)
        resolved.append(value)
    return tuple(resolved)  # type: ignore[return-value]


@dataclass
class Handoff:
    """What ``trustreview run`` hands each of its notebooks: the corpus it validated, the
    parameters it checked, the tables of the complete run it replaces (None: none), and
    where the notebooks' files go (``staging``) instead of ``out``. Paths are resolved."""

    corpus_dir: str
    bib_path: str
    out: str
    staging: str
    corpus: "ValidatedCorpus"
    params: Params
    previous: dict[str, pd.DataFrame] | None


_loaded: dict[str, Handoff] = {}


def current_run() -> Handoff | None:
    """The handoff of the ``trustreview run`` this process (a notebook's kernel) is part of,
    read once; None outside a run."""
    path = os.environ.get(RUN_ENV)
    if not path:
        return None
    try:
        with open(path, "rb") as stream:
            stamp = os.fstat(stream.fileno())
            key = f"{path}:{stamp.st_mtime_ns}:{stamp.st_size}"  # a later run's: read anew
            if key not in _loaded:
                _loaded.clear()
                _loaded[key] = pickle.load(stream)
    except (OSError, pickle.UnpicklingError, EOFError) as error:
        raise OutputError(f"{path}: the handoff of the run this notebook is part of cannot "
                          f"be read ({error}); run `trustreview run` again") from None
    return _loaded[key]


def _same(path: str | os.PathLike, resolved: str) -> bool:
    return str(Path(path).resolve()) == resolved


def handed_on(corpus_dir: str | os.PathLike, bib_path: str | os.PathLike) -> Handoff | None:
    """Under ``trustreview run``, for the run's own corpus and bib: the run's handoff (the
    corpus validated, the parameters checked); None otherwise."""
    run = current_run()
    if run and _same(corpus_dir, run.corpus_dir) and _same(bib_path, run.bib_path):
        return run
    return None


def _staging_for(out: Path) -> Path | None:
    run = current_run()
    return Path(run.staging) if run and _same(out, run.out) else None


def folder(out_dir: str | os.PathLike) -> Path:
    """The folder to write ``out_dir``'s files to, made ready for writing.

    Under ``trustreview run`` that is the run's staging folder. Otherwise the folder itself:
    a new or empty folder is marked as a trustreview output folder; in one that is, any
    ``manifest.json`` is removed and ``RUN-INCOMPLETE.txt`` says why.
    """
    out = Path(out_dir)
    staging = _staging_for(out)
    if staging is not None:
        return staging
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; give another out_dir")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{out}: cannot be created ({error.strerror}); give another "
                          "out_dir") from None
    if not any(out.iterdir()):
        atomic_write(out / MARKER, export.MARKER_TEXT)
    if (out / MARKER).exists():
        (out / "manifest.json").unlink(missing_ok=True)
        if not (out / INCOMPLETE).exists():
            atomic_write(out / INCOMPLETE, DIRECT_NOTE)
    return out


def _check_out(out: Path, corpus_dir: str | os.PathLike) -> None:
    corpus = Path(corpus_dir).resolve()
    resolved = out.resolve()
    if resolved == corpus or corpus in resolved.parents or resolved in corpus.parents:
        raise OutputError(f"{out}: the output folder overlaps the corpus folder {corpus_dir}; "
                          "choose another --out (outputs are regenerated, inputs are not)")
    if resolved == Path(resolved.anchor) or resolved == Path.cwd().resolve():
        raise OutputError(f"{out}: is the working directory or the root; choose a folder of "
                          "its own for --out, e.g. --out outputs")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; choose another --out")
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise OutputError(f"{out}: is not empty and is not a trustreview output folder; "
                          "choose an empty or new folder for --out")


def previous_run(out_dir: str | os.PathLike) -> dict[str, pd.DataFrame] | None:
    """Under ``trustreview run``: the tables of the complete earlier run that this run will
    replace in ``out_dir`` (for "what changed"), as the run read them before it started;
    None when there is none (a first run, an incomplete one, or a notebook run by hand)."""
    run = current_run()
    return run.previous if run and _same(out_dir, run.out) else None


def read_previous(out: Path) -> dict[str, pd.DataFrame] | None:
    """The tables of the complete run in ``out`` that "what changed" compares, as text;
    None when ``out`` holds no complete run."""
    from trustreview.synthesis.changes import COMPARED

    if not (out / "manifest.json").is_file() or (out / INCOMPLETE).exists():
        return None
    tables = {}
    for name in COMPARED:
        path = out / "tables" / f"{name}.csv"
        if path.is_file():
            tables[name] = pd.read_csv(path, dtype=str, keep_default_na=False)
    return tables


def staging_folder(out: Path) -> Path:
    """Where a run into ``out`` writes until it is complete: ``OUT.partial`` beside it."""
    return out.parent / f"{out.resolve().name}.partial"


def handoff_path(out: Path) -> Path:
    """Where a run into ``out`` writes its :class:`Handoff`."""
    return staging_folder(out).resolve() / HANDOFF


def run_variable(out: Path) -> dict[str, str]:
    """The environment variable that tells a notebook's kernel it is part of a run into
    ``out`` (a kernel started before :func:`staged_output` needs it given)."""
    return {RUN_ENV: str(handoff_path(out))}


@contextmanager
def staged_output(out_dir: str | os.PathLike, corpus_dir: str | os.PathLike,
                  bib_path: str | os.PathLike | None = None,
                  corpus: "ValidatedCorpus | None" = None,
                  params: Params | None = None) -> Iterator[Path]:
    """Check ``out_dir`` may be written, then yield a fresh staging folder next to it
    (``OUT.partial``) that every notebook of the run writes into instead. Given the run's
    validated ``corpus`` (read from ``corpus_dir`` and ``bib_path``) and checked ``params``,
    it holds the run's :class:`Handoff` (with the tables of the run in ``out_dir``) and this
    process's environment names it, for kernels started from here. The caller :func:`publish`\\ es it when the run is complete (the
    handoff is removed first, by :func:`write_manifest`); otherwise it stays, marked
    incomplete, and ``out_dir`` is untouched."""
    out = Path(out_dir)
    _check_out(out, corpus_dir)
    staging = staging_folder(out)
    if staging.exists():
        if not (staging / MARKER).exists():
            raise OutputError(f"{staging}: exists and is not a trustreview staging folder; "
                              "move it away and run again")
        shutil.rmtree(staging)
    try:
        staging.mkdir(parents=True)
    except OSError as error:
        raise OutputError(f"{staging}: cannot be created ({error.strerror}); choose another "
                          "--out") from None
    atomic_write(staging / MARKER, export.MARKER_TEXT)
    atomic_write(staging / INCOMPLETE, STAGED_NOTE)
    if corpus is None:
        yield staging
        return
    handoff = Handoff(str(Path(corpus_dir).resolve()), str(Path(bib_path).resolve()),
                      str(out.resolve()), str(staging.resolve()), corpus,
                      params if params is not None else Params(), read_previous(out))
    atomic_write(handoff_path(out), pickle.dumps(handoff, protocol=pickle.HIGHEST_PROTOCOL))
    previous = os.environ.get(RUN_ENV)
    os.environ.update(run_variable(out))  # for a kernel papermill starts itself
    try:
        yield staging
    finally:
        if previous is None:
            os.environ.pop(RUN_ENV, None)
        else:
            os.environ[RUN_ENV] = previous


def written_by_trustreview(out: Path) -> set[str]:
    """The files (paths relative to ``out``, POSIX) that the run which wrote ``out`` lists
    in its manifest, and the folder's own bookkeeping files. Everything else there is the
    user's."""
    ours = {MARKER, INCOMPLETE, "manifest.json"}
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ours
    ours.update(manifest.get("tables", {}))
    ours.update(manifest.get("other_outputs", []))
    ours.update(f"notebooks/{name}" for name in manifest.get("notebooks", {}))
    return ours


def _user_files(out: Path, staging: Path) -> list[str]:
    """Files and links in ``out`` that neither the run that wrote it nor the new run in
    ``staging`` wrote, sorted."""
    if not out.is_dir():
        return []
    ours = written_by_trustreview(out)
    found = []
    for path in out.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            continue
        relative = path.relative_to(out).as_posix()
        if relative not in ours and not (staging / relative).exists():
            found.append(relative)
    return sorted(found)


def publish(staging: Path, out_dir: str | os.PathLike) -> list[str]:
    """Swap a complete staging folder in as ``out_dir``. The files of the earlier run (its
    manifest lists them) go; any other file in ``out_dir`` is the user's and is copied into
    the new folder untouched (not listed in the new manifest). Returns those files.

    The user's files are copied before the swap, so until the old folder is removed they
    exist in both; an interrupted publish never loses one."""
    out = Path(out_dir)
    kept = _user_files(out, staging)
    for relative in kept:
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(out / relative, target, follow_symlinks=False)
    old = out.parent / f"{out.resolve().name}.old"
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        os.replace(out, old)
    os.replace(staging, out)
    if old.exists():
        shutil.rmtree(old)
    return kept


def write_manifest(staging: Path, inputs: dict[str, Path], parameters: dict,
                   notebooks: list[Path]) -> Path:
    """Write the manifest of a complete run (last), drop the incomplete note and the
    run's handoff."""
    (staging / HANDOFF).unlink(missing_ok=True)
    manifest = export.build_manifest(staging, inputs, parameters, notebooks)
    return export.write_manifest(staging, manifest)


# -- stage writers ----------------------------------------------------------------------------
def _tables(tables: dict[str, pd.DataFrame], out: Path) -> None:
    for name, frame in tables.items():
        export.write_table(frame, out, name)


# files that more than one stage computes, and the stage that writes them (one writer each):
# the screening flow shown in stage 01 is written by stage 03, which counts the tags too
WRITTEN_LATER = {"screening_flow"}


def write_validation(result, out_dir: str | os.PathLike) -> Path:
    """Stage 01: ``tables/validation_issues, records, searches, prisma2020, corpus_counts,
    coder_agreement.csv`` (the screening flow it shows is stage 03's to write)."""
    out = folder(out_dir)
    _tables({name: table for name, table in result.tables.items()
             if name not in WRITTEN_LATER}, out)
    return out


def write_tagging(result, out_dir: str | os.PathLike) -> Path:
    """Stage 02: ``tables/predictions, check_these, top_terms, code_next.csv`` and, once
    the tagger can be cross-validated, ``tagger_evaluation.csv``, ``learning_curve.csv``,
    ``triage.csv``, ``work_saved.csv`` and ``figures/learning_curve.png`` and
    ``work_saved.png``."""
    out = folder(out_dir)
    _tables(result.tables, out)
    for name, figure in result.figures.items():
        export.write_figure(figure, out, name)
    return out


def read_predictions(out_dir: str | os.PathLike, corpus) -> pd.DataFrame:
    """Stage 02's predictions, for stage 03; refuses a missing or out-of-date file."""
    path = folder(out_dir) / PREDICTIONS
    shown = Path(out_dir) / PREDICTIONS
    if not path.exists():
        raise OutputError(f"{shown}: not found. The synthesis uses the tags of notebook 02: "
                          "run 02-tag-domains.ipynb first with the same out_dir, or run the "
                          "whole review with `trustreview run`")
    predictions = pd.read_csv(path, dtype={"study_id": "str", "domain": "str",
                                           "source": "str", "band": "str", "terms": "str"},
                              keep_default_na=False, na_values={"probability": [""],
                                                               "oof_probability": [""]})
    expected = set(corpus.included["study_id"])
    found = set(predictions["study_id"].tolist())
    if found != expected or set(predictions["domain"].tolist()) - set(corpus.codebook.domain_ids):
        changed = len(found ^ expected)
        raise OutputError(f"{shown}: out of date ({changed} included stud"
                          f"{'y differs' if changed == 1 else 'ies differ'} from the corpus, "
                          "or its domains are not the codebook's); run 02-tag-domains.ipynb "
                          "again, or the whole review with `trustreview run`")
    return predictions


def write_synthesis(result, out_dir: str | os.PathLike) -> Path:
    """Stage 03: every synthesis table (``tables/*.csv``, ``markdown/*.md``,
    ``synthesis.xlsx``), ``figures/evidence_gap_map.png`` and ``.svg``,
    ``figures/screening_flow.png`` (and ``screening_progress.png`` for a review screened in
    relevance order), ``bib/<domain>.bib`` and ``.ris``, ``report.html``, ``report.docx``
    and ``eppi.json``."""
    out = folder(out_dir)
    export.write_synthesis(result.tables, out)
    drawn = result.png  # the PNGs the reports have: not drawn again
    export.write_figure(result.figures["evidence_gap_map"], out, "evidence_gap_map",
                        formats=("png", "svg"), ready={"png": drawn.get("evidence_gap_map")})
    export.write_figure(result.figures["screening_flow"], out, "screening_flow",
                        ready={"png": drawn.get("screening_flow")})
    if "screening_progress" in result.figures:  # a review screened in relevance order
        export.write_figure(result.figures["screening_progress"], out, "screening_progress",
                            ready={"png": drawn.get("screening_progress")})
    for domain, text in result.bib.items():
        export.write_text(text, out / "bib" / f"{domain}.bib")
    for domain, text in result.ris.items():
        export.write_text(text, out / "bib" / f"{domain}.ris")
    export.write_text(result.report_html, out / "report.html")
    atomic_write(out / "report.docx", result.report_docx)
    atomic_write(out / "eppi.json", result.eppi_json)
    return out
