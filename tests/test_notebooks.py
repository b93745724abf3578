"""The committed notebooks: thin, parameterised like Params, executed and normalised; the
socket files of a killed run's kernels do not pile up."""

import ast
import os
import tempfile
from pathlib import Path

import nbformat
import pytest

from conftest import REPO
from trustreview.run.params import PATH_DEFAULTS, Params
from trustreview.run.runner import (PACKAGED_NOTEBOOKS, SCREENER, declared_parameters,
                                list_notebooks, normalise_notebook, strip_outputs)

NOTEBOOKS = list_notebooks(REPO / "notebooks")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_parameters_cell_matches_params(path):
    declared = declared_parameters(path)
    assert {"corpus_dir", "bib_path", "out_dir"} <= set(declared)
    defaults = {**PATH_DEFAULTS, **Params().as_dict()}
    for name, default in declared.items():
        assert name in defaults, f"{path.name}: parameter {name} is not a field of Params"
        assert ast.literal_eval(default) == defaults[name], name


def test_the_tagging_parameters_are_only_in_the_tagging_notebook():
    declared = {p.name[:2]: set(declared_parameters(p)) - set(PATH_DEFAULTS) for p in NOTEBOOKS}
    assert declared["01"] == set()
    assert declared["02"] == {"seed", "cv_folds", "cv_repeats", "tag_threshold", "min_domains"}
    assert declared["03"] == {"human_codes_only", "countries", "domains", "min_weight", "by",
                              "where", "map_columns", "map_slices"}
    assert set().union(*declared.values()) == set(Params.names())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_the_package_ships_the_notebooks_without_outputs(path):
    # `make notebooks` writes these copies; `trustreview run` and `new` use them
    shipped = nbformat.read(str(PACKAGED_NOTEBOOKS / path.name), as_version=4)
    assert shipped == strip_outputs(nbformat.read(str(path), as_version=4))
    assert sorted(p.name for p in PACKAGED_NOTEBOOKS.glob("*.ipynb")) == \
        sorted([p.name for p in NOTEBOOKS] + [SCREENER])


def test_the_screening_notebook_is_shipped_thin_and_never_run():
    # opened in JupyterLab (`new` copies it into a review folder); `run` and `make
    # notebooks` run only the stage notebooks NN-name.ipynb
    committed = nbformat.read(str(REPO / "notebooks" / SCREENER), as_version=4)
    assert nbformat.read(str(PACKAGED_NOTEBOOKS / SCREENER), as_version=4) == committed
    assert SCREENER not in [p.name for p in list_notebooks()]
    assert set(declared_parameters(REPO / "notebooks" / SCREENER)) == \
        {"corpus_dir", "bib_path", "out_dir", "coder"}
    for cell in committed.cells:
        if cell.cell_type == "code":
            tree = ast.parse(cell.source)
            assert not any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) for n in ast.walk(tree))
            assert "Screener" in cell.source or "coder" in cell.source or "HTML" in cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_thin_executed_and_normalised(path):
    nb = nbformat.read(str(path), as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        assert not any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) for n in ast.walk(tree))
        assert "sys.path" not in cell.source
        assert cell.execution_count is not None, "commit notebooks executed (make notebooks)"
        assert "execution" not in cell.metadata and "papermill" not in cell.metadata
    text = path.read_text(encoding="utf-8")
    for forbidden in ('"start_time"', '"duration"', '"/work/', '"/tmp/', '"/home/'):
        assert forbidden not in text
    assert normalise_notebook(nb) == nb  # already normalised


def test_normalise_drops_timings_and_fixes_injected_id():
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"start_time": "x"}
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.metadata["tags"] = ["injected-parameters"]
    cell.metadata["execution"] = {"iopub.execute_input": "x"}
    cell.metadata["papermill"] = {"duration": 1.0}
    nb.cells.append(cell)
    out = normalise_notebook(nb)
    assert "papermill" not in out.metadata
    assert out.cells[0].id == "injected-parameters"
    assert out.cells[0].metadata == {"tags": ["injected-parameters"]}
    assert "papermill" in nb.metadata  # the argument is not changed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_a_stage_notebooks_kernel_warms_up_with_modules_that_exist(path):
    """A kernel started ahead imports what its notebook lists in its metadata: modules that
    import (a wrong name would only print an error at the kernel's start)."""
    import importlib.util

    from trustreview.run.runner import WARM_UP, warm_up

    modules = warm_up(path)
    assert modules != WARM_UP and "pandas" in modules
    assert all(importlib.util.find_spec(m) is not None for m in modules), modules


def test_a_notebook_without_a_warm_up_list_gets_the_default(tmp_path):
    from trustreview.run.runner import WARM_UP, warm_up

    plain = tmp_path / "mine.ipynb"
    plain.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    assert warm_up(plain) == WARM_UP
    assert warm_up(tmp_path / "missing.ipynb") == WARM_UP


def test_the_socket_files_of_a_killed_run_are_removed_by_the_next():
    # a run killed with SIGKILL leaves its kernels' Unix socket files in the temporary
    # folder; the next run removes those of runs no longer running, and nothing else
    import socket

    from trustreview.run import runner

    dead = next(pid for pid in range(4_000_000, 3_000_000, -1) if not _running(pid))
    with tempfile.TemporaryDirectory(prefix="tr") as name:  # short: a socket's path has
        folder = Path(name)                                  # at most 107 bytes

        def socket_file(name):
            with socket.socket(socket.AF_UNIX) as server:
                server.bind(str(folder / name))  # the file stays after close
            return name

        orphans = [socket_file(f"trustreview-{dead}-0123abcd-{n}") for n in (1, 2)]
        kept = [socket_file(f"trustreview-{os.getpid()}-4567abcd-1"),  # a run still running
                socket_file(f"other-{dead}-0123abcd-1"),  # not trustreview's
                socket_file(f"trustreview-{dead}-1")]  # not a kernel's name
        (folder / f"trustreview-{dead}-89abcdef-1").write_text("not a socket")
        kept.append(f"trustreview-{dead}-89abcdef-1")
        assert runner.remove_orphaned_sockets(name) == sorted(orphans)
        assert sorted(p.name for p in folder.iterdir()) == sorted(kept)
        socket_file(f"trustreview-{dead}-0123abcd-3")
        assert runner.remove_orphaned_sockets(name) == []  # once a process


def _running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's
        return True
    return True
