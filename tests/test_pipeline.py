"""End to end: `trustreview run` twice gives identical tables and manifest; a failing cell
stops the run with the notebook and cell named; nbval catches a stale committed output."""

import json
import shutil
import subprocess
import sys

import nbformat
import pytest

from conftest import REPO, make_corpus

FAST = ["-p", "cv_repeats", "1", "-p", "cv_folds", "3"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    from trustreview.cli import main

    base = tmp_path_factory.mktemp("runs")
    corpus, bib = make_corpus(base)
    codes = []
    for name in ("A", "B"):
        codes.append(main(["run", "--corpus", str(corpus), "--bib", str(bib), "--out",
                           str(base / name), "--notebooks", str(REPO / "notebooks"), *FAST]))
    return base, codes


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
    assert (out / "notebooks" / "02-broken.ipynb").exists()  # partly executed, kept
    assert not (out / "manifest.json").exists()
    assert (out / "RUN-INCOMPLETE.txt").exists()


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
    from matplotlib.figure import Figure

    from trustreview import export
    from trustreview.errors import OutputError

    corpus, _ = tiny
    written = tmp_path / "outputs"
    export.write_table(pd.DataFrame({"a": [1]}), written, "t")
    assert export.prepare_output_dir(written, corpus) == written
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("precious")
    export.write_figure(Figure(), foreign, "f")
    with pytest.raises(OutputError, match="not a trustreview output folder"):
        export.prepare_output_dir(foreign, corpus)


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
