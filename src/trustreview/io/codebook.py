"""The coding frame as data: domains with definitions and signal terms, plus allowed values.

Nothing else in the package names a domain: every domain list comes from a :class:`Codebook`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from trustreview.errors import InputError
from trustreview.base.text import single_spaced
from trustreview.schema import DECISIONS_COLUMNS, LINE, MADE_BY_VALIDATION, NO_DOMAIN, WEIGHTS

DEFAULT_COUNTRIES = ("England", "US", "Netherlands", "Sweden", "multi")
DEFAULT_DESIGNS = ("quantitative", "qualitative", "mixed", "review", "theory")
_ID = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True)
class Domain:
    """One domain of the codebook."""

    id: str
    label: str
    definition: str
    boundary_notes: str = ""
    signal_terms: tuple[str, ...] = ()
    leans_to: tuple["Lean", ...] = ()


@dataclass(frozen=True)
class Lean:
    """A boundary of the codebook as data: studies about ``terms`` lean away from the domain
    that lists it, to the domain ``to`` (empty: to no particular domain)."""

    to: str
    terms: tuple[str, ...]


STAGES = ("title-abstract", "full-text", "not-retrieved")  # where a study is excluded
FIELD_TYPES = ("choice", "multi", "yes-no", "number", "text")
BUILT_IN = ("country", "design", "weight")  # fields the package has tables of its own for


@dataclass(frozen=True)
class ExtractionField:
    """A question the review asks of each study: ``type`` is one of :data:`FIELD_TYPES`
    (``choice``: one of ``values``; ``multi``: any of them, joined by ``; ``; ``yes-no``;
    ``number``, within ``minimum``-``maximum``, tabulated in ``bins``; ``text``);
    ``required`` for included studies."""

    id: str
    label: str
    type: str
    values: tuple[str, ...] = ()
    definition: str = ""
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    bins: tuple[float, ...] = ()

    @property
    def allowed(self) -> tuple[str, ...]:
        return ("yes", "no") if self.type == "yes-no" else self.values


@dataclass(frozen=True)
class ExclusionReason:
    """A reason to exclude a study and the stage of screening it is given at (PRISMA 2020:
    records excluded on title and abstract, reports not retrieved, reports excluded after
    the full text)."""

    id: str
    stage: str = STAGES[0]
    label: str = ""


@dataclass(frozen=True)
class Codebook:
    """The domains, in codebook order, the allowed countries and designs, and the
    weight-of-evidence levels, highest first (each empty when the codebook's ``fields:``
    leave that field out)."""

    domains: tuple[Domain, ...]
    name: str = ""
    countries: tuple[str, ...] = DEFAULT_COUNTRIES
    designs: tuple[str, ...] = DEFAULT_DESIGNS
    weights: tuple[str, ...] = field(default=WEIGHTS)
    exclusion_reasons: tuple[ExclusionReason, ...] = ()
    extraction: tuple[ExtractionField, ...] = ()  # the codebook's own fields, if it lists any
    kept_columns: tuple[str, ...] = ()  # studies.csv columns that are not fields, kept as they are
    screening_scope: str = ""  # `screening: scope:` the inclusion criteria in words

    @cached_property  # read per study in validation: made once
    def fields(self) -> tuple[ExtractionField, ...]:
        """Every field a study is coded on: the codebook's ``fields:``, or without them
        country, design and weight (choice fields of the countries, designs and weights)."""
        if self.extraction:
            return self.extraction
        return (ExtractionField("country", "Country", "choice", self.countries,
                                required=True),
                ExtractionField("design", "Design", "choice", self.designs, required=True),
                ExtractionField("weight", "Weight of evidence", "choice", self.weights,
                                required=True))

    @cached_property
    def _field_ids(self) -> frozenset[str]:
        return frozenset(item.id for item in self.fields)

    def has(self, field_id: str) -> bool:
        """Whether studies are coded on ``field_id`` (a codebook may drop country, design or
        weight by leaving them out of its ``fields:``); asked three times per study in
        validation."""
        return field_id in self._field_ids

    def coded(self, *field_ids: str) -> list[str]:
        """Those of ``field_ids`` the codebook codes, in the given order."""
        return [field_id for field_id in field_ids if self.has(field_id)]

    @property
    def study_columns(self) -> tuple[str, ...]:
        """The columns of the studies table for this codebook, in order: the key, country
        and design where coded, sample, summary, the screening decision, weight where coded,
        then the codebook's further fields."""
        return ("study_id", *self.coded("country", "design"), "sample", "summary", "included",
                "exclusion_reason", *self.coded("weight"), *(f.id for f in self.extra_fields))

    @property
    def decision_columns(self) -> tuple[str, ...]:
        """The columns of ``decisions.csv``: the corpus's, then this codebook's further
        fields."""
        return (*DECISIONS_COLUMNS, *(f.id for f in self.extra_fields))

    @property
    def extra_fields(self) -> tuple[ExtractionField, ...]:
        """The fields beyond country, design and weight."""
        return tuple(f for f in self.fields if f.id not in BUILT_IN)

    def field(self, field_id: str) -> ExtractionField:
        for item in self.fields:
            if item.id == field_id:
                return item
        raise KeyError(field_id)

    def stage(self, reason: str) -> str:
        """The screening stage of an exclusion reason (a reason the codebook does not list
        is a title-and-abstract exclusion)."""
        for known in self.exclusion_reasons:
            if known.id == reason:
                return known.stage
        return STAGES[0]

    @property
    def domain_ids(self) -> list[str]:
        return [domain.id for domain in self.domains]

    def label(self, domain_id: str) -> str:
        for domain in self.domains:
            if domain.id == domain_id:
                return domain.label
        raise KeyError(domain_id)


