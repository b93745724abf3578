"""Finding the records of several searches that are the same work: candidate pairs by
blocking, each pair decided ``merged`` (sure), ``check`` (a person decides) or ``distinct``
(looks alike, is not), and the clusters of merged records, each kept as one study.

Precision first: a wrong merge loses a study silently, so a pair is merged only when the
evidence agrees and nothing contradicts it. The rules, in words:

- the same DOI (normalised, case-insensitive), a title at least 0.90 alike and nothing
  contradicting: merged. The same DOI on a book and its chapter, or on two different
  titles: distinct (publishers give chapters their book's DOI);
- without a shared DOI: a title at least 0.95 alike (or one title the other without its
  subtitle), a shared author surname (or no authors on either), the same year, the same
  kind of work, and volume and first page not different where both have them: merged. A
  title of fewer than four words ("Editorial") is merged only when venue, volume and pages
  agree and an author is shared, and is otherwise not a pair at all;
- the same title a year apart: merged for a journal article in the same volume (online
  first, then in print), else check; the same title of two kinds of work in the same year (a
  report and its article), or titles 0.85-0.95 alike by the same authors: check;
- the same title with years two or more apart, or reports or books a year apart (a yearly
  series, editions) or a report and a later
  article of it: distinct;
- two different DOIs: never merged (check when everything else is identical).

Candidate pairs come from blocks (the DOI, the whole title, its first and last 25
characters, the first author's surname with the year and two title words); a block of
more than :data:`MAX_BLOCK` records is too generic to mean a duplicate and is only paired
within the same year. Scores are 0-1: the mean of the evidence that both records have.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from trustreview.io.frames import frame_rows
from trustreview.io.text import ascii_fold, decode_latex, doi_key, fold
from trustreview.schema import CHECK, DISTINCT, MERGED

MAX_BLOCK = 60
KINDS = {"article": "article", "incollection": "chapter", "inbook": "chapter",
         "book": "book", "techreport": "report", "report": "report",
         "phdthesis": "thesis", "mastersthesis": "thesis", "thesis": "thesis",
         "inproceedings": "paper", "conference": "paper", "proceedings": "book"}
KIND_WORDS = {"article": "a journal article", "chapter": "a chapter", "book": "a book",
              "report": "a report", "thesis": "a thesis", "paper": "a conference paper",
              "other": "another kind of work"}
VENUE_FIELDS = ("journal", "journaltitle", "booktitle", "institution", "school")
NOT_ALNUM = re.compile(r"[^a-z0-9]+")
TAG = re.compile(r"<[^>]{1,40}>")
NOT_WORD = re.compile(r"[^\w\s]")
# a database's note of the language after a title: "... thrombosis. [French]"
LANGUAGE_TAG = re.compile(r"(?:\s*\[[A-Z][a-z]+\])+\s*$")
AND = re.compile(r"\s+and\s+")
FIRST_PAGE = re.compile(r"\s*([A-Za-z]?\d+)")
YEAR = re.compile(r"\d{4}")
STOP = frozenset("a an the and or of on in at to for from with by".split())


def _title(text: str) -> str:
    text = LANGUAGE_TAG.sub("", text)
    if "\\" in text:
        text = decode_latex(text)
    elif "{" in text:
        text = text.replace("{", "").replace("}", "")
    if "<" in text or "&" in text:
        text = html.unescape(TAG.sub(" ", text))
    if not text.isascii():  # a dash or quote between words splits them, as "-" does
        text = fold(NOT_WORD.sub(" ", unicodedata.normalize("NFC", text)))
    text = text.lower()
    return " ".join(NOT_ALNUM.sub(" ", text.replace("&", " and ")).split())


@lru_cache(maxsize=1 << 16)  # an author list recurs across searches (its duplicates)
def _surnames(authors: str) -> tuple[str, ...]:
    names = []
    for name in AND.split(authors):
        name = name.strip().strip("{}")
        if not name or name == "others":
            continue
        last = name.split(",", 1)[0] if "," in name else name.split()[-1]
        words = last.split()
        while len(words) > 1 and words[0][:1].islower():
            words = words[1:]
        surname = " ".join(words)
        if "\\" in surname or "{" in surname:
            surname = decode_latex(surname)
        surname = NOT_ALNUM.sub("", surname.lower()) if surname.isascii() else \
            ascii_fold(surname)
        if surname:
            names.append(surname)
    return tuple(names)


def _first_page(pages: str) -> str:
    found = FIRST_PAGE.match(pages)
    return found.group(1).lower() if found else ""


def prepare(records: pd.DataFrame) -> pd.DataFrame:
    """The fields the matcher compares, normalised: ``t`` title, ``names`` author
    surnames, ``y`` year (or -1), ``doi``, ``venue``, ``vol``, ``page``, ``kind``."""
    def column(name):
        return records[name].fillna("").astype(str).tolist() if name in records else \
            [""] * len(records)

    venues = [next((v for v in values if v), "") for values in
              zip(*(column(n) for n in VENUE_FIELDS))] if len(records) else []
    venue_key = {v: " ".join(w for w in _title(v).split() if w not in STOP)
                 for v in set(venues)}  # few venues, many records
    years = []
    for value in column("year"):
        found = YEAR.search(value)
        years.append(int(found.group()) if found else -1)
    authors = [a or e for a, e in zip(column("author"), column("editor"))]
    return pd.DataFrame({
        "key": column("key"),
        "t": [_title(t) for t in column("title")],
        "names": [_surnames(a) for a in authors],
        "y": years,
        "doi": [doi_key(d) for d in column("doi")],
        "venue": [venue_key[v] for v in venues],
        "vol": [ascii_fold(v) for v in column("volume")],
        "page": [_first_page(p) for p in column("pages")],
        "kind": [KINDS.get(t.lower(), "other") for t in column("entry_type")],
    })


def candidate_pairs(prepared: pd.DataFrame, new_from: int = 0) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of rows sharing a block; with ``new_from``, only pairs with
    at least one row at or after it (earlier rows were compared before)."""
    years = prepared["y"].tolist()
    rows = list(zip(prepared["t"].tolist(), prepared["names"].tolist(), years,
                    prepared["doi"].tolist()))
    # with new_from, only blocks holding a new row matter: their keys first
    wanted = {key for row in rows[new_from:] for key in _block_keys(*row)} \
        if new_from else None
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows[:new_from] if new_from else rows):
        for key in _block_keys(*row):
            if wanted is None or key in wanted:
                blocks[key].append(i)
    for i, row in enumerate(rows[new_from:], start=new_from) if new_from else ():
        for key in _block_keys(*row):
            blocks[key].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2 or members[-1] < new_from:
            continue
        groups = [members]
        if len(members) > MAX_BLOCK:
            by_year: dict[int, list[int]] = defaultdict(list)
            for i in members:
                by_year[years[i]].append(i)
            groups = [g for g in by_year.values() if 2 <= len(g) <= MAX_BLOCK]
        for group in groups:
            for a in range(len(group)):
                for b in range(a + 1, len(group)):
                    i, j = group[a], group[b]
                    if j >= new_from or i >= new_from:
                        pairs.add((i, j) if i < j else (j, i))
    return sorted(pairs)


