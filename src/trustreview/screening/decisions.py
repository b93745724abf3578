"""Screening decisions: which count for the model, which records await a coder, and how a
decision (from a filled sheet or a click in the screener) enters the corpus tables.

A screening decision is one row of ``decisions.csv``: the coder, ``included`` (yes/no), the
``exclusion_reason`` of an exclusion, a ``note``, and ``sequence``, its place in the order
the review's screening decisions were made (1, 2, ...). An exclusion also fills the study's
``included`` and ``exclusion_reason`` in ``studies.csv`` when they are empty (the first
screener's decision; a later different one is kept for reconciliation); an inclusion
leaves ``studies.csv`` alone: the study goes on to be coded (country, design, weight and
domains come with the coder's sheet, which then replaces the screening row and keeps its
``sequence``).

Which decisions count for a coder's ranking, before reconciliation: the ``reconciled``
decision where there is one; else the coder's own; else, for a study with no decision in
``decisions.csv`` at all (decided before screening started, or imported), its ``included``
in ``studies.csv``. Another coder's unreconciled decisions never count, so double screening
stays blind: neither the sheet nor the order shows what the other coder decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trustreview.io.workbook import Problem
from trustreview.model.relevance import EXCLUDED, INCLUDED, UNKNOWN
from trustreview.schema import DECISIONS_FILE, NO, NOTE, RECONCILED, SEQUENCE, YES


def is_screening_only(row: dict) -> bool:
    """A decisions.csv row that is a title-and-abstract inclusion and nothing more (no
    domains, no study field): the study awaits its coder's sheet."""
    return bool(str(row.get(SEQUENCE, "") or "").strip()) and \
        str(row.get("included", "")).lower() == YES and not str(row.get("domains", "")) \
        and not any(str(row.get(name, "") or "") for name in
                    ("country", "design", "weight", "sample", "summary"))


def labels(records: pd.DataFrame, decisions: pd.DataFrame, coder: str) -> np.ndarray:
    """1 included, 0 excluded, -1 not decided, for ``coder``, one per row of ``records``
    (a validated corpus's: ``study_id``, ``status``); see the module docstring for which
    decisions count."""
    study_ids = records["study_id"].tolist()
    final = {sid: {"included": YES, "excluded": NO}.get(status, "")
             for sid, status in zip(study_ids, records["status"])}
    decided: dict[str, str] = {}
    reconciled: dict[str, str] = {}
    anyone: set[str] = set()
    for sid, who, included in zip(decisions["study_id"], decisions["coder"],
                                  decisions["included"].str.lower()):
        anyone.add(sid)
        if who == RECONCILED:
            reconciled[sid] = included
        elif who == coder:
            decided[sid] = included
    out = np.full(len(study_ids), UNKNOWN)
    for i, sid in enumerate(study_ids):
        value = reconciled.get(sid) or decided.get(sid) or \
            (final.get(sid, "") if sid not in anyone else "")
        if value == YES:
            out[i] = INCLUDED
        elif value == NO:
            out[i] = EXCLUDED
    return out


def next_sequence(decisions: pd.DataFrame) -> int:
    if SEQUENCE not in decisions.columns:
        return 1
    numbers = pd.to_numeric(decisions[SEQUENCE], errors="coerce").dropna()
    return int(numbers.max()) + 1 if len(numbers) else 1


def screening_order(decisions: pd.DataFrame) -> pd.DataFrame:
    """The screening decisions in the order they were made (``sequence``), one per study:
    its first (``study_id``, ``coder``, ``included``, ``sequence``)."""
    if SEQUENCE not in decisions.columns:
        return pd.DataFrame(columns=["study_id", "coder", "included", SEQUENCE])
    numbers = pd.to_numeric(decisions[SEQUENCE], errors="coerce")
    made = decisions.assign(**{SEQUENCE: numbers})[numbers.notna()]
    made = made.sort_values(SEQUENCE, kind="stable").drop_duplicates("study_id")
    return made[["study_id", "coder", "included", SEQUENCE]].reset_index(drop=True)


@dataclass
class Screened:
    """The tables after screening decisions, and what happened to each."""

    studies: pd.DataFrame
    decisions: pd.DataFrame
    coder: str
    merged: list[str] = field(default_factory=list)
    skipped: int = 0
    conflicts: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        included = sum(1 for s in self.merged if s.endswith("yes"))
        return (f"{len(self.merged)} screening decision(s) merged ({included} included), "
                f"skipped {self.skipped} (nothing decided), conflicts {len(self.conflicts)}, "
                f"kept for reconciliation {len(self.kept)}")


