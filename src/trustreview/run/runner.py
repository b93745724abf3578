"""Run the review's notebooks in order with papermill, and normalise executed notebooks so
the same inputs give the same bytes (no timings, fixed cell ids)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import nbformat
from papermill.engines import NBClientEngine, papermill_engines

from trustreview.errors import ParameterError, RunError
from trustreview.io.files import atomic_write

KERNEL = "python3"
INJECTED_ID = "injected-parameters"


PACKAGED_NOTEBOOKS = Path(__file__).parents[1] / "notebooks"
SCREENER = "screen.ipynb"  # the screening notebook: opened in JupyterLab, never run
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]  # no transport warning on the terminal


def list_notebooks(notebooks_dir: str | os.PathLike | None = None) -> list[Path]:
    """The stage notebooks (``NN-name.ipynb``), in order; by default the ones shipped with
    the package."""
    folder = Path(notebooks_dir) if notebooks_dir is not None else PACKAGED_NOTEBOOKS
    found = sorted(p for p in folder.glob("*.ipynb") if p.name[:2].isdigit())
    if not found:
        raise RunError(f"{folder}: no stage notebooks (NN-name.ipynb) found; give a folder "
                       "that holds them with --notebooks, or leave --notebooks out to use "
                       "the ones installed with trustreview")
    return found


def declared_parameters(notebook: Path) -> dict[str, Any]:
    """Names and default values of a notebook's ``parameters`` cell."""
    import papermill

    return {name: spec["default"] for name, spec in
            papermill.inspect_notebook(str(notebook)).items()}


def check_declared(notebooks: list[Path], names) -> None:
    """Refuse parameter ``names`` that no notebook declares (a notebook gets only the
    parameters its ``parameters`` cell declares)."""
    known = set().union(*(declared_parameters(nb) for nb in notebooks))
    unknown = sorted(set(names) - known)
    if unknown:
        raise ParameterError(f"parameter(s) {', '.join(unknown)} not declared by any notebook "
                             f"in {notebooks[0].parent}; they declare: "
                             f"{', '.join(sorted(known))}")


def normalise_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop run timings and papermill metadata; give the injected cell a fixed id.

    Returns a new notebook; the argument is not changed.
    """
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if INJECTED_ID in cell.metadata.get("tags", []):
            cell["id"] = INJECTED_ID
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                output.get("metadata", {}).pop("execution", None)
    nb.metadata.setdefault("kernelspec", {})
    nb.metadata["kernelspec"].update({"name": KERNEL, "display_name": "Python 3",
                                      "language": "python"})
    nb.metadata.get("language_info", {}).pop("version", None)
    return nb


def write_normalised(path: Path) -> None:
    nb = normalise_notebook(nbformat.read(str(path), as_version=4))
    atomic_write(path, (nbformat.writes(nb) + "\n").encode("utf-8"))


def _in_worker_thread(function: Callable[[], Any]) -> Any:
    """Run ``function`` in a daemon thread and wait for it in the main thread.

    nbclient replaces the SIGINT handler while it runs a notebook (to clean up its kernel)
    and then carries on, so a Ctrl-C could be lost. Outside the main thread it installs no
    handler, so Ctrl-C always reaches this thread as KeyboardInterrupt and stops the run.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function()
        except BaseException as error:  # handed back to the main thread below
            outcome["error"] = error

    worker = threading.Thread(target=target, name="trustreview-notebook", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.1)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


