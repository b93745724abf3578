"""A filled coding sheet merged into the corpus tables: the coder's rows into
``decisions.csv``, study fields into empty ``studies.csv`` cells, codes into ``codes.csv``;
the reconciliation sheet's decisions become the study's. :func:`merge_workbook` is the edge
that reads the workbook and writes the three tables together."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from trustreview.errors import InputError, SheetError
from trustreview.io.codebook import Codebook
from trustreview.io.export import corpus_table_bytes
from trustreview.io.files import replace_files
from trustreview.io.load import (find_table, read_codebook, read_codes, read_decisions,
                                 read_table)
from trustreview.io.workbook import Filled, read_coding_workbook
from trustreview.schema import (DECISIONS_FILE, NO_DOMAIN, NOTE, RECONCILED,
                                SEQUENCE)
from trustreview.screening.decisions import is_screening_only
from trustreview.coding.sheets import (DECISION_FIELDS, _decided, _domains_of, _mark,
                                       collapse_multi, decisions_columns, fields_of,
                                       reconciliation)

from trustreview.coding.checks import check_rows


@dataclass
class Merged:
    """The outcome of :func:`merge`: the new tables and what happened to each row."""

    studies: pd.DataFrame
    codes: pd.DataFrame
    decisions: pd.DataFrame
    merged: list[str]
    skipped: int
    conflicts: list[str]
    kept: list[str]  # study values that differ from studies.csv, kept for reconciliation
    notes: list[str]  # other changes worth telling (codes removed, agreed studies reconciled)
    coder: str = ""  # whose sheet it was (``reconciled`` for a reconciliation sheet)

    def summary(self) -> str:
        return (f"merged {len(self.merged)} row(s), skipped {self.skipped} (nothing decided), "
                f"conflicts {len(self.conflicts)}, values kept for reconciliation "
                f"{len(self.kept)}")


def _decision_row(row: dict, coder: str, domains: list[str], fields: list[str]) -> dict:
    included = row["included"].lower()
    marked = [d for d in domains if _mark(row[d])]
    values = {name: row.get(name, "") for name in fields}
    values["included"] = included
    if included == "yes":
        coded = ";".join(marked) if marked else NO_DOMAIN
    else:
        coded = ""
    return {"study_id": row["study_id"], "coder": coder, **values, "domains": coded,
            NOTE: row.get(NOTE, "")}


def _unchanged(row: dict, study: dict, domains: list[str], fields: list[str]) -> bool:
    """A prefilled row the coder did not touch: every field as in studies.csv, no domain
    marked, no note."""
    if any(_mark(row[d]) for d in domains) or row.get(NOTE):
        return False
    current = dict(study)
    current["included"] = current.get("included", "").lower()
    return all(row.get(name, "") == current.get(name, "") for name in fields
               if name != "included") \
        and row["included"].lower() == current["included"]


@dataclass
class _Merging:
    """What merging a sheet changes, gathered row by row and applied once by
    :meth:`finish` (the one rewrite of ``codes`` and ``decisions`` both merges share)."""

    filled: Filled
    studies: pd.DataFrame
    codes: pd.DataFrame
    decisions: pd.DataFrame
    domains: list[str]
    replace: bool
    fields: list[str] = field(default_factory=list)  # the study fields the sheet asks
    columns: list[str] = field(default_factory=list)  # of decisions.csv
    position: dict[str, int] = field(default_factory=dict)
    existing_codes: dict = field(default_factory=dict)
    existing_decisions: dict = field(default_factory=dict)
    merged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: int = 0
    add_codes: dict[str, list[str]] = field(default_factory=dict)  # study -> domains to write
    drop_codes: set = field(default_factory=set)  # (study, coder, or None for every coder)
    new_decisions: dict[tuple[str, str], dict] = field(default_factory=dict)

    @classmethod
    def start(cls, filled, studies, codes, decisions, codebook, replace) -> "_Merging":
        studies = studies.copy()
        fields = fields_of(codebook)
        for name in fields:
            if name not in studies.columns:
                studies[name] = ""
            studies[name] = studies[name].fillna("").astype("str")
        codes = codes[["study_id", "coder", "domain"]].astype("str").reset_index(drop=True)
        columns = decisions_columns(codebook) + \
            ([SEQUENCE] if SEQUENCE in decisions.columns else [])  # kept from screening
        decisions = decisions.reindex(columns=columns).fillna("").astype("str")
        state = cls(filled, studies, codes, decisions, codebook.domain_ids, replace, fields,
                    columns)
        state.position = {sid: i for i, sid in enumerate(studies["study_id"])}
        state.existing_codes = _domains_of(codes)
        state.existing_decisions = {(r["study_id"], r["coder"]): r
                                    for r in decisions.to_dict("records")}
        return state

    def decided(self, leave=lambda row, study: False):
        """Each row of the sheet with a decision, accepted by :meth:`accept`, as (row, the
        study's values before this sheet, decision, domains coded, the coder's codes
        already there). A row with ``included`` empty, or one ``leave(row, study)`` says to
        leave alone, is counted as skipped."""
        for row in self.filled.rows.to_dict("records"):
            if not row["study_id"]:
                continue
            study = self.studies.iloc[self.position[row["study_id"]]].to_dict()
            if not row["included"] or leave(row, study):
                self.skipped += 1
                continue
            accepted = self.accept(row)
            if accepted is not None:
                yield row, study, *accepted

    def accept(self, row: dict) -> tuple[dict, frozenset | None, frozenset | None] | None:
        """The row's decision, the domains it codes (None: excluded) and the coder's codes
        already there; None (and a conflict listed) where the coder's earlier decision or
        codes differ and ``replace`` was not asked for."""
        sid, coder = row["study_id"], self.filled.coder
        decision = _decision_row(row, coder, self.domains, self.fields)
        previous = self.existing_decisions.get((sid, coder))
        if previous is not None and is_screening_only(previous):
            decision[SEQUENCE] = previous[SEQUENCE]  # coded now: the screening row's place
            previous = None
        if previous is not None and any(previous.get(c, "") != decision.get(c, "")
                                        for c in self.columns if c != NOTE) \
                and not self.replace:
            self.conflicts.append(f"{sid}: {coder}'s decision in decisions.csv differs from "
                                  "this sheet (kept as it was; merge with --replace to "
                                  "overwrite)")
            return None
        wanted = frozenset(decision["domains"].split(";")) if decision["domains"] else None
        have = self.existing_codes.get((sid, coder))
        if have is not None and have != wanted and not self.replace:
            self.conflicts.append(
                f"{sid}: {coder}'s codes in codes.csv ({', '.join(sorted(have))}) differ from "
                f"this sheet ({', '.join(sorted(wanted)) if wanted else 'excluded'}); kept as "
                "they were; merge with --replace to overwrite")
            return None
        self.merged.append(sid)
        self.new_decisions[(sid, coder)] = decision
        return decision, wanted, have

    def set_study(self, sid: str, name: str, value: str) -> None:
        self.studies.iat[self.position[sid], self.studies.columns.get_loc(name)] = value

    def finish(self) -> Merged:
        coder = self.filled.coder
        changed = sorted(s for s, ds in self.add_codes.items()
                         if self.existing_codes.get((s, coder)) != frozenset(ds))
        rewrite = set(changed)
        keep = [not ((s, c) in self.drop_codes or (s, None) in self.drop_codes
                     or (s in rewrite and c == coder))
                for s, c in zip(self.codes["study_id"], self.codes["coder"])]
        added = [{"study_id": s, "coder": coder, "domain": d} for s in changed
                 for d in self.add_codes[s]]
        codes = pd.concat([self.codes[keep], pd.DataFrame(added, columns=["study_id", "coder",
                                                                          "domain"])],
                          ignore_index=True).astype("str")
        rows = [r for r in self.decisions.to_dict("records")
                if (r["study_id"], r["coder"]) not in self.new_decisions]
        rows += [self.new_decisions[k] for k in sorted(self.new_decisions)]
        decisions = pd.DataFrame([[row.get(c, "") for c in self.columns] for row in rows],
                                 columns=self.columns).fillna("").astype("str")
        decisions = decisions.sort_values(["study_id", "coder"], kind="stable",
                                          ignore_index=True)
        return Merged(self.studies, codes, decisions, self.merged, self.skipped,
                      self.conflicts, self.kept, self.notes, coder)


def merge(filled: Filled, studies: pd.DataFrame, codes: pd.DataFrame,
          decisions: pd.DataFrame, codebook: Codebook, replace: bool = False) -> Merged:
    """The corpus tables after merging a filled sheet whose rows passed :func:`check_rows`:
    :func:`merge_coder` for a coder's sheet, :func:`merge_reconciliation` for a
    reconciliation sheet."""
    if filled.kind == "reconcile":
        return merge_reconciliation(filled, studies, codes, decisions, codebook, replace)
    return merge_coder(filled, studies, codes, decisions, codebook, replace)


def merge_coder(filled: Filled, studies: pd.DataFrame, codes: pd.DataFrame,
                decisions: pd.DataFrame, codebook: Codebook, replace: bool = False) -> Merged:
    """A coder's sheet: each decided row becomes the coder's row in ``decisions``; study
    fields fill empty ``studies`` cells (a different value is kept for reconciliation, not
    written); the coder's codes go to ``codes`` for a study that is included (``none`` when
    no domain is marked). Codes that already differ are a conflict, left as they are unless
    ``replace``. A row left as it was, or with ``included`` empty, is skipped."""
    state = _Merging.start(filled, studies, codes, decisions, codebook, replace)
    unchanged = (lambda row, study: _unchanged(row, study, state.domains, state.fields))
    for row, study, decision, wanted, have in state.decided(leave=unchanged):
        sid = row["study_id"]
        status = study["included"].lower()
        same_inclusion = not status or status == decision["included"]
        for name in state.fields:
            value, current = decision[name], study[name]
            if name == "included":
                current = current.lower()
            if not value or value == current:
                continue
            if current or (name in ("exclusion_reason", "weight") and not same_inclusion):
                if current:
                    state.kept.append(f"{sid}: {name} is {current!r} in studies.csv, "
                                      f"{filled.coder} says {value!r}")
                continue
            state.set_study(sid, name, value)
        final = state.studies.iat[state.position[sid],
                                  state.studies.columns.get_loc("included")].lower()
        if decision["included"] == "yes" and final == "yes":
            state.add_codes[sid] = sorted(wanted)
        elif have is not None:
            state.drop_codes.add((sid, filled.coder))
    return state.finish()


def merge_reconciliation(filled: Filled, studies: pd.DataFrame, codes: pd.DataFrame,
                         decisions: pd.DataFrame, codebook: Codebook,
                         replace: bool = False) -> Merged:
    """A reconciliation sheet: ``reconciled`` codes for every study two coders decided (the
    form where they differed, their shared codes where they agreed); the form sets the
    study fields; a study excluded here loses its codes (the coders' decisions stay)."""
    state = _Merging.start(filled, studies, codes, decisions, codebook, replace)
    decided = _decided(state.codes, state.decisions)
    for sid in reconciliation(decided, set(state.studies["study_id"]))[1]:
        shared = next(d for c, d in decided[sid].items() if c != RECONCILED)
        if shared["included"] == "yes" and shared.get("domains"):
            state.add_codes[sid] = sorted(shared["domains"])
            state.notes.append(f"{sid}: the coders agree; their codes become the reconciled "
                               "codes")
    for row, _study, decision, wanted, _have in state.decided():
        sid = row["study_id"]
        for name in state.fields:
            if name in DECISION_FIELDS or decision[name]:
                state.set_study(sid, name, decision[name])
        if decision["included"] == "no":
            state.drop_codes.add((sid, None))
            state.add_codes.pop(sid, None)
            if any(key[0] == sid for key in state.existing_codes):
                state.notes.append(f"{sid}: excluded at reconciliation; its codes are removed "
                                   "from codes.csv (the coders' decisions stay in "
                                   "decisions.csv)")
        else:
            state.add_codes[sid] = sorted(wanted)
    return state.finish()


# -- at the edges: the corpus folder and the workbook files -------------------------------
def merge_workbook(workbook, corpus_dir, replace: bool = False) -> tuple[Merged, list]:
    """Read a filled workbook and the corpus tables, check every row (any problem: a
    :class:`~trustreview.errors.SheetError` and nothing written), merge, and write studies,
    codes and decisions together. Returns the merge and the files that changed."""
    corpus_dir = Path(corpus_dir)
    studies_path = find_table(corpus_dir, "studies")
    if not corpus_dir.is_dir() or studies_path is None:
        raise InputError(f"{corpus_dir}: no studies.csv (or studies.xlsx) there; give the "
                         "corpus folder with --corpus")
    filled = read_coding_workbook(workbook)
    studies = read_table(studies_path).frame.drop(columns="line")
    codes_path, codes = read_codes(corpus_dir)
    codebook = read_codebook(corpus_dir / "codebook.yml")
    decisions = read_decisions(corpus_dir)
    filled = collapse_multi(filled, codebook)
    problems = check_rows(filled, studies, codebook)
    if problems:
        raise SheetError(filled.source, problems)
    result = merge(filled, studies, codes, decisions, codebook, replace=replace)
    written = replace_files({
        studies_path: corpus_table_bytes(result.studies, studies_path),
        codes_path: corpus_table_bytes(result.codes, codes_path),
        corpus_dir / DECISIONS_FILE: corpus_table_bytes(result.decisions, DECISIONS_FILE)})
    return result, written
