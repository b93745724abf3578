"""The package's exception types, and the "did you mean" every fix that lists allowed values
uses.

Every message says where the problem is (file, line or record, field), what was found, and how
to fix it. The CLI prints the message of a :class:`TrustreviewError` and exits non-zero, without
a traceback.
"""

from __future__ import annotations


class TrustreviewError(Exception):
    """Base class of every error trustreview raises on purpose."""


class InputError(TrustreviewError):
    """An input file cannot be read or has the wrong structure."""


class ValidationError(TrustreviewError):
    """The corpus has errors; ``issues`` lists every problem found (errors and warnings)."""

    def __init__(self, issues: list) -> None:
        self.issues = list(issues)
        errors = [issue for issue in self.issues if issue.severity == "error"]
        lines = [issue.format() for issue in errors]
        super().__init__(
            f"the corpus has {len(errors)} error(s); fix them and run again:\n" + "\n".join(lines)
        )


class SheetError(TrustreviewError):
    """A filled coding workbook has problems; ``problems`` lists every one."""

    def __init__(self, source: str, problems: list) -> None:
        self.problems = list(problems)
        lines = [problem.format() for problem in self.problems]
        super().__init__(f"{source}: {len(lines)} problem(s), so nothing was merged; fix "
                         "them in the workbook and merge again:\n" + "\n".join(lines))


class ParameterError(TrustreviewError):
    """A run parameter has an unknown name or a value of the wrong type."""


class RunError(TrustreviewError):
    """A notebook failed while the review was being run."""


class OutputError(TrustreviewError):
    """The output folder cannot be used or written."""


def did_you_mean(value: str, allowed) -> str:
    """`` (did you mean 'England'?)`` for a value close to an allowed one (another case,
    accents, or a typo: rapidfuzz's normalised similarity of at least 0.6 on the case-folded
    text), else ``""``. Used in every fix that names the allowed values."""
    from rapidfuzz import fuzz, process

    value = str(value).strip()
    if not value:
        return ""
    by_fold = {}
    for option in allowed:
        by_fold.setdefault(str(option).casefold(), option)
    if value.casefold() in by_fold:
        return f" (did you mean {by_fold[value.casefold()]!r}?)"
    best = process.extractOne(value.casefold(), list(by_fold), scorer=fuzz.ratio,
                              score_cutoff=60)
    return f" (did you mean {by_fold[best[0]]!r}?)" if best else ""
