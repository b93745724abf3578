"""The run parameters: one list that the notebooks' parameters cells, the CLI and the defaults
share (a test checks every notebook's parameters cell against it).

Paths are relative to the notebooks' folder, where the kernel runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trustreview.errors import ParameterError


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "str", "int", "float", "bool", "list", "float?" (a float or None)
    default: Any
    help: str


PARAMS: tuple[Param, ...] = (
    Param("corpus_dir", "str", "../corpus", "folder with studies.csv, codes.csv, codebook.yml"),
    Param("bib_path", "str", "../references.bib", "the BibTeX file, one entry per study"),
    Param("out_dir", "str", "../outputs", "where tables, figures and exports are written"),
    Param("seed", "int", 0, "random seed of every cross-validation split and model"),
    Param("cv_folds", "int", 5, "folds of the tagger's cross-validation"),
    Param("cv_repeats", "int", 3, "repeats of the tagger's cross-validation"),
    Param("human_codes_only", "bool", False,
          "synthesise from reconciled human codes only (studies without codes get none)"),
    Param("tag_threshold", "float?", None,
          "probability above which the model tags a domain (None: per-domain thresholds "
          "chosen by cross-validation)"),
    Param("min_domains", "int", 1,
          "every included study gets at least this many domains from the model (its "
          "best-scoring ones); 0 lets the model tag a study with none"),
    Param("countries", "list", [], "restrict the synthesis to these countries ([]: all)"),
    Param("domains", "list", [], "restrict the synthesis to these domains ([]: all)"),
    Param("min_weight", "str", "low", "lowest weight of evidence included (low, medium, high)"),
)
BY_NAME = {param.name: param for param in PARAMS}
DEFAULTS = {param.name: param.default for param in PARAMS}


def _convert(param: Param, value: Any) -> Any:
    kind = param.kind
    if isinstance(value, str):
        text = value.strip()
        if kind == "str":
            return value
        if kind == "int":
            if text.lstrip("-").isdigit():
                return int(text)
        elif kind in ("float", "float?"):
            if kind == "float?" and text.lower() in ("none", "null", ""):
                return None
            try:
                return float(text)
            except ValueError:
                pass
        elif kind == "bool":
            if text.lower() in ("true", "yes", "1"):
                return True
            if text.lower() in ("false", "no", "0"):
                return False
        elif kind == "list":
            return [item.strip() for item in text.split(",") if item.strip()]
    else:
        if kind == "str" and isinstance(value, str):
            return value
        if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind in ("float", "float?") and isinstance(value, (int, float)) \
                and not isinstance(value, bool):
            return float(value)
        if kind == "float?" and value is None:
            return None
        if kind == "bool" and isinstance(value, bool):
            return value
        if kind == "list" and isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
    expected = {"str": "text", "int": "a whole number", "float": "a number",
                "float?": "a number or none", "bool": "true or false",
                "list": "a comma-separated list"}[kind]
    raise ParameterError(f"parameter {param.name!r}: {value!r} is not {expected}; e.g. "
                         f"-p {param.name} {_example(param)}")


def _example(param: Param) -> str:
    return {"str": "text", "int": "3", "float": "0.5", "float?": "0.5", "bool": "true",
            "list": "England,US"}[param.kind]


def resolve_params(given: dict[str, Any]) -> dict[str, Any]:
    """Check names and convert values (strings from the command line are parsed).

    Returns only the given parameters, converted. Raises :class:`ParameterError` for an
    unknown name (listing the valid ones) or a value of the wrong type.
    """
    resolved = {}
    for name, value in given.items():
        if name not in BY_NAME:
            valid = ", ".join(sorted(BY_NAME))
            raise ParameterError(f"unknown parameter {name!r}; valid parameters: {valid}")
        resolved[name] = _convert(BY_NAME[name], value)
    if "min_weight" in resolved and resolved["min_weight"] not in ("low", "medium", "high"):
        raise ParameterError(f"parameter 'min_weight': {resolved['min_weight']!r} is not one "
                             "of low, medium, high")
    for name in ("cv_folds", "cv_repeats"):
        if name in resolved and resolved[name] < (2 if name == "cv_folds" else 1):
            raise ParameterError(f"parameter {name!r}: {resolved[name]} is too small; use at "
                                 f"least {2 if name == 'cv_folds' else 1}")
    if resolved.get("min_domains", 0) < 0:
        raise ParameterError(f"parameter 'min_domains': {resolved['min_domains']} is negative; "
                             "use 0 or more")
    if resolved.get("tag_threshold") is not None and not 0 < resolved["tag_threshold"] < 1:
        raise ParameterError("parameter 'tag_threshold': use a number between 0 and 1, or none")
    return resolved
