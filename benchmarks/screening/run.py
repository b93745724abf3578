"""Screening in relevance order measured: trustreview's relevance models beside ASReview's
default (ELAS u4: TF-IDF word pairs, a linear SVM, most relevant first, balanced), with the
same priors and seeds, and where trustreview's recommended stopping rule says stop.

    python benchmarks/screening/run.py [--asreview PATH/TO/asreview] [--seeds 0 1 2]
                                       [--labelled NAME FILE.csv]... [--speed] [--rank100k]
                                       [--screener]

Labelled sets:
- ``domain-D``: the bundled corpus's 173 real studies (title and the review team's summary)
  screened for one domain D: included = the reconciled codes give the study domain D (the
  other studies, excluded ones among them, are the irrelevant records). Real texts and real
  human labels, at the prevalence of a real screening (7-32%), but small and all from one
  review of one field: a stand-in for a public labelled set, not one.
- ``--labelled NAME FILE.csv``: any labelled set as ASReview reads it (columns ``title``,
  ``abstract``, ``label_included`` 1/0), e.g. from ASReview's systematic-review-datasets or
  SYNERGY: run it when you have one on disk.

Per set and seed: WSS@95, recall after 10% of the records, records screened to reach 95%
recall, seconds per simulation; trustreview at batch 1 (the JupyterLab screener) and
batch 50 (the sheet's), each relevance model (logistic, svm, nb, ensemble) at batch 1,
and where the recommended stop falls (recall, share of the records screened). Means over
the seeds go to ``benchmarks/screening/results.md``.

``--speed``: 2,000 records (sentences of the bundled summaries resampled, labelled by the
domain of the study they came from; only the time means anything) simulated at batch 1 by
both tools. ``--rank100k``: `trustreview sheet --screen` on a review of 100,000 records
(173 decided, the rest awaiting), wall time and peak memory of the whole command.
``--screener``: the JupyterLab screener (its Python API) on 10,000 records: time to open and
per decision (target: the next record within 0.5 s).
"""

from __future__ import annotations

import csv
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from searches import seeds_arg  # noqa: E402  (benchmarks/searches.py)
DOMAINS = ("finance", "civic", "workforce", "leadership", "improvement", "education",
           "governance")


