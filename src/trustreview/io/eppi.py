"""EPPI-Reviewer's JSON format, written: the review's included studies, its domains and
fields as code sets, each study's reconciled codes, and the tagger's suggestions for the
studies without human codes, so EPPI-Reviewer can import them for checking and EPPI-Mapper
can draw a map from the file (``outputs/eppi.json``).

The layout is the one EPPI-Reviewer exports (checked against a public export): one object
with ``CodeSets`` (``SetName``, ``SetId``, ``ReviewSetId``, ``SetType``, ``SetDescription``,
``Attributes.AttributesList``; each code with ``AttributeId``, ``AttributeSetId``,
``AttributeName``, ``AttributeDescription``, ``AttributeType``, nested
``Attributes.AttributesList``) and ``References`` (``ItemId``, ``Title``, ``ParentTitle``,
``Authors`` "Surname, I.; Surname, I.", ..., ``ItemStatus`` ``I``, ``Codes`` with
``AttributeId``, ``AdditionalText``, ``ArmId``, ``ArmTitle``, and ``Outcomes``). Ids are
numbers derived from names (the same names give the same ids in every run), and nothing
depends on the clock (``DateCreated`` is empty).
"""

from __future__ import annotations

import hashlib
import json
import re

import orjson
import pandas as pd

from trustreview.base.frames import frame_rows
from trustreview.base.text import decode_latex, person_names
from trustreview.schema import ENTRY_TYPES

SELECTABLE = "Selectable (show checkbox)"
NOT_SELECTABLE = "Not selectable (no checkbox)"
STANDARD = {"SetTypeName": "Standard", "SetTypeDescription": "A code set written by "
            "trustreview: one code per value."}
DOMAINS_SET = "trustreview domains"
SUGGESTIONS_SET = "trustreview suggestions"
FIELD_SET_PREFIX = "trustreview field: "
REFERENCE_KEYS = ("ItemId", "Title", "ParentTitle", "ShortTitle", "DateCreated", "CreatedBy",
                  "DateEdited", "EditedBy", "Year", "Month", "StandardNumber", "City",
                  "Country", "Publisher", "Institution", "Volume", "Pages", "Edition", "Issue",
                  "Availability", "URL", "OldItemId", "Abstract", "Comments", "TypeName",
                  "Authors", "ParentAuthors", "DOI", "Keywords", "ItemStatus",
                  "ItemStatusTooltip", "QuickCitation")
# BibTeX entry types -> EPPI-Reviewer's TypeName (schema.ENTRY_TYPES; the rest "Generic")
TYPE_NAMES = {entry_type: name for entry_type, (_, _, name) in ENTRY_TYPES.items() if name}
EXCLUDED_REASON = "excluded in EPPI-Reviewer"  # the reason of a study EPPI-Reviewer excluded
EPPI_ITEM_ID = re.compile(r"(?im)^\s*eppi-itemid\s*=\s*[{\"]?\s*(\d+)")


def stable_id(*names: str) -> int:
    """A positive number from names: the same names give the same id in every run."""
    digest = hashlib.sha256("\x1f".join(names).encode("utf-8")).hexdigest()
    return 10_000_000 + int(digest[:12], 16) % 89_000_000


def _code(set_name: str, path: list[str], description: str = "", children=None,
          selectable: bool = True, own_id: str = "") -> dict:
    code = {"AttributeSetId": stable_id("set member", set_name, *path),
            "AttributeId": stable_id(set_name, *path), "OriginalAttributeID": 0,
            "AttributeSetDescription": "",
            "AttributeType": SELECTABLE if selectable else NOT_SELECTABLE,
            "AttributeName": path[-1], "AttributeDescription": description,
            "ExtURL": own_id, "ExtType": "trustreview id" if own_id else ""}
    if children:
        code["Attributes"] = {"AttributesList": children}
    return code


