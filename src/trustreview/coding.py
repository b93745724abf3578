"""Coding workbooks: what a coder's (or the reconciler's) sheet holds, and how a filled one
goes back into the corpus.

Pure functions over DataFrames. :func:`coder_sheet` and :func:`reconcile_sheet` decide the
rows and prefilled values of a sheet (:class:`Sheet`); :func:`check_rows` checks the rows of
a filled sheet like the corpus itself; :func:`merge` computes the new ``studies``, ``codes``
and ``decisions`` tables. Reading and writing the ``.xlsx`` files is done at the edges
(:mod:`trustreview.io.load`, :mod:`trustreview.io.export`, the CLI).

``decisions.csv`` (beside ``studies.csv``) keeps every coder's decisions as merged from their
sheets, one row per study and coder, so that nothing a coder decided is lost when it differs
from what ``studies.csv`` already says; the reconciliation sheet shows them side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from trustreview.errors import InputError, SheetError
from trustreview.io.codebook import BUILT_IN, Codebook
from trustreview.io.export import corpus_table_bytes
from trustreview.io.files import replace_files
from trustreview.io.text import decode_latex, split_authors
from trustreview.io.load import (empty_table, find_table, read_codebook, read_codes,
                                 read_decisions, read_table)
from trustreview.io.workbook import Filled, Problem, read_coding_workbook
from trustreview.schema import (AWAITING, CODER_FIELDS, DECISIONS_COLUMNS, DECISIONS_FILE,
                                NO_DOMAIN, NOTE, RECONCILED, SEQUENCE)
from trustreview.screening.decisions import is_screening_only
from trustreview.validate import field_problem

CONTEXT = ["study_id", "title", "year", "authors", "abstract"]
FIELDS = list(CODER_FIELDS)
DECISION_FIELDS = ["included", "exclusion_reason", "weight"]  # never shown from another coder
SUGGESTED = "suggested_domains"
CHECK = "check_domains"  # the suggestions the model is not sure of
MARKS = ("1", "x")  # what marks a domain cell as "examines this domain"


def fields_of(codebook: Codebook) -> list[str]:
    """The study fields a sheet asks, in sheet order: the corpus's own, with the codebook's
    further fields before ``weight`` (so the domains follow ``weight`` as before)."""
    extra = [f.id for f in codebook.extra_fields]
    at = FIELDS.index("weight")
    return [name for name in [*FIELDS[:at], *extra, *FIELDS[at:]]
            if name not in BUILT_IN or codebook.has(name)]


def value_column(field_id: str, value: str) -> str:
    """The sheet column of one value of a multi field, marked like a domain."""
    return f"{field_id}: {value}"


def sheet_columns(codebook: Codebook) -> list[str]:
    """The form's field columns as the sheet has them: a multi field as one column per
    value."""
    columns = []
    for name in fields_of(codebook):
        item = _extra(codebook, name)
        if item is not None and item.type == "multi":
            columns += [value_column(name, v) for v in item.values]
        else:
            columns.append(name)
    return columns


def _extra(codebook: Codebook, name: str):
    return next((f for f in codebook.extra_fields if f.id == name), None)


def expand_multi(frame: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """A sheet frame with each multi field's column (values joined by ``; ``) replaced by
    one marked column per value, in place of the field."""
    for item in codebook.extra_fields:
        if item.type != "multi" or item.id not in frame.columns:
            continue
        at = list(frame.columns).index(item.id)
        values = frame[item.id].fillna("").astype(str).map(
            lambda text: {v.strip() for v in text.split(";")})
        for offset, value in enumerate(item.values):
            frame.insert(at + 1 + offset, value_column(item.id, value),
                         ["1" if value in marked else "" for marked in values])
        frame = frame.drop(columns=item.id)
    return frame


def collapse_multi(filled: Filled, codebook: Codebook) -> Filled:
    """A filled sheet with each multi field's marked value columns joined back into the
    field (values in codebook order, joined by ``; ``); a mark that is not 1/x is a
    problem of its row."""
    rows = filled.rows.copy()
    problems = list(filled.problems)
    columns = list(filled.columns)
    for item in codebook.extra_fields:
        names = [value_column(item.id, v) for v in item.values]
        if item.type != "multi" or not all(n in rows.columns for n in names):
            continue
        joined = []
        for record in rows.to_dict("records"):
            marked = []
            for value, name in zip(item.values, names):
                mark = _mark(str(record[name]))
                if mark is None:
                    problems.append(Problem(filled.source, record["row"], name, record[name],
                                            "not a mark", "1 (or x), or empty",
                                            f"write 1 if the study's {item.id} includes "
                                            f"{value!r}, else leave it empty"))
                elif mark:
                    marked.append(value)
            joined.append("; ".join(marked))
        at = columns.index(names[0])
        columns = [*columns[:at], item.id, *[c for c in columns[at:] if c not in names]]
        rows = rows.drop(columns=names).assign(**{item.id: joined})
    return Filled(filled.source, filled.kind, filled.coder, columns, rows, problems)


@dataclass
class Sheet:
    """A coding sheet before it becomes a workbook.

    ``frame`` holds the columns in sheet order (context, coder columns of a reconciliation
    sheet, the form, then any suggestion columns); ``editable`` names the form columns;
    ``disputed`` lists ``(row position, column)`` cells where coders differ.
    """

    kind: str
    coder: str
    frame: pd.DataFrame
    codebook: Codebook
    editable: list[str]
    choices: dict[str, list[str]]
    disputed: list[tuple[int, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    coders: list[str] = field(default_factory=list)  # columns of each coder's decisions

    @property
    def numbers(self) -> dict[str, tuple[float | None, float | None]]:
        """The number fields' columns and their (min, max), for the sheet's validation."""
        return {f.id: (f.minimum, f.maximum) for f in self.codebook.extra_fields
                if f.type == "number"}


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


def decisions_columns(codebook: Codebook) -> list[str]:
    """The columns of ``decisions.csv``: the corpus's, then the codebook's further fields."""
    return [*DECISIONS_COLUMNS, *(f.id for f in codebook.extra_fields)]


def empty_decisions() -> pd.DataFrame:
    return empty_table(DECISIONS_COLUMNS)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype="str")
    return frame[column].fillna("").astype("str")


def _domains_of(codes: pd.DataFrame) -> dict[tuple[str, str], frozenset[str]]:
    """(study, coder) -> the set of domains coded (``{"none"}`` for no domain)."""
    result: dict[tuple[str, str], set[str]] = {}
    for sid, coder, domain in zip(codes["study_id"], codes["coder"], codes["domain"]):
        result.setdefault((sid, coder), set()).add(domain)
    return {key: frozenset(value) for key, value in result.items()}


def _decided(codes: pd.DataFrame, decisions: pd.DataFrame) -> dict[str, dict[str, dict]]:
    """study -> coder -> decision (the study fields and ``domains``) from ``decisions.csv``
    and ``codes.csv`` (codes win for the domains; a coder known from codes only included
    the study)."""
    result: dict[str, dict[str, dict]] = {}
    for row in decisions.to_dict("records"):
        if is_screening_only(row):  # included on title and abstract, not coded yet
            continue
        domains = frozenset(d for d in str(row["domains"]).split(";") if d)
        decision = {name: value for name, value in row.items()
                    if name not in ("study_id", "coder", "domains", NOTE, SEQUENCE)}
        result.setdefault(row["study_id"], {})[row["coder"]] = {**decision, "domains": domains}
    for (sid, coder), domains in _domains_of(codes).items():
        decision = result.setdefault(sid, {}).setdefault(
            coder, {"included": "yes", "weight": "", "exclusion_reason": ""})
        decision["domains"] = domains
    return result


def choices(codebook: Codebook, studies: pd.DataFrame) -> dict[str, list[str]]:
    """The drop-down values of each fixed-value column (exclusion reasons: the ones in use
    plus common ones; other reasons may still be typed)."""
    reasons = sorted(set(_text(studies, "exclusion_reason")) - {""}
                     | {"not-empirical", "out-of-scope-topic", "out-of-scope-country"})
    lists = {"included": ["yes", "no"], "exclusion_reason": reasons}
    lists.update({name: list(values) for name, values in (
        ("country", codebook.countries), ("design", codebook.designs),
        ("weight", codebook.weights)) if codebook.has(name)})
    lists.update({f.id: list(f.allowed) for f in codebook.extra_fields
                  if f.type in ("choice", "yes-no")})
    lists.update({value_column(f.id, v): ["1"] for f in codebook.extra_fields
                  if f.type == "multi" for v in f.values})
    lists.update({domain: ["1"] for domain in codebook.domain_ids})
    return lists


def _context(records: pd.DataFrame) -> pd.DataFrame:

    return pd.DataFrame({
        "study_id": records["study_id"].tolist(),
        "title": [decode_latex(t) for t in _text(records, "title")],
        "year": _text(records, "year").tolist(),
        "authors": ["; ".join(decode_latex(n) for n in split_authors(a))
                    for a in _text(records, "authors")],
        "abstract": [decode_latex(a) for a in _text(records, "abstract")],
    })


def needs_decision(corpus, decisions: pd.DataFrame, coder: str) -> list[str]:
    """Studies still needing ``coder``'s decision: awaiting screening, included and not
    coded by ``coder``, or excluded by another coder's sheet and not reconciled yet."""

    decided = _decided(corpus.codes, decisions)
    ids = []
    for sid, status in zip(corpus.records["study_id"], corpus.records["status"]):
        by = decided.get(sid, {})
        if coder in by:
            continue
        if status in (AWAITING, "included"):
            ids.append(sid)
        elif status == "excluded" and RECONCILED not in by and by:
            ids.append(sid)
    return ids