def _block_keys(t: str, names: tuple[str, ...], y: int, doi: str) -> list[str]:
    """The blocks a record is in: its DOI, its whole title, the title's first and last 25
    characters (long titles), first author + year + two title words."""
    keys = ["d" + doi] if doi else []
    if t:
        keys.append("t" + t)
        if len(t) > 30:
            keys += ["p" + t[:25], "e" + t[-25:]]
        words = [w for w in t.split() if w not in STOP][:2]
        if names and words:
            keys.append(f"a{names[0]}|{y}|{' '.join(words)}")
    return keys


@dataclass(frozen=True)
class Decision:
    status: str  # merged, check, distinct, or "" (not alike: no row)
    reason: str
    score: float


def _title_similarity(a: str, b: str) -> tuple[float, bool]:
    """(similarity 0-1, whether one is the other without its subtitle)."""
    from rapidfuzz.fuzz import ratio

    if not a or not b:
        return 0.0, False
    if a == b:
        return 1.0, False
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 20 and long_.startswith(short + " "):
        return 0.95, True
    return ratio(a, b) / 100, False


def decide(a: dict, b: dict) -> Decision:
    """Decide one pair of prepared records (see the module docstring)."""
    title, subtitle = _title_similarity(a["t"], b["t"])
    evidence: list[float] = [title]
    said: list[str] = []
    contra: list[str] = []
    same_doi = bool(a["doi"]) and a["doi"] == b["doi"]
    other_doi = bool(a["doi"]) and bool(b["doi"]) and not same_doi
    if same_doi:
        said.append("same DOI")
        evidence.append(1.0)
    elif other_doi:
        contra.append("different DOIs")
        evidence.append(0.0)
    said.append(f"title {title:.2f}" + (" (one without its subtitle)" if subtitle else ""))
    shared = set(a["names"]) & set(b["names"])
    if a["names"] and b["names"]:
        authors = len(shared) / min(len(a["names"]), len(b["names"]))
        evidence.append(authors)
        if a["names"][0] == b["names"][0]:
            said.append("same first author")
        elif shared:
            said.append("shared authors")
        else:
            contra.append("no author in common")
    years = (a["y"], b["y"]) if a["y"] > 0 and b["y"] > 0 else None
    gap = abs(years[0] - years[1]) if years else 0
    same = []
    if years:
        evidence.append(1.0 if gap == 0 else 0.5 if gap == 1 else 0.0)
        if gap == 0:
            same.append("year")
    for name, label in (("venue", "venue"), ("vol", "volume"), ("page", "pages")):
        if a[name] and b[name]:
            if name == "venue":
                from rapidfuzz.fuzz import ratio
                alike = ratio(a[name], b[name]) >= 90
            else:
                alike = a[name] == b[name]
            evidence.append(1.0 if alike else 0.0)
            if alike:
                same.append(label)
            elif name != "venue":
                contra.append(f"{label} {a[name]} and {b[name]}")
    if same:
        said.append("same " + ", ".join(same))
    kinds = {a["kind"], b["kind"]}
    if len(kinds) == 2 and "other" not in kinds:
        contra.append(f"{KIND_WORDS[a['kind']]} and {KIND_WORDS[b['kind']]}")
    if years and gap:  # a year apart is online first and print, when the DOI is shared
        (said if same_doi and gap == 1 else contra).append(
            f"years {min(years)} and {max(years)}")
    score = round(sum(evidence) / len(evidence), 2)
    reason = "; ".join(said + contra)

    def result(status):
        return Decision(status, reason, score)

    if other_doi:
        identical = title == 1.0 and not contra[1:] and bool(shared) and gap == 0
        return result(CHECK if identical else "")
    if same_doi:
        if kinds == {"book", "chapter"} or title < 0.7:
            return result(DISTINCT)
        if title >= 0.9 and not contra:
            return result(MERGED)
        return result(CHECK)
    if title < 0.85:
        return result("")
    if min(len(a["t"].split()), len(b["t"].split())) < 4:  # "Editorial", "Introduction"
        whole = {"venue", "volume", "pages"} <= set(same) and not contra
        return result(MERGED if whole and shared else "")
    authors_agree = bool(shared) or not (a["names"] and b["names"])
    if title < 0.95:
        return result(CHECK if shared and gap == 0 else "")
    if not authors_agree:
        return result(CHECK if gap == 0 else "")  # (short titles were decided above)
    if gap >= 2 or (gap == 1 and kinds <= {"report", "book"}):
        return result(DISTINCT)  # a yearly series, or editions
    if len(kinds) == 2 and "other" not in kinds:
        return result(DISTINCT if gap else CHECK)
    if not a["names"] and not b["names"]:
        return result(CHECK)
    only_year = gap == 1 and [c for c in contra if not c.startswith("years")] == []
    if not contra:
        return result(MERGED)
    if only_year and kinds == {"article"} and \
            ({"volume", "pages"} <= set(same) or {"venue", "volume"} <= set(same)):
        return result(MERGED)  # online first: the same journal volume a year apart
    return result(CHECK)


