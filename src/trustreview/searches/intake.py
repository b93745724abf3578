"""Searches into a review: ``trustreview new --from`` and ``add --from`` read each export as
one search, key its records uniquely within the review, find the duplicates
(:mod:`trustreview.dedup`) and say what to write, so that every record of every file
is exactly one study or one ``merged`` row of ``duplicates.csv``.

The review's ledger of searches is three files in its corpus folder: ``searches.csv``
(``file, database, added, records, sha256``: one row per search, the file copied unchanged
into ``searches/``), ``records.csv`` (``record, source, file_line``: every record read, by the key
it has in the review) and ``duplicates.csv`` (``study_id, record, source, status, reason,
score``: one row per pair of records found alike). Planning is pure; the callers write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from trustreview import dedup
from trustreview.errors import InputError, ParameterError
from trustreview.io.files import display_path
from trustreview.io.files import sha256_file
from trustreview.io.searches import read_search
from trustreview.schema import (DUPLICATES_COLUMNS, RECORDS_COLUMNS, SEARCHES_COLUMNS)
from trustreview.base.text import letter_suffix

# fields a kept record takes from its merged duplicates when it has none of its own
FILLED = ("doi", "abstract", "pages", "volume", "number", "journal", "booktitle", "url",
          "keywords", "publisher", "institution")
KEY_IN_RAW = re.compile(r"^(\s*@\s*[A-Za-z]+\s*[{(]\s*)([^,\s]*)")


@dataclass
class Plan:
    """What adding searches to a review writes (all appended to what is there)."""

    searches: pd.DataFrame  # rows of searches.csv
    records: pd.DataFrame  # rows of records.csv
    studies: pd.DataFrame  # new studies: study_id, summary
    entries: list[str]  # their BibTeX entries, in order
    duplicates: pd.DataFrame  # rows of duplicates.csv
    copies: dict[str, Path]  # name in searches/ -> the file to copy there
    filled: dict[str, str] = field(default_factory=dict)  # existing study -> its filled entry
    strings: list[str] = field(default_factory=list)  # @string blocks the entries use
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files already added

    def summary(self) -> str:
        counts = self.duplicates["status"].value_counts()
        n = int(self.searches["records"].astype(int).sum()) if len(self.searches) else 0
        return (f"{len(self.searches)} search{'es' if len(self.searches) != 1 else ''}, "
                f"{n} record{'s' if n != 1 else ''}: {len(self.studies)} new "
                f"stud{'y' if len(self.studies) == 1 else 'ies'}, "
                f"{int(counts.get(dedup.MERGED, 0))} duplicates merged, "
                f"{int(counts.get(dedup.CHECK, 0))} pairs to check "
                "(trustreview sheet --duplicates)")


def set_key(raw: str, key: str) -> str:
    """A BibTeX entry's text with its key replaced."""
    return KEY_IN_RAW.sub(lambda m: m.group(1) + key, raw, count=1)


def add_fields(raw: str, values: dict[str, str]) -> str:
    """A BibTeX entry's text with fields added before its closing brace."""
    if not values:
        return raw
    body = raw.rstrip()
    close = body[-1]
    body = body[:-1].rstrip()
    if not body.endswith(","):
        body += ","
    added = ",\n".join(f"\t{name} = {{{value}}}" for name, value in values.items())
    return f"{body}\n{added}\n{close}"


def _names(paths: list[Path], taken: set[str]) -> list[str]:
    """A file name in ``searches/`` for each path, unique (``scopus-2.csv``)."""
    names = []
    for path in paths:
        name, n = path.name, 2
        while name in taken:
            name = f"{path.stem}-{n}{path.suffix}"
            n += 1
        taken.add(name)
        names.append(name)
    return names


