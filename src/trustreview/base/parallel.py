"""Using the machine's other cores for the two steps that are pure Python per record on
large inputs (reading a big BibTeX file, counting the words of many studies): split the
work into parts, do the first here and the others in spawned processes, in order."""

from __future__ import annotations

import os
from typing import Any, Callable


def cores() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


PER_PROCESS = 20_000  # records a process must have before starting one more pays (measured)


def workers_for(n_items: int, per_worker: int) -> int:
    """How many processes ``n_items`` are worth, at least ``per_worker`` items each."""
    return max(1, min(cores(), n_items // per_worker))


def start_method() -> str:
    """How :func:`run_parts` starts the other processes: ``fork`` when this process has one
    thread (they start at once, with what is imported here), else ``spawn`` (they first
    import what they need)."""
    import multiprocessing
    import threading

    return "fork" if threading.active_count() == 1 and \
        "fork" in multiprocessing.get_all_start_methods() else "spawn"


def run_parts(function: Callable[..., Any], parts: list[tuple]) -> list:
    """``[function(*part) for part in parts]``: the first part in this process, the others in
    other processes at the same time. Forked when this process has one thread (a command:
    the others start at once, with what is imported here), else spawned (a notebook's
    kernel, whose threads a fork would copy half-way); ``function`` must be a module-level
    function (or a class's method) and the parts picklable."""
    if len(parts) < 2:
        return [function(*part) for part in parts]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(len(parts) - 1,
                             mp_context=multiprocessing.get_context(start_method())) as pool:
        others = [pool.submit(function, *part) for part in parts[1:]]
        here = function(*parts[0])
        return [here, *(job.result() for job in others)]
