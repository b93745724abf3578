"""A filled coding sheet checked row by row like the corpus itself, before anything is
merged: every problem named with the sheet, row, column and fix."""

from __future__ import annotations

import pandas as pd

from trustreview.io.codebook import Codebook
from trustreview.io.workbook import Filled, Problem
from trustreview.schema import NOTE
from trustreview.corpus.validate import field_problem
from trustreview.coding.sheets import _mark, choices, fields_of, sheet_columns


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
