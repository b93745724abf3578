"""Benchmark (`make bench-coding`): coding workbooks on the bundled corpus and on synthetic
corpora made from it (see `bench.py`), each command in a fresh process as a user types it.

    python benchmarks/coding.py [SIZES...]        (default: 0 10000; 0 = the bundled corpus as it is)

Steps, wall time of the whole command (Python start and imports included) and its peak
memory (RSS):

- sheet:      `trustreview sheet --coder C --suggest` (rank every study, write the workbook)
- merge:      `trustreview merge` of that workbook after every row was filled (by openpyxl,
              not timed): check every row, write codes, studies and decisions
- merge again: the same workbook once more (idempotent: nothing changes)
- reconcile:  `trustreview sheet --reconcile` after a second coder merged a copy of the same
              sheet with one domain flipped on every fifth study

Results: stdout and benchmarks/results/coding.md. No target is asserted; the numbers go in
the issue notes.
"""

from __future__ import annotations

import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import REPO, make_synthetic  # noqa: E402


def command(args: list[str], cwd: Path) -> tuple[float, float, str]:
    """Run ``trustreview ARGS`` in a child process: (seconds, peak MB, stdout+stderr)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", *args], cwd=cwd,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"trustreview {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    peak = json.loads(done.stdout.strip().splitlines()[-1])["peak_mb"]
    return seconds, peak, done.stdout + done.stderr


def fill(path: Path, coder_seed: int, flip_every: int = 0) -> int:
    """Fill every row: include it with its known values, mark one or two domains."""
    from openpyxl import load_workbook

    rng = random.Random(0)
    workbook = load_workbook(path)
    sheet = workbook["coding"]
    header = [c.value for c in sheet[1]]
    domains = header[header.index("weight") + 1:header.index("note")]
    col = {name: i + 1 for i, name in enumerate(header)}
    for row in range(2, sheet.max_row + 1):
        if not sheet.cell(row, col["included"]).value:
            sheet.cell(row, col["included"]).value = "yes"
        for name, default in (("country", "England"), ("design", "qualitative"),
                              ("weight", "medium")):
            if not sheet.cell(row, col[name]).value:
                sheet.cell(row, col[name]).value = default
        chosen = rng.sample(domains, 2)
        if flip_every and row % flip_every == 0:
            chosen = chosen[:1]
        for domain in chosen:
            sheet.cell(row, col[domain]).value = 1
    workbook.save(path)
    return sheet.max_row - 1


def main(sizes: list[int]) -> None:
    lines = ["| studies | step | rows | seconds | peak MB |", "|---:|---|---:|---:|---:|"]
    print("\n".join(lines), flush=True)
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            if n == 0:
                shutil.copytree(REPO / "corpus", folder / "corpus")
                shutil.copyfile(REPO / "references.bib", folder / "references.bib")
            else:
                make_synthetic(folder, n)
            seconds, peak, _ = command(["sheet", "--coder", "C", "--suggest", "--out",
                                        "c.xlsx"], folder)
            shutil.copyfile(folder / "c.xlsx", folder / "d.xlsx")
            rows = fill(folder / "c.xlsx", 0)
            results = [("sheet", rows, seconds, peak)]
            seconds, peak, out = command(["merge", "c.xlsx"], folder)
            results.append(("merge", rows, seconds, peak))
            seconds, peak, out = command(["merge", "c.xlsx"], folder)
            assert "nothing changed" in out, out
            results.append(("merge again", rows, seconds, peak))
            # a second coder "D": the same sheet, filled with one domain fewer now and then
            from openpyxl import load_workbook

            workbook = load_workbook(folder / "d.xlsx")
            about = workbook["about"]
            about.cell(1, 2).value = "D"
            workbook.save(folder / "d.xlsx")
            fill(folder / "d.xlsx", 0, flip_every=5)
            command(["merge", "d.xlsx"], folder)
            seconds, peak, out = command(["sheet", "--reconcile", "--out", "r.xlsx"], folder)
            differ = out.split("wrote r.xlsx: ")[-1].split(" ")[0]
            results.append((f"reconcile ({differ} differ)", rows, seconds, peak))
            for step, count, seconds, peak in results:
                size = f"{n:,}" if n else "bundled"
                line = f"| {size} | {step} | {count:,} | {seconds:.1f} | {peak:.0f} |"
                lines.append(line)
                print(line, flush=True)
    out = REPO / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "coding.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        from trustreview.cli import main as cli

        code = cli(sys.argv[2:])
        print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                          / 1024}))
        sys.exit(code)
    main([int(a) for a in sys.argv[1:]] or [0, 10000])
