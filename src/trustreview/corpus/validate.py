"""Check a read corpus and account for every record.

Every row of the studies table ends up ``included``, ``excluded`` (with its reason) or
``error`` (with at least one :class:`Issue` naming file, line, study, field and fix). All
problems are collected, not just the first.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd
from rapidfuzz.fuzz import ratio

from trustreview.dedup.prepare import title_key
from trustreview.errors import ValidationError, did_you_mean
from trustreview.io.codebook import Codebook
from trustreview.base.frames import first_filled, frame_rows
from trustreview.io.load import RawCorpus, empty_table, read_corpus
from trustreview.base.text import doi_key
from trustreview.schema import (AWAITING, CODES_COLUMNS, DECISIONS_COLUMNS,
                                DUPLICATES_COLUMNS, FROM_BIB, LINE, MADE_BY_VALIDATION, MERGED,
                                NO_DOMAIN, QUOTES_COLUMNS,
                                RECORDS_COLUMNS, RECORDS_FILE, SEARCHES_COLUMNS, SEARCHES_FILE,
                                STUDIES_COLUMNS, VENUE_FIELDS, WEIGHTS)

STUDY_ID = re.compile(r"^[^\W_][\w:.\-+/]*$")  # any letters (Unicode), digits, _ : . - + /
YEAR_RANGE = (1900, 2100)
RECORD_COLUMNS = ["study_id", "status", "exclusion_reason", "country", "design", "weight",
                  "sample", "summary", *FROM_BIB, LINE]


@dataclass(frozen=True)
class Issue:
    """One problem found in the corpus."""

    severity: str  # "error" or "warning"
    file: str
    line: int | None
    study_id: str
    field: str
    found: str
    allowed: str
    fix: str

    def format(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        parts = [f"{self.severity}: {where}"]
        if self.study_id:
            parts.append(f"study {self.study_id!r}")
        if self.field:
            parts.append(f"field {self.field!r}")
        text = ", ".join(parts) + f": {self.found}"
        if self.allowed:
            text += f"; allowed: {self.allowed}"
        return text + f"; fix: {self.fix}"


@dataclass
class ValidatedCorpus:
    """The outcome of validation.

    ``records``: one row per studies-table row, ``status`` in included/excluded/error, with
    bibliographic fields merged from the bib. ``codes``: the valid code rows (study_id, coder,
    domain) of included studies. ``bib_only``: bib keys with no study row.
    """

    records: pd.DataFrame
    codes: pd.DataFrame
    codebook: Codebook | None
    issues: list[Issue]
    bib_only: list[str]
    bib_entries: int
    bib_strings: str = ""  # the bib file's @string blocks, as written
    bib_parents: dict[str, str] = field(default_factory=dict)  # crossref key -> raw entry
    # the searches the studies came from (empty for a corpus made without them)
    searches: pd.DataFrame = field(default_factory=lambda: empty_table(SEARCHES_COLUMNS))
    search_records: pd.DataFrame = field(default_factory=lambda: empty_table(RECORDS_COLUMNS))
    duplicates: pd.DataFrame = field(default_factory=lambda: empty_table(DUPLICATES_COLUMNS))
    quotes: pd.DataFrame = field(default_factory=lambda: empty_table(QUOTES_COLUMNS))
    # every coder's decisions (decisions.csv); screening's carry their `sequence`
    decisions: pd.DataFrame = field(default_factory=lambda: empty_table(DECISIONS_COLUMNS))

    @property
    def errors(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.severity == "warning"]

    @property
    def included(self) -> pd.DataFrame:
        return self.records[self.records["status"] == "included"].reset_index(drop=True)


def _allowed(values) -> str:
    return ", ".join(values)


def _column_issues(frame: pd.DataFrame, path: str, required: tuple[str, ...],
                   exact: bool) -> list[Issue]:
    issues = []
    present = [c for c in frame.columns if c != "line"]
    lowered = {c.lower().replace(" ", "_"): c for c in present}
    for name in required:
        if name not in present:
            near = lowered.get(name)
            fix = (f"rename column {near!r} to {name!r}" if near
                   else f"add a column {name!r} to the header row")
            issues.append(Issue("error", path, 1, "", name, f"required column {name!r} is "
                                "missing", _allowed(required), fix))
    if exact:
        for name in present:
            if name not in required:
                issues.append(Issue("warning", path, 1, "", name, f"unexpected column "
                                    f"{name!r} is ignored", _allowed(required),
                                    "delete the column or rename it"))
    return issues


def find_near_duplicate_titles(titles: pd.Series, threshold: float = 0.92) -> list[tuple[str, str]]:
    """Pairs of keys (index labels) whose titles are the same or nearly so.

    Blocking keeps this near-linear: titles are compared only within blocks that share their
    normalised first 30 characters or their sorted set of longer words, and blocks larger than
    50 are skipped (too generic to mean a duplicate).
    """
    blocks: dict[str, list] = defaultdict(list)
    normalised = {}
    for key, title in titles.items():
        text = title_key(str(title))
        if len(text) < 8:
            continue
        normalised[key] = text
        blocks["p:" + text[:30]].append(key)
        words = sorted({w for w in text.split() if len(w) > 3})
        if len(words) >= 2:
            blocks["w:" + " ".join(words)].append(key)
    pairs: set[tuple[str, str]] = set()
    for members in blocks.values():
        if len(members) < 2 or len(members) > 50:
            continue
        for i, first in enumerate(members):
            for second in members[i + 1:]:
                a, b = normalised[first], normalised[second]
                if a == b or ratio(a, b) >= threshold * 100:
                    pairs.add(tuple(sorted((str(first), str(second)))))
    return sorted(pairs)


def _bib_fix(message: str) -> str:
    """The fix for a problem the reference reader reported."""
    if message.startswith("duplicate key") or "is also the ID" in message:
        return "give each entry its own key"
    if "repeats the field" in message:
        return "delete the repeated lines you do not want (the first one is used)"
    if "empty name" in message:
        return "remove the extra 'and' from the name list"
    if "no end line" in message:
        return "add the line 'ER  - ' after the record, or export the file again"
    if "outside any RIS record" in message or "no title" in message:
        return "check the record in your reference manager and export it again"
    return "correct the entry (or export it again from your reference manager)"


def _bib_issues(raw: RawCorpus) -> list[Issue]:
    bib = raw.bib
    issues = [Issue("error", bib.path, line, "", "", message, "", _bib_fix(message))
              for line, message in bib.failed]
    issues += [Issue("warning", bib.path, line, "", "", message, "", _bib_fix(message))
               for line, message in bib.warnings]
    entries = bib.entries
    for key, line, year, title in zip(entries["key"].tolist(), entries["line"].tolist(),
                                      entries["year"].tolist(), entries["title"].tolist()):
        year = year.strip()
        if not year:
            issues.append(Issue("warning", bib.path, line, key, "year", "no year; "
                                "citations will show 'n.d.'", "", "add the year if known"))
        elif not (year.isdigit() and YEAR_RANGE[0] <= int(year) <= YEAR_RANGE[1]):
            issues.append(Issue("error", bib.path, line, key, "year", f"year is "
                                f"{year!r}", f"a four-digit year from {YEAR_RANGE[0]} to "
                                f"{YEAR_RANGE[1]}", "correct the year"))
        if not title.strip():
            issues.append(Issue("warning", bib.path, line, key, "title", "no title",
                                "", "add the title"))
    # pairs duplicates.csv already holds were decided (merged, distinct) or are listed to
    # decide (check): they are not warned about again
    known = set()
    if raw.duplicates is not None:
        known = {frozenset(pair) for pair in zip(raw.duplicates["study_id"],
                                                 raw.duplicates["record"])}
    fix = ("check whether these are the same study; if so, keep one (or list the pair in "
           "duplicates.csv: trustreview sheet --duplicates)")
    dois = entries.assign(norm=entries["doi"].map(doi_key))
    dois = dois[dois["norm"] != ""]
    for norm, group in dois.groupby("norm", sort=True):
        if len(group) > 1:
            group_keys = group["key"].tolist()
            if all(frozenset((a, b)) in known for i, a in enumerate(group_keys)
                   for b in group_keys[i + 1:]):
                continue
            keys = ", ".join(group_keys)
            for row in group.itertuples(index=False):
                issues.append(Issue("warning", bib.path, row.line, row.key, "doi",
                                    f"DOI {norm} is shared by {keys}", "", fix))
    lines = dict(zip(entries["key"].tolist(), entries["line"].tolist()))
    titles = entries.drop_duplicates("key").set_index("key")["title"]
    for first, second in find_near_duplicate_titles(titles):
        if frozenset((first, second)) in known:
            continue
        issues.append(Issue("warning", bib.path, lines[second], second, "title",
                            f"title is the same as or close to that of {first!r} "
                            f"(line {lines[first]})", "", fix))
    return issues


def _study_issues(row, path: str, codebook: Codebook | None) -> list[Issue]:
    issues = []
    sid = row["study_id"]

    def error(field, found, allowed, fix, severity="error"):
        issues.append(Issue(severity, path, row["line"], sid, field, found, allowed, fix))

    included = row["included"].strip().lower()
    # a study not screened yet, or excluded at screening, may not have a known country or
    # design; whatever is filled in must still be allowed
    optional = included in ("", "no")
    if codebook is not None:
        for name, allowed, hint in (("country", codebook.countries,
                                     " (multi for several countries)"),
                                    ("design", codebook.designs, "")):
            if not codebook.has(name):  # a codebook that does not code it
                continue
            value = row[name]
            needed = codebook.field(name).required  # a codebook may make it optional
            if value in allowed or ((optional or not needed) and not value):
                continue
            error(name, f"{name} is {value!r}", _allowed(allowed),
                  f"use one of the allowed values{hint}{did_you_mean(value, allowed)}"
                  + ("; or leave it empty while the study is not included" if optional else ""))
    if not included:
        return issues
    if included not in ("yes", "no"):
        error("included", f"included is {row['included']!r}", "yes, no (empty: awaiting "
              "screening)", "write yes or no, or leave it empty until the study is screened")
        return issues
    weights = codebook.weights if codebook is not None else WEIGHTS
    rated = codebook is None or codebook.has("weight")
    if included == "no":
        if not row["exclusion_reason"]:
            error("exclusion_reason", "the study is excluded (included=no) but has no "
                  "exclusion_reason", "a short reason, e.g. not-empirical, "
                  "out-of-scope-topic, out-of-scope-country", "write the reason")
        if row["weight"] and rated:
            error("weight", f"an excluded study has weight {row['weight']!r}", "empty when "
                  "excluded", "delete the weight", "warning")
    else:
        if row["exclusion_reason"]:
            error("exclusion_reason", f"an included study has exclusion_reason "
                  f"{row['exclusion_reason']!r}", "empty when included",
                  "delete the reason, or set included to no", "warning")
        weight_needed = codebook is None or rated and codebook.field("weight").required
        if rated and row["weight"] not in weights and (row["weight"] or weight_needed):
            found = f"weight is {row['weight']!r}" if row["weight"] else "weight is empty"
            error("weight", found, _allowed(weights), "rate the weight of evidence"
                  + did_you_mean(row["weight"], weights))
        if not row["summary"]:
            error("summary", "summary is empty; the tagger will see only the title", "",
                  "write a summary", "warning")
    if codebook is not None:
        for item in codebook.extra_fields:
            problem = field_problem(item, row.get(item.id, ""), included == "yes")
            if problem:
                error(item.id, *problem)
    return issues


def field_problem(item, value: str, included: bool) -> tuple[str, str, str] | None:
    """What is wrong with ``value`` for the codebook field ``item`` as (found, allowed,
    fix), or None. A value is needed only when the study is included and the field is
    required; whatever is filled in must fit the field's type."""
    value = value.strip()
    if not value:
        if included and item.required:
            return (f"{item.id} is empty", _allowed(item.allowed) if item.allowed else
                    item.type, f"fill in {item.label.lower()} ({item.type})")
        return None
    if item.type in ("choice", "yes-no"):
        if value not in item.allowed:
            return (f"{item.id} is {value!r}", _allowed(item.allowed),
                    "use one of the allowed values" + did_you_mean(value, item.allowed))
    elif item.type == "multi":
        for part in (p.strip() for p in value.split(";")):
            if part not in item.allowed:
                return (f"{item.id} has {part!r}", _allowed(item.allowed) +
                        " (several joined by '; ')",
                        "use the allowed values" + did_you_mean(part, item.allowed))
    elif item.type == "number":
        try:
            number = float(value)
        except ValueError:
            return (f"{item.id} is {value!r}, not a number", "a number",
                    "write the number alone (a decimal point, no units)")
        if (item.minimum is not None and number < item.minimum) or \
                (item.maximum is not None and number > item.maximum):
            low = "" if item.minimum is None else f"{item.minimum:g}"
            high = "" if item.maximum is None else f"{item.maximum:g}"
            return (f"{item.id} is {value}, out of range", f"{low} to {high}".strip(),
                    "check the value")
    return None