def coder_sheet(corpus, decisions: pd.DataFrame, coder: str, ranking: pd.DataFrame, *,
                all_studies: bool = False, suggest: bool = False) -> Sheet:
    """The sheet of one coder, rows in ``ranking`` order (a frame of ``study_id`` and
    ``uncertainty``, most uncertain first; with ``suggest``, also ``suggested_domains`` and
    ``p_<domain>`` columns).

    Study fields known from ``studies.csv`` are filled in, except the inclusion decision,
    reason and weight of a study whose only decision so far is another coder's (so double
    screening stays independent).
    """
    codebook = corpus.codebook
    records = corpus.records[corpus.records["status"] != "error"]
    wanted = list(records["study_id"]) if all_studies else \
        needs_decision(corpus, decisions, coder)
    order = {sid: i for i, sid in enumerate(ranking["study_id"])}
    wanted = sorted(wanted, key=lambda s: (order.get(s, len(order)), s))
    rows = records.set_index("study_id").loc[wanted].reset_index()
    frame = _context(rows)
    decided = _decided(corpus.codes, decisions)
    blind = [bool(set(decided.get(s, {})) - {coder, RECONCILED})
             and RECONCILED not in decided.get(s, {}) for s in wanted]
    included = _text(rows, "status").map({"included": "yes", "excluded": "no"}).fillna("")
    for name in fields_of(codebook):
        column = included.tolist() if name == "included" else _text(rows, name).tolist()
        if name in DECISION_FIELDS:
            column = ["" if hide else value for hide, value in zip(blind, column)]
        frame[name] = column
    frame = expand_multi(frame, codebook)
    own = _domains_of(corpus.codes)
    for domain in codebook.domain_ids:
        frame[domain] = ["1" if domain in own.get((s, coder), ()) else "" for s in wanted]
    frame[NOTE] = ""
    if suggest:
        scores = ranking.set_index("study_id").reindex(wanted)
        frame[SUGGESTED] = scores[SUGGESTED].fillna("").tolist()
        frame[CHECK] = scores[CHECK].fillna("").tolist()
        for domain in codebook.domain_ids:
            frame[f"p_{domain}"] = scores[f"p_{domain}"].round(3).tolist()
    editable = [*sheet_columns(codebook), *codebook.domain_ids, NOTE]
    return Sheet("coder", coder, frame, codebook, editable, choices(codebook, corpus.records))


