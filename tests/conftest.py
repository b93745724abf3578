"""Shared fixtures: a tiny corpus of real studies taken from the bundled corpus."""

from __future__ import annotations

import csv
import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURE_IDS = ["baxter2021governing", "bergh2025stress", "cst2023building",
               "greany2018hierarchy", "honingh2020boardsmatter", "hutchings2018chain",
               "ofsted2019mats", "torres2016workload", "townsleyeconomic"]


def _subset_csv(source: Path, target: Path, ids: list[str]) -> None:
    with open(source, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    with open(target, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(rows[0])
        writer.writerows(r for r in rows[1:] if r[0] in ids)


def _subset_bib(source: Path, target: Path, ids: list[str]) -> None:
    blocks = source.read_text(encoding="utf-8").split("\n@")
    keep = [b for b in blocks[1:] if b.split("{", 1)[1].split(",", 1)[0] in ids]
    target.write_text("".join("@" + b.strip() + "\n\n" for b in keep), encoding="utf-8")


def make_corpus(folder: Path, ids: list[str] = FIXTURE_IDS) -> tuple[Path, Path]:
    """Write a corpus of the given real studies; returns (corpus_dir, bib_path)."""
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    _subset_csv(REPO / "corpus" / "studies.csv", corpus / "studies.csv", ids)
    _subset_csv(REPO / "corpus" / "codes.csv", corpus / "codes.csv", ids)
    shutil.copyfile(REPO / "corpus" / "codebook.yml", corpus / "codebook.yml")
    bib = folder / "references.bib"
    _subset_bib(REPO / "references.bib", bib, ids)
    return corpus, bib


@pytest.fixture
def tiny(tmp_path):
    """(corpus_dir, bib_path) of the nine-study fixture corpus."""
    return make_corpus(tmp_path)


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run the CLI in-process (from the folder ``cwd``, if given, as ``python -m
    trustreview`` run there would); returns (exit code, stdout, stderr). A process of its own
    would add only its start and imports (1.2 CPU-s a command); the tests that start one
    are those about the process: Ctrl-C, exit codes, an installed copy."""
    from trustreview.cli import main

    def run(*args, cwd=None):
        with monkeypatch.context() as here:
            if cwd is not None:
                here.chdir(cwd)
            code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


sys.path.insert(0, str(REPO / "tests"))


@pytest.fixture(scope="session")
def bundled():
    """The bundled corpus, read and validated once (tests must not modify it)."""
    from trustreview.corpus.validate import open_corpus
    return open_corpus(REPO / "corpus", REPO / "references.bib")


@pytest.fixture(scope="session")
def bundled_codes(bundled):
    """The reconciled 0/1 codes (studies x domains) of the bundled corpus's included studies."""
    from trustreview.model.agreement import coded_matrix
    return coded_matrix(bundled)


@pytest.fixture(scope="session", autouse=True)
def _parse_stores_apart(tmp_path_factory):
    """Commands run by the tests (in this process and in the processes it starts) keep their
    BibTeX parse stores (trustreview.io.bibcache) in a folder of the test run, never in the
    user's cache."""
    os.environ["TRUSTREVIEW_CACHE"] = str(tmp_path_factory.mktemp("parse-stores"))


@pytest.fixture(autouse=True)
def _fast_lane_runs_no_notebook_and_no_process(request, monkeypatch):
    """A test in the fast lane (not marked ``slow``) may not start a process, and so not a
    notebook's kernel either: the guard fails it with the fix, so the fast lane stays
    fast."""
    if request.node.get_closest_marker("slow") is not None:
        return
    import subprocess

    def refuse(*args, **kwargs):
        raise AssertionError(f"{request.node.nodeid} starts a process or runs a notebook: "
                             "mark it @pytest.mark.slow (make unit leaves those out)")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)



def pytest_collection_modifyitems(items):
    """The files that take longest first, each file's tests in their written order. `make
    test` hands whole files to its two workers in this order (``--dist loadfile
    --no-loadscope-reorder``), so the long files start early and the short ones fill in at
    the end (handed out by number of tests, as xdist does, a file of a few long runs came
    last and kept one worker busy for half a minute after the other had finished). A file's
    time is guessed from its tests: an end-to-end test (marked ``slow``) about 8 s, a
    property test (hypothesis) about 2.5 s, any other 0.3 s (measured on two cores)."""
    seconds: dict[str, float] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        if item.get_closest_marker("slow") is not None:
            guess = 8.0
        elif getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            guess = 2.5
        else:
            guess = 0.3
        seconds[module] = seconds.get(module, 0.0) + guess
    order = {module: rank for rank, module in enumerate(
        sorted(seconds, key=lambda m: (-seconds[m], m)))}
    items.sort(key=lambda item: order[item.nodeid.split("::", 1)[0]])  # stable: in-file order kept
