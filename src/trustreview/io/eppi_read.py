"""EPPI-Reviewer's JSON format, read: an export (EPPI-Reviewer's own, or one trustreview
wrote, see :mod:`trustreview.io.eppi`) made into a review: its code sets into a codebook
(the domains from the code set or code ``--domains`` names, every other parent code a field,
screening codes the decisions), its references into studies, codes and quotes, with what
is left out and why. Code names are written as the codebook stores them
(:func:`code_name`), so that whatever ``trustreview new --from`` writes, ``validate``
accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from trustreview.base.text import ascii_fold, letter_suffix, single_spaced
from trustreview.io.codebook import BUILT_IN
from trustreview.io.eppi import (DOMAINS_SET, EXCLUDED_REASON, FIELD_SET_PREFIX, SELECTABLE,
                                 SUGGESTIONS_SET)
from trustreview.schema import ENTRY_TYPES, NO_DOMAIN


# EPPI-Reviewer's TypeName (lower case) -> the RIS type its records are read as: the type
# written for the first entry type of that name
TYPES_TO_RIS = {name.lower(): ris for _, ris, name in reversed(list(ENTRY_TYPES.values()))
                if name}
FIELD_SET = re.compile(r"^(?P<id>[a-z][a-z0-9_-]*) \((?P<type>choice|multi|yes-no|number|"
                       r"text)\):\s*(?P<definition>.*)$", re.S)


@dataclass
class Imported:
    """An EPPI-Reviewer export read as a review: the codebook as YAML-ready data, one row
    per study (``study_id``, ``included``, ``exclusion_reason``, ``summary`` and the fields),
    the reconciled domain codes, the quotes, the references as (record, ItemId) pairs for
    BibTeX, and what was left out, with why."""

    codebook: dict
    studies: list[dict]
    codes: list[tuple[str, str]]
    quotes: list[tuple[str, str, str, str]]
    records: list[tuple[dict, int]]
    warnings: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    counts: dict = field(default_factory=dict)


def looks_like_eppi(text: str) -> bool:
    """True for a JSON object with ``CodeSets`` and ``References`` (whatever the file is
    called)."""
    head = text.lstrip()[:200000]
    return head.startswith("{") and '"References"' in text and '"CodeSets"' in head


def _slug(name: str, taken: set[str]) -> str:
    words = re.findall(r"[a-z0-9]+", " ".join(ascii_fold(w) for w in name.lower().split()))
    base = "-".join(words)[:40].strip("-") or "code"
    if not base[0].isalpha():
        base = "c-" + base
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def code_name(code: dict) -> str:
    """A code's name as the codebook will store it (single spaces, see
    :func:`~trustreview.base.text.single_spaced`), with ``;`` made ``,``: ``;`` joins the values
    of a multi field, so it cannot stand inside one."""
    return single_spaced(code.get("AttributeName") or "").replace(";", ",")


def _children(code: dict) -> list[dict]:
    return ((code.get("Attributes") or {}).get("AttributesList") or [])


def _descendants(code: dict, prefix: str = ""):
    """(path, code) of every code below ``code``, depth first ("Parent > Child")."""
    for child in _children(code):
        path = f"{prefix}{code_name(child)}"
        yield path, child
        yield from _descendants(child, path + " > ")


def parse_eppi(data, source: str, domains: str | None = None) -> Imported:
    """Read a parsed EPPI-Reviewer export (see the module docstring). ``domains`` names the
    code set or code whose child codes are the review's domains (a file trustreview wrote
    needs none)."""
    from trustreview.errors import InputError
    from trustreview.io.ris import generated_key

    if not isinstance(data, dict) or not isinstance(data.get("References"), list):
        raise InputError(f"{source}: not an EPPI-Reviewer export (no 'References' list); "
                         "export the review from EPPI-Reviewer as JSON")
    sets = [s for s in data.get("CodeSets") or [] if isinstance(s, dict)]
    domain_codes: list[dict] = []
    domain_owner = None
    for code_set in sets:
        top = _children(code_set)
        if domains is None and code_set.get("SetName") == DOMAINS_SET:
            domain_codes, domain_owner = top, code_set
        elif domains is not None and single_spaced(code_set.get("SetName") or "") == \
                single_spaced(domains):
            domain_codes, domain_owner = top, code_set
        elif domains is not None:
            for path, code in _descendants(code_set):
                if code_name(code) == code_name({"AttributeName": domains}) and \
                        _children(code):
                    domain_codes, domain_owner = _children(code), code
    if not domain_codes:
        names = sorted({s.get("SetName", "") for s in sets})
        raise InputError(f"{source}: no domain codes: give --domains with the name of the code "
                         "set or code whose child codes are the review's domains (code sets: "
                         f"{', '.join(names)})")
    taken: set[str] = {NO_DOMAIN}
    domain_of: dict[int, str] = {}
    codebook_domains = []
    for code in domain_codes:
        name = code_name(code)
        own = code.get("ExtURL") if code.get("ExtType") == "trustreview id" else ""
        domain_id = own if own and own not in taken else _slug(name, taken)
        taken.add(domain_id)
        domain_of[code.get("AttributeId")] = domain_id
        codebook_domains.append({"id": domain_id, "label": name,
                                 "definition": str(code.get("AttributeDescription") or name)})
    ours = domain_owner is not None and domain_owner.get("SetName") == DOMAINS_SET
    fields: list[dict] = []
    value_of: dict[int, tuple[str, str]] = {}  # AttributeId -> (field id, value)
    screening: dict[int, tuple[str, str]] = {}  # AttributeId -> ("yes"/"no", reason)
    ignored: dict[int, str] = {}  # AttributeId -> why its codes are left out
    field_ids: set[str] = set()
    for code_set in sets:
        if code_set is domain_owner:
            continue
        name = str(code_set.get("SetName", ""))
        top = _children(code_set)
        if name == SUGGESTIONS_SET:
            for _, code in _descendants(code_set):
                ignored[code.get("AttributeId")] = "the tagger's suggestions, not human codes"
            continue
        own = FIELD_SET.match(str(code_set.get("SetDescription") or "")) \
            if name.startswith(FIELD_SET_PREFIX) else None
        if own:  # a set trustreview wrote: one field, its codes the values
            kind = own["type"]
            values = [single_spaced(c.get("AttributeName") or "") for c in top]
            item = {"id": own["id"], "label": name[len(FIELD_SET_PREFIX):], "type": kind,
                    "definition": own["definition"].strip()}
            if kind in ("choice", "multi"):
                item["values"] = values
            field_ids.add(own["id"])
            fields.append(item)
            for code, value in zip(top, values):
                value_of[code.get("AttributeId")] = (own["id"], value)
            continue
        for _, code in _descendants(code_set):
            kind = str(code.get("AttributeType", "")).lower()
            if kind.startswith(("include", "exclude")):  # a screening code set's decisions
                name_ = code_name(code)
                screening[code.get("AttributeId")] = ("yes", "") if kind.startswith(
                    "include") else ("no", name_)
        for code in top:
            if domain_owner is code or code.get("AttributeId") in screening:
                continue
            label = code_name(code)
            below = [(path, child) for path, child in _descendants(code)
                     if child.get("AttributeId") not in screening]
            if below:
                field_id = _slug(label, field_ids | taken | set(BUILT_IN))
                field_ids.add(field_id)
                paths = list(dict.fromkeys(path for path, _ in below))
                fields.append({"id": field_id, "label": label, "type": "multi",
                               "values": paths, "definition":
                               str(code.get("AttributeDescription") or label)})
                for path, child in below:
                    value_of[child.get("AttributeId")] = (field_id, path)
                if code.get("AttributeType") == SELECTABLE:
                    ignored[code.get("AttributeId")] = (f"'{label}' has child codes, so it is a "
                                                        "field; ticking it alone says nothing")
            elif code.get("AttributeType") == SELECTABLE:
                field_id = _slug(label, field_ids | taken | set(BUILT_IN))
                field_ids.add(field_id)
                fields.append({"id": field_id, "label": label, "type": "yes-no",
                               "definition": str(code.get("AttributeDescription") or label)})
                value_of[code.get("AttributeId")] = (field_id, "yes")
            else:
                ignored[code.get("AttributeId")] = f"'{label}' is neither selectable nor a parent"
    kinds = {f["id"]: f["type"] for f in fields}
    result = Imported({"name": "", "domains": codebook_domains, "fields": fields,
                       "exclusion_reasons": [{"id": EXCLUDED_REASON, "stage": "full-text",
                                              "label": "excluded in EPPI-Reviewer"}] + [
                           {"id": reason, "stage": "title-abstract",
                            "label": "an exclude code of EPPI-Reviewer's screening"}
                           for reason in dict.fromkeys(r for d, r in screening.values()
                                                       if d == "no")]},
                      [], [], [], [])
    unknown: dict[int, int] = {}
    keys: set[str] = set()
    for position, reference in enumerate(data["References"], start=1):
        if not isinstance(reference, dict):
            result.left_out.append(f"reference #{position}: not an object")
            continue
        status = str(reference.get("ItemStatus") or "I").strip().upper()
        if status in ("D", "S"):
            result.left_out.append(f"reference #{position} (ItemId {reference.get('ItemId')}): "
                                   f"{'deleted' if status == 'D' else 'a duplicate (shadow)'} "
                                   "in EPPI-Reviewer")
            continue
        record, item = _record(reference)
        own = str(reference.get("OldItemId") or "").strip()
        base = own if re.fullmatch(r"[A-Za-z][\w:.+/-]*", own) else generated_key(
            record.get("authors", []), record.get("year", ""), record.get("title", ""))
        key, n = base, 0
        while key in keys:
            key, n = base + letter_suffix(n), n + 1
        keys.add(key)
        record["id"] = key
        # trustreview writes the summary in Comments; EPPI-Reviewer's own Comments are notes
        summary = (reference.get("Comments") if ours else "") or reference.get("Abstract") or ""
        row = {"study_id": key, "summary": " ".join(str(summary).split()),
               "included": "no" if status == "E" else "yes",
               "exclusion_reason": EXCLUDED_REASON if status == "E" else ""}
        values: dict[str, list[str]] = {}
        ticked: list[str] = []
        for coded in reference.get("Codes") or []:
            attribute = coded.get("AttributeId")
            text = str(coded.get("AdditionalText") or "").strip()
            label = ""
            if attribute in domain_of:
                ticked.append(domain_of[attribute])
                label = domain_of[attribute]
            elif attribute in value_of:
                field_id, value = value_of[attribute]
                if kinds.get(field_id) in ("number", "text"):
                    values.setdefault(field_id, []).append(text)
                    text = ""
                else:
                    values.setdefault(field_id, []).append(value)
                label = f"{field_id}: {value}"
            elif attribute in screening:
                decided, reason = screening[attribute]
                if status != "E":
                    row["included"] = decided
                    row["exclusion_reason"] = reason
                continue
            elif attribute in ignored:
                result.left_out.append(f"{key}: a code ({attribute}) of "
                                       f"{ignored[attribute]}")
                continue
            else:
                unknown[attribute] = unknown.get(attribute, 0) + 1
                continue
            if text:
                result.quotes.append((key, label, text, ""))
            for detail in coded.get("ItemAttributeFullTextDetails") or []:
                quoted = str(detail.get("Text") or "").strip()
                if quoted:
                    result.quotes.append((key, label, quoted, str(detail.get("DocTitle")
                                                                   or "")))
        if row["included"] == "yes":
            result.codes += [(key, domain) for domain in ticked]
        elif ticked:
            result.left_out.append(f"{key}: {len(ticked)} domain code(s) of a study excluded "
                                   "in EPPI-Reviewer (an excluded study has no codes here)")
        for field_id, found in values.items():
            if kinds.get(field_id) == "choice":
                row[field_id] = found[0]
                if len(set(found)) > 1:
                    result.warnings.append(f"{key}: several values of the choice field "
                                           f"{field_id!r} ({', '.join(found)}); the first "
                                           "is kept")
            elif kinds.get(field_id) == "multi":
                order = next(f["values"] for f in fields if f["id"] == field_id)
                row[field_id] = "; ".join(v for v in order if v in set(found))
            else:
                row[field_id] = found[0]
        result.studies.append(row)
        result.records.append((record, item))
    for attribute, n in sorted(unknown.items(), key=lambda kv: str(kv[0])):
        result.warnings.append(f"{source}: AttributeId {attribute} is in no code set "
                               f"({n} code{'s' if n != 1 else ''} left out)")
        result.left_out.append(f"{n} code(s) with AttributeId {attribute}: in no code set")
    result.counts = {"references": len(data["References"]), "studies": len(result.studies),
                     "codes": len(result.codes), "quotes": len(result.quotes),
                     "left out": len(result.left_out)}
    return result



def _record(reference: dict) -> tuple[dict, int]:
    """A reference as a rispy-style record (for :func:`trustreview.io.ris.records_to_bibtex`)
    and its ``ItemId``."""
    def text(name):
        return " ".join(str(reference.get(name) or "").split())

    authors = [a.strip() for a in re.split(r";", text("Authors")) if a.strip()]
    editors = [a.strip() for a in re.split(r";", text("ParentAuthors")) if a.strip()]
    kind = TYPES_TO_RIS.get(text("TypeName").lower(), "GEN")
    record = {"type_of_reference": kind, "title": text("Title"), "year": text("Year"),
              "secondary_title": text("ParentTitle"), "volume": text("Volume"),
              "number": text("Issue"), "doi": text("DOI"), "abstract": text("Abstract"),
              "publisher": text("Publisher") or text("Institution"),
              "place_published": text("City")}
    pages = re.split(r"\s*[-–]+\s*", text("Pages"))
    if pages and pages[0]:
        record["start_page"] = pages[0]
        if len(pages) > 1 and pages[-1]:
            record["end_page"] = pages[-1]
    if authors:
        record["authors"] = authors
    if editors:
        record["secondary_authors"] = editors
    if text("URL"):
        record["urls"] = [text("URL")]
    keywords = [k.strip() for k in re.split(r"[;\n]", str(reference.get("Keywords") or ""))
                if k.strip()]
    if keywords:
        record["keywords"] = keywords
    record = {k: v for k, v in record.items() if v}
    try:
        item = int(reference.get("ItemId"))
    except (TypeError, ValueError):
        item = 0
    return record, item
