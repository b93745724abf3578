"""Duplicate finding measured on labelled sets, trustreview beside CoLRev's bib-dedupe.

    python benchmarks/dedup/run.py [--peer PYTHON] [--labelled RECORDS.csv IDS.csv NAME]...
                                   [--n 3000] [--seeds 0 1 2]

Each set is written as three database exports (RIS as ERIC writes it, BibTeX as Web of
Science does, CSV as Scopus does: 40%, 35% and 25% of its records) and read by `trustreview
new --from` in this process; the same records go to bib-dedupe (prep, block, match,
cluster) in the Python given by ``--peer`` (a separate venv: bib-dedupe is never a
dependency). Both are scored pairwise against the labels: precision and recall of the
merged pairs, recall once the pairs sent to a person (trustreview's ``check``,
bib-dedupe's ``maybe``) are decided right, the size of that queue (share of the records),
and seconds (trustreview: reading the files as well as deduplicating; bib-dedupe: its
steps on a DataFrame already in memory).

Sets:
- ``messy-S``: synthetic searches (``benchmarks/searches.py``, seed S) written as real
  exports mangle records: glued subtitles, venues split into the volume field, words
  around volume numbers, mistyped pages, correction notices, a journal's column in four
  issues, report series, chapters with their book's DOI, generic titles;
- ``--labelled RECORDS.csv IDS.csv NAME``: a labelled set in bib-dedupe's format
  (``records_pre_merged.csv`` and ``merged_record_ids.csv``, as CoLRev's bib-dedupe
  publishes them), for example the one its source distribution carries in ``tests/data``.

Writes a Markdown table to stdout and to ``benchmarks/dedup/results.md``.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import searches as synthetic  # noqa: E402  (benchmarks/searches.py)

PEER_SCRIPT = r"""
import json, sys, time
import pandas as pd
from bib_dedupe.bib_dedupe import prep, block, match, cluster
records = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
start = time.perf_counter()
matched = match(block(prep(records)))
label = matched["duplicate_label"]
merged = cluster(matched[label == "duplicate"])
maybe = matched[label == "maybe"][["ID_1", "ID_2"]].values.tolist()
print(json.dumps({"seconds": time.perf_counter() - start,
                  "clusters": [sorted(c) for c in merged], "maybe": maybe}))