def check_rows(rows: pd.DataFrame, source: str, known: set[str]) -> list[Problem]:
    """Every problem of filled screening rows (``row``, ``study_id``, ``included``,
    ``exclusion_reason``): an unknown study, a study twice, a decision that is not yes or
    no, an exclusion without a reason, an inclusion with one."""
    problems, seen = [], {}
    for row in rows.to_dict("records"):
        sid, included = row.get("study_id", ""), row.get("included", "").strip().lower()
        reason = row.get("exclusion_reason", "").strip()

        def problem(column, value, found, allowed, fix):
            problems.append(Problem(source, row["row"], column, value, found, allowed, fix))

        if sid not in known:
            problem("study_id", sid, "no such study in studies.csv", "",
                    "keep the study_id column as trustreview sheet wrote it")
            continue
        if sid in seen:
            problem("study_id", sid, f"the study is also on row {seen[sid]}", "",
                    "keep one row per study")
        seen[sid] = row["row"]
        if not included:
            if reason:
                problem("included", "", "an exclusion_reason but no decision", "yes, no",
                        "write no in included (or delete the reason)")
            continue
        if included not in (YES, NO):
            problem("included", row.get("included", ""), "included is not yes or no",
                    "yes, no", "write yes or no, or leave it empty for later")
        elif included == NO and not reason:
            problem("exclusion_reason", "", "an excluded record needs a reason", "",
                    "choose a reason from the drop-down (or write one)")
        elif included == YES and reason:
            problem("exclusion_reason", reason, "an included record has an exclusion_reason",
                    "empty when included", "delete the reason, or write no in included")
    return problems


def apply(rows: list[dict], studies: pd.DataFrame, decisions: pd.DataFrame, coder: str,
          columns: list[str], replace: bool = False) -> Screened:
    """The tables after ``rows`` (``study_id``, ``included``, ``exclusion_reason``,
    ``note``, checked by :func:`check_rows`), decided by ``coder`` in this order. Deciding a
    study again the same way changes nothing (its sequence stays); a different decision of
    the same coder is a conflict unless ``replace``."""
    studies = studies.copy()
    columns = [*columns, *([SEQUENCE] if SEQUENCE not in columns else [])]
    decisions = decisions.reindex(columns=columns).fillna("").astype("str")
    result = Screened(studies, decisions, coder)
    position = {sid: i for i, sid in enumerate(studies["study_id"])}
    existing = {(s, c): i for i, (s, c) in enumerate(zip(decisions["study_id"],
                                                        decisions["coder"]))}
    sequence = next_sequence(decisions)
    new_rows, changed = [], {}
    for row in rows:
        sid, included = row["study_id"], row.get("included", "").strip().lower()
        if not included:
            result.skipped += 1
            continue
        reason = row.get("exclusion_reason", "").strip() if included == NO else ""
        note = row.get(NOTE, "").strip()
        at = existing.get((sid, coder))
        if at is not None:
            before = decisions.iloc[at]
            if before["included"].lower() == included and \
                    (included == YES or before["exclusion_reason"] == reason):
                result.notes.append(f"{sid}: {coder} already decided {included}; unchanged")
                continue
            if not replace:
                result.conflicts.append(f"{sid}: {coder}'s decision in decisions.csv "
                                        f"({before['included']}) differs from this one "
                                        f"({included}); kept as it was (merge with --replace "
                                        "to overwrite)")
                continue
            changed[at] = {"included": included, "exclusion_reason": reason, NOTE: note,
                           **{name: "" for name in ("domains", "weight", "country", "design")}}
            i = position[sid]
            if str(studies["included"].iat[i]).lower() == before["included"].lower() and \
                    str(studies["exclusion_reason"].iat[i]) == before["exclusion_reason"]:
                # studies.csv held this coder's earlier decision: it follows the new one
                studies.iat[i, studies.columns.get_loc("included")] = \
                    NO if included == NO else ""
                studies.iat[i, studies.columns.get_loc("exclusion_reason")] = reason
                result.merged.append(f"{sid}: {included}")
                continue
        else:
            new_rows.append({"study_id": sid, "coder": coder, "included": included,
                             "exclusion_reason": reason, NOTE: note,
                             SEQUENCE: str(sequence)})
            sequence += 1
        result.merged.append(f"{sid}: {included}")
        i = position[sid]
        current = str(studies["included"].iat[i] or "").strip().lower()
        if included == NO and not current:
            studies.iat[i, studies.columns.get_loc("included")] = NO
            studies.iat[i, studies.columns.get_loc("exclusion_reason")] = reason
        elif current and current != included:
            result.kept.append(f"{sid}: included is {current!r} in studies.csv, {coder} says "
                               f"{included!r} (for reconciliation)")
    for at, values in changed.items():
        for name, value in values.items():
            if name in decisions.columns:
                decisions.iat[at, decisions.columns.get_loc(name)] = value
    if new_rows:
        added = pd.DataFrame([[row.get(c, "") for c in columns] for row in new_rows],
                             columns=columns, dtype="str")
        decisions = pd.concat([decisions, added], ignore_index=True).astype("str")
    result.decisions = decisions.sort_values(["study_id", "coder"], kind="stable",
                                             ignore_index=True)
    result.studies = studies
    return result


def write(result: Screened, studies_path, corpus_dir) -> list:
    """Write the tables after a screening merge or a decision in the screener:
    ``studies.csv`` (at ``studies_path``) and ``decisions.csv`` replaced together, so a
    killed process leaves both as they were or both as they are now. Returns the paths."""
    from pathlib import Path

    from trustreview.io.export import corpus_table_bytes
    from trustreview.io.files import replace_files

    return replace_files({
        studies_path: corpus_table_bytes(result.studies, studies_path),
        Path(corpus_dir) / DECISIONS_FILE: corpus_table_bytes(result.decisions,
                                                              DECISIONS_FILE)})
