"""End to end: `trustreview run` twice gives identical tables and manifest; a failing cell
stops the run with the notebook and cell named; the output folder never lies (no stale file,
no manifest beside files it does not hash); papermill runs the notebooks from the project
root; nbval catches a stale committed output."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import REPO, make_corpus

FAST = ["-p", "cv_repeats", "1", "-p", "cv_folds", "3"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    # run from the review's own folder with relative paths, as a researcher types them
    from trustreview.cli import main

    base = tmp_path_factory.mktemp("runs")
    make_corpus(base)
    codes = []
    here = os.getcwd()
    os.chdir(base)
    try:
        for name in ("A", "B"):
            codes.append(main(["run", "--corpus", "corpus", "--bib", "references.bib",
                               "--out", name, *FAST]))
    finally:
        os.chdir(here)
    return base, codes


@pytest.mark.slow
@pytest.mark.xdist_group("two_runs")  # one worker makes the two runs once
def test_two_runs_are_byte_identical(two_runs):
    base, codes = two_runs
    assert codes == [0, 0]
    a, b = base / "A", base / "B"
    tables = sorted(p.name for p in (a / "tables").glob("*.csv"))
    assert tables == sorted(p.name for p in (b / "tables").glob("*.csv"))
    assert "domain_by_country.csv" in tables and "predictions.csv" in tables
    for name in tables:
        assert (a / "tables" / name).read_bytes() == (b / "tables" / name).read_bytes(), name
    assert (a / "manifest.json").read_bytes() == (b / "manifest.json").read_bytes()
    assert (a / "synthesis.xlsx").read_bytes() == (b / "synthesis.xlsx").read_bytes()


@pytest.mark.slow
@pytest.mark.xdist_group("two_runs")  # one worker makes the two runs once
def test_outputs_and_manifest(two_runs):
    base, _ = two_runs
    out = base / "A"
    for expected in ("report.html", "synthesis.xlsx", "figures/evidence_gap_map.png",
                     "figures/evidence_gap_map.svg", "figures/screening_flow.png",
                     "bib/governance.bib", "markdown/domain_by_country.md",
                     "notebooks/01-load-and-validate.ipynb", "notebooks/03-synthesis.ipynb"):
        assert (out / expected).exists(), expected
    assert not (out / "RUN-INCOMPLETE.txt").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    text = json.dumps(manifest)
    assert str(base) not in text and "/tmp" not in text
    assert set(manifest["inputs"]) == {"studies", "codes", "codebook", "bib"}
    assert manifest["parameters"]["cv_repeats"] == 1
    assert "out_dir" not in manifest["parameters"]
    assert manifest["tables"]["tables/domain_by_country.csv"]
    assert manifest["packages"]["pandas"]


def test_unknown_and_mistyped_parameters(cli, tiny, tmp_path):
    corpus, bib = tiny
    code, _, err = cli("run", "--corpus", corpus, "--bib", bib, "--out", tmp_path / "o",
                       "-p", "treshold", "0.4")
    assert code == 1 and "unknown parameter 'treshold'" in err and "tag_threshold" in err
    code, _, err = cli("run", "--corpus", corpus, "--bib", bib, "--out", tmp_path / "o",
                       "-p", "tag_threshold", "abc")
    assert code == 1 and "tag_threshold" in err and "Traceback" not in err


@pytest.mark.slow
def test_failing_cell_names_notebook_and_cell(tmp_path, tiny, cli):
    corpus, bib = tiny
    folder = tmp_path / "nbs"
    folder.mkdir()
    shutil.copy(REPO / "notebooks" / "01-load-and-validate.ipynb", folder)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell('corpus_dir = "x"\nbib_path = "x"\nout_dir = "x"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("1 / 0")]
    nbformat.write(nb, str(folder / "02-broken.ipynb"))
    out = tmp_path / "out"
    code, _, err = cli("run", "--corpus", corpus, "--bib", bib, "--out", out,
                       "--notebooks", folder)
    assert code == 1
    assert "02-broken.ipynb" in err and "ZeroDivisionError" in err and "cell" in err
    partial = tmp_path / "out.partial"
    assert (partial / "notebooks" / "02-broken.ipynb").exists()  # partly executed, kept
    assert (partial / "RUN-INCOMPLETE.txt").exists()
    assert not (partial / "manifest.json").exists()
    assert not out.exists()  # nothing was published


def test_out_refuses_corpus_and_foreign_folders(tiny, tmp_path, cli):
    corpus, bib = tiny
    code, _, err = cli("run", "--corpus", corpus, "--bib", bib, "--out", corpus)
    assert code == 1 and "overlaps the corpus folder" in err
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("precious")
    code, _, err = cli("run", "--corpus", corpus, "--bib", bib, "--out", foreign)
    assert code == 1 and "not a trustreview output folder" in err
    assert (foreign / "thesis.docx").read_text() == "precious"


def test_a_folder_the_notebooks_wrote_is_accepted_by_run(tiny, tmp_path):
    # `make test` executes the notebooks (nbval), which write ../outputs without the CLI; a
    # later `make run` into the same folder must not refuse it as foreign
    import pandas as pd

    from trustreview.io import export
    from trustreview.run import outputs
    from trustreview.errors import OutputError

    corpus, _ = tiny
    written = tmp_path / "outputs"
    export.write_table(pd.DataFrame({"a": [1]}), outputs.folder(written), "t")
    with outputs.staged_output(written, corpus) as staging:
        assert staging == tmp_path / "outputs.partial"
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("precious")
    export.write_table(pd.DataFrame({"a": [1]}), outputs.folder(foreign), "t")
    assert not (foreign / outputs.MARKER).exists()
    with pytest.raises(OutputError, match="not a trustreview output folder"):
        with outputs.staged_output(foreign, corpus):
            pass


@pytest.mark.slow
@pytest.mark.xdist_group("two_runs")  # one worker makes the two runs once
def test_paths_in_tables_are_as_the_user_typed_them(two_runs):
    base, _ = two_runs
    issues = (base / "A" / "tables" / "validation_issues.csv").read_text()
    assert ",references.bib," in issues  # townsleyeconomic has no year: a warning
    assert str(base) not in issues and "../" not in issues


@pytest.mark.slow
@pytest.mark.xdist_group("two_runs")  # one worker makes the two runs once
def test_a_second_run_leaves_no_stale_file(two_runs, cli):
    # the first run wrote an evidence table and a bib file for every domain; a run restricted
    # to two domains must not leave the others behind, nor list them in its manifest
    base, _ = two_runs
    out = base / "restricted"
    shutil.copytree(base / "A", out)
    assert (out / "tables" / "evidence_civic.csv").exists()
    code, _, err = cli("run", "--corpus", base / "corpus", "--bib", base / "references.bib",
                       "--out", out, *FAST, "-p", "domains", "governance,education")
    assert code == 0, err
    assert not (out / "tables" / "evidence_civic.csv").exists()
    assert not (out / "bib" / "civic.bib").exists()
    assert sorted(p.name for p in (out / "bib").iterdir()) == [
        "education.bib", "education.ris", "governance.bib", "governance.ris"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["domains"] == ["governance", "education"]
    from trustreview.io.files import sha256_file
    listed = set(manifest["tables"])
    assert listed == {f"tables/{p.name}" for p in (out / "tables").glob("*.csv")}
    for name, digest in manifest["tables"].items():
        assert sha256_file(out / name) == digest
    assert not (base / "restricted.partial").exists() and not (base / "restricted.old").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("two_runs")  # one worker makes the two runs once
def test_a_notebook_run_outside_the_cli_removes_the_manifest(two_runs, tmp_path):
    # a reviewer edits a parameter and re-runs 03 with papermill into a finished folder: the
    # folder no longer has a manifest that claims hashes its files do not have. A list
    # parameter is a list, as papermill -y 'countries: [Sweden]' gives it
    import papermill

    base, _ = two_runs
    out = tmp_path / "finished"
    shutil.copytree(base / "A", out)
    assert (out / "manifest.json").exists()
    papermill.execute_notebook(
        str(REPO / "notebooks" / "03-synthesis.ipynb"), str(tmp_path / "03.ipynb"),
        parameters={"corpus_dir": str(base / "corpus"), "bib_path": str(base / "references.bib"),
                    "out_dir": str(out), "min_weight": "high", "countries": ["Sweden"]},
        kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    assert not (out / "manifest.json").exists()
    assert "outside `trustreview run`" in (out / "RUN-INCOMPLETE.txt").read_text()
    high = (out / "tables" / "domain_by_weight.csv").read_text()
    assert high != (base / "A" / "tables" / "domain_by_weight.csv").read_text()
    import pandas as pd
    table = pd.read_csv(out / "tables" / "domain_by_country.csv")
    assert [c for c in table.columns if c not in ("domain", "total")] == ["Sweden"]


@pytest.mark.slow
def test_papermill_runs_the_notebooks_from_the_project_root(tmp_path):
    # plain papermill from the repository root, default corpus paths, a list spelled as on
    # the command line (-p countries England,US; a YAML list is tested in-process above)
    out = tmp_path / "out"

    def papermill(notebook, *args):
        done = subprocess.run(
            [sys.executable, "-m", "papermill", f"notebooks/{notebook}",
             str(tmp_path / notebook), "-p", "out_dir", str(out), "--no-progress-bar",
             *args], cwd=REPO, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]

    papermill("01-load-and-validate.ipynb")
    issues = (out / "tables" / "validation_issues.csv").read_text()
    assert ",references.bib," in issues and "../" not in issues
    papermill("02-tag-domains.ipynb", "-p", "cv_repeats", "1", "-p", "cv_folds", "3")
    papermill("03-synthesis.ipynb", "-p", "countries", "England,US")
    import pandas as pd
    table = pd.read_csv(out / "tables" / "domain_by_country.csv")
    assert [c for c in table.columns if c not in ("domain", "total")] == ["England", "US"]


def test_the_synthesis_names_the_missing_predictions_and_the_fix(tiny, tmp_path):
    from trustreview.run import outputs
    from trustreview.errors import OutputError
    from trustreview.corpus.validate import open_corpus

    corpus = open_corpus(*tiny)
    with pytest.raises(OutputError, match=r"tables/predictions.csv: not found.*02-tag-domains"):
        outputs.read_predictions(tmp_path / "empty", corpus)


def test_a_bad_parameter_is_refused_before_anything_runs(tiny, tmp_path, cli):
    corpus, bib = tiny
    out = tmp_path / "o"
    code, _, err = cli("run", "--corpus", corpus, "--bib", bib, "--out", out,
                       "-p", "countries", "Englnd")
    assert code == 1 and "did you mean 'England'" in err and "Sweden" in err
    code, _, err = cli("run", "--corpus", corpus, "--bib", bib, "--out", out,
                       "-p", "domains", "civics")
    assert code == 1 and "did you mean 'civic'" in err
    assert "running" not in err
    assert not out.exists() and not (tmp_path / "o.partial").exists()


@pytest.mark.slow
def test_nbval_fails_when_a_committed_output_is_stale(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copytree(REPO / "corpus", tmp_path / "corpus")
    shutil.copy(REPO / "references.bib", tmp_path)
    source = REPO / "notebooks" / "01-load-and-validate.ipynb"
    nb = json.loads(source.read_text(encoding="utf-8"))
    target = folder / source.name
    target.write_text(json.dumps(nb), encoding="utf-8")

    def nbval():
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "nbval", "-q", "--nbval",
             "--nbval-current-env", "-o", "addopts=", "--rootdir", str(folder),
             "-p", "no:cacheprovider", str(target)],
            cwd=folder, capture_output=True, text=True, timeout=300)

    clean = nbval()
    assert clean.returncode == 0, clean.stdout[-3000:]
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            if output.get("name") == "stdout":
                output["text"] = ["bib entries: 98\n"]  # a plausible but wrong count
                break
        else:
            continue
        break
    target.write_text(json.dumps(nb), encoding="utf-8")
    stale = nbval()
    assert stale.returncode != 0
    assert "bib entries: 98" in stale.stdout


def test_a_run_hands_its_notebooks_the_corpus_params_and_previous_tables(tiny, tmp_path):
    # one pass: `trustreview run` validates and checks once and hands both on; a notebook
    # of the run reads neither the corpus files nor the earlier run's tables again
    from trustreview.corpus.validate import open_corpus
    from trustreview.errors import ParameterError
    from trustreview.io import export
    from trustreview.run import outputs, pipeline
    from trustreview.run.params import Params

    corpus_dir, bib = tiny
    corpus = open_corpus(corpus_dir, bib)
    params = Params.from_values(cv_repeats=1).check(corpus.codebook)
    out = tmp_path / "outputs"
    (out / "tables").mkdir(parents=True)
    (out / "tables" / "predictions.csv").write_text("study_id\nold1\n")
    (out / outputs.MARKER).write_bytes(b"x")
    (out / "manifest.json").write_text("{}")
    with outputs.staged_output(out, corpus_dir, bib, corpus, params) as staging:
        (out / "tables" / "predictions.csv").write_text("study_id\nchanged\n")
        moved = tmp_path / "elsewhere"
        shutil.move(str(corpus_dir), moved)  # the files are gone: nothing reads them again
        try:
            handed, handed_params = pipeline.begin(corpus_dir, bib, cv_repeats=3)
            validation = pipeline.validate(corpus_dir, bib)
            assert outputs.folder(out) == staging
            previous = outputs.previous_run(out)
        finally:
            shutil.move(str(moved), corpus_dir)
        assert handed.records.equals(corpus.records)
        assert handed_params == params  # the run's, checked once: not rebuilt
        assert validation.tables["records"]["study_id"].tolist() == \
            corpus.records["study_id"].tolist()
        assert previous["predictions"]["study_id"].tolist() == ["old1"]
        assert outputs.previous_run(tmp_path / "another") is None
        export.write_table(validation.tables["records"], staging, "records")
        outputs.write_manifest(staging, {}, params.as_dict(), [])
        assert not (staging / outputs.HANDOFF).exists()  # never published
    assert outputs.RUN_ENV not in os.environ
    # outside a run, begin reads and checks itself
    again, checked = pipeline.begin(corpus_dir, bib, countries=["England"])
    assert checked.countries == ("England",) and again.records.equals(corpus.records)
    with pytest.raises(ParameterError, match="Englnd"):
        pipeline.begin(corpus_dir, bib, countries=["Englnd"])


def test_params_checked_once_per_codebook_but_checked_against_each(tiny):
    from trustreview.corpus.validate import open_corpus
    from trustreview.errors import ParameterError
    from trustreview.run.params import Params

    corpus = open_corpus(*tiny)
    params = Params.from_values(countries=["England"])
    assert params.check(corpus.codebook) is params
    assert params.check(corpus.codebook) is params
    import dataclasses

    other = dataclasses.replace(corpus.codebook, countries=tuple(
        c for c in corpus.codebook.countries if c != "England"))  # checked against it anew
    with pytest.raises(ParameterError, match="England"):
        params.check(other)
    assert params == Params.from_values(countries=["England"])  # the memo is not a field


def test_each_output_file_has_one_writer(tiny, tmp_path, monkeypatch):
    # one writer per output file: no stage writes a file another stage wrote
    from trustreview.io import export
    from trustreview.run import outputs, pipeline

    written: list[str] = []
    original = export.atomic_write

    def recording(path, data):
        written.append(Path(path).relative_to(out).as_posix())
        return original(path, data)

    monkeypatch.setattr(export, "atomic_write", recording)
    monkeypatch.setattr(outputs, "atomic_write", recording)
    out = tmp_path / "out"
    corpus_dir, bib = tiny
    by_stage = {}
    validation = pipeline.validate(corpus_dir, bib)
    outputs.write_validation(validation, out)
    by_stage["01"], written[:] = set(written), []
    corpus, params = pipeline.begin(corpus_dir, bib, cv_repeats=1, cv_folds=3)
    tagging = pipeline.tag(corpus, params)
    outputs.write_tagging(tagging, out)
    by_stage["02"], written[:] = set(written), []
    outputs.write_synthesis(pipeline.synthesise(corpus, tagging.predictions, params), out)
    by_stage["03"] = set(written)
    assert "tables/validation_issues.csv" in by_stage["01"]
    assert "tables/predictions.csv" in by_stage["02"]
    assert {"tables/screening_flow.csv", "report.html"} <= by_stage["03"]
    stages = sorted(by_stage)
    for i, first in enumerate(stages):
        for second in stages[i + 1:]:
            shared = (by_stage[first] & by_stage[second]) - {outputs.MARKER, outputs.INCOMPLETE}
            assert not shared, f"stages {first} and {second} both write {sorted(shared)}"
