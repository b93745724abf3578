"""A researcher's own review: `trustreview new` from a reference export, studies awaiting
screening, a run with no or few coded studies, and `trustreview run` from anywhere, also
from a regular (non-editable) install."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import REPO, _subset_bib

IDS = ["baxter2021governing", "bergh2025stress", "cst2023building", "greany2018hierarchy",
       "honingh2020boardsmatter", "hutchings2018chain", "ofsted2019mats",
       "torres2016workload", "townsleyeconomic", "adolfsson2020power",
       "abdulkadiroglu2016takeovers", "eduriocivic"]


def bundled_rows() -> dict[str, dict]:
    with open(REPO / "corpus" / "studies.csv", encoding="utf-8", newline="") as handle:
        return {row["study_id"]: row for row in csv.DictReader(handle)}


def reconciled_codes() -> list[dict]:
    with open(REPO / "corpus" / "codes.csv", encoding="utf-8", newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["coder"] == "reconciled"]


def write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({c: r.get(c, "") for c in columns} for r in rows)


def trustreview(*args, cwd: Path, executable: str = sys.executable):
    return subprocess.run([executable, "-m", "trustreview", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture
def refs(tmp_path) -> Path:
    bib = tmp_path / "export.bib"
    _subset_bib(REPO / "references.bib", bib, IDS)
    return bib


def test_new_creates_a_review_folder_from_a_bib(tmp_path, refs, cli):
    # one abstract, as a reference manager exports it: it becomes the summary to start from
    summary = bundled_rows()["ofsted2019mats"]["summary"]
    text = refs.read_text(encoding="utf-8").replace(
        "@techreport{ofsted2019mats,", "@techreport{ofsted2019mats,\n  abstract = {"
        + summary + "},", 1)
    refs.write_text(text, encoding="utf-8")
    review = tmp_path / "my review"
    code, _, err = cli("new", review, "--from", refs)
    assert code == 0, err
    for name in ("corpus/studies.csv", "corpus/codes.csv", "corpus/codebook.yml",
                 "references.bib", "README.md", "notebooks/01-load-and-validate.ipynb",
                 "notebooks/02-tag-domains.ipynb", "notebooks/03-synthesis.ipynb"):
        assert (review / name).is_file(), name
    with open(review / "corpus" / "studies.csv", encoding="utf-8", newline="") as handle:
        rows = {r["study_id"]: r for r in csv.DictReader(handle)}
    assert sorted(rows) == sorted(IDS)
    assert rows["ofsted2019mats"]["summary"] == " ".join(summary.split())
    assert all(r["included"] == "" and r["country"] == "" for r in rows.values())
    assert (review / "corpus" / "codes.csv").read_text() == "study_id,coder,domain\n"
    assert (review / "corpus" / "codebook.yml").read_text() == \
        (REPO / "corpus" / "codebook.yml").read_text()
    notebook = json.loads((review / "notebooks" / "02-tag-domains.ipynb").read_text())
    assert all(not c.get("outputs") for c in notebook["cells"])
    assert "trustreview run" in (review / "README.md").read_text()


def test_new_refuses_a_folder_that_is_not_empty_and_a_broken_bib(tmp_path, refs, cli):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    code, _, err = cli("new", taken, "--from", refs)
    assert code == 1 and "not empty" in err
    assert sorted(p.name for p in taken.iterdir()) == ["notes.txt"]
    broken = tmp_path / "broken.bib"  # a block that is not an entry
    broken.write_text(refs.read_text() + "\n@article{baxter2021governing, title={Again}\n")
    code, _, err = cli("new", tmp_path / "fresh", "--from", broken)
    assert code == 1 and "broken.bib" in err and "cannot be read" in err
    assert not (tmp_path / "fresh").exists()
    code, _, err = cli("new", tmp_path / "fresh", "--from", tmp_path / "missing.ris")
    assert code == 1 and "missing.ris: file not found" in err and "--from" in err
    assert "--bib" not in err and not (tmp_path / "fresh").exists()
    ris = tmp_path / "export.ris"  # cut short: the second record has no end line
    ris.write_text("TY  - JOUR\nTI  - A title\nER  - \n\nTY  - JOUR\nTI  - Another\n")
    code, _, err = cli("new", tmp_path / "fresh", "--from", ris)
    assert code == 1 and "export.ris:5" in err and "no end line (ER  - )" in err
    assert not (tmp_path / "fresh").exists()


def screen(review: Path, decided: list[str], coded: list[str]) -> None:
    """Screen ``decided`` as the bundled corpus did and give ``coded`` their reconciled
    codes; the rest stay awaiting screening."""
    bundled = bundled_rows()
    path = review / "corpus" / "studies.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
        columns = list(rows[0])
    for row in rows:
        if row["study_id"] in decided:
            row.update({c: bundled[row["study_id"]][c] for c in columns})
    write_csv(path, rows, columns)
    codes = [r for r in reconciled_codes() if r["study_id"] in coded]
    write_csv(review / "corpus" / "codes.csv", codes, ["study_id", "coder", "domain"])


@pytest.mark.slow
def test_a_review_with_no_coded_studies_runs_and_says_why_there_is_no_evaluation(
        tmp_path, refs, cli):
    review = tmp_path / "review"
    assert cli("new", review, "--from", refs)[0] == 0
    decided = IDS[:10]  # two studies stay awaiting screening
    included = [s for s in decided if bundled_rows()[s]["included"] == "yes"]
    screen(review, decided, [])
    code, _, err = cli("run", "--out", "outputs", "-p", "cv_repeats", "1", cwd=review)
    assert code == 0, err[-3000:]
    assert "02-tag-domains.ipynb cell 3/" in err  # progress: notebook and cell
    out = review / "outputs"
    assert (out / "manifest.json").exists()
    notebook = (out / "notebooks" / "02-tag-domains.ipynb").read_text()
    assert "There is no cross-validated evaluation yet" in notebook
    assert not (out / "tables" / "tagger_evaluation.csv").exists()
    import pandas as pd
    predictions = pd.read_csv(out / "tables" / "predictions.csv")
    assert set(predictions["study_id"]) == set(included)
    assert (predictions["source"] == "model").all()
    assert (predictions.groupby("study_id")["tagged"].sum() >= 1).all()
    flow = pd.read_csv(out / "tables" / "screening_flow.csv").set_index("count_of")["n"]
    assert flow["awaiting screening"] == 2
    assert flow["included in the synthesis"] == len(included)
    issues = pd.read_csv(out / "tables" / "validation_issues.csv")
    assert "2 studies await screening" in " ".join(issues["found"])


@pytest.mark.parametrize("n_coded", [0, 3])
def test_a_review_with_few_coded_studies_is_tagged_and_says_why_it_is_not_evaluated(
        tmp_path, refs, cli, n_coded):
    # the stage notebook 02 runs (the whole run is made once, above)
    from trustreview.run import pipeline
    from trustreview.run.params import Params
    from trustreview.corpus.validate import open_corpus, require_valid

    review = tmp_path / "review"
    assert cli("new", review, "--from", refs)[0] == 0
    decided = IDS[:10]
    included = [s for s in decided if bundled_rows()[s]["included"] == "yes"]
    screen(review, decided, included[:n_coded])
    corpus = require_valid(open_corpus(review / "corpus", review / "references.bib"))
    result = pipeline.tag(corpus, Params.from_values(cv_repeats=1))
    assert result.no_evaluation.startswith("There is no cross-validated evaluation yet")
    assert result.no_evaluation.endswith("and those codes." if n_coded else "alone.")
    assert "tagger_evaluation" not in result.tables
    predictions = result.predictions
    assert set(predictions["study_id"]) == set(included)
    assert (predictions["source"] == "human").sum() == 7 * n_coded
    assert (predictions.groupby("study_id")["tagged"].sum() >= 1).all()


def test_awaiting_screening_is_neither_included_nor_excluded_nor_an_error(tmp_path, refs,
                                                                         cli):
    from trustreview.corpus.validate import AWAITING, open_corpus

    review = tmp_path / "review"
    assert cli("new", review, "--from", refs)[0] == 0
    screen(review, IDS[:4], [])
    corpus = open_corpus(review / "corpus", review / "references.bib")
    assert not corpus.errors
    status = corpus.records.set_index("study_id")["status"]
    assert (status[IDS[4:]] == AWAITING).all()
    assert [i.found for i in corpus.warnings if i.field == "included"] == \
        ["8 studies await screening (included is empty)"]
    # a code for a study nobody screened yet is an error: screen it first
    write_csv(review / "corpus" / "codes.csv",
              [{"study_id": IDS[6], "coder": "A", "domain": "governance"}],
              ["study_id", "coder", "domain"])
    corpus = open_corpus(review / "corpus", review / "references.bib")
    assert any("not screened yet" in e.found for e in corpus.errors)


@pytest.mark.slow
def test_run_from_anywhere_after_a_regular_install(tmp_path, refs):
    # `pip install .` (not editable) into a fresh virtualenv; the dependencies come from the
    # test environment, the package itself (code, notebooks, codebook) from the build
    env = tmp_path / "venv"
    venv.create(env, with_pip=False)  # this environment's pip installs into it (--python):
    python = env / "bin" / "python"   # ensurepip would cost 6 s of the test's CPU
    site = next((env / "lib").glob("python3*/site-packages"))
    deps = next(p for p in map(Path, sys.path) if p.name == "site-packages" and
                (p / "pandas").exists())
    (site / "deps.pth").write_text(str(deps) + "\n")
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                              "--quiet", "--no-deps", str(REPO)],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-3000:]
    where = subprocess.run([str(python), "-c", "import trustreview; print(trustreview.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert str(site) in where.stdout, where.stdout  # the installed copy, not the checkout
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    assert trustreview("new", "r", "--from", refs, cwd=empty,
                       executable=str(python)).returncode == 0
    screen(empty / "r", IDS[:10], [])
    done = trustreview("run", "--corpus", "r/corpus", "--bib", "r/references.bib", "--out",
                       "out", "-p", "cv_repeats", "1", cwd=empty, executable=str(python))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "02-tag-domains.ipynb cell 3/" in done.stderr  # progress: notebook and cell
    assert "without encryption" not in done.stderr  # no kernel transport warning
    assert (empty / "out" / "manifest.json").exists()
    assert (empty / "out" / "report.html").exists()


def test_a_study_excluded_at_screening_needs_no_country_or_design(tmp_path, refs, cli):
    from trustreview.synthesis.tables import compute_corpus_counts
    from trustreview.corpus.validate import open_corpus

    review = tmp_path / "review"
    assert cli("new", review, "--from", refs)[0] == 0
    path = review / "corpus" / "studies.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
        columns = list(rows[0])
    rows[0].update(included="no", exclusion_reason="out-of-scope-topic")  # nothing else known
    rows[1].update(included="no", exclusion_reason="not-empirical", country="Englnd")
    write_csv(path, rows, columns)
    corpus = open_corpus(review / "corpus", review / "references.bib")
    assert [(e.study_id, e.field) for e in corpus.errors] == [(rows[1]["study_id"], "country")]
    rows[1]["country"] = "England"
    write_csv(path, rows, columns)
    corpus = open_corpus(review / "corpus", review / "references.bib")
    assert not corpus.errors
    counts = compute_corpus_counts(corpus)
    unknown = counts[counts["country"] == "not recorded"]
    assert unknown[["design", "excluded"]].values.tolist() == [["not recorded", 1]]
