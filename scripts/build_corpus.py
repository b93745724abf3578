"""Build the bundled corpus (corpus/studies.csv, codes.csv, decisions.csv, references.bib) from the
review team's source tables (shared/corpus-sources/studies.csv, coding.csv and fields.csv:
the reconciled group_type and phase of each included study).

Run once by a maintainer when the source tables change:

    python scripts/build_corpus.py ../shared/corpus-sources

The outputs are committed; users never need the source tables.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ENTRY_TYPES = {
    "journal-article": "article",
    "report": "techreport",
    "chapter": "incollection",
    "thesis": "phdthesis",
    "book": "book",
    "policy": "misc",
    "conference-paper": "inproceedings",
}
VENUE_FIELD = {
    "article": "journal",
    "techreport": "institution",
    "incollection": "booktitle",
    "phdthesis": "school",
    "book": "publisher",
    "misc": "howpublished",
    "inproceedings": "booktitle",
}
LATEX_SPECIALS = {"&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "$": r"\$"}


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIALS.get(ch, ch) for ch in text)


def bib_authors(authors: str) -> str:
    names = []
    for name in (part.strip() for part in authors.split(";")):
        if not name:
            continue
        if name == "others":
            names.append("others")
        elif "," in name:
            names.append(latex_escape(name))
        else:  # corporate author: braced so it is never split into first/last names
            names.append("{" + latex_escape(name) + "}")
    return " and ".join(names)


def bib_entry(row: dict[str, str]) -> str:
    entry_type = ENTRY_TYPES[row["kind"]]
    fields: list[tuple[str, str]] = []
    if row["authors"].strip():
        fields.append(("author", bib_authors(row["authors"])))
    fields.append(("title", latex_escape(row["title"])))
    if row["venue"].strip():
        fields.append((VENUE_FIELD[entry_type], latex_escape(row["venue"])))
    if row["year"].strip():
        fields.append(("year", row["year"].strip()))
    for name in ("volume", "issue", "pages"):
        value = row[name].strip()
        if value:
            key = "number" if name == "issue" else name
            fields.append((key, value.replace("-", "--") if name == "pages" else value))
    if row["doi"].strip():
        fields.append(("doi", row["doi"].strip()))
    if row["url"].strip():
        fields.append(("url", row["url"].strip()))
    body = ",\n".join(f"  {key} = {{{value}}}" for key, value in fields)
    return f"@{entry_type}{{{row['id']},\n{body}\n}}\n"


def main(source_dir: str, repo_dir: str = ".") -> None:
    source = Path(source_dir)
    repo = Path(repo_dir)
    with open(source / "studies.csv", encoding="utf-8", newline="") as handle:
        studies = list(csv.DictReader(handle))
    with open(source / "coding.csv", encoding="utf-8", newline="") as handle:
        coding = list(csv.DictReader(handle))
    reconciled = {row["id"]: row for row in coding if row["coder"] == "reconciled"}
    with open(source / "fields.csv", encoding="utf-8", newline="") as handle:
        field_rows = list(csv.DictReader(handle))
    fields = {row["id"]: row for row in field_rows if row["coder"] == "reconciled"}

    studies = sorted(studies, key=lambda row: row["id"])
    columns = ["study_id", "country", "design", "sample", "summary", "included",
               "exclusion_reason", "weight", "group_type", "phase", "verified", "source_url"]
    with open(repo / "corpus" / "studies.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in studies:
            decision = reconciled[row["id"]]
            included = decision["include"]
            writer.writerow([
                row["id"], row["country"], row["design"], row["sample"], row["summary"],
                included, decision["exclusion_reason"] if included == "no" else "",
                decision["weight"] if included == "yes" else "",
                *((fields.get(row["id"], {}).get(name, "") if included == "yes" else "")
                  for name in ("group_type", "phase")),
                row["verified"], row["source_url"],
            ])

    included_ids = {key for key, row in reconciled.items() if row["include"] == "yes"}
    code_rows = []
    for row in coding:
        if row["id"] not in included_ids or row["include"] != "yes":
            continue
        domains = [d for d in row["domains"].split(";") if d] or ["none"]
        code_rows.extend((row["id"], row["coder"], d) for d in domains)
    coder_order = {"A": 0, "B": 1, "reconciled": 2}
    code_rows.sort(key=lambda r: (r[0], coder_order.get(r[1], 9), r[1], r[2]))
    with open(repo / "corpus" / "codes.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["study_id", "coder", "domain"])
        writer.writerows(code_rows)

    # each coder's decisions (A, B and reconciled), with their values of the two fields
    by_coder = {(row["id"], row["coder"]): row for row in field_rows}
    decision_rows = []
    for row in coding:
        included = row["include"]
        values = by_coder.get((row["id"], row["coder"]), {})
        domains = ";".join(d for d in row["domains"].split(";") if d) or \
            ("none" if included == "yes" else "")
        decision_rows.append([
            row["id"], row["coder"], included,
            row["exclusion_reason"] if included == "no" else "", "", "", "", "",
            row["weight"] if included == "yes" else "", domains, row["note"],
            *((values.get(name, "") if included == "yes" else "")
              for name in ("group_type", "phase"))])
    decision_rows.sort(key=lambda r: (r[0], coder_order.get(r[1], 9), r[1]))
    with open(repo / "corpus" / "decisions.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["study_id", "coder", "included", "exclusion_reason", "country",
                         "design", "sample", "summary", "weight", "domains", "note",
                         "group_type", "phase"])
        writer.writerows(decision_rows)

    with open(repo / "references.bib", "w", encoding="utf-8", newline="\n") as handle:
        handle.write("% References of the bundled trustreview corpus, one entry per study.\n\n")
        handle.write("\n".join(bib_entry(row) for row in studies))


if __name__ == "__main__":
    main(*sys.argv[1:])