TEXT_FIX = ("format the column as Text before typing (select the column, Format Cells, "
            "Text), then type the value again")


def _artefact_issues(table) -> list[Issue]:
    """Warnings for cells Excel stored as dates or as numbers where text is expected."""
    return [Issue("warning", table.path, row, "", column, message, "text", TEXT_FIX)
            for row, column, message in getattr(table, "warnings", [])]


def _studies_rows(raw: RawCorpus, issues: list[Issue]) -> pd.DataFrame:
    table = raw.studies
    frame = table.frame
    extra = raw.codebook.extra_fields if raw.codebook is not None else ()
    required = STUDIES_COLUMNS if raw.codebook is None else tuple(
        c for c in raw.codebook.study_columns if c not in {f.id for f in extra})
    column_issues = _column_issues(frame, table.path, required, exact=False)
    made = [name for name in frame.columns if name in MADE_BY_VALIDATION]
    for name in made:
        whose = ("each study's status is trustreview's (from included)" if name == "status"
                 else f"each study's {name} comes from its entry in the reference file")
        column_issues.append(Issue(
            "warning", table.path, 1, "", name, f"column {name!r} of the studies table is not "
            f"read: {whose}", "", "rename the column (and list the new name in the codebook's "
            "fields: or kept_columns: to keep it) or delete it"))
    frame = frame.drop(columns=made)
    if raw.codebook is not None and raw.codebook.extraction:  # a codebook that lists fields
        known = {*raw.codebook.study_columns, *raw.codebook.kept_columns, LINE}
        for name in frame.columns:
            if name and name not in known:
                column_issues.append(Issue(
                    "error", table.path, 1, "", name, f"column {name!r} of the studies table "
                    "is not a field of the codebook", ", ".join(f.id for f in
                                                                raw.codebook.fields),
                    f"add {name!r} to the codebook's fields (or to its kept_columns: list, "
                    "to keep it as it is), or delete the column" +
                    did_you_mean(name, [f.id for f in raw.codebook.fields])))
    for item in extra:
        if item.id not in frame.columns:
            column_issues.append(Issue(
                "error", table.path, 1, "", item.id, f"the codebook's field {item.id!r} has no "
                "column in the studies table", "", f"add a column {item.id!r} (values of the "
                "field for each included study), or remove the field from codebook.yml"))
    issues.extend(column_issues)
    issues.extend(_artefact_issues(table))
    for name in (*STUDIES_COLUMNS, *(f.id for f in extra)):
        if name not in frame.columns:
            frame = frame.assign(**{name: ""})
    missing_columns = any(i.severity == "error" for i in column_issues)
    status = []
    seen: dict[str, int] = {}
    for row in frame_rows(frame):
        sid = row["study_id"]
        row_issues = []
        if not sid:
            row_issues.append(Issue("error", table.path, row["line"], "", "study_id",
                                    "study_id is empty", "the study's BibTeX key",
                                    "fill in the key of the study's references.bib entry"))
        elif not STUDY_ID.match(sid):
            row_issues.append(Issue("error", table.path, row["line"], sid, "study_id",
                                    f"study_id {sid!r} is not a valid BibTeX key",
                                    "letters (any alphabet), digits and _ : . - + /, "
                                    "no spaces",
                                    "use the study's BibTeX key"))
        elif sid in seen:
            row_issues.append(Issue("error", table.path, row["line"], sid, "study_id",
                                    f"study_id {sid!r} already appears on line {seen[sid]}",
                                    "one row per study", "merge or delete the duplicate row"))
        else:
            seen[sid] = row["line"]
        row_issues.extend(_study_issues(row, table.path, raw.codebook))
        issues.extend(row_issues)
        bad = missing_columns or any(i.severity == "error" for i in row_issues)
        decision = row["included"].strip().lower()
        status.append("error" if bad else AWAITING if not decision else
                      "included" if decision == "yes" else "excluded")
    return frame.assign(status=pd.array(status, dtype="str"))


