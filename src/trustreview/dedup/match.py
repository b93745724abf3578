"""Each candidate pair decided: ``merged`` (sure), ``check`` (a person decides),
``distinct`` (looks alike, is not) or nothing (not alike).

Precision first: a wrong merge loses a study silently, so a pair is merged only when the
evidence agrees and nothing contradicts it. The rules, in words:

- the same DOI (normalised, case-insensitive), a title at least 0.90 alike and nothing
  contradicting: merged. The same DOI on a book and its chapter, or on two different
  titles: distinct (publishers give chapters their book's DOI);
- without a shared DOI: a title at least 0.95 alike (or one title the other without its
  subtitle, or with its subtitle glued on), a shared author surname (or no authors on
  either), the same year, the same kind of work, and volume and pages not different where
  both have them: merged. A title matched only as the start of the other is merged only
  when the DOI, the volume or the pages agree too (else check). A title of fewer than
  four words ("Editorial") is merged only when venue, volume and pages agree and an author
  is shared, and is otherwise not a pair at all;
- numbers that name a different part of a series contradict: two issue numbers, article
  numbers, report numbers or editions, both given and different. Such a pair is distinct
  (a journal's recurring column in issues 1 to 4 of one volume), or check when the DOI or
  the volume and pages are shared (one number is then likely a typing error);
- pages differ only when their first pages differ beyond a typing error: one digit
  against the same last page, or a range that runs backwards ("2297-2108" and
  "2097-2108" agree);
- a record without the number (or two), alike to parts of a series that the numbers tell apart
  (issues 1 to 4 and a record of the column giving no issue): check, not merged;
- a correction notice ("Erratum: <title>", "<title> (vol 360, pg 542, 2009)") and the
  work it corrects: check, said so in the reason, never merged;
- the same title a year apart: merged for a journal article in the same volume (online
  first, then in print), else check; the same title of two kinds of work in the same year (a
  report and its article), or titles 0.85-0.95 alike by the same authors: check;
- the same title with years two or more apart, or reports or books a year apart (a yearly
  series, editions) or a report and a later article of it: distinct;
- two different DOIs: never merged (check when everything else is identical).

Scores are 0-1: the mean of the evidence that both records have.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from trustreview.dedup.block import candidate_pairs
from trustreview.base.frames import frame_rows
from trustreview.schema import CHECK, DISTINCT, KIND_WORDS, MERGED

# numbers that tell the parts of a series apart: (prepared field, its name in a reason)
PART_NUMBERS = (("num", "issue"), ("eid", "article number"), ("edition", "edition"))


@dataclass(frozen=True)
class Decision:
    status: str  # merged, check, distinct, or "" (not alike: no row)
    reason: str
    score: float
    parts: bool = False  # told apart as two parts of a series (issue, article number...)


def title_similarity(a: str, b: str) -> tuple[float, str]:
    """(similarity 0-1, how one title holds the other: "" when it does not, "subtitle"
    when one is the other without its subtitle, "prefix" when one starts the other with
    no word break, as a subtitle glued on by a database)."""
    from rapidfuzz.fuzz import ratio

    if not a or not b:
        return 0.0, ""
    if a == b:
        return 1.0, ""
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 20 and len(short.split()) >= 4 and long_.startswith(short):
        return 0.95, "subtitle" if long_[len(short)] == " " else "prefix"
    return ratio(a, b) / 100, ""


def _pages_agree(a: dict, b: dict) -> tuple[bool, str]:
    """Whether two records' pages agree (first pages equal, or apart by a typing error),
    and what to say when it took the typo rule."""
    if a["page"] == b["page"]:
        return True, ""
    first_a, first_b = a["page"], b["page"]
    if len(first_a) == len(first_b) and sum(x != y for x, y in zip(first_a, first_b)) == 1:
        backwards = any(r["last"].isdigit() and r["page"].isdigit() and
                        int(r["last"]) < int(r["page"]) for r in (a, b))
        if backwards or (a["last"] and a["last"] == b["last"]):
            return True, "pages apart by a typing error"
    return False, ""


def _venues_agree(a: str, b: str) -> bool:
    """A venue split into the volume field ("Nature Reviews" / "Drug Discovery. 9") is the
    start of the whole name."""
    from rapidfuzz.fuzz import ratio

    short, long_ = sorted((a, b), key=len)
    return ratio(a, b) >= 90 or (len(short) >= 6 and long_.startswith(short + " "))


def decide(a: dict, b: dict) -> Decision:
    """Decide one pair of prepared records (see the module docstring)."""
    title, held = title_similarity(a["t"], b["t"])
    evidence: list[float] = [title]
    said: list[str] = []
    contra: list[str] = []
    parts: list[str] = []  # numbers of different parts of a series
    same_doi = bool(a["doi"]) and a["doi"] == b["doi"]
    other_doi = bool(a["doi"]) and bool(b["doi"]) and not same_doi
    if same_doi:
        said.append("same DOI")
        evidence.append(1.0)
    elif other_doi:
        contra.append("different DOIs")
        evidence.append(0.0)
    said.append(f"title {title:.2f}" + {"subtitle": " (one without its subtitle)",
                                        "prefix": " (one the start of the other)"}.get(held, ""))
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
    if a["venue"] and b["venue"]:
        alike = _venues_agree(a["venue"], b["venue"])
        evidence.append(1.0 if alike else 0.0)
        if alike:
            same.append("venue")
    if a["vol"] and b["vol"]:
        alike = a["vol"] == b["vol"]
        evidence.append(1.0 if alike else 0.0)
        (same.append("volume") if alike else contra.append(f"volume {a['vol']} and {b['vol']}"))
    if a["page"] and b["page"]:
        alike, typo = _pages_agree(a, b)
        evidence.append(1.0 if alike else 0.0)
        if alike:
            same.append("pages")
            if typo:
                said.append(typo)
        else:
            contra.append(f"pages {a['page']} and {b['page']}")
    for name, label in PART_NUMBERS:
        numbers = set(a[name].split()), set(b[name].split())
        if all(numbers) and not (numbers[0] <= numbers[1] or numbers[1] <= numbers[0]):
            number = "report number" if name == "num" and "report" in (a["kind"], b["kind"]) \
                else label
            parts.append(f"{number} {a[name]} and {b[name]}")
    contra += parts
    if same:
        said.append("same " + ", ".join(same))
    kinds = {a["kind"], b["kind"]}
    if len(kinds) == 2 and "other" not in kinds:
        contra.append(f"{KIND_WORDS[a['kind']]} and {KIND_WORDS[b['kind']]}")
    if years and gap:  # a year apart is online first and print, when the DOI is shared
        (said if same_doi and gap == 1 else contra).append(
            f"years {min(years)} and {max(years)}")
    score = round(sum(evidence) / len(evidence), 2)
    authors_agree = bool(shared) or not (a["names"] and b["names"])

    def result(status, first=""):
        return Decision(status, "; ".join(([first] if first else []) + said + contra), score,
                        bool(parts))

    if a["notice"] != b["notice"]:  # a correction notice and (perhaps) the work it corrects
        notice_of = title >= 0.95 and authors_agree
        return result(CHECK, "correction notice") if notice_of else result("")
    if other_doi:
        identical = title == 1.0 and not contra[1:] and bool(shared) and gap == 0
        return result(CHECK if identical else "")
    whole = {"volume", "pages"} <= set(same)
    if same_doi:
        if kinds == {"book", "chapter"} or title < 0.7:
            return result(DISTINCT)
        if title >= 0.9 and not contra:
            return result(MERGED)
        return result(CHECK)
    if title < 0.85:
        return result("")
    if parts:  # issues 1 and 2 of one column, two reports of a series, two editions
        if title >= 0.95 and authors_agree and whole and len(parts) == 1:
            return result(CHECK)  # the same pages of the same volume: a mistyped number
        return result(DISTINCT if title >= 0.95 else "")
    if min(len(a["t"].split()), len(b["t"].split())) < 4:  # "Editorial", "Introduction"
        everything = {"venue", "volume", "pages"} <= set(same) and not contra
        return result(MERGED if everything and shared else "")
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
    if held == "prefix" and not (same_doi or {"volume", "pages"} & set(same)):
        return result(CHECK)  # a glued subtitle, with nothing but names and year behind it
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
    series: set[str] = set()  # titles of records told apart by a part's number
    for i, j in candidate_pairs(prepared, new_from):
        decision = decide(rows[i], rows[j])
        if decision.status:
            found.append((i, j, decision.status, decision.reason, decision.score))
        if decision.parts:
            series.update((rows[i]["t"], rows[j]["t"]))
    for n, (i, j, status, reason, score) in enumerate(found):
        numbered = any(rows[i][name] and rows[j][name] for name in ("num", "eid"))
        if status == MERGED and not numbered and \
                (rows[i]["t"] in series or rows[j]["t"] in series):
            found[n] = (i, j, CHECK, "one of a series whose parts differ only by their "
                        f"numbers, and a record here gives none; {reason}", score)
    return pd.DataFrame(found, columns=["i", "j", "status", "reason", "score"])
