"""Benchmark: `trustreview validate` and `trustreview tag` on synthetic corpora made from the
bundled one, reporting wall time and peak memory (RSS) of each command.

    python benchmarks/bench.py [SIZES...]        (default: 1000 10000 100000)

Each synthetic corpus keeps the 99 real studies (with their codes) and adds N - 99 uncoded
studies whose summaries are sentences resampled from the real summaries, under fresh keys,
each with a BibTeX entry. Targets (issue 4): 100,000 studies tagged in under 60 s and 2 GB.
Results go to stdout as a table and to benchmarks/results/ (git-ignored).
"""

from __future__ import annotations

import csv
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
    bib = (REPO / "references.bib").read_text(encoding="utf-8")
    with open(corpus / "studies.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        extra = []
        for i in range(max(n - len(rows), 0)):
            base = rng.choice(included)
            key = f"synthetic{i:07d}"
            summary = " ".join(rng.sample(sentences, 4))
            writer.writerow({**base, "study_id": key, "summary": summary, "sample": "",
                             "verified": "", "source_url": ""})
            title = " ".join(rng.sample(words, 6)).capitalize()
            extra.append(f"@techreport{{{key},\n  author = {{Synthetic, A.}},\n  title = "
                         f"{{{title} {i}}},\n  institution = {{Benchmark}},\n  year = "
                         f"{{{2000 + i % 25}}}\n}}\n")
    (folder / "references.bib").write_text(bib + "\n" + "\n".join(extra), encoding="utf-8")
    return corpus, folder / "references.bib"


def measure(command: list[str]) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit code) of a command run in a child process."""
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        print(result.stderr[-2000:], file=sys.stderr)
    peak_kb = int(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else 0
    return seconds, peak_kb / 1024, result.returncode


def main(sizes: list[int]) -> None:
    exe = str(Path(sys.executable).with_name("trustreview"))
    lines = ["| studies | step | seconds | peak MB | exit |", "|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            corpus, bib = make_synthetic(Path(tmp), n)
            for step, command in (
                ("validate", [exe, "validate", "--corpus", str(corpus), "--bib", str(bib)]),
                ("tag", [exe, "tag", "--corpus", str(corpus), "--bib", str(bib), "--out",
                         str(Path(tmp) / "tags.csv")]),
            ):
                # each step in a fresh child so peak memory is its own
                seconds, peak, code = measure([sys.executable, __file__, "--child", *command])
                line = f"| {n:,} | {step} | {seconds:.1f} | {peak:.0f} | {code} |"
                lines.append(line)
                print(line, flush=True)
    results = REPO / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "bench.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        completed = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)  # peak RSS, KB
        if completed.returncode:
            print(completed.stderr[-3000:], file=sys.stderr)
        raise SystemExit(completed.returncode)
    main([int(a) for a in sys.argv[1:]] or [1000, 10000, 100000])