def _code_rows(raw: RawCorpus, studies: pd.DataFrame, issues: list[Issue]) -> pd.DataFrame:
    empty = empty_table(CODES_COLUMNS)
    if raw.codes is None:
        return empty
    table = raw.codes
    frame = table.frame
    column_issues = _column_issues(frame, table.path, CODES_COLUMNS, exact=True)
    issues.extend(column_issues)
    issues.extend(_artefact_issues(table))
    if any(i.severity == "error" for i in column_issues):
        return empty
    status = dict(zip(studies["study_id"].tolist(), studies["status"].tolist()))
    allowed = (raw.codebook.domain_ids if raw.codebook is not None else []) + [NO_DOMAIN]
    keep = []
    seen: set[tuple[str, str, str]] = set()
    for row in frame_rows(frame):
        sid, coder, domain = row["study_id"], row["coder"], row["domain"]

        def report(field, found, allowed_text, fix, severity="error"):
            issues.append(Issue(severity, table.path, row["line"], sid, field, found,
                                allowed_text, fix))

        if not sid:
            report("study_id", "study_id is empty", "a study_id of studies.csv",
                   "fill in the study's key")
            continue
        if sid not in status:
            report("study_id", f"codes for {sid!r}, which is not in the studies table",
                   "a study_id of studies.csv", "add the study or correct the key")
            continue
        if status[sid] in ("excluded", AWAITING):
            what = "excluded" if status[sid] == "excluded" else "not screened yet (included empty)"
            report("domain", f"the study is {what} but has a domain code {domain!r}",
                   "codes only for included studies",
                   "delete its codes, or set included to yes")
            continue
        if not coder:
            report("coder", "coder is empty", "A, B, reconciled or your coder's name",
                   "fill in who coded it")
            continue
        if raw.codebook is not None and domain not in allowed:
            report("domain", f"domain is {domain!r}", _allowed(allowed),
                   "use a codebook id (or none)" + did_you_mean(domain, allowed))
            continue
        if (sid, coder, domain) in seen:
            report("domain", f"coder {coder!r} codes {domain!r} twice", "",
                   "delete the repeated row", "warning")
            continue
        seen.add((sid, coder, domain))
        if status[sid] == "included":
            keep.append({"study_id": sid, "coder": coder, "domain": domain})
    codes = pd.DataFrame(keep, columns=list(CODES_COLUMNS)).astype("str")
    mixed = codes.groupby(["study_id", "coder"])["domain"].agg(
        lambda d: NO_DOMAIN in set(d) and len(set(d)) > 1) if len(codes) else pd.Series()
    for (sid, coder), bad in mixed.items():
        if bad:
            issues.append(Issue("warning", table.path, None, sid, "domain", f"coder {coder!r} "
                                f"codes both {NO_DOMAIN!r} and domains", "", f"drop the "
                                f"{NO_DOMAIN!r} row or the domain rows"))
    return codes.sort_values(["study_id", "coder", "domain"], kind="stable",
                             ignore_index=True)