def field_set_name(item) -> str:
    """The code set of a codebook field in the file."""
    return f"{FIELD_SET_PREFIX}{item.label}"


def _code_set(name: str, description: str, codes: list[dict]) -> dict:
    return {"SetName": name, "ReviewSetId": stable_id("review set", name),
            "SetId": stable_id("set", name), "SetType": STANDARD,
            "SetDescription": description, "Attributes": {"AttributesList": codes}}


def code_sets(codebook) -> list[dict]:
    """The domains, one set per field, and the suggestions set."""
    sets = [_code_set(DOMAINS_SET, f"The domains of {codebook.name or 'the review'}.",
                      [_code(DOMAINS_SET, [d.label], d.definition, own_id=d.id)
                       for d in codebook.domains])]
    for item in codebook.fields:
        name = field_set_name(item)
        values = list(item.allowed) if item.type in ("choice", "multi", "yes-no") else \
            ["value (in AdditionalText)"]
        sets.append(_code_set(name, f"{item.id} ({item.type}): {item.definition}".strip(),
                              [_code(name, [v]) for v in values]))
    sets.append(_code_set(SUGGESTIONS_SET, "The tagger's domains for studies without human "
                          "codes; the probability and band are in AdditionalText.",
                          [_code(SUGGESTIONS_SET, [d.label], d.definition)
                           for d in codebook.domains]))
    return sets


def _authors(field: str) -> str:
    """A BibTeX name list as EPPI-Reviewer writes authors: ``Surname, I.; Surname, I.``."""
    names = []
    for name in person_names(field or ""):
        initials = name["initials"] or ""
        names.append(name["last"] if name["corporate"] else
                     f"{name['last']}, {initials}".strip().rstrip(","))
    return "; ".join(names)


def item_id(study_id: str, raw: str) -> int:
    """The study's EPPI-Reviewer ``ItemId``: the ``eppi-itemid`` its BibTeX entry keeps, if
    it came from EPPI-Reviewer, else a stable number from its key."""
    found = EPPI_ITEM_ID.search(raw or "")
    return int(found.group(1)) if found else stable_id("item", study_id)