def _describe(decision: dict) -> str:
    if decision.get("included") == "no":
        return f"excluded ({decision.get('exclusion_reason') or 'no reason given'})"
    domains = sorted(decision.get("domains", ()))
    parts = ["included" if decision.get("included") == "yes" else "not screened"]
    if decision.get("weight"):
        parts.append(f"weight {decision['weight']}")
    text = ", ".join(parts)
    return text + (": " + ", ".join(domains) if domains else "")


def reconciliation(decided: dict[str, dict[str, dict]], known: set[str]
                   ) -> tuple[list[str], list[str], list[str]]:
    """Studies (of ``known``) decided by two or more coders and not reconciled yet: (those
    where the coders differ in inclusion, weight, the codebook's own fields or domains; those where they agree; studies
    with one coder only). ``decided`` is :func:`_decided`'s map."""
    differ, agree, single = [], [], []
    for sid in sorted(decided):
        by = {c: d for c, d in decided[sid].items() if c != RECONCILED}
        if RECONCILED in decided[sid] or sid not in known or not by:
            continue
        if len(by) < 2:
            single.append(sid)
            continue
        first, *rest = by.values()
        compared = ["weight", *(k for k in first if k not in FIELDS and k != "domains")]
        same = all(d["included"] == first["included"]
                   and d.get("domains", frozenset()) == first.get("domains", frozenset())
                   and all(not d.get(k) or not first.get(k) or d[k] == first[k]
                           for k in compared)
                   for d in rest)
        (agree if same else differ).append(sid)
    return differ, agree, single