def _merge_bib(studies: pd.DataFrame, raw: RawCorpus, issues: list[Issue]) -> tuple[pd.DataFrame, list[str]]:
    entries = raw.bib.entries.drop_duplicates("key") if raw.bib is not None else None
    if entries is None:
        entries = pd.DataFrame(columns=["key"]).astype("str")
    bib_keys = set(entries["key"].tolist())
    study_keys = set(studies["study_id"].tolist())
    statuses = list(studies["status"].tolist())
    for i, (study_id, line) in enumerate(zip(studies["study_id"].tolist(),
                                             studies["line"].tolist())):
        if study_id and study_id not in bib_keys and raw.bib is not None:
            close = sorted(k for k in bib_keys if k.lower() == study_id.lower())
            zeros = sorted(k for k in bib_keys if k.isdigit() and study_id.isdigit()
                           and k.lstrip("0") == study_id.lstrip("0"))
            fix = (f"the bib has {close[0]!r}: make the two keys identical" if close
                   else f"the bib has {zeros[0]!r}: Excel dropped the leading zeros; "
                   f"{TEXT_FIX}" if zeros
                   else "add its entry to the bib file, keyed by the study_id")
            issues.append(Issue("error", raw.studies.path, line, study_id,
                                "study_id", "no entry with this key in "
                                f"{raw.bib.path}", "", fix))
            statuses[i] = "error"
    bib_only = sorted(bib_keys - study_keys)
    bib_lines = dict(zip(entries["key"].tolist(), entries["line"].tolist())) if bib_only else {}
    parents = set(entries["crossref"].tolist()) if "crossref" in entries.columns else set()
    for key in bib_only:
        if key in parents:
            continue  # a crossref parent (a proceedings volume or book), not a study
        line = int(bib_lines[key])
        issues.append(Issue("warning", raw.bib.path, line, key, "key", "bib entry with no "
                            "row in the studies table", "", "add the study to studies.csv "
                            "(or remove the entry)"))
    bib = entries.rename(columns={"key": "study_id", "author": "authors", "line": "bib_line",
                                  "raw": "bib_raw"})
    for name in FROM_BIB:
        if name not in bib.columns:
            bib[name] = ""
    bib = bib.assign(venue=pd.Series(first_filled(bib, VENUE_FIELDS), index=bib.index,
                                     dtype="str"))
    keep = ["study_id", *FROM_BIB]
    merged = studies.assign(status=statuses).merge(bib[keep], on="study_id", how="left")
    for name in keep[1:]:
        merged[name] = merged[name].fillna("").astype("str")
    return merged, bib_only


