"""The run's settings: one typed, frozen :class:`Params` whose field names are the names used
everywhere: the notebooks' ``parameters`` cells, ``trustreview run -p NAME VALUE``, papermill
``-p``/``-y``, the library's keyword arguments and the manifest.

Values arrive as text from the command line and papermill ``-p`` (``-p countries
England,US``), or typed from YAML (``countries: [England, US]``); :meth:`Params.from_values`
accepts both spellings and refuses an unknown name or a value of the wrong type at once.
:meth:`Params.check` checks the values that depend on the corpus (countries and domains
against the codebook), before any stage runs.

The paths (``corpus_dir``, ``bib_path``, ``out_dir``) are not settings of the analysis: they
are the notebooks' other parameters, see :data:`PATH_DEFAULTS`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

from trustreview.errors import ParameterError, did_you_mean

# The notebooks' path parameters and their defaults, relative to the notebooks' folder.
PATH_DEFAULTS = {"corpus_dir": "../corpus", "bib_path": "../references.bib",
                 "out_dir": "../outputs"}


@dataclass(frozen=True)
class Params:
    """Every setting of a run. Build it with :meth:`from_values` to parse and check values."""

    seed: int = 0
    cv_folds: int = 5
    cv_repeats: int = 3
    tag_threshold: float | None = None
    min_domains: int = 1
    human_codes_only: bool = False
    countries: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    min_weight: str = ""  # empty: every weight (the codebook's lowest level)
    by: tuple[str, ...] = ()
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()  # field -> values a study must have
    map_columns: str = ""  # the gap map's columns: a field (default: country)
    map_slices: str = ""  # the gap map's slices: a field (default: weight)

    def __post_init__(self) -> None:
        for name in ("cv_folds", "cv_repeats", "min_domains"):
            least = {"cv_folds": 2, "cv_repeats": 1, "min_domains": 0}[name]
            if getattr(self, name) < least:
                raise ParameterError(f"parameter {name!r}: {getattr(self, name)} is too small; "
                                     f"use {least} or more")
        if self.tag_threshold is not None and not 0 < self.tag_threshold < 1:
            raise ParameterError(f"parameter 'tag_threshold': {self.tag_threshold} is not "
                                 "between 0 and 1; give a number between 0 and 1, or none")

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_values(cls, values: Mapping[str, Any] | None = None, **more: Any) -> "Params":
        """Parse settings given as text (command line, papermill ``-p``) or typed (YAML,
        Python). Raises :class:`ParameterError` naming the setting, the value and the fix."""
        given = {**(values or {}), **more}
        known = cls.names()
        parsed = {}
        for name, value in given.items():
            if name not in known:
                valid = ", ".join(known)
                raise ParameterError(f"unknown parameter {name!r}"
                                     f"{did_you_mean(name, known)}; valid parameters: {valid}")
            parsed[name] = _convert(name, value)
        return cls(**parsed)

    def check(self, codebook) -> "Params":
        """Check countries, domains, fields and min_weight against the codebook; returns
        ``self``. Checked once: a second call with the same codebook returns at once."""
        if self.__dict__.get("_checked_for") is codebook:
            return self
        if self.countries and not codebook.has("country"):
            raise ParameterError("parameter 'countries': the codebook codes no country; leave "
                                 "countries out, or filter by a field of the codebook with "
                                 "where")
        for name, allowed in (("countries", codebook.countries),
                              ("domains", codebook.domain_ids)):
            unknown = [v for v in getattr(self, name) if v not in allowed]
            if unknown:
                hint = did_you_mean(unknown[0], allowed)
                raise ParameterError(
                    f"parameter {name!r}: {', '.join(map(repr, unknown))} not in the "
                    f"codebook{hint}; allowed: {', '.join(allowed)}")
        tabled = [f.id for f in codebook.fields if f.type != "text"]
        unknown = [v for v in self.by if v not in tabled]
        if unknown:
            raise ParameterError(
                f"parameter 'by': {', '.join(map(repr, unknown))} is not a field of the "
                f"codebook to table by{did_you_mean(unknown[0], tabled)}; allowed: "
                f"{', '.join(tabled)}")
        fields = {f.id: f for f in codebook.fields}
        mappable = [f for f, i in fields.items() if i.type in ("choice", "multi", "yes-no")]
        for field_id, values in self.where:
            item = fields.get(field_id)
            if field_id not in mappable:
                raise ParameterError(f"parameter 'where': {field_id!r} is not a choice, multi "
                                     f"or yes-no field of the codebook"
                                     f"{did_you_mean(field_id, mappable)}; allowed: "
                                     f"{', '.join(mappable)}")
            unknown = [v for v in values if v not in item.allowed]
            if unknown or not values:
                raise ParameterError(f"parameter 'where': {field_id} "
                                     f"{', '.join(map(repr, unknown)) or 'has no value'}; "
                                     f"allowed: {', '.join(item.allowed)}"
                                     f"{did_you_mean(unknown[0], item.allowed) if unknown else ''}")
        for name in ("map_columns", "map_slices"):
            value = getattr(self, name)
            if value and value not in mappable:
                raise ParameterError(f"parameter {name!r}: {value!r} is not a choice, multi or "
                                     f"yes-no field of the codebook"
                                     f"{did_you_mean(value, mappable)}; allowed: "
                                     f"{', '.join(mappable)}")
        levels = list(reversed(codebook.weights))  # lowest first, as min_weight reads
        if self.min_weight and not levels:
            raise ParameterError(f"parameter 'min_weight': {self.min_weight!r}, but the "
                                 "codebook codes no weight of evidence; leave min_weight out")
        if self.min_weight and self.min_weight not in levels:
            raise ParameterError(f"parameter 'min_weight': {self.min_weight!r} is not one of "
                                 f"the codebook's weights, {', '.join(levels)}"
                                 f"{did_you_mean(self.min_weight, levels)}")
        object.__setattr__(self, "_checked_for", codebook)  # not a field: not compared
        return self

    def as_dict(self) -> dict[str, Any]:
        """Plain values (lists, not tuples; ``where`` a mapping of lists), in field order:
        for the manifest and the notebooks' parameters."""
        values = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        values["where"] = {field_id: list(vs) for field_id, vs in self.where}
        return values

    def tagging(self) -> dict[str, Any]:
        """The keyword arguments of the tagging functions."""
        return {"seed": self.seed, "cv_folds": self.cv_folds,
                "tag_threshold": self.tag_threshold, "min_domains": self.min_domains}