def find_pairs(prepared: pd.DataFrame, new_from: int = 0) -> pd.DataFrame:
    """Every candidate pair that is alike, decided: columns ``i``, ``j`` (row positions),
    ``status``, ``reason``, ``score``."""
    rows = list(frame_rows(prepared))
    found = []
    for i, j in candidate_pairs(prepared, new_from):
        decision = decide(rows[i], rows[j])
        if decision.status:
            found.append((i, j, decision.status, decision.reason, decision.score))
    return pd.DataFrame(found, columns=["i", "j", "status", "reason", "score"])


def resolve(prepared: pd.DataFrame, pairs: pd.DataFrame,
            decided: dict[tuple[str, str], str] | None = None,
            fixed: int = 0) -> tuple[dict[int, int], list]:
    """Clusters of merged pairs, each kept as its first row.

    Returns (``kept``: row -> the row it is merged into, for every merged row; ``rows``:
    (kept row, other row, status, reason, score) for every pair row of duplicates.csv).
    A row joins a cluster only when its own pair with the kept row is merged (a chain
    A-B-C does not merge A and C unless A and C agree); pairs a person decided
    (``decided``: (key, key) -> merged/distinct) win over the rules. The first ``fixed``
    rows are studies already in the review: none of them is ever merged into another (two
    of them alike both to a new record are a ``check``).
    """
    decided = decided or {}
    keys = prepared["key"].tolist()
    records = list(frame_rows(prepared))
    parent = list(range(len(prepared)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    status = {}
    for i, j, s, reason, score in pairs.itertuples(index=False):
        person = decided.get((keys[i], keys[j])) or decided.get((keys[j], keys[i]))
        if person:
            s, reason = person, f"decided by a person ({reason})"
        status[(i, j)] = (s, reason, score)
        if s == MERGED:
            a, b = root(i), root(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    kept: dict[int, int] = {}
    rows = []
    for i in range(len(prepared)):
        top = root(i)
        if top == i:
            continue
        own = status.get((top, i))
        if own is None:
            direct = decide(records[top], records[i])
            own = (direct.status, direct.reason, direct.score)
        if own[0] == MERGED and i >= fixed:
            kept[i] = top
            rows.append((top, i, *own))
        else:
            why = ("both already studies of the review" if i < fixed and own[0] == MERGED
                   else "alike to a record of this study, not enough to it")
            rows.append((top, i, CHECK, f"{why} ({own[1]})", own[2]))
    seen = {(a, b) for a, b, *_ in rows}
    for (i, j), (s, reason, score) in sorted(status.items()):
        if s == MERGED:
            continue
        a, b = sorted((kept.get(i, i), kept.get(j, j)))
        if a != b and (a, b) not in seen:
            seen.add((a, b))
            rows.append((a, b, s, reason, score))
    return kept, sorted(rows, key=lambda row: (row[0], row[1]))