def _file_issue(path: str, message: str) -> Issue:
    match = re.match(r"^(?P<file>.*?)(?::(?P<line>\d+))?: (?P<found>.*?)(?:; (?P<fix>[^;]*))?$",
                     message, re.S)
    line = int(match["line"]) if match and match["line"] else None
    found = match["found"] if match else message
    fix = match["fix"] if match and match["fix"] else "see the message"
    return Issue("error", path, line, "", "file", found, "", fix)


def validate_corpus(raw: RawCorpus) -> ValidatedCorpus:
    """Check every file and row; return records with a status and every issue found."""
    issues: list[Issue] = [_file_issue(path, message) for path, message in raw.file_errors]
    if raw.studies is None:
        empty = pd.DataFrame(columns=RECORD_COLUMNS)
        return ValidatedCorpus(empty, pd.DataFrame(columns=list(CODES_COLUMNS)), raw.codebook,
                               issues, [], 0 if raw.bib is None else len(raw.bib.entries))
    studies = _studies_rows(raw, issues)
    if raw.bib is not None:
        issues.extend(_bib_issues(raw))
    merged, bib_only = _merge_bib(studies, raw, issues)
    codes = _code_rows(raw, merged, issues)
    if raw.codebook is None or raw.bib is None:
        merged = merged.assign(status="error")
    merged = merged.assign(exclusion_reason=merged["exclusion_reason"].where(
        merged["status"] == "excluded", ""))
    extra = [f.id for f in raw.codebook.extra_fields] if raw.codebook is not None else []
    records = merged[RECORD_COLUMNS + [c for c in extra if c in merged.columns]].sort_values(
        "study_id", kind="stable", ignore_index=True)
    awaiting = int((records["status"] == AWAITING).sum())
    if awaiting:
        issues.append(Issue("warning", raw.studies.path, None, "", "included",
                            f"{awaiting} stud{'y awaits' if awaiting == 1 else 'ies await'} "
                            "screening (included is empty)", "yes, no",
                            "screen them in relevance order (trustreview sheet --screen "
                            "--coder NAME --out FILE.xlsx, or the screening notebook), or in a "
                            "coding workbook (trustreview sheet --coder NAME --out FILE.xlsx), "
                            "then trustreview merge FILE.xlsx, or write yes or no in included; "
                            "until then they are neither included nor excluded (a record "
                            "included on its title and abstract stays so until it is coded)"))
    ledger = _ledger(raw)
    issues += _ledger_issues(raw, ledger, set(records["study_id"]))
    issues.sort(key=lambda i: (i.severity != "error", i.file, i.line or 0, i.study_id, i.field))
    parents: dict[str, str] = {}
    if raw.bib is not None:
        wanted = set(records["crossref"].tolist()) - {""}
        entries = raw.bib.entries
        parents = {k: r for k, r in zip(entries["key"].tolist(), entries["raw"].tolist()) if k in wanted}
    return ValidatedCorpus(records, codes, raw.codebook, issues, bib_only,
                           0 if raw.bib is None else len(raw.bib.entries),
                           "" if raw.bib is None else raw.bib.strings, parents, *ledger,
                           raw.quotes if raw.quotes is not None else empty_table(QUOTES_COLUMNS),
                           raw.decisions if raw.decisions is not None else
                           empty_table(DECISIONS_COLUMNS))