def _text(value: Any, where: str, source: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return single_spaced(value)
    raise InputError(f"{source}: {where} must be text, found {type(value).__name__}; "
                     "write it as a plain string")


def _string_list(value: Any, where: str, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InputError(f"{source}: {where} must be a list, found {type(value).__name__}; "
                         "write it as [a, b, c] or as '- item' lines")
    return tuple(_text(item, where, source) for item in value if _text(item, where, source))


def _leans(value: Any, domain_id: str, source: str) -> tuple[Lean, ...]:
    where = f"domain {domain_id!r} field 'leans_to'"
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InputError(f"{source}: {where} must be a list of 'to:' and 'terms:' entries")
    leans = []
    for item in value:
        if not isinstance(item, dict) or "terms" not in item:
            raise InputError(f"{source}: {where}: each entry needs 'terms:' (a list) and may "
                             "name the domain the study leans 'to:'")
        terms = _string_list(item.get("terms"), f"{where} 'terms'", source)
        if terms:
            leans.append(Lean(_text(item.get("to"), f"{where} 'to'", source), terms))
    return tuple(leans)


def parse_codebook(data: Any, source: str = "codebook.yml") -> Codebook:
    """Build a :class:`Codebook` from parsed YAML, checking its structure.

    Raises
    ------
    InputError
        Naming the file, the domain and the field, when the structure is wrong.
    """
    if not isinstance(data, dict) or not isinstance(data.get("domains"), list):
        raise InputError(f"{source}: expected a mapping with a 'domains:' list; see "
                         "corpus/README.md for the codebook format")
    if not data["domains"]:
        raise InputError(f"{source}: field 'domains' is empty; list at least one domain")
    domains: list[Domain] = []
    seen: set[str] = set()
    for position, item in enumerate(data["domains"], start=1):
        where = f"domain #{position}"
        if not isinstance(item, dict):
            raise InputError(f"{source}: {where} must be a mapping with id, label, definition")
        domain_id = _text(item.get("id"), f"{where} field 'id'", source)
        if not _ID.match(domain_id) or domain_id == NO_DOMAIN:
            raise InputError(
                f"{source}: {where} field 'id' is {domain_id!r}; use lower-case letters, digits, "
                f"'_' or '-', starting with a letter (and not the reserved {NO_DOMAIN!r})")
        if domain_id in seen:
            raise InputError(f"{source}: domain {domain_id!r} field 'id' appears twice; "
                             "give each domain a unique id")
        seen.add(domain_id)
        label = _text(item.get("label"), f"domain {domain_id!r} field 'label'", source)
        definition = _text(item.get("definition"), f"domain {domain_id!r} field 'definition'",
                           source)
        if not label or not definition:
            missing = "label" if not label else "definition"
            raise InputError(f"{source}: domain {domain_id!r} field {missing!r} is empty; "
                             "write one")
        domains.append(Domain(
            id=domain_id,
            label=label,
            definition=definition,
            boundary_notes=_text(item.get("boundary_notes"),
                                 f"domain {domain_id!r} field 'boundary_notes'", source),
            signal_terms=_string_list(item.get("signal_terms"),
                                      f"domain {domain_id!r} field 'signal_terms'", source),
            leans_to=_leans(item.get("leans_to"), domain_id, source),
        ))
    ids = {d.id for d in domains}
    for domain in domains:
        for lean in domain.leans_to:
            if lean.to and (lean.to not in ids or lean.to == domain.id):
                raise InputError(f"{source}: domain {domain.id!r} field 'leans_to' names "
                                 f"{lean.to!r}, which is not another domain of the codebook; "
                                 f"use one of {', '.join(sorted(ids - {domain.id}))} (or "
                                 "leave 'to' out)")
    extraction = _fields(data.get("fields"), source)
    given = {f.id: f.values for f in extraction}
    countries = given.get("country") or _string_list(data.get("countries"),
                                                     "field 'countries'", source)
    designs = given.get("design") or _string_list(data.get("designs"), "field 'designs'", source)
    weights = given.get("weight") or _string_list(data.get("weights"), "field 'weights'", source)
    for name in BUILT_IN:
        if name in given and next(f for f in extraction if f.id == name).type != "choice":
            raise InputError(f"{source}: field {name!r} must be a choice field (its tables "
                             "and filters read one value per study); give it type: choice, "
                             f"or call a field of another type by another id")
    dropped = {name for name in BUILT_IN if extraction and name not in given}
    if len(set(weights)) != len(weights):
        raise InputError(f"{source}: field 'weights' lists a level twice; list each "
                         "weight-of-evidence level once, highest first")
    kept = _string_list(data.get("kept_columns"), "field 'kept_columns'", source)
    for name, where in [*((f.id, "fields") for f in extraction),
                        *((k, "kept_columns") for k in kept)]:
        if name in (*MADE_BY_VALIDATION, LINE):
            raise InputError(f"{source}: {where} names {name!r}, a column trustreview makes for "
                             "each study (from its reference entry, its screening or the line "
                             "it is read from); call the column something else")
    screening = data.get("screening") or {}
    if not isinstance(screening, dict):
        raise InputError(f"{source}: field 'screening' must be a mapping (scope: the "
                         "inclusion criteria in words)")
    return Codebook(
        screening_scope=_text(screening.get("scope"), "field 'screening' 'scope'", source),
        kept_columns=kept,
        extraction=extraction,
        exclusion_reasons=_reasons(data.get("exclusion_reasons"), source),
        domains=tuple(domains),
        name=_text(data.get("name"), "field 'name'", source),
        countries=() if "country" in dropped else countries or DEFAULT_COUNTRIES,
        designs=() if "design" in dropped else designs or DEFAULT_DESIGNS,
        weights=() if "weight" in dropped else weights or WEIGHTS,
    )


def _reasons(value: Any, source: str) -> tuple[ExclusionReason, ...]:
    """``exclusion_reasons:``: a list of ids, or of mappings with ``id``, ``stage`` (one of
    :data:`STAGES`) and ``label``."""
    where = "field 'exclusion_reasons'"
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InputError(f"{source}: {where} must be a list of reasons (an id each, or id: "
                         "and stage: lines)")
    reasons, seen = [], set()
    for position, item in enumerate(value, start=1):
        item = item if isinstance(item, dict) else {"id": item}
        reason = _text(item.get("id"), f"{where} #{position} 'id'", source)
        stage = _text(item.get("stage"), f"{where} #{position} 'stage'", source) or STAGES[0]
        if not reason:
            raise InputError(f"{source}: {where} #{position} has no id; give each reason an id")
        if stage not in STAGES:
            raise InputError(f"{source}: {where} {reason!r} has stage {stage!r}; use one of "
                             f"{', '.join(STAGES)}")
        if reason in seen:
            raise InputError(f"{source}: {where} lists {reason!r} twice; list each reason once")
        seen.add(reason)
        reasons.append(ExclusionReason(reason, stage, _text(item.get("label"),
                                                            f"{where} {reason!r} 'label'",
                                                            source)))
    return tuple(reasons)


def _number(value: Any, where: str, source: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{source}: {where} must be a number, found {value!r}")
    return float(value)


def _fields(value: Any, source: str) -> tuple[ExtractionField, ...]:
    """``fields:``: a list of mappings with ``id``, ``label``, ``type`` and, by type,
    ``values``, ``min``, ``max``, ``bins``; ``definition`` and ``required`` optional."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise InputError(f"{source}: field 'fields' must be a list of fields (id:, label:, "
                         "type: ...)")
    found, seen = [], set()
    for position, item in enumerate(value, start=1):
        where = f"fields #{position}"
        if not isinstance(item, dict):
            raise InputError(f"{source}: {where} must be a mapping with id, label and type")
        field_id = _text(item.get("id"), f"{where} 'id'", source)
        if not _ID.match(field_id):
            raise InputError(f"{source}: {where} 'id' is {field_id!r}; use lower-case letters, "
                             "digits, '_' or '-', starting with a letter")
        if field_id in seen:
            raise InputError(f"{source}: field {field_id!r} is listed twice; list each once")
        seen.add(field_id)
        where = f"field {field_id!r}"
        kind = _text(item.get("type"), f"{where} 'type'", source)
        if kind not in FIELD_TYPES:
            raise InputError(f"{source}: {where} has type {kind!r}; use one of "
                             f"{', '.join(FIELD_TYPES)}")
        values = _string_list(item.get("values"), f"{where} 'values'", source)
        if kind in ("choice", "multi") and not values:
            raise InputError(f"{source}: {where} is a {kind} field with no 'values'; list "
                             "the values it may take")
        if len(set(values)) != len(values):
            raise InputError(f"{source}: {where} lists a value twice; list each once")
        required = item.get("required", False)
        if not isinstance(required, bool):
            raise InputError(f"{source}: {where} 'required' must be true or false")
        bins = tuple(_number(b, f"{where} 'bins'", source) for b in item.get("bins") or ())
        found.append(ExtractionField(
            field_id, _text(item.get("label"), f"{where} 'label'", source) or field_id, kind,
            values, _text(item.get("definition"), f"{where} 'definition'", source), required,
            _number(item.get("min"), f"{where} 'min'", source),
            _number(item.get("max"), f"{where} 'max'", source), tuple(sorted(bins))))
    return tuple(found)
