"""Synthetic database searches for the deduplication benchmark and its measured precision.

    python benchmarks/searches.py DIR N [--seed S]

writes ``DIR/eric.ris``, ``DIR/scopus.csv`` and ``DIR/wos.bib`` with ``N`` records in all
and ``DIR/truth.csv`` (each record's key in its file and the work it is a record of). About
a quarter of the records are second records of a work, written the way another database
writes it: other case and punctuation, the DOI as a URL or missing, full given names for
initials, no abstract or pages, HTML in the title, an online-first year one earlier. The
works are made from the words, surnames and venues of the bundled corpus, and include the
pairs that look alike but are different works: a report series with the same title each
year, a book chapter that carries its book's DOI, a report and the later journal article
of the same study, and generic titles ("Editorial") in different journals.
"""

from __future__ import annotations

import csv
import random
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GIVEN = ["Anna", "Ben", "Carla", "David", "Emma", "Frank", "Grace", "Hugo", "Ines", "James",
         "Karin", "Lars", "Maria", "Niels", "Olivia", "Peter", "Rosa", "Sven", "Tom", "Ulla"]


def _vocabulary():
    text = (REPO / "references.bib").read_text(encoding="utf-8")
    studies = (REPO / "corpus" / "studies.csv").read_text(encoding="utf-8")
    words = sorted({w.lower() for w in re.findall(r"[A-Za-z]{4,}", studies)})
    surnames = sorted({s for s in re.findall(r"(?:author = \{| and )([A-Z][a-z]+),", text)})
    venues = sorted({v for v in re.findall(r"journal = \{([^{}]+)\}", text)})
    return words, surnames, venues


def make_works(n: int, rng: random.Random, messy: bool = False) -> list[dict]:
    """``n`` distinct works, about one in twenty of them a look-alike of another (with
    ``messy``, also a journal's recurring column in four issues of a volume)."""
    words, surnames, venues = _vocabulary()
    works: list[dict] = []

    def person():
        return (rng.choice(surnames), rng.choice(GIVEN) + (" " + rng.choice("ABCDEJKLMR") + "."
                                                           if rng.random() < 0.3 else ""))

    def title():
        text = " ".join(rng.sample(words, rng.randint(5, 11))).capitalize()
        if rng.random() < 0.3:
            text += ": " + " ".join(rng.sample(words, rng.randint(2, 5)))
        return text

    while len(works) < n:
        i = len(works)
        year = rng.randint(1995, 2025)
        base = {"type": "article", "title": title(), "authors": [person() for _ in range(
            rng.randint(1, 5))], "year": year, "venue": rng.choice(venues),
            "volume": str(rng.randint(1, 60)), "issue": str(rng.randint(1, 12)),
            "abstract": " ".join(rng.sample(words, 40)).capitalize() + "."}
        start = rng.randint(1, 900)
        base["pages"] = f"{start}--{start + rng.randint(5, 30)}"
        base["doi"] = f"10.{rng.randint(1000, 9999)}/{rng.choice(words)}.{year}.{i}" \
            if rng.random() < 0.75 else ""
        kind = rng.random()
        if kind < 0.01 and len(works) + 3 <= n:  # a report series: same title, each year
            series = dict(base, type="report", venue="", volume="", issue="", pages="",
                          doi="", authors=[(rng.choice(["Department for Education",
                                                        "Ofsted", "Sutton Trust"]), "")])
            for k in range(3):
                works.append(dict(series, year=year - 2 + k, abstract=base["abstract"]
                                  if k == 0 else " ".join(rng.sample(words, 40)) + "."))
        elif kind < 0.02 and len(works) + 2 <= n:  # a chapter carrying its book's DOI
            book = dict(base, type="book", venue="", volume="", issue="", pages="",
                        doi=f"10.4324/{9780000000000 + i}")
            chapter = dict(book, type="chapter", title=title(), venue=book["title"],
                           authors=[person()], pages=base["pages"])
            works += [book, chapter]
        elif kind < 0.03 and len(works) + 2 <= n:  # a report, then the journal article
            report = dict(base, type="report", venue="", volume="", issue="", pages="",
                          doi="", year=year - 1)
            works += [report, base]
        elif messy and 0.04 <= kind < 0.05 and len(works) + 4 <= n:  # a column, 4 issues
            column = dict(base, title="Remarks from the editor - " + title(), pages="",
                          doi="", abstract="", authors=base["authors"][:1])
            works += [dict(column, issue=str(k)) for k in range(1, 5)]
        elif kind < 0.04:  # a generic title, in another journal each time
            works.append(dict(base, title=rng.choice(["Editorial", "Introduction",
                                                      "Book review", "Erratum"]),
                              abstract="", doi=""))
        else:
            works.append(base)
    return works[:n]


