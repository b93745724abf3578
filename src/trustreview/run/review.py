"""``trustreview run``: validate the corpus and check the parameters (once: the notebooks are
handed both), execute every stage notebook into a staging folder, write the manifest, and
swap the complete run in as the output folder."""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from trustreview.errors import RunError, TrustreviewError
from trustreview.io.load import find_table
from trustreview.run.params import Params
from trustreview.run import outputs
from trustreview.run.runner import execute_notebooks, start_kernel
from trustreview.corpus.validate import open_corpus, require_valid


class Interrupted(Exception):
    """Ctrl-C during a run; ``staging`` holds its partial outputs, the output folder is as
    it was."""

    def __init__(self, staging: Path):
        super().__init__(str(staging))
        self.staging = staging


@dataclass
class RunOutcome:
    out: str
    seconds: float
    kept: list[str]  # files in the output folder trustreview did not write, carried over


def run_review(corpus_dir: str, bib_path: str, out_dir: str, notebooks: list[Path],
               params: Params, progress: Callable[[str], None]) -> RunOutcome:
    """The whole review into ``out_dir``, or nothing changed there: a failing notebook
    raises :class:`~trustreview.errors.RunError`, Ctrl-C :class:`Interrupted`."""
    started = time.perf_counter()
    # the first two notebooks' kernels start (and import) while the corpus is checked
    environment = {**os.environ, **outputs.run_variable(Path(out_dir))}
    ahead = [start_kernel(nb, os.getcwd(), environment) for nb in notebooks[:2]]
    try:
        # the one validation and parameter check of the run: the notebooks are handed both
        progress(f"validating {corpus_dir} and {bib_path}")
        corpus = open_corpus(corpus_dir, bib_path)
        if corpus.warnings:
            progress(f"{len(corpus.warnings)} warning(s); see tables/validation_issues.csv")
        require_valid(corpus)
        params.check(corpus.codebook)
        staged = ExitStack()  # a folder that cannot be written raises here, kernels stopped
        staging = staged.enter_context(outputs.staged_output(out_dir, corpus_dir, bib_path,
                                                             corpus, params))
    except BaseException:
        for kernel in ahead:  # not handed to execute_notebooks, which stops its kernels
            if kernel is not None:
                kernel.stop()
        raise
    injected = {"corpus_dir": str(corpus_dir), "bib_path": str(bib_path),
                "out_dir": str(out_dir), **params.as_dict()}
    with staged:
        try:
            execute_notebooks(notebooks, staging / "notebooks", injected, cwd=os.getcwd(),
                              progress=progress, ahead=ahead)
        except KeyboardInterrupt:
            raise Interrupted(staging) from None
        except TrustreviewError as error:
            raise RunError(f"{error}\n{out_dir} is as it was before this run; the partial "
                           f"outputs are in {staging}") from None
        folder = Path(corpus_dir)
        inputs = {"studies": find_table(folder, "studies"),
                  "codes": find_table(folder, "codes"),
                  "codebook": folder / "codebook.yml", "bib": Path(bib_path)}
        outputs.write_manifest(staging, {k: v for k, v in inputs.items() if v is not None},
                               params.as_dict(), notebooks)
    kept = outputs.publish(staging, out_dir)
    return RunOutcome(str(out_dir), time.perf_counter() - started, kept)
