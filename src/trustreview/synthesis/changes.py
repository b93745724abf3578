"""What changed since the previous run, as a living review reports it: the searches added,
studies added or gone, screening decisions and human codes changed, and the counts of the
screening flow and the synthesis tables that moved (``tables/changes.csv`` and the first
section of the reports). Pure: both runs come in as tables."""

from __future__ import annotations

import pandas as pd

from trustreview.base.frames import frame_rows

CHANGES_COLUMNS = ["what", "study_id", "before", "after"]
# the tables compared (as written to tables/<name>.csv): the state each run saw
COMPARED = ("searches", "records", "predictions", "screening_flow", "domain_by_country",
            "domain_by_design", "domain_by_weight")
FLOW_SHOWN = ("records identified", "duplicate records removed", "records screened",
              "included in the synthesis", "coded by humans")


def _decision(row) -> str:
    reason = row.get("exclusion_reason", "")
    return f"{row['status']} ({reason})" if reason else str(row["status"])


def _human_codes(predictions: pd.DataFrame) -> dict[str, str]:
    if predictions is None or predictions.empty:
        return {}
    human = predictions[(predictions["source"].astype(str) == "human") &
                        (predictions["tagged"].astype(str).isin(["1", "True", "true"]))]
    return {sid: "; ".join(sorted(group["domain"].astype(str)))
            for sid, group in human.groupby("study_id", sort=True)}


def _cells(name: str, table: pd.DataFrame | None) -> dict[str, str]:
    if table is None or table.empty:
        return {}
    first = table.columns[0]
    cells = {}
    for row in frame_rows(table.astype(str)):
        for column, value in row.items():
            if column != first:
                cells[f"{name}: {row[first]} / {column}"] = value
    return cells


def compare_runs(previous: dict[str, pd.DataFrame], current: dict[str, pd.DataFrame]
                 ) -> pd.DataFrame:
    """The changes from the tables of the previous run to this run's (the names of
    :data:`COMPARED`; a table missing from the previous run counts as empty)."""
    def get(run, name):
        table = run.get(name)
        return None if table is None else table.fillna("").astype(str)

    rows: list[tuple[str, str, str, str]] = []
    before_searches, after_searches = get(previous, "searches"), get(current, "searches")
    known = set(before_searches["file"]) if before_searches is not None else set()
    if after_searches is not None:
        for row in frame_rows(after_searches):
            if row["file"] not in known:
                rows.append(("search added", "", "", f"{row['file']} ({row['database']}, "
                             f"{row['added']}, {row['records']} records)"))
    earlier = get(previous, "records")
    before = {r["study_id"]: r for r in frame_rows(earlier)} if earlier is not None \
        else {}
    after = {r["study_id"]: r for r in frame_rows(get(current, "records"))}
    for sid in sorted(set(before) | set(after)):
        if sid not in before:
            rows.append(("study added", sid, "", _decision(after[sid])))
        elif sid not in after:
            rows.append(("study removed", sid, _decision(before[sid]), ""))
        elif _decision(before[sid]) != _decision(after[sid]):
            rows.append(("decision changed", sid, _decision(before[sid]),
                         _decision(after[sid])))
    codes_before = _human_codes(get(previous, "predictions"))
    codes_after = _human_codes(get(current, "predictions"))
    for sid in sorted(set(codes_before) | set(codes_after)):
        if codes_before.get(sid, "") != codes_after.get(sid, ""):
            rows.append(("codes changed", sid, codes_before.get(sid, ""),
                         codes_after.get(sid, "")))
    for name in COMPARED[3:]:
        if name == "screening_flow":
            cells_before = {f"{name}: {k}": v for k, v in _flow(get(previous, name)).items()}
            cells_after = {f"{name}: {k}": v for k, v in _flow(get(current, name)).items()}
        else:
            cells_before, cells_after = _cells(name, get(previous, name)), \
                _cells(name, get(current, name))
        for cell in sorted(set(cells_before) | set(cells_after)):
            old, new = cells_before.get(cell, "0"), cells_after.get(cell, "0")
            if old != new:
                rows.append((f"count changed: {cell}", "", old, new))
    return pd.DataFrame(rows, columns=CHANGES_COLUMNS)


def _flow(table: pd.DataFrame | None) -> dict[str, str]:
    if table is None or table.empty:
        return {}
    return dict(zip(table["count_of"], table["n"]))


def summary_lines(changes: pd.DataFrame, previous: dict[str, pd.DataFrame],
                  current: dict[str, pd.DataFrame]) -> list[str]:
    """The "What changed since the previous run" section, as sentences."""
    if changes.empty:
        return ["Nothing changed since the previous run: the same searches, decisions, codes "
                "and counts."]
    lines = []
    added = changes[changes["what"] == "search added"]["after"].tolist()
    if added:
        lines.append("Searches added: " + "; ".join(added) + ".")
    new = changes[changes["what"] == "study added"]
    if len(new):
        lines.append(f"New studies: {len(new)}.")
    included = changes[(changes["what"].isin(["study added", "decision changed"])) &
                       changes["after"].str.startswith("included")]
    if len(included):
        lines.append(f"Newly included: {len(included)} ({', '.join(included['study_id'])}).")
    decided = changes[changes["what"] == "decision changed"]
    if len(decided):
        lines.append(f"Screening decisions changed: {len(decided)}.")
    coded = changes[changes["what"] == "codes changed"]
    if len(coded):
        lines.append(f"Studies whose human codes changed: {len(coded)}.")
    before, after = _flow(previous.get("screening_flow")), _flow(current.get("screening_flow"))
    moved = [f"{name} {before.get(name, '0')} -> {after.get(name, '0')}" for name in FLOW_SHOWN
             if str(before.get(name, "0")) != str(after.get(name, "0"))]
    if moved:
        lines.append("Counts: " + "; ".join(moved) + ".")
    cells = changes["what"].str.startswith("count changed: domain_by_").sum()
    if cells:
        lines.append(f"Synthesis cells whose counts changed: {int(cells)} (tables/changes.csv "
                     "lists them).")
    return lines
