"""Benchmark (`make bench`): validation, tagging and synthesis on synthetic corpora made from
the bundled one, each size in a fresh process; wall time per step and peak memory (RSS).

    python benchmarks/bench.py [SIZES...]        (default: 1000 10000 100000 1000000)

Each synthetic corpus keeps the real studies of the bundled corpus (with their codes) and adds uncoded ones up to N
studies whose summaries are four sentences resampled from the real summaries, under fresh
keys, each with a BibTeX entry. Steps, timed in-process:

- validate:  stage 01, `pipeline.validate` (read and check the corpus, coder agreement)
- tag:       stage 02, `pipeline.tag` (cross-validation, learning curve, tag every study)
- synthesis: stage 03, `pipeline.synthesise` (filters, every table, figures, report page)
- files:     stage 03's files written (`outputs.write_synthesis`: tables, markdown, the
             workbook, figures, reference files, report.html and .docx, eppi.json)

Then the whole commands `trustreview validate` and `trustreview tag` on the 100,000-study
corpus, as a user types them (Python start, imports, reading, writing; target: `tag` under
25 s), `tag` both as the first command to read references.bib and after a `validate` kept
its parse store (trustreview.io.bibcache), and one line for the whole `trustreview run` on the bundled corpus, as a ratio to the floor
measured in the same run: one Python process that imports pandas, scikit-learn, matplotlib
and papermill and exits (target: at most 6x the floor, notebook 02 under 8 s).

Peak memory is the process's maximum resident size at the end of each step (so it includes
what earlier steps still hold). Targets: 100,000 studies under 60 s and 2 GB per step;
1,000,000 under 10 minutes and 8 GB. Results: stdout and benchmarks/results/bench.md.
"""

from __future__ import annotations