def reconcile_sheet(corpus, decisions: pd.DataFrame) -> Sheet:
    """The reconciliation sheet: one row per study where coders differ, each coder's
    decision in a column named after the coder, the form prefilled where they agree."""
    codebook = corpus.codebook
    decided = _decided(corpus.codes, decisions)
    differ, agree, single = reconciliation(decided, set(corpus.records["study_id"]))
    coders = sorted({c for s in differ for c in decided[s]} - {RECONCILED})
    rows = corpus.records.set_index("study_id").loc[differ].reset_index()
    frame = _context(rows)
    for coder in coders:
        frame[coder] = [_describe(decided[s][coder]) if coder in decided[s] else ""
                        for s in differ]
    disputed: list[tuple[int, str]] = []

    def shared(position: int, sid: str, name: str, current: str) -> str:
        """The coders' common value of a field; the value in studies.csv when no coder
        gave one; empty (and the cell marked) when they differ."""
        values = {d.get(name, "") for c, d in decided[sid].items() if c != RECONCILED}
        values.discard("")
        if len(values) > 1:
            disputed.append((position, name))
            return "" if name in DECISION_FIELDS else current
        return values.pop() if values else current

    for name in fields_of(codebook):
        current = _text(rows, name).tolist()
        frame[name] = [shared(i, s, name, current[i]) for i, s in enumerate(differ)]
    frame = expand_multi(frame, codebook)
    for item in codebook.extra_fields:  # a multi field: the values the coders differ on
        if item.type != "multi":
            continue
        for i, sid in enumerate(differ):
            sets = [{v.strip() for v in d.get(item.id, "").split(";") if v.strip()}
                    for c, d in decided[sid].items() if c != RECONCILED and d.get(item.id)]
            for value in item.values:
                if len({value in marked for marked in sets}) > 1:
                    disputed.append((i, value_column(item.id, value)))
        disputed[:] = [(i, n) for i, n in disputed if n != item.id]
    for domain in codebook.domain_ids:
        column = []
        for i, sid in enumerate(differ):
            marks = {domain in d.get("domains", ()) for c, d in decided[sid].items()
                     if c != RECONCILED and d["included"] == "yes"}
            if len(marks) > 1:
                disputed.append((i, domain))
            column.append("1" if marks == {True} else "")
        frame[domain] = column
    frame[NOTE] = ""
    return Sheet("reconcile", RECONCILED, frame, codebook,
                 [*sheet_columns(codebook), *codebook.domain_ids, NOTE],
                 choices(codebook, corpus.records), disputed,
                 counts={"differ": len(differ), "agree": len(agree), "single": len(single)},
                 coders=coders)


def _mark(value: str) -> bool | None:
    """True for a marked domain cell, False for empty, None for anything else."""
    value = value.strip().lower()
    if not value:
        return False
    return True if value in (*MARKS, "true") else None