# how each setting is parsed, from its type in Params (the one place the types are written)
KIND_OF_TYPE = {"int": "int", "float | None": "float?", "bool": "bool", "tuple[str, ...]": "list",
                "str": "str", "tuple[tuple[str, tuple[str, ...]], ...]": "mapping"}
KINDS = {f.name: KIND_OF_TYPE[f.type] for f in fields(Params)}
EXAMPLES = {"int": "3", "float?": "0.5", "bool": "true", "list": "England,US", "str": "text",
            "mapping": "'phase: primary, secondary; group_type: charter network'"}
EXPECTED = {"int": "a whole number", "float?": "a number or none", "bool": "true or false",
            "list": "a list (comma-separated, or a YAML list)", "str": "text",
            "mapping": "field: values (fields separated by ';', values by ','; or a YAML "
                       "mapping of lists)"}


def _convert(name: str, value: Any) -> Any:
    kind = KINDS[name]
    if isinstance(value, str):
        text = value.strip()
        if kind == "str":
            return text
        if kind == "int" and text.lstrip("-").isdigit():
            return int(text)
        if kind == "float?":
            if text.lower() in ("none", "null", ""):
                return None
            try:
                return float(text)
            except ValueError:
                pass
        if kind == "bool" and text.lower() in ("true", "yes", "1", "false", "no", "0"):
            return text.lower() in ("true", "yes", "1")
        if kind == "list":
            text = text.strip("[]")
            return tuple(item.strip().strip("'\"") for item in text.split(",") if item.strip())
        if kind == "mapping":
            pairs = []
            for part in (p for p in text.strip("{}").split(";") if p.strip()):
                field_id, colon, values = part.partition(":")
                if not colon:
                    break
                pairs.append((field_id.strip(), tuple(v.strip().strip("'\"") for v in
                                                      values.strip(" []").split(",")
                                                      if v.strip())))
            else:
                return tuple(pairs)
    elif kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    elif kind == "float?" and (value is None or isinstance(value, (int, float))
                               and not isinstance(value, bool)):
        return None if value is None else float(value)
    elif kind == "bool" and isinstance(value, bool):
        return value
    elif kind == "list" and isinstance(value, (list, tuple)) \
            and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value)
    elif kind == "mapping" and isinstance(value, dict):
        return tuple((str(k), tuple(str(v).strip() for v in (vs if isinstance(vs, list)
                                                              else [vs])))
                     for k, vs in value.items())
    elif kind == "mapping" and isinstance(value, (list, tuple)) and all(
            isinstance(v, (list, tuple)) and len(v) == 2 for v in value):
        return tuple((str(k), tuple(vs)) for k, vs in value)
    raise ParameterError(f"parameter {name!r}: {value!r} is not {EXPECTED[kind]}; e.g. "
                         f"-p {name} {EXAMPLES[kind]}")