def _ledger(raw: RawCorpus) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(searches, records, duplicates) as read, empty where the review has none."""
    return tuple(frame if frame is not None else empty_table(columns) for frame, columns in (
        (raw.searches, SEARCHES_COLUMNS), (raw.search_records, RECORDS_COLUMNS),
        (raw.duplicates, DUPLICATES_COLUMNS)))


def _ledger_issues(raw: RawCorpus, ledger, studies: set[str]) -> list[Issue]:
    """Every record of every search is a study or a merged duplicate of one: a record that
    is neither was dropped (a row deleted from studies.csv), which is an error."""
    searches, records, duplicates = ledger
    issues = []
    corpus_dir = os.path.dirname(raw.studies.path) if raw.studies is not None else ""
    records_file = os.path.join(corpus_dir, RECORDS_FILE)
    merged = dict(zip(duplicates.loc[duplicates["status"] == MERGED, "record"],
                      duplicates.loc[duplicates["status"] == MERGED, "study_id"]))
    for position, (record, source) in enumerate(zip(records["record"], records["source"]),
                                                start=2):
        if record in studies:
            continue
        if record in merged:
            if merged[record] not in studies:
                issues.append(Issue("error", records_file, position, record, "record",
                                    f"the record is a duplicate of {merged[record]!r}, which "
                                    "is not in the studies table", "",
                                    f"restore the row of {merged[record]} in studies.csv"))
            continue
        issues.append(Issue("error", records_file, position, record, "record",
                            f"the record of the search {source} is neither a study nor a "
                            "merged duplicate", "", "restore its row in studies.csv (exclude "
                            "it with a reason rather than delete it)"))
    counted = dict(zip(searches["file"], searches["records"]))
    found = records["source"].value_counts()
    for name, n in counted.items():
        if str(int(found.get(name, 0))) != str(n).strip():
            issues.append(Issue("error", os.path.join(corpus_dir, SEARCHES_FILE), None, "",
                                "records", f"the search {name} lists {n} records, "
                                f"records.csv has {int(found.get(name, 0))}", "",
                                "restore searches.csv and records.csv from a backup; they "
                                "are written by trustreview new and add"))
    return issues


def issues_frame(issues: list[Issue]) -> pd.DataFrame:
    """The issues as a table (one row each), for display and export."""
    columns = ["severity", "file", "line", "study_id", "field", "found", "allowed", "fix"]
    rows = [[i.severity, i.file, i.line or "", i.study_id, i.field, i.found, i.allowed, i.fix]
            for i in issues]
    return pd.DataFrame(rows, columns=columns).astype("str")


def open_corpus(corpus_dir: str | os.PathLike, bib_path: str | os.PathLike) -> ValidatedCorpus:
    """Read and validate a corpus; never raises for problems in the data (see ``.issues``)."""
    return validate_corpus(read_corpus(corpus_dir, bib_path))


def require_valid(corpus: ValidatedCorpus) -> ValidatedCorpus:
    """Return ``corpus`` if it has no errors, else raise :class:`ValidationError`."""
    if corpus.errors:
        raise ValidationError(corpus.issues)
    return corpus


def screening_summary(corpus: ValidatedCorpus) -> str:
    """One line per count of the screening flow, for the terminal."""
    records = corpus.records
    status = records["status"]
    lines = [f"bib entries: {corpus.bib_entries}",
             f"studies table rows: {len(records)}",
             f"  awaiting screening: {int((status == AWAITING).sum())}",
             f"  included: {int((status == 'included').sum())}",
             f"  excluded: {int((status == 'excluded').sum())}"]
    reasons = records.loc[status == "excluded", "exclusion_reason"].value_counts()
    lines += [f"    {reason}: {count}" for reason, count in sorted(reasons.items())]
    lines.append(f"  errors: {int((status == 'error').sum())}")
    return "\n".join(lines)