def bundled_records() -> list[dict]:
    """The bundled studies: id, title (from references.bib), summary, reconciled domains."""
    from trustreview.io.load import read_bib

    entries = read_bib(REPO / "references.bib").entries.set_index("key")
    codes: dict[str, set[str]] = {}
    with open(REPO / "corpus" / "codes.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["coder"] == "reconciled":
                codes.setdefault(row["study_id"], set()).add(row["domain"])
    with open(REPO / "corpus" / "studies.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    from trustreview.base.text import decode_latex
    return [{"id": r["study_id"], "title": decode_latex(entries.loc[r["study_id"], "title"]),
             "abstract": r["summary"], "domains": codes.get(r["study_id"], set())}
            for r in rows]


def domain_set(records: list[dict], domain: str) -> list[dict]:
    return [{"id": r["id"], "title": r["title"], "abstract": r["abstract"],
             "included": domain in r["domains"]} for r in records]


def read_labelled(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [{"id": str(n), "title": r.get("title", ""), "abstract": r.get("abstract", ""),
                 "included": str(r.get("label_included", "0")).strip() in ("1", "1.0")}
                for n, r in enumerate(csv.DictReader(handle))]


def priors(records: list[dict], seed: int) -> list[int]:
    """One included and one excluded record, drawn as trustreview simulate draws them."""
    truth = np.array([1 if r["included"] else 0 for r in records])
    rng = np.random.default_rng(seed)
    return [int(rng.choice(np.flatnonzero(truth == 1))), int(rng.choice(np.flatnonzero(truth == 0)))]


def metrics(labels_in_order: list[int]) -> dict:
    found = np.cumsum(labels_in_order)
    total, relevant = len(labels_in_order), int(found[-1])
    to95 = int(np.searchsorted(found, int(np.ceil(0.95 * relevant - 1e-9))) + 1)
    return {"wss95": (total - to95) / total - 0.05, "to95": to95,
            "recall10": float(found[int(round(0.1 * total)) - 1]) / relevant}


def run_ours(records: list[dict], seed: int, batch: int, model: str) -> dict:
    from trustreview.model.relevance import record_texts
    from trustreview.screening.simulate import simulate
    import pandas as pd

    texts = record_texts(pd.DataFrame({"title": [r["title"] for r in records],
                                       "abstract": [r["abstract"] for r in records]}))
    start = time.perf_counter()
    result = simulate([r["id"] for r in records], texts, [r["included"] for r in records],
                      seed=seed, batch=batch, model=model)
    seconds = time.perf_counter() - start
    out = metrics(result.order["included"].eq("yes").astype(int).tolist())
    stop = result.stops["hypergeometric"]
    out.update(seconds=seconds, stop_recall=result.recall_after(stop) if stop else None,
               stop_share=stop / result.total if stop else None)
    # the priors trustreview drew are the ones ASReview gets
    out["priors"] = [int(next(i for i, r in enumerate(records) if r["id"] == sid))
                     for sid in result.order["study_id"].head(2)]
    return out


def run_asreview(asreview: str, records: list[dict], seed: int, prior_idx: list[int]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.csv"
        with open(data, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["title", "abstract", "label_included"])
            for r in records:
                writer.writerow([r["title"], r["abstract"], int(r["included"])])
        project = Path(tmp) / "sim.asreview"
        start = time.perf_counter()
        done = subprocess.run([asreview, "simulate", str(data), "--prior-idx",
                               *map(str, prior_idx), "--seed", str(seed), "--n-stop", "-1",
                               "-o", str(project)], capture_output=True, text=True,
                              cwd=tmp)  # its synergy plug-in leaves a cache file in the cwd
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"asreview simulate failed:\n{done.stderr[-2000:]}")
        with zipfile.ZipFile(project) as archive:
            archive.extract("results.db", tmp)
        labels = [row[0] for row in sqlite3.connect(Path(tmp) / "results.db").execute(
            "SELECT label FROM results ORDER BY rowid")]
    out = metrics(labels)
    out["seconds"] = seconds
    return out


def mean(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else float("nan")


def compare(name: str, records: list[dict], seeds: list[int], asreview: str | None) -> list[str]:
    n, relevant = len(records), sum(r["included"] for r in records)
    runs: dict[str, list[dict]] = {}
    for seed in seeds:
        base = run_ours(records, seed, 1, "logistic")
        runs.setdefault("trustreview logistic, batch 1", []).append(base)
        runs.setdefault("trustreview logistic, batch 50", []).append(
            run_ours(records, seed, 50, "logistic"))
        for model in ("svm", "nb", "ensemble"):
            runs.setdefault(f"trustreview {model}, batch 1", []).append(
                run_ours(records, seed, 1, model))
        if asreview:
            runs.setdefault("ASReview 3.0.8 elas_u4", []).append(
                run_asreview(asreview, records, seed, base["priors"]))
    lines = []
    for tool, results in runs.items():
        stop = (f"{mean(r['stop_recall'] for r in results):.3f} / "
                f"{mean(r['stop_share'] for r in results):.2f} "
                f"({sum(r['stop_recall'] is not None and r['stop_recall'] >= 0.95 for r in results)}"
                f"/{len(results)} runs >= 0.95)" if "stop_recall" in results[0] else "")
        lines.append(f"| {name} | {n} | {relevant} | {tool} | {mean(r['wss95'] for r in results):.3f} | "
                     f"{mean(r['recall10'] for r in results):.3f} | "
                     f"{mean(r['to95'] for r in results):.0f} | "
                     f"{mean(r['seconds'] for r in results):.2f} | {stop} |")
    return lines


def speed_set(n: int = 2000, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    records = bundled_records()
    out = []
    for i in range(n):
        base = rng.choice(records)
        sentences = [s for r in rng.sample(records, 3) for s in
                     re.split(r"(?<=[.!?])\s+", r["abstract"]) if s]
        out.append({"id": f"s{i}", "title": base["title"],
                    "abstract": base["abstract"] + " " + " ".join(rng.sample(
                        sentences, min(2, len(sentences)))),
                    "included": "finance" in base["domains"]})
    return out


def awaiting_review(folder: Path, n: int) -> tuple[Path, Path]:
    """A review of ``n`` records: the bundled corpus's 173 decided studies and synthetic
    records (benchmarks/bench.py) awaiting screening."""
    import bench

    corpus, bib = bench.make_synthetic(folder, n)
    path = corpus / "studies.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["study_id"].startswith("synthetic"):
            row.update(included="", exclusion_reason="", weight="", group_type="", phase="")
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return corpus, bib


def rank_100k() -> str:
    import bench  # benchmarks/bench.py

    with tempfile.TemporaryDirectory() as tmp:
        corpus, bib = awaiting_review(Path(tmp), 100_000)
        seconds, peak = bench._timed_peak([sys.executable, "-m", "trustreview", "sheet",
                                           "--screen", "--coder", "A", "--corpus", str(corpus),
                                           "--bib", str(bib), "--out",
                                           str(Path(tmp) / "s.xlsx")])
    return (f"`trustreview sheet --screen` on 100,000 records (173 decided): {seconds:.1f} s, "
            f"peak {peak:.0f} MB")


def screener_10k(n: int = 10_000, decisions: int = 10) -> str:
    """The JupyterLab screener on a review of ``n`` records (173 decided): seconds to open,
    and per decision (both tables written, the model retrained, the next record shown)."""
    from trustreview.screening.screener import Screener

    with tempfile.TemporaryDirectory() as tmp:
        corpus, bib = awaiting_review(Path(tmp), n)
        start = time.perf_counter()
        screener = Screener(corpus, bib, "A")
        opened = time.perf_counter() - start
        times = []
        for k in range(decisions):
            start = time.perf_counter()
            if k % 3:
                screener.exclude("out-of-scope-topic")
            else:
                screener.include()
            screener.record_html()
            screener.progress_html()
            times.append(time.perf_counter() - start)
    return (f"The screener on {n:,} records: {opened:.1f} s to open; per decision "
            f"{min(times):.2f}-{max(times):.2f} s (median {statistics.median(times):.2f} s)")


def main(argv: list[str]) -> None:
    asreview = argv[argv.index("--asreview") + 1] if "--asreview" in argv else None
    seeds = seeds_arg(argv)
    lines = [f"Means over seeds {', '.join(map(str, seeds))}; priors: one included and one "
             "excluded record, the same for both tools.", "",
             "| set | records | included | tool | WSS@95 | recall at 10% | records to 95% "
             "| seconds | recommended stop: recall / share screened |",
             "|---|---:|---:|---|---:|---:|---:|---:|---|"]
    print("\n".join(lines), flush=True)
    sets = []
    for at, word in enumerate(argv):
        if word == "--labelled":
            sets.append((argv[at + 1], read_labelled(Path(argv[at + 2]))))
    records = bundled_records()
    sets += [(f"domain-{d}", domain_set(records, d)) for d in DOMAINS]
    for name, labelled in sets:
        for line in compare(name, labelled, seeds, asreview):
            print(line, flush=True)
            lines.append(line)
    if "--speed" in argv:
        fast = speed_set()
        ours = run_ours(fast, 0, 1, "logistic")["seconds"]
        line = f"\n2,000 records at batch 1: trustreview {ours:.1f} s"
        if asreview:
            theirs = run_asreview(asreview, fast, 0, priors(fast, 0))["seconds"]
            line += f", ASReview {theirs:.1f} s"
        print(line, flush=True)
        lines.append(line)
    if "--screener" in argv:
        line = "\n" + screener_10k()
        print(line, flush=True)
        lines.append(line)
    if "--rank100k" in argv:
        line = "\n" + rank_100k()
        print(line, flush=True)
        lines.append(line)
    (HERE / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