def references(included: pd.DataFrame, predictions: pd.DataFrame, codebook,
               quotes: pd.DataFrame | None = None) -> list[dict]:
    """One reference per included study (rows of a validated corpus's records), with its
    reconciled domain codes and field values, or the tagger's suggestions when it has no
    human codes."""
    labels = {d.id: d.label for d in codebook.domains}
    tagged = predictions[predictions["tagged"] == 1]
    human = tagged[tagged["source"] == "human"].groupby("study_id")["domain"].apply(list)
    model = tagged[tagged["source"] == "model"]
    suggested: dict[str, list[tuple[str, float, str]]] = {}  # one pass: a frame per study
    for sid, domain, probability, band in zip(  # was 60% of synthesis at 100,000 studies
            model["study_id"], model["domain"], model["probability"], model["band"]):
        suggested.setdefault(sid, []).append((domain, float(probability), band))
    quoted: dict[str, list[dict]] = {}
    if quotes is not None:
        for quote in frame_rows(quotes):
            quoted.setdefault(quote["study_id"], []).append(quote)
    out = []
    for row in frame_rows(included):
        sid = row["study_id"]
        text = {k: decode_latex(str(row.get(k, "") or "")) for k in
                ("title", "venue", "year", "volume", "number", "publisher", "keywords",
                 "abstract")}
        reference = dict.fromkeys(REFERENCE_KEYS, "")
        reference.update({
            "ItemId": item_id(sid, row.get("bib_raw", "")), "Title": text["title"],
            "ParentTitle": text["venue"], "ShortTitle": row.get("citation", "") or sid,
            "Year": text["year"], "Volume": text["volume"], "Issue": text["number"],
            "Pages": str(row.get("pages", "") or "").replace("--", "-"),
            "DOI": row.get("doi", "") or "",
            "URL": row.get("url", "") or "", "Abstract": text["abstract"],
            "TypeName": TYPE_NAMES.get(str(row.get("entry_type", "")), "Generic"),
            "Publisher": text["publisher"], "Keywords": text["keywords"],
            "Authors": _authors(str(row.get("authors", ""))),
            "ParentAuthors": _authors(str(row.get("editor", ""))),
            "Comments": " ".join(str(row.get("summary", "") or "").split()),
            "ItemStatus": "I", "ItemStatusTooltip": "Included in review",
            "QuickCitation": row.get("citation", "") or sid, "OldItemId": sid})
        codes = []
        for domain in human.get(sid, []):
            codes.append(_coded(stable_id(DOMAINS_SET, labels[domain]), ""))
        for item in codebook.fields:
            value = str(row.get(item.id, "") or "").strip()
            if not value:
                continue
            name = field_set_name(item)
            if item.type == "multi":
                codes += [_coded(stable_id(name, v.strip()), "") for v in value.split(";")
                          if v.strip()]
            elif item.type in ("choice", "yes-no"):
                codes.append(_coded(stable_id(name, value), ""))
            else:
                codes.append(_coded(stable_id(name, "value (in AdditionalText)"), value))
        for quote in quoted.get(sid, []):
            attribute = _quoted_code(quote["code"], codebook)
            coded = next((c for c in codes if c["AttributeId"] == attribute), None)
            if coded is None:
                coded = _coded(attribute, "")
                codes.append(coded)
            if quote["document"]:
                coded.setdefault("ItemAttributeFullTextDetails", []).append(
                    {"ItemDocumentId": 0, "Text": quote["text"],
                     "DocTitle": quote["document"], "IsFromPDF": True})
            else:
                coded["AdditionalText"] = "\n\n".join(
                    t for t in (coded["AdditionalText"], quote["text"]) if t)
        if sid not in human.index and sid in suggested:
            for domain, probability, band in suggested[sid]:
                codes.append(_coded(stable_id(SUGGESTIONS_SET, labels[domain]),
                                    f"probability {probability:.2f}; band {band}"))
        reference["Codes"] = codes
        reference["Outcomes"] = []
        out.append(reference)
    return out


def _quoted_code(code: str, codebook) -> int:
    """The AttributeId of a quote's code: a domain id, or ``field: value``."""
    for domain in codebook.domains:
        if code == domain.id:
            return stable_id(DOMAINS_SET, domain.label)
    field_id, _, value = code.partition(": ")
    for item in codebook.fields:
        if item.id == field_id:
            name = field_set_name(item)
            if item.type in ("number", "text"):
                return stable_id(name, "value (in AdditionalText)")
            return stable_id(name, value)
    return stable_id("trustreview quotes", code)


def _coded(attribute_id: int, text: str) -> dict:
    return {"AttributeId": attribute_id, "AdditionalText": text, "ArmId": 0, "ArmTitle": ""}


def eppi_json(included: pd.DataFrame, predictions: pd.DataFrame, codebook,
              quotes: pd.DataFrame | None = None) -> bytes:
    """The whole file, as UTF-8 bytes (keys in EPPI-Reviewer's order, two-space indents)."""
    data = {"CodeSets": code_sets(codebook),
            "References": references(included, predictions, codebook, quotes)}
    return json_bytes(data)


def json_bytes(data) -> bytes:
    """``json.dumps(data, ensure_ascii=False, indent=2)`` and a newline, as UTF-8: the same
    bytes (a test checks), written by orjson into one buffer. With an indent, the json
    module encodes in pure Python (15-20 s of the synthesis of 100,000 studies), and text
    decoded and a newline added would each copy the file (257 MB there) again. The file
    holds strings, whole numbers, lists and mappings only (no float, whose spelling
    differs: 1e-07 against 1e-7); a number orjson cannot write (past 64 bits) falls back to
    the json module."""
    try:
        return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
