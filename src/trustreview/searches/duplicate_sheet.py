"""A person decides the doubtful duplicates: ``trustreview sheet --duplicates`` lists the
``check`` pairs of ``duplicates.csv`` side by side with a ``same`` column (yes/no), and
``trustreview merge`` applies the filled workbook.

``yes``: the record becomes a ``merged`` row of the study and leaves ``studies.csv`` and
``references.bib`` (its own merged rows move with it), unless it already has a screening
decision or codes: then both stay, the pair stays ``check`` and the conflict is listed.
``no``: the pair becomes ``distinct`` and is never proposed again. Every row is checked
before anything is written; deciding a pair again the same way changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from trustreview.errors import InputError, SheetError
from trustreview.io.workbook import Problem
from trustreview.schema import CHECK, DISTINCT, DUPLICATES_FILE, MERGED, NO, YES

KIND = "duplicates"
SAME = "same"
SIDE_FIELDS = ("title", "authors", "year", "venue", "doi", "source")


@dataclass
class DuplicateSheet:
    """The pairs to decide, in the shape :func:`trustreview.io.workbook.coding_workbook_bytes`
    writes (one row per pair; ``same`` is the form column)."""

    frame: pd.DataFrame
    codebook: object
    kind: str = KIND
    coder: str = KIND
    editable: list[str] = field(default_factory=lambda: [SAME])
    choices: dict[str, list[str]] = field(default_factory=lambda: {SAME: [YES, NO]})
    disputed: list[tuple[int, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    coders: list[str] = field(default_factory=list)


def _venue(row) -> str:
    return next((row[n] for n in ("journal", "booktitle", "institution", "school",
                                  "publisher", "howpublished") if n in row and row[n]), "")


def build_sheet(duplicates: pd.DataFrame, entries: pd.DataFrame, records: pd.DataFrame,
                codebook) -> tuple[DuplicateSheet, str]:
    """The workbook's sheet: every ``check`` pair, both records' bibliographic fields side
    by side (cells that differ shaded). ``entries`` are the review's BibTeX entries,
    ``records`` its records.csv (for each record's search)."""
    from trustreview.base.text import decode_latex

    by_key = {row["key"]: row for row in entries.to_dict("records")}
    source = dict(zip(records["record"], records["source"]))
    pairs = duplicates[duplicates["status"] == CHECK]
    rows, disputed = [], []
    for position, pair in enumerate(pairs.to_dict("records")):
        row = {"study_id": pair["study_id"], "record": pair["record"], SAME: "",
               "reason": pair["reason"], "score": pair["score"]}
        for side, key in (("study", pair["study_id"]), ("record", pair["record"])):
            entry = by_key.get(key, {})
            values = {"title": decode_latex(entry.get("title", "")),
                      "authors": decode_latex(entry.get("author", "") or
                                              entry.get("editor", "")),
                      "year": entry.get("year", ""), "venue": decode_latex(_venue(entry)),
                      "doi": entry.get("doi", ""), "source": source.get(key, "")}
            for name in SIDE_FIELDS:
                row[f"{side} {name}"] = values[name]
        for name in SIDE_FIELDS:
            a, b = row[f"study {name}"], row[f"record {name}"]
            if a.casefold() != b.casefold():
                disputed += [(position, f"study {name}"), (position, f"record {name}")]
        rows.append(row)
    columns = ["study_id", "record", SAME, "reason", "score",
               *[f"{side} {name}" for name in SIDE_FIELDS for side in ("study", "record")]]
    frame = pd.DataFrame(rows, columns=columns).fillna("")
    sheet = DuplicateSheet(frame, codebook, disputed=disputed)
    return sheet, f"{len(frame)} pair(s) to decide (same: yes or no)"


@dataclass
class Decided:
    """What merging a filled duplicates workbook did (reported like a coding merge)."""

    duplicates: pd.DataFrame
    studies: pd.DataFrame
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (kept study, merged record)
    merged: list[str] = field(default_factory=list)
    distinct: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: int = 0
    coder: str = KIND

    @property
    def removed(self) -> list[str]:
        """The records that left studies.csv."""
        return [record for _, record in self.pairs]

    def summary(self) -> str:
        return (f"{len(self.merged)} pair(s) merged, {len(self.distinct)} distinct, "
                f"skipped {self.skipped} (nothing decided), conflicts {len(self.conflicts)}")


def decide(filled, duplicates: pd.DataFrame, studies: pd.DataFrame, codes: pd.DataFrame,
           decisions: pd.DataFrame) -> Decided:
    """Apply a filled duplicates sheet to the tables (pure); raises :class:`SheetError`
    listing every row that cannot be applied, before anything changes."""
    problems = list(filled.problems)
    duplicates = duplicates.copy()
    where = {(s, r): i for i, (s, r) in enumerate(zip(duplicates["study_id"],
                                                     duplicates["record"]))}
    chosen = []
    for row in filled.rows.to_dict("records"):
        same = row.get(SAME, "").strip().lower()
        if not same:
            continue
        pair = (row.get("study_id", ""), row.get("record", ""))
        def problem(found, allowed, fix, column=SAME):
            problems.append(Problem(filled.source, row["row"], column, same, found, allowed,
                                    fix))
        if same not in (YES, NO):
            problem("same is not yes or no", "yes, no", "write yes or no, or leave it empty")
            continue
        if pair not in where:
            problem(f"no pair {pair[0]} / {pair[1]} in {DUPLICATES_FILE}", "",
                    "write a new sheet with trustreview sheet --duplicates", "record")
            continue
        status = duplicates["status"].iat[where[pair]]
        if status != CHECK and (status == MERGED) != (same == YES):
            problem(f"the pair was already decided {status}", "",
                    f"to change it, edit its row in {DUPLICATES_FILE}")
            continue
        chosen.append((pair, same, status))
    if problems:
        raise SheetError(filled.source, problems)
    result = Decided(duplicates, studies.copy())
    screened = set(studies.loc[studies["included"].str.strip() != "", "study_id"])
    coded = set(codes["study_id"]) | set(decisions["study_id"])
    study_ids = set(studies["study_id"])
    for pair, same, status in chosen:
        i = where[pair]
        label = f"{pair[0]} / {pair[1]}"
        if status != CHECK:
            result.notes.append(f"{label}: already {status}; nothing changed")
            continue
        reason = duplicates["reason"].iat[i]
        if same == NO:
            duplicates.loc[duplicates.index[i], ["status", "reason"]] = \
                [DISTINCT, f"decided by a person: not the same study ({reason})"]
            result.distinct.append(label)
            continue
        record = pair[1]
        if pair[0] not in study_ids or record not in study_ids:
            gone = pair[0] if pair[0] not in study_ids else record
            into = dict((r, s) for s, r in result.pairs).get(gone)
            result.conflicts.append(
                f"{label}: {gone} " + (f"was merged into {into} on an earlier row (a record "
                                       "joins one study); if these two are the same study "
                                       "too, exclude one of them (reason: duplicate) when "
                                       "you screen" if into else
                                       "is not a study of the review any more; nothing changed"))
            continue
        if record in screened or record in coded:
            result.conflicts.append(f"{label}: the same study, but {record} already has a "
                                    "screening decision or codes; both are kept: exclude one "
                                    "of them (reason: duplicate) when you screen")
            continue
        duplicates.loc[duplicates.index[i], ["status", "reason"]] = \
            [MERGED, f"decided by a person: the same study ({reason})"]
        moved = duplicates["study_id"] == record  # the record's own merged rows move too
        duplicates.loc[moved, "study_id"] = pair[0]
        if moved.any():
            result.notes.append(f"{int(moved.sum())} row(s) of {record} now belong to "
                                f"{pair[0]}")
        result.pairs.append((pair[0], record))
        result.merged.append(label)
        study_ids.discard(record)  # merged: a later row cannot merge it into a second study
    result.duplicates = duplicates
    result.studies = studies[~studies["study_id"].isin(result.removed)]
    return result


def merge_duplicates_workbook(filled, corpus_dir, bib_path) -> tuple[Decided, list[Path]]:
    """Read the corpus tables, apply a filled duplicates workbook and write
    ``duplicates.csv``, ``studies.csv`` and ``references.bib`` together."""
    from trustreview.io.export import corpus_table_bytes
    from trustreview.io.files import display_path, read_text, replace_files
    from trustreview.io.load import (find_table, read_bib, read_codes, read_decisions,
                                     read_duplicates, read_table)

    corpus = Path(corpus_dir)
    studies_path = find_table(corpus, "studies")
    if studies_path is None or not (corpus / DUPLICATES_FILE).exists():
        raise InputError(f"{display_path(corpus)}: no studies.csv and {DUPLICATES_FILE} "
                         "there; give the review's corpus folder with --corpus")
    studies = read_table(studies_path).frame.drop(columns="line")
    _, codes = read_codes(corpus)
    result = decide(filled, read_duplicates(corpus), studies, codes, read_decisions(corpus))
    contents = {corpus / DUPLICATES_FILE: corpus_table_bytes(result.duplicates,
                                                             DUPLICATES_FILE),
                studies_path: corpus_table_bytes(result.studies, studies_path)}
    bib_path = Path(bib_path)
    if result.removed and bib_path.exists():
        from trustreview.searches.intake import FILLED, add_fields

        text = read_text(bib_path, display_path(bib_path))
        entries = read_bib(bib_path).entries
        by_key = {row["key"]: row for row in entries.to_dict("records")}
        for kept, record in result.pairs:  # the kept study takes the fields it lacks
            if kept in by_key and record in by_key:
                values = {name: by_key[record][name] for name in FILLED
                          if not by_key[kept].get(name) and by_key[record].get(name)}
                if values:
                    filled = add_fields(by_key[kept]["raw"], values)
                    text = text.replace(by_key[kept]["raw"], filled, 1)
                    by_key[kept] = {**by_key[kept], **values, "raw": filled}
        for raw in entries.loc[entries["key"].isin(result.removed), "raw"]:
            text = text.replace(raw, "", 1)
        while "\n\n\n\n" in text:
            text = text.replace("\n\n\n\n", "\n\n\n")
        contents[bib_path] = text.encode("utf-8")
    return result, replace_files(contents)