def _variant(work: dict, rng: random.Random, messy: bool = False) -> dict:
    """The work as another database writes it."""
    record = dict(work)
    title = work["title"]
    change = rng.random()
    if change < 0.2:
        title = title.upper()
    elif change < 0.4:
        title = title.lower()
    elif change < 0.5:
        title = f"<i>{title}</i>"
    if rng.random() < 0.3:
        title = re.sub(r"[:,]", "", title) + "."
    record["title"] = title
    if rng.random() < 0.5:
        record["authors"] = [(s, " ".join(g[0] + "." for g in given.split()) if given else "")
                             for s, given in work["authors"]]
    if work["doi"]:
        change = rng.random()
        record["doi"] = ("https://doi.org/" + work["doi"] if change < 0.3 else
                         work["doi"].upper() if change < 0.4 else
                         "" if change < 0.6 else work["doi"])
    for name in ("abstract", "pages", "issue"):
        if rng.random() < 0.3:
            record[name] = ""
    if rng.random() < 0.2:
        record["venue"] = work["venue"].upper()
    if rng.random() < 0.05 and work["type"] == "article":
        record["year"] = work["year"] - 1  # online first
    if messy:
        _mess(record, work, rng)
    return record


def _mess(record: dict, work: dict, rng: random.Random) -> None:
    """What real exports do to a record, seen among the duplicates a benchmark missed: a
    subtitle glued to the title, the venue split into the volume field, a full stop after
    the venue, words around the volume's number, a mistyped page, or a correction notice
    (which benchmark labellers count as a duplicate of its article)."""
    change = rng.random()
    if change < 0.04 and ":" in work["title"]:
        main, _, subtitle = work["title"].partition(":")
        record["title"] = main + subtitle.strip()  # "...statesthe examples of..."
    elif change < 0.08 and ":" in work["title"]:
        record["title"] = work["title"].partition(":")[0]
    elif change < 0.11 and work["venue"].count(" ") >= 2 and work["volume"]:
        first, rest = work["venue"].split(" ", 1)[0], work["venue"].split(" ", 1)[1]
        record["venue"], record["volume"] = first, f"{rest}. {work['volume']}"
    elif change < 0.14 and work["venue"]:
        record["venue"] = work["venue"] + "."
    elif change < 0.17 and work["volume"]:
        record["volume"] = rng.choice(["Vol. {}", "{} (Suppl 1)", "Volume {}"]).format(
            work["volume"])
    elif change < 0.20 and "--" in work["pages"]:
        start, end = work["pages"].split("--")
        digit = rng.randrange(len(start))
        wrong = start[:digit] + str((int(start[digit]) + 1) % 10) + start[digit + 1:]
        record["pages"] = f"{wrong}--{end}"
    elif change < 0.22 and work["type"] == "article":
        record["title"] = rng.choice(["Erratum: {}", "Correction to: {}", "{} (vol {}, pg {}, {})"]
                                     ).format(work["title"], work["volume"],
                                              work["pages"].split("--")[0], work["year"])
        record.update(year=work["year"] + 1, pages=str(rng.randint(1, 900)), doi="",
                      abstract="", issue=str(rng.randint(1, 12)))


def make_records(n: int, seed: int = 0, duplicates: float = 0.25, messy: bool = False):
    """``n`` records (dicts with ``work``), ``duplicates`` of them second records (with
    ``messy``, written as real exports mangle them: :func:`_mess`)."""
    rng = random.Random(seed)
    n_works = round(n * (1 - duplicates))
    works = make_works(n_works, rng, messy)
    records = [dict(w, work=i) for i, w in enumerate(works)]
    for _ in range(n - n_works):
        i = rng.randrange(n_works)
        records.append(dict(_variant(works[i], rng, messy), work=i))
    rng.shuffle(records)
    return records


def _bib_escape(text: str) -> str:
    return re.sub(r"([&%#_$])", r"\\\1", text)


def write_bibtex(records, path: Path) -> list[str]:
    keys = []
    types = {"article": "article", "report": "techreport", "book": "book",
             "chapter": "incollection"}
    with open(path, "w", encoding="utf-8") as out:
        for k, r in enumerate(records):
            key = f"wos{k:06d}"
            keys.append(key)
            kind = types[r["type"]]
            venue = {"article": "journal", "techreport": "institution", "book": "publisher",
                     "incollection": "booktitle"}[kind]
            fields = {"author": " and ".join(f"{s}, {g}" if g else "{" + s + "}"
                                             for s, g in r["authors"]),
                      "title": "{" + _bib_escape(r["title"]) + "}", "year": str(r["year"]),
                      venue: _bib_escape(r["venue"]), "volume": r["volume"],
                      "number": r["issue"], "pages": r["pages"], "doi": r["doi"],
                      "abstract": _bib_escape(r["abstract"])}
            body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items()
                              if value)
            out.write(f"@{kind}{{{key},\n{body}\n}}\n\n")
    return keys