def plan(paths: list[str | Path], databases: list[str] | None, added: str,
         existing: pd.DataFrame | None = None, searches: pd.DataFrame | None = None,
         taken: set[str] = frozenset()) -> Plan:
    """Plan adding the search files ``paths`` to a review whose studies' BibTeX entries are
    ``existing`` (rows of :func:`trustreview.io.load.read_bib`'s entries, in study order),
    whose earlier searches are ``searches`` and whose keys in use are ``taken``."""
    paths = [Path(p) for p in paths]
    if databases and len(databases) != len(paths):
        raise ParameterError(f"--database is given {len(databases)} time(s) for "
                             f"{len(paths)} file(s); give one --database per file, in the "
                             "order of --from, or none (each file's name is used)")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", added):
        raise ParameterError(f"--date {added!r}: write the date the search was run as "
                             "YYYY-MM-DD")
    searches = searches if searches is not None else pd.DataFrame(columns=SEARCHES_COLUMNS)
    existing = existing if existing is not None else pd.DataFrame(columns=["key"])
    known = dict(zip(searches["sha256"], zip(searches["file"], searches["added"])))
    result = Plan(pd.DataFrame(columns=SEARCHES_COLUMNS), pd.DataFrame(
        columns=RECORDS_COLUMNS), pd.DataFrame(columns=["study_id", "summary"]), [],
        pd.DataFrame(columns=DUPLICATES_COLUMNS), {})
    chosen, digests = [], []
    for i, path in enumerate(paths):
        if not path.is_file():
            raise InputError(f"{display_path(path)}: file not found; give the files your "
                             "databases or reference manager exported (--from FILE.ris, "
                             "FILE.bib or FILE.csv)")
        digest = sha256_file(path)
        if digest in known or digest in digests:
            name, when = known[digest] if digest in known else \
                (paths[chosen[digests.index(digest)]].name, added)
            result.skipped.append(f"{display_path(path)}: the same file as the search "
                                  f"{name} (added {when}); nothing added from it")
            continue
        chosen.append(i)
        digests.append(digest)
    files = [paths[i] for i in chosen]
    names = _names(files, set(searches["file"]))
    taken = set(taken) | set(existing["key"])
    frames, problems, search_rows, record_rows = [], [], [], []
    rekeyed: dict[str, str] = {}  # said only of records that become studies
    for i, path, name, digest in zip(chosen, files, names, digests):
        search = read_search(path)
        problems += [f"{search.path}:{line}: {message}" for line, message in search.failed]
        result.warnings += [f"{search.path}:{line}: {message}"
                            for line, message in search.warnings]
        entries = search.entries.sort_values("line", kind="stable").reset_index(drop=True)
        keys, raws = [], []
        for key, raw, line in zip(entries["key"], entries["raw"], entries["line"]):
            new, n = key, 0
            while new in taken:
                new = key + letter_suffix(n)
                n += 1
            if new != key:
                rekeyed[new] = (f"{search.path}:{line}: key {key!r} is taken in the review; "
                                f"this record is keyed {new!r}")
            raw = set_key(raw, new)  # also a file's own repeated key, suffixed on reading
            taken.add(new)
            keys.append(new)
            raws.append(raw)
        entries = entries.assign(key=keys, raw=raws, source=name)
        frames.append(entries)
        database = databases[i] if databases else path.stem
        search_rows.append((name, database, added, str(len(entries)), digest))
        record_rows += [(k, name, str(line)) for k, line in zip(keys, entries["line"])]
        result.copies[name] = path
        if search.strings:
            result.strings.append(search.strings)
    if problems:
        raise InputError("records that cannot be read:\n" + "\n".join(problems) +
                         "\nfix these records (or export the search again); nothing was "
                         "written")
    result.searches = pd.DataFrame(search_rows, columns=SEARCHES_COLUMNS)
    result.records = pd.DataFrame(record_rows, columns=RECORDS_COLUMNS)
    if not frames:
        return result
    old = existing.assign(source="")
    records = pd.concat([old, *frames], ignore_index=True).fillna("")
    prepared = dedup.prepare(records)
    pairs = dedup.find_pairs(prepared, new_from=len(old))
    kept, rows = dedup.resolve(prepared, pairs, fixed=len(old))
    keys = records["key"].tolist()
    result.duplicates = pd.DataFrame(
        [(keys[a], keys[b], records["source"].iat[b], status, reason, f"{score:.2f}")
         for a, b, status, reason, score in rows], columns=DUPLICATES_COLUMNS)
    columns = {name: records[name].tolist() for name in (*FILLED, "raw") if name in records}
    fills: dict[int, dict[str, str]] = {}
    for member in sorted(kept):
        target = kept[member]
        for name in FILLED:
            if name in columns and not columns[name][target] and columns[name][member]:
                fills.setdefault(target, {}).setdefault(name, columns[name][member])
    for target, values in fills.items():
        if target < len(old):
            result.filled[keys[target]] = add_fields(columns["raw"][target], values)
    studies, entries = [], []
    abstracts = columns.get("abstract", [""] * len(records))
    for i in range(len(old), len(records)):
        if i in kept:
            continue
        abstract = abstracts[i] or fills.get(i, {}).get("abstract", "")
        studies.append((keys[i], _summary(abstract)))
        entries.append(add_fields(columns["raw"][i], fills.get(i, {})))
    result.warnings += [rekeyed[key] for key, _ in studies if key in rekeyed]
    result.studies = pd.DataFrame(studies, columns=["study_id", "summary"])
    result.entries = entries
    return result


def _summary(abstract: str) -> str:
    """A study's summary to start from: its abstract as plain text."""
    from trustreview.base.text import decode_latex

    text = " ".join(str(abstract).split())
    return decode_latex(text) if "\\" in text or "{" in text else text