import atexit
import csv
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def make_synthetic(folder: Path, n: int, seed: int = 0) -> tuple[Path, Path]:
    """Write a corpus of ``n`` studies (the bundled ones + synthetic) into ``folder``."""
    rng = random.Random(seed)
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    shutil.copyfile(REPO / "corpus" / "codebook.yml", corpus / "codebook.yml")
    shutil.copyfile(REPO / "corpus" / "codes.csv", corpus / "codes.csv")
    with open(REPO / "corpus" / "studies.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    sentences = [s for r in rows for s in re.split(r"(?<=[.!?])\s+", r["summary"]) if s]
    included = [r for r in rows if r["included"] == "yes"]
    words = sorted({w for s in sentences for w in re.findall(r"[A-Za-z]{5,}", s)})
    with open(corpus / "studies.csv", "w", encoding="utf-8", newline="") as studies, \
            open(folder / "references.bib", "w", encoding="utf-8") as bib:
        bib.write((REPO / "references.bib").read_text(encoding="utf-8") + "\n")
        writer = csv.DictWriter(studies, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        for i in range(max(n - len(rows), 0)):
            base = rng.choice(included)
            key = f"synthetic{i:07d}"
            writer.writerow({**base, "study_id": key, "summary": " ".join(rng.sample(sentences, 4)),
                             "sample": "", "verified": "", "source_url": ""})
            title = " ".join(rng.sample(words, 6)).capitalize()
            bib.write(f"@techreport{{{key},\n  author = {{Synthetic, A. and Example, B.}},\n"
                      f"  title = {{{title} {i}}},\n  institution = {{Benchmark}},\n"
                      f"  year = {{{2000 + i % 25}}}\n}}\n\n")
    return corpus, folder / "references.bib"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_steps(corpus: str, bib: str) -> dict:
    """Run the three steps in this process; returns {step: [seconds, peak MB]}."""
    from trustreview.run import pipeline
    from trustreview.run.params import Params
    from trustreview.run import outputs
    from trustreview.corpus.validate import require_valid

    params = Params()
    result = {}
    start = time.perf_counter()
    validated = require_valid(pipeline.validate(corpus, bib).corpus)
    result["validate"] = [time.perf_counter() - start, peak_mb()]
    start = time.perf_counter()
    tagging = pipeline.tag(validated, params)
    result["tag"] = [time.perf_counter() - start, peak_mb()]
    start = time.perf_counter()
    synthesis = pipeline.synthesise(validated, tagging.predictions, params)
    tables = synthesis.tables
    result["synthesis"] = [time.perf_counter() - start, peak_mb()]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="trustreview-bench-out-") as out:
        outputs.write_synthesis(synthesis, out)
    result["files"] = [time.perf_counter() - start, peak_mb()]
    result["rows"] = {"studies": len(validated.records),
                      "evidence_rows": int(sum(len(t) for k, t in tables.items()
                                               if k.startswith("evidence_")))}
    return result


def main(sizes: list[int]) -> None:
    lines = ["| studies | step | seconds | peak MB |", "|---:|---|---:|---:|"]
    print("\n".join(lines), flush=True)
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            made = time.perf_counter()
            corpus, bib = make_synthetic(Path(tmp), n)
            made = time.perf_counter() - made
            child = subprocess.run([sys.executable, __file__, "--child", str(corpus), str(bib)],
                                   capture_output=True, text=True)
            if child.returncode != 0:
                print(f"| {n:,} | failed | | |\n{child.stderr[-3000:]}", flush=True)
                lines.append(f"| {n:,} | failed (exit {child.returncode}) | | |")
                continue
            result = json.loads(child.stdout.strip().splitlines()[-1])
            for step in ("validate", "tag", "synthesis", "files"):
                seconds, peak = result[step]
                line = f"| {n:,} | {step} | {seconds:.1f} | {peak:.0f} |"
                lines.append(line)
                print(line, flush=True)
            print(f"  (corpus generated in {made:.1f} s; {result['rows']})", file=sys.stderr)
    lines += ["", *bench_commands()]
    print("\n".join(lines[-4:]), flush=True)
    lines += ["", *bench_run()]
    print("\n".join(lines[-4:]), flush=True)
    lines += ["", *bench_searches()]
    print("\n".join(lines[-4:]), flush=True)
    results = REPO / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "bench.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def bench_commands(n: int = 100_000) -> list[str]:
    """`trustreview validate` and `trustreview tag` as whole commands on ``n`` studies:
    wall time and the process's peak memory."""
    lines = [f"| whole command ({n:,} studies) | seconds | peak MB |", "|---|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        corpus, bib = make_synthetic(Path(tmp), n)
        tag = ["--out", str(Path(tmp) / "tags.csv")]
        for name, extra, when in (
                ("tag", tag, "references.bib parsed whole"),
                ("validate", [], "references.bib parsed whole, parse store kept"),
                ("tag", tag, "the parse store reused")):
            if "whole" in when:
                shutil.rmtree(os.environ["TRUSTREVIEW_CACHE"], ignore_errors=True)
            seconds, peak = _timed_peak([sys.executable, "-m", "trustreview", name, "--corpus",
                                         str(corpus), "--bib", str(bib), *extra])
            lines.append(f"| trustreview {name} ({when}) | {seconds:.1f} | {peak:.0f} |")
    return lines


PEAK_OF = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], "
           "stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True); "
           "sys.stderr.write(done.stderr); "
           "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def _timed_peak(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MB of ``command``, run by a small parent whose only
    child it is (so the peak is that command's alone)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK_OF, *command], capture_output=True,
                          text=True)
    seconds = time.perf_counter() - start
    code, peak_kb = done.stdout.split()
    if code != "0":
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return seconds, int(peak_kb) / 1024


def bench_run(repeats: int = 2) -> list[str]:
    """`trustreview run` on the bundled corpus against the floor (best of ``repeats``)."""
    floor = min(_timed([sys.executable, "-c", "import pandas, sklearn, matplotlib, papermill"])[0]
                for _ in range(repeats))
    best, nb02 = float("inf"), float("nan")
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            seconds, err = _timed([sys.executable, "-m", "trustreview", "run", "--corpus",
                                   str(REPO / "corpus"), "--bib", str(REPO / "references.bib"),
                                   "--out", str(Path(tmp) / "out")])
        if seconds < best:
            best = seconds
            found = re.search(r"finished 02-tag-domains.ipynb in ([0-9.]+) s", err)
            nb02 = float(found.group(1)) if found else float("nan")
    return ["| run (bundled corpus) | seconds | x floor |", "|---|---:|---:|",
            f"| floor: import pandas, sklearn, matplotlib, papermill | {floor:.1f} | 1.0 |",
            f"| trustreview run (notebook 02: {nb02:.1f} s) | {best:.1f} | {best / floor:.1f} |"]


def _timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start, done.stderr


def bench_searches(n: int = 100_000, later: int = 10_000) -> list[str]:
    """`trustreview new` from three searches of ``n`` records in all (a quarter duplicates)
    and `trustreview add` of ``later`` records to a review of about ``n`` studies: wall
    time, peak memory, and the duplicates found against the synthetic truth."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import searches as synthetic

    lines = ["| searches | seconds | peak MB | merged | check | wrong merges | recall |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = synthetic.write_searches(tmp / "s", n)
        seconds, peak = _timed_peak([sys.executable, "-m", "trustreview", "new",
                                     str(tmp / "new"), "--from", *map(str, files.values()),
                                     "--date", "2026-01-01"])
        lines.append(f"| new: 3 files, {n:,} records (references.bib's parse store "
                     f"kept) | {seconds:.1f} | {peak:.0f} | "
                     + " | ".join(_dedup_truth(tmp / "new" / "corpus", tmp / "s")) + " |")
        studies = round(n / 0.75)  # records giving about n studies
        files = synthetic.write_searches(tmp / "s2", studies, seed=1, later=later)
        later_file = files.pop("later.ris")
        _timed([sys.executable, "-m", "trustreview", "new", str(tmp / "review"), "--from",
                *map(str, files.values()), "--date", "2026-01-01"])
        n_studies = sum(1 for _ in open(tmp / "review" / "corpus" / "studies.csv")) - 1
        shutil.copytree(tmp / "review", tmp / "no-store")
        stores = os.environ["TRUSTREVIEW_CACHE"]
        for review, when, store in (
                ("review", "right after new (new kept references.bib's parse store)", stores),
                ("no-store", "parse store off (references.bib parsed whole)", "off")):
            corpus = tmp / review / "corpus"
            os.environ["TRUSTREVIEW_CACHE"] = store
            seconds, peak = _timed_peak([
                sys.executable, "-m", "trustreview", "add", "--corpus", str(corpus), "--bib",
                str(tmp / review / "references.bib"), "--from", str(later_file), "--date",
                "2026-06-01"])
            os.environ["TRUSTREVIEW_CACHE"] = stores
            lines.append(f"| add: {later:,} records to {n_studies:,} studies, {when} | "
                         f"{seconds:.1f} | {peak:.0f} | "
                         + " | ".join(_dedup_truth(corpus, tmp / "s2")) + " |")
    return lines


def _dedup_truth(corpus: Path, searches: Path) -> list[str]:
    """merged and check pairs, wrong merges and recall of a review made from synthetic
    searches, against their truth.csv."""
    import searches as synthetic

    work = synthetic.record_works(corpus, searches)
    with open(corpus / "duplicates.csv", encoding="utf-8", newline="") as handle:
        pairs = list(csv.DictReader(handle))
    merged = [p for p in pairs if p["status"] == "merged"]
    wrong = sum(work.get(p["study_id"]) != work[p["record"]] for p in merged
                if p["study_id"] in work)
    in_ledger = [w for w in work.values()]
    duplicates = len(in_ledger) - len(set(in_ledger))
    checks = sum(p["status"] == "check" for p in pairs)
    return [f"{len(merged):,}", f"{checks:,}", f"{wrong}",
            f"{(len(merged) - wrong) / duplicates:.3f}" if duplicates else "-"]


if __name__ == "__main__":
    # the commands keep their BibTeX parse stores in a folder of their own (removed at the
    # end), so that the user's cache never makes a measurement look faster than it is
    os.environ["TRUSTREVIEW_CACHE"] = tempfile.mkdtemp(prefix="trustreview-bench-stores-")
    atexit.register(shutil.rmtree, os.environ["TRUSTREVIEW_CACHE"], ignore_errors=True)
    if len(sys.argv) > 1 and sys.argv[1] == "--searches":
        print("\n".join(bench_searches()))
    elif len(sys.argv) > 1 and sys.argv[1] == "--commands":
        print("\n".join(bench_commands()))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(run_steps(sys.argv[2], sys.argv[3])))
    else:
        main([int(a) for a in sys.argv[1:]] or [1000, 10000, 100000, 1000000])