def check_rows(filled: Filled, studies: pd.DataFrame, codebook: Codebook) -> list[Problem]:
    """Every problem of a filled sheet's rows, checked like the corpus: unknown study,
    repeated study, unknown values, excluded with domains, included without weight..."""
    problems = list(filled.problems)
    domains = codebook.domain_ids
    columns = filled.columns
    fields = fields_of(codebook)
    structure = [Problem(filled.source, 1, c, "", "column is missing",
                         "the columns of the sheet trustreview wrote",
                         "restore the column, or write a new sheet with trustreview sheet")
                 for c in ["study_id", *fields, *domains] if c not in columns]
    last = sheet_columns(codebook)[-1]  # the domains follow the study fields
    if last in columns and NOTE in columns:
        structure += [Problem(filled.source, 1, c, "", "this domain column is not in the "
                              "codebook", ", ".join(domains), "write a new sheet from the "
                              "current codebook, or restore the domain in codebook.yml")
                      for c in columns[columns.index(last) + 1:columns.index(NOTE)]
                      if c not in domains]
    if structure:
        return problems + structure
    known = set(studies["study_id"])
    lists = choices(codebook, studies)
    seen: dict[str, int] = {}
    for row in filled.rows.to_dict("records"):
        number, sid = row["row"], row["study_id"]

        def problem(column, found, allowed, fix, value=None):
            problems.append(Problem(filled.source, number, column,
                                    row.get(column, "") if value is None else value,
                                    found, allowed, fix))

        if not sid:
            if any(row[c] for c in [*fields, *domains, NOTE] if c in row):
                problem("study_id", "study_id is empty but the row has values", "a study_id "
                        "of studies.csv", "put the study_id back, or clear the row")
            continue
        if sid not in known:
            problem("study_id", "no study with this id in studies.csv", "a study_id of "
                    "studies.csv", "correct the id, or add the study to the corpus first")
            continue
        if sid in seen:
            problem("study_id", f"the study is also on row {seen[sid]}", "one row per study",
                    "delete one of the two rows")
            continue
        seen[sid] = number
        marks = {d: _mark(row[d]) for d in domains}
        for domain, mark in marks.items():
            if mark is None:
                problem(domain, "not a domain mark", "1 (or x), or empty",
                        "write 1 if the study examines this domain, else leave it empty")
        for name in codebook.coded("country", "design", "weight"):
            if row[name] and row[name] not in lists[name]:
                problem(name, f"unknown {name}", ", ".join(lists[name]),
                        "choose a value from the drop-down list")
        included = row["included"].lower()
        for item in codebook.extra_fields:
            found = field_problem(item, row.get(item.id, ""), included == "yes")
            if found:
                problem(item.id, *found)
        marked = [d for d, m in marks.items() if m]
        if not included:
            if marked:
                problem("included", "domains are marked but included is empty", "yes, no",
                        "write yes (or no and clear the domains)", "")
            continue
        if included not in ("yes", "no"):
            problem("included", "not yes or no", "yes, no",
                    "write yes or no, or leave it empty if not decided yet")
            continue
        if included == "no":
            if marked:
                problem(marked[0], f"the study is excluded but has domains marked "
                        f"({', '.join(marked)})", "no domains when excluded",
                        "clear the domains, or set included to yes")
            if not row["exclusion_reason"]:
                problem("exclusion_reason", "the study is excluded but has no reason",
                        "a short reason, e.g. " + ", ".join(lists["exclusion_reason"][:3]),
                        "write why it is excluded")
            if codebook.has("weight") and row["weight"]:
                problem("weight", "an excluded study has a weight", "empty when excluded",
                        "clear the weight, or set included to yes")
        else:
            for name in codebook.coded("weight", "country", "design"):
                if not row[name] and codebook.field(name).required:
                    problem(name, f"the study is included but has no {name}",
                            ", ".join(lists[name]), "rate the weight of evidence"
                            if name == "weight" else f"choose its {name}")
            if row["exclusion_reason"]:
                problem("exclusion_reason", "the study is included but has an exclusion "
                        "reason", "empty when included",
                        "clear the reason, or set included to no")
    return problems


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
def build_sheet(corpus, corpus_dir, coder: str | None, *, suggest: bool = False,
                all_studies: bool = False) -> tuple[Sheet, str]:
    """The sheet for ``coder`` (None: the reconciliation sheet) of a validated corpus read
    from ``corpus_dir``, and one line saying what it holds."""
    from trustreview.model.evaluation import rank_for_coding

    decisions = read_decisions(corpus_dir)
    if coder is None:
        sheet = reconcile_sheet(corpus, decisions)
        counts = sheet.counts
        return sheet, (f"{counts['differ']} stud{'y' if counts['differ'] == 1 else 'ies'} where "
                       f"the coders differ; {counts['agree']} where they agree (reconciled as "
                       f"they are when this sheet is merged); {counts['single']} with one "
                       "coder only")
    wanted = list(corpus.records.loc[corpus.records["status"] != "error", "study_id"])
    sheet = coder_sheet(corpus, decisions, coder, rank_for_coding(corpus, wanted),
                        all_studies=all_studies, suggest=suggest)
    n = len(sheet.frame)
    return sheet, f"{n} stud{'y' if n == 1 else 'ies'} for {coder}"


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