class _ProgressEngine(NBClientEngine):
    """papermill's nbclient engine, telling ``on_cell(index, total, cell)`` as each cell
    starts."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
        report = kwargs.pop("on_cell", None)
        if report is not None:
            original = nb_man.cell_start

            def cell_start(cell, cell_index=None, **more):
                report(cell_index, len(nb_man.nb.cells), cell)
                return original(cell, cell_index, **more)

            nb_man.cell_start = cell_start
        return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)


papermill_engines.register("trustreview", _ProgressEngine)

# what a notebook's kernel imports as it starts, ahead of the notebook, when the notebook's
# metadata does not say (``"trustreview": {"warm_up": [modules]}``, as the stage notebooks do)
WARM_UP = ("pandas", "trustreview.run.pipeline")


def warm_up(notebook: Path) -> tuple[str, ...]:
    """The modules a kernel started for ``notebook`` imports ahead: its metadata's
    ``trustreview.warm_up`` list, else :data:`WARM_UP`."""
    try:
        listed = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]["trustreview"][
            "warm_up"]
    except (OSError, ValueError, KeyError, TypeError):
        return WARM_UP
    return tuple(str(m) for m in listed if isinstance(m, str)) if isinstance(listed, list) \
        else WARM_UP


class _Kernel:
    """A kernel started ahead of its notebook (while the one before it runs) and importing
    ``modules`` as it starts (bound to no name, no history), handed to papermill, which then
    runs the notebook in it instead of starting one. Shut down with :meth:`stop`. (Sending
    it the imports from a second client was tried: nbclient's wait for the kernel then
    timed out in about half the runs.)"""

    def __init__(self, cwd: str, env: dict[str, str] | None = None,
                 modules: tuple[str, ...] = ()) -> None:
        from jupyter_client.manager import KernelManager

        if os.name == "posix":
            # Unix sockets (files named after this prefix, removed at stop): with TCP, the
            # ports jupyter_client picks are free when picked but may be taken by another
            # process starting a kernel before this one binds them ("Address already in
            # use", a kernel dead at start; seen with two runs side by side)
            folder = tempfile.gettempdir()
            remove_orphaned_sockets(folder)
            prefix = os.path.join(folder, f"{SOCKETS}-{os.getpid()}-{uuid.uuid4().hex}")
            self.manager = KernelManager(kernel_name=KERNEL, transport="ipc", ip=prefix)
        else:
            self.manager = KernelManager(kernel_name=KERNEL)
        try:
            # the arguments nbclient gives a kernel it starts itself
            self.manager.start_kernel(cwd=cwd, env=env or dict(os.environ), extra_arguments=[
                *KERNEL_ARGUMENTS, "--HistoryManager.hist_file=:memory:", *([
                    "--IPKernelApp.exec_lines=" + "; ".join(f"__import__({m!r})"
                                                            for m in modules)
                    + ";"] if modules else [])])
        except BaseException:  # a Ctrl-C while it starts: no kernel or socket left behind
            self.stop()
            raise

    def stop(self) -> None:
        """Kill the kernel (not jupyter_client's shutdown, which first interrupts it: a
        kernel still starting would print the KeyboardInterrupt) and remove its files."""
        import signal

        try:
            if self.manager.has_kernel:
                self.manager.signal_kernel(signal.SIGKILL)
                self.manager.finish_shutdown(waittime=5)
            self.manager.cleanup_resources()
        except Exception:  # already gone
            pass


SOCKETS = "trustreview"  # a kernel's socket files: trustreview-<run's pid>-<hex>-<n>
_swept: set[str] = set()


def remove_orphaned_sockets(folder: str) -> list[str]:
    """Remove the kernel socket files in ``folder`` left by runs that no longer exist (a run
    killed with SIGKILL cannot remove its own: two kernels' files, ten a kill), once per
    process; returns the names removed. Only this user's socket files named after a
    process id that is not running are touched."""
    if folder in _swept:
        return []
    _swept.add(folder)
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        parts = entry.name.split("-")
        if len(parts) != 4 or parts[0] != SOCKETS or not parts[1].isdigit():
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISSOCK(info.st_mode) or info.st_uid != os.getuid():
                continue
            os.kill(int(parts[1]), 0)  # raises when no such process runs
        except ProcessLookupError:
            try:
                os.unlink(entry.path)
                removed.append(entry.name)
            except OSError:
                pass
        except (OSError, OverflowError):  # another user's process, a vanished file
            continue
    return sorted(removed)


def start_kernel(notebook: Path, cwd: str,
                 env: dict[str, str] | None = None) -> _Kernel | None:
    """A kernel for ``notebook`` started ahead in ``cwd`` with the environment ``env``
    (default: this process's), importing the notebook's :func:`warm_up` modules, or None
    when it cannot be (papermill then starts its own)."""
    try:
        return _Kernel(cwd, env, warm_up(notebook))
    except Exception:
        return None


def execute_notebooks(notebooks: list[Path], output_dir: Path, parameters: dict[str, Any],
                      cwd: str | os.PathLike | None = None,
                      progress: Callable[[str], None] | None = None,
                      ahead: list[_Kernel | None] | None = None) -> dict[str, float]:
    """Execute ``notebooks`` in order into ``output_dir``, each with those of ``parameters``
    its ``parameters`` cell declares.

    The kernel runs in ``cwd`` (default: each notebook's own folder). With ``progress``, each
    notebook and cell is reported as it starts, with the elapsed time (papermill's progress
    bar instead when stderr is a terminal). Returns seconds per notebook. A failing cell
    raises :class:`RunError` naming the notebook, the cell and the error; the partly executed
    notebook is left in ``output_dir``. Each notebook runs in a kernel started while the
    one before it runs (``ahead``: kernels the caller started for the first notebooks, in
    ``cwd``); every kernel is shut down before this returns or raises.
    """
    declared = {nb: declared_parameters(nb) for nb in notebooks}
    timings: dict[str, float] = {}
    output_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    bar = bool(progress) and sys.stderr.isatty()
    folders = [str(cwd if cwd is not None else nb.parent) for nb in notebooks]
    kernels: list[_Kernel | None] = list(ahead or [])
    try:
        for position, nb in enumerate(notebooks):
            while len(kernels) < min(position + 2, len(notebooks)):  # this one and the next
                kernels.append(start_kernel(notebooks[len(kernels)], folders[len(kernels)]))
            timings[nb.name] = _execute(nb, output_dir, {
                k: v for k, v in parameters.items() if k in declared[nb]}, folders[position],
                kernels[position], progress, started, bar)
            if kernels[position] is not None:
                kernels[position].stop()
    finally:
        for kernel in kernels:
            if kernel is not None:
                kernel.stop()
    return timings


def _execute(nb: Path, output_dir: Path, mine: dict[str, Any], cwd: str,
             kernel: _Kernel | None, progress: Callable[[str], None] | None, started: float,
             bar: bool) -> float:
    """Execute one notebook (see :func:`execute_notebooks`) in ``kernel`` (None: one
    papermill starts); returns its seconds."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    target = output_dir / nb.name
    if progress:
        progress(f"running {nb.name} ...")
    start = time.perf_counter()
    engine = {"km": kernel.manager} if kernel is not None else {}

    def on_cell(index, total, cell, name=nb.name):
        if cell.cell_type == "code" and not bar:
            first = next((line for line in cell.source.splitlines()
                          if line.strip() and not line.startswith("#")), "")
            progress(f"{name} cell {index + 1}/{total} "
                     f"[{time.perf_counter() - started:5.1f} s] {first[:60]}")

    try:
        _in_worker_thread(lambda: papermill.execute_notebook(
            str(nb), str(target), parameters=mine or None, kernel_name=KERNEL,
            progress_bar=bar, cwd=cwd, log_output=False, engine_name="trustreview",
            extra_arguments=KERNEL_ARGUMENTS, on_cell=on_cell if progress else None,
            **engine))
    except PapermillExecutionError as error:
        write_normalised(target)
        raise RunError(f"{nb.name}: cell {error.exec_count or error.cell_index} failed with "
                       f"{error.ename}: {error.evalue}; the partly executed notebook is "
                       f"{target}") from None
    except Exception as error:  # kernel died, nbformat error, ...
        raise RunError(f"{nb.name}: could not be executed ({type(error).__name__}: "
                       f"{error})") from None
    write_normalised(target)
    seconds = time.perf_counter() - start
    if progress:
        progress(f"finished {nb.name} in {seconds:.1f} s")
    return seconds


def stderr_progress(message: str) -> None:
    print(f"trustreview: {message}", file=sys.stderr, flush=True)


def refresh_notebooks(notebooks_dir: str | os.PathLike,
                      progress: Callable[[str], None] | None = None,
                      package_copy: Path | None = PACKAGED_NOTEBOOKS) -> dict[str, float]:
    """Re-execute the committed notebooks in place with their own default parameters (no
    injected cell) and normalise them, so nbval can check that outputs still match; then
    write the copies without outputs that the package ships (``package_copy``)."""
    notebooks = list_notebooks(notebooks_dir)
    with tempfile.TemporaryDirectory() as tmp:
        timings = execute_notebooks(notebooks, Path(tmp), {}, progress=progress)
        for nb in notebooks:
            shutil.copyfile(Path(tmp) / nb.name, nb)
    if package_copy is not None:  # the screening notebook too: shipped, never run here
        screener = Path(notebooks_dir) / SCREENER
        write_package_copies(notebooks + ([screener] if screener.exists() else []),
                             package_copy)
    return timings


def strip_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without outputs or execution counts (normalised)."""
    nb = normalise_notebook(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def write_package_copies(notebooks: list[Path], folder: Path = PACKAGED_NOTEBOOKS) -> None:
    """The copies shipped with the package: the stage notebooks (and the screening notebook)
    without outputs."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.ipynb"):
        if old.name not in {nb.name for nb in notebooks}:
            old.unlink()
    for nb in notebooks:
        stripped = strip_outputs(nbformat.read(str(nb), as_version=4))
        (folder / nb.name).write_text(nbformat.writes(stripped) + "\n", encoding="utf-8")