def write_ris(records, path: Path) -> list[str]:
    keys = []
    types = {"article": "JOUR", "report": "RPRT", "book": "BOOK", "chapter": "CHAP"}
    with open(path, "w", encoding="utf-8") as out:
        for k, r in enumerate(records):
            key = f"ERIC{k:06d}"
            keys.append(key)
            lines = [f"TY  - {types[r['type']]}", f"ID  - {key}"]
            lines += [f"AU  - {s}, {g}" if g else f"AU  - {s}" for s, g in r["authors"]]
            lines += [f"TI  - {r['title']}", f"PY  - {r['year']}"]
            if r["venue"]:
                lines.append(f"{'T2' if r['type'] != 'report' else 'PB'}  - {r['venue']}")
            for tag, name in (("VL", "volume"), ("IS", "issue"), ("DO", "doi"),
                              ("AB", "abstract")):
                if r[name]:
                    lines.append(f"{tag}  - {r[name]}")
            if r["pages"]:
                start, _, end = r["pages"].partition("--")
                lines += [f"SP  - {start}"] + ([f"EP  - {end}"] if end else [])
            out.write("\n".join(lines) + "\nER  - \n\n")
    return keys


def write_later_ris(records, path: Path) -> list[str]:
    """A later search, in RIS (IDs of their own, so they never clash with the first)."""
    keys = write_ris(records, path)
    text = path.read_text(encoding="utf-8").replace("ID  - ERIC", "ID  - LATER")
    path.write_text(text, encoding="utf-8")
    return [k.replace("ERIC", "LATER") for k in keys]


def write_scopus_csv(records, path: Path) -> list[str]:
    """Scopus's CSV columns; Scopus gives no key (``EID`` is its record id)."""
    keys = []
    types = {"article": "Article", "report": "Report", "book": "Book", "chapter": "Book chapter"}
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["Authors", "Title", "Year", "Source title", "Volume", "Issue",
                         "Page start", "Page end", "DOI", "Abstract", "Document Type", "EID"])
        for k, r in enumerate(records):
            key = f"2-s2.0-{85000000000 + k}"
            keys.append(key)
            start, _, end = r["pages"].partition("--")
            authors = "; ".join(f"{s} {''.join(p[0] + '.' for p in g.split())}".strip()
                                for s, g in r["authors"])
            writer.writerow([authors, r["title"], r["year"], r["venue"], r["volume"],
                             r["issue"], start, end, r["doi"], r["abstract"],
                             types[r["type"]], key])
    return keys


def write_searches(folder: Path, n: int, seed: int = 0, later: int = 0,
                   messy: bool = False, records: list[dict] | None = None) -> dict[str, Path]:
    """Three search files with ``n`` records in all, and ``truth.csv``; with ``later``, also
    ``later.ris``: a later search of ``later`` records of the same stream (so some are
    duplicates of records in the first three). ``records`` (dicts as :func:`make_records`
    makes them) are written instead of generated ones when given."""
    folder.mkdir(parents=True, exist_ok=True)
    records = records if records is not None else make_records(n + later, seed, messy=messy)
    records, later_records = records[:n], records[n:]
    a, b = round(n * 0.4), round(n * 0.75)
    files = {"eric.ris": (write_ris, records[:a]), "wos.bib": (write_bibtex, records[a:b]),
             "scopus.csv": (write_scopus_csv, records[b:])}
    if later_records:
        files["later.ris"] = (write_later_ris, later_records)
    with open(folder / "truth.csv", "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["file", "record", "work"])
        for name, (write, part) in files.items():
            for key, record in zip(write(part, folder / name), part):
                writer.writerow([name, key, record["work"]])
    return {name: folder / name for name in files}


def record_works(corpus: Path, searches: Path) -> dict[str, str]:
    """Each record key of a review made from these searches -> the work it is a record of
    (records.csv lists every record with its file and line, in the files' order)."""
    truth: dict[str, list[str]] = {}
    with open(searches / "truth.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            truth.setdefault(row["file"], []).append(row["work"])
    with open(corpus / "records.csv", encoding="utf-8", newline="") as handle:
        ledger = sorted(csv.DictReader(handle), key=lambda r: (r["source"], int(r["file_line"])))
    work, seen = {}, {}
    for row in ledger:
        position = seen.get(row["source"], 0)
        seen[row["source"]] = position + 1
        work[row["record"]] = truth[row["source"]][position]
    return work


def seeds_arg(argv: list[str], default=(0, 1, 2)) -> list[int]:
    """The numbers after ``--seeds`` on a benchmark's command line (up to the next option)."""
    if "--seeds" not in argv:
        return list(default)
    seeds = []
    for word in argv[argv.index("--seeds") + 1:]:
        if not word.isdigit():
            break
        seeds.append(int(word))
    return seeds


if __name__ == "__main__":
    args = sys.argv[1:]
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 0
    write_searches(Path(args[0]), int(args[1]), seed)
