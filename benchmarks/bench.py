"""Benchmark (`make bench`): validation, tagging and synthesis on synthetic corpora made from
the bundled one, each size in a fresh process; wall time per step and peak memory (RSS).

    python benchmarks/bench.py [SIZES...]        (default: 1000 10000 100000 1000000)

Each synthetic corpus keeps the 99 real studies (with their codes) and adds N - 99 uncoded
studies whose summaries are four sentences resampled from the real summaries, under fresh
keys, each with a BibTeX entry. Steps, timed in-process:

- validate:  read and validate the corpus (`review.open_corpus`), as `trustreview validate`
- tag:       train on the coded studies and tag every study (`review.tag_studies`)
- synthesis: filters, every synthesis table, citations and the evidence gap map

Peak memory is the process's maximum resident size at the end of each step (so it includes
what earlier steps still hold). Targets: 100,000 studies under 60 s and 2 GB per step;
1,000,000 under 10 minutes and 8 GB. Results: stdout and benchmarks/results/bench.md.
"""

from __future__ import annotations

import csv
import json
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
    """Write a corpus of ``n`` studies (99 real + synthetic) into ``folder``."""
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
    from trustreview import figures, synthesis
    from trustreview.review import open_corpus, require_valid, tag_studies

    result = {}
    start = time.perf_counter()
    validated = require_valid(open_corpus(corpus, bib))
    result["validate"] = [time.perf_counter() - start, peak_mb()]
    start = time.perf_counter()
    tagged = tag_studies(validated, seed=0)
    result["tag"] = [time.perf_counter() - start, peak_mb()]
    start = time.perf_counter()
    data = synthesis.select_for_synthesis(validated, tagged.predictions)
    tables = synthesis.build_synthesis_tables(data)
    synthesis.compute_screening_flow(validated, tagged.predictions)
    figures.plot_evidence_gap_map(data)
    result["synthesis"] = [time.perf_counter() - start, peak_mb()]
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
            for step in ("validate", "tag", "synthesis"):
                seconds, peak = result[step]
                line = f"| {n:,} | {step} | {seconds:.1f} | {peak:.0f} |"
                lines.append(line)
                print(line, flush=True)
            print(f"  (corpus generated in {made:.1f} s; {result['rows']})", file=sys.stderr)
    results = REPO / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "bench.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(run_steps(sys.argv[2], sys.argv[3])))
    else:
        main([int(a) for a in sys.argv[1:]] or [1000, 10000, 100000, 1000000])