"""


def truth_pairs(work: dict[str, str]) -> set[tuple[str, str]]:
    by_work: dict[str, list[str]] = {}
    for record, w in work.items():
        by_work.setdefault(w, []).append(record)
    return {tuple(sorted(p)) for members in by_work.values() for p in combinations(members, 2)}


def cluster_pairs(links, records) -> set[tuple[str, str]]:
    """Every pair within the clusters that ``links`` (pairs of records) make."""
    parent = {r: r for r in records}

    def root(r):
        while parent[r] != r:
            parent[r] = parent[parent[r]]
            r = parent[r]
        return r

    for a, b in links:
        if a in parent and b in parent:
            parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for r in records:
        groups.setdefault(root(r), []).append(r)
    return {tuple(sorted(p)) for g in groups.values() for p in combinations(g, 2)}


def score(truth, merged_links, check_links, records) -> dict:
    merged = cluster_pairs(merged_links, records)
    both = cluster_pairs(list(merged_links) + list(check_links), records)
    right = len(merged & truth)
    return {"precision": right / len(merged) if merged else 1.0,
            "recall": right / len(truth) if truth else 1.0,
            "recall_check": len(both & truth) / len(truth) if truth else 1.0,
            "queue": len(check_links) / len(records), "wrong": len(merged - truth)}


def run_ours(records: list[dict], folder: Path) -> tuple[dict, float]:
    """(record key -> work, links merged, links check, seconds) of `trustreview new`."""
    from trustreview.cli import main

    files = synthetic.write_searches(folder / "searches", len(records), records=records)
    start = time.perf_counter()
    code = main(["new", str(folder / "review"), "--from", *map(str, files.values()),
                 "--date", "2026-01-01"])
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"trustreview new failed on {folder}")
    corpus = folder / "review" / "corpus"
    work = synthetic.record_works(corpus, folder / "searches")
    with open(corpus / "duplicates.csv", encoding="utf-8", newline="") as handle:
        pairs = list(csv.DictReader(handle))
    merged = [(p["study_id"], p["record"]) for p in pairs if p["status"] == "merged"]
    check = [(p["study_id"], p["record"]) for p in pairs if p["status"] == "check"]
    return work, merged, check, seconds


def run_peer(python: str, records: list[dict], folder: Path):
    rows = []
    for n, r in enumerate(records):
        rows.append({"ID": f"r{n}", "ENTRYTYPE": {"report": "techreport", "chapter":
                                                  "incollection"}.get(r["type"], r["type"]),
                     "author": " and ".join(f"{s}, {g}" if g else s for s, g in r["authors"]),
                     "title": r["title"], "year": str(r["year"]), "journal": r["venue"],
                     "volume": r["volume"], "number": r["issue"],
                     "pages": r["pages"].replace("--", "-"), "doi": r["doi"],
                     "abstract": r["abstract"], "search_set": ""})
    path = folder / "peer.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    script = folder / "peer.py"
    script.write_text(PEER_SCRIPT, encoding="utf-8")
    done = subprocess.run([python, str(script), str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bib-dedupe failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    work = {f"r{n}": str(r["work"]) for n, r in enumerate(records)}
    merged = [(c[0], other) for c in result["clusters"] for other in c[1:]]
    return work, merged, [tuple(p) for p in result["maybe"]], result["seconds"]


def labelled_records(records_csv: Path, ids_csv: Path) -> list[dict]:
    """A labelled set in bib-dedupe's format as the record dicts of benchmarks/searches.py."""
    with open(ids_csv, encoding="utf-8", newline="") as handle:
        work = {}
        for n, row in enumerate(csv.DictReader(handle)):
            for record in row["merged_ids"].split(";"):
                work[record.strip()] = f"w{n}"
    records = []
    with open(records_csv, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            authors = [a.strip() for a in row.get("author", "").split(" and ") if a.strip()]
            kind = {"techreport": "report", "incollection": "chapter", "book": "book"}.get(
                row.get("ENTRYTYPE", ""), "article")
            pages = row.get("pages", "").replace("--", "-").replace("-", "--", 1)
            records.append({
                "type": kind, "title": row.get("title", ""),
                "authors": [tuple(a.split(", ", 1)) if ", " in a else (a, "") for a in authors],
                "year": row.get("year", "") or "", "venue": row.get("journal", ""),
                "volume": row.get("volume", ""), "issue": row.get("number", ""),
                "pages": pages, "doi": row.get("doi", ""), "abstract": row.get("abstract", ""),
                "work": work.get(row["ID"], row["ID"])})
    return records


def measure(name: str, records: list[dict], peer: str | None) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        work, merged, check, seconds = run_ours(records, tmp / "ours")
        truth = truth_pairs(work)
        s = score(truth, merged, check, list(work))
        lines.append(_row(name, len(records), len(truth), "trustreview", s, seconds))
        if peer:
            work, merged, check, seconds = run_peer(peer, records, tmp)
            s = score(truth_pairs(work), merged, check, list(work))
            lines.append(_row(name, len(records), len(truth), "bib-dedupe 0.11.0", s, seconds))
    return lines


def _row(name, n, pairs, tool, s, seconds) -> str:
    return (f"| {name} | {n:,} | {pairs:,} | {tool} | {s['precision']:.4f} | {s['wrong']} | "
            f"{s['recall']:.4f} | {s['recall_check']:.4f} | {s['queue']:.3f} | "
            f"{seconds:.1f} |")


def main(argv: list[str]) -> None:
    peer = argv[argv.index("--peer") + 1] if "--peer" in argv else None
    n = int(argv[argv.index("--n") + 1]) if "--n" in argv else 3000
    seeds = synthetic.seeds_arg(argv)
    lines = ["| set | records | true pairs | tool | precision | wrong merges | recall | "
             "recall with check | queue (share of records) | seconds |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    print("\n".join(lines), flush=True)
    sets = []
    for at, word in enumerate(argv):
        if word == "--labelled":
            sets.append((argv[at + 3], labelled_records(Path(argv[at + 1]),
                                                          Path(argv[at + 2]))))
    sets += [(f"messy-{seed}", synthetic.make_records(n, seed, messy=True)) for seed in seeds]
    for name, records in sets:
        for line in measure(name, records, peer):
            print(line, flush=True)
            lines.append(line)
    (HERE / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
