"""Coding workbooks' sheets: which studies a coder's (or the reconciler's) sheet holds, with
what prefilled, and the columns of multi fields. Pure functions over DataFrames; the .xlsx
files are read and written at the edges (:mod:`trustreview.io.workbook`, the CLI).

``decisions.csv`` (beside ``studies.csv``) keeps every coder's decisions as merged from their
sheets, one row per study and coder, so that nothing a coder decided is lost when it differs
from what ``studies.csv`` already says; the reconciliation sheet shows them side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from trustreview.io.codebook import BUILT_IN, Codebook
from trustreview.base.text import decode_latex, split_authors
from trustreview.io.load import (empty_table, read_decisions)
from trustreview.io.workbook import Filled, Problem
from trustreview.schema import (AWAITING, CHECK_DOMAINS, CODER_FIELDS, DECISIONS_COLUMNS,
                                NOTE, RECONCILED, SEQUENCE, SUGGESTED_DOMAINS)
from trustreview.screening.decisions import is_screening_only

CONTEXT = ["study_id", "title", "year", "authors", "abstract"]
FIELDS = list(CODER_FIELDS)
DECISION_FIELDS = ["included", "exclusion_reason", "weight"]  # never shown from another coder
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


def decisions_columns(codebook: Codebook) -> list[str]:
    """The columns of ``decisions.csv`` (:attr:`Codebook.decision_columns`)."""
    return list(codebook.decision_columns)


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
        frame[SUGGESTED_DOMAINS] = scores[SUGGESTED_DOMAINS].fillna("").tolist()
        frame[CHECK_DOMAINS] = scores[CHECK_DOMAINS].fillna("").tolist()
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


def _mark(value: str) -> bool | None:
    """True for a marked domain cell, False for empty, None for anything else."""
    value = value.strip().lower()
    if not value:
        return False
    return True if value in (*MARKS, "true") else None
