"""Remembering parsed BibTeX entries between commands, so that a large reference file is
parsed again only where it changed.

bibtexparser reads about 5,000-10,000 entries a second here, so every command on a
100,000-study review spent 5-10 s reading ``references.bib`` again. :func:`read` cuts the
file at entry starts (as :func:`trustreview.io.load.parse_bib` does to read a large file
on several cores), looks each piece up by a digest of its text in a store kept for that
file, parses only the pieces the store lacks, and keeps the new store. The result is the
same as parsing the whole file (a test checks it): a piece is remembered only when it
parsed without a failed block or warning, a file with ``@string`` macros is never split,
and anything unusual (a key in two pieces, a block that fails) is left to the whole-file
parse, which reports it with its exact line.

The stores live in ``$TRUSTREVIEW_CACHE`` (default ``$XDG_CACHE_HOME/trustreview``, else
``~/.cache/trustreview``), one file per reference file (Python's ``marshal`` format:
written ten times faster than JSON, and read as plain lists and strings, never as objects
that run code), the most recently used :data:`KEEP_STORES` kept; ``TRUSTREVIEW_CACHE=off``
turns it off. A store made by another version of this code, of Python or of bibtexparser is
ignored. Nothing here enters an output.
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Callable

from trustreview.schema import BIB_COLUMNS, BIB_FIELDS

MIN_ENTRIES = 2_000  # below that a file parses in well under a second: not worth a store
KEEP_STORES = 16
ENTRY_START = re.compile(r"\n(?=@[A-Za-z]+\s*[{(])")
STRING_AT = re.compile(r"@[ \t]*string\b", re.IGNORECASE)
# the columns of a parse (see trustreview.io.load._library_columns) a store row keeps, after
# the entry's line within its piece and where its raw text starts and ends in the piece
FIELDS = ("key", "entry_type", *BIB_FIELDS)

Parsed = tuple  # (columns, failed, warnings, strings), as load._library_columns returns


def cache_dir() -> Path | None:
    """Where stores are kept; None when caching is off."""
    setting = os.environ.get("TRUSTREVIEW_CACHE")
    if setting is not None:
        return None if setting.strip().lower() in ("", "off", "0", "no") else Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "trustreview"


def applies(text: str) -> bool:
    """Whether a file is worth a store and may be read in pieces."""
    return cache_dir() is not None and text.count("\n@") >= MIN_ENTRIES and \
        not has_string_block(text)


def has_string_block(text: str) -> bool:
    """Whether a line of ``text`` starts an ``@string`` macro (a regular expression anchored
    at line starts took half a second on a 70 MB file; this looks at each ``@string``)."""
    for found in STRING_AT.finditer(text):
        start = text.rfind("\n", 0, found.start()) + 1
        if not text[start:found.start()].strip(" \t"):
            return True
    return False


def pieces(text: str) -> list[str]:
    """``text`` cut just before each line that starts an entry (the pieces joined are the
    text)."""
    cuts = [0, *(m.start() + 1 for m in ENTRY_START.finditer(text)), len(text)]
    return [text[a:b] for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


def read(text: str, path: Path, parse: Callable[[str], Parsed]) -> Parsed | None:
    """The parse of ``text`` (the contents of ``path``), reusing the pieces remembered for
    ``path`` and parsing the others with ``parse`` (together, in one text); None when the
    result must come from parsing the whole text instead (a changed piece has a problem,
    or a key is in two pieces)."""
    parts = pieces(text)
    digests = [hashlib.blake2b(p.encode("utf-8"), digest_size=16).hexdigest() for p in parts]
    store_path = _store_path(path)
    known = _load(store_path)
    missing = [i for i, d in enumerate(digests) if d not in known]
    rows_of = {d: known[d] for d in digests if d in known}
    if missing:
        batch = [parts[i] for i in missing]
        parsed = parse("".join(batch))
        found = _rows(parsed, batch)
        if found is None:  # a problem in a changed piece: the whole file says where
            return parsed if len(missing) == len(parts) else None
        rows_of.update({digests[i]: rows for i, rows in zip(missing, found)})
    if len(missing) == len(parts):  # nothing remembered: the parse is the whole file's
        columns = parsed[0]
    else:
        try:
            columns = _columns(parts, [rows_of[d] for d in digests])
        except (TypeError, ValueError):  # a store damaged by hand: parse the whole file
            return None
    if len(set(columns["key"])) != len(columns["key"]):
        return None  # a key in two pieces: BibTeX reports the second as a duplicate
    if missing:
        _save(store_path, {d: rows_of[d] for d in dict.fromkeys(digests)})
    else:
        _touch(store_path)
    return columns, [], [], ""


def _rows(parsed: Parsed, batch: list[str]) -> list[list] | None:
    """Each piece's store rows from the parse of the pieces joined; None when the parse
    failed somewhere, warned, or an entry cannot be placed in its piece."""
    columns, failed, warnings, strings = parsed
    if failed or warnings or strings:
        return None
    starts, line = [], 1  # the line each piece starts on in the joined text
    for piece in batch:
        starts.append(line)
        line += piece.count("\n")
    starts.append(line + 1)
    rows: list[list] = [[] for _ in batch]
    k = 0
    values = zip(*(columns[name] for name in FIELDS))
    for entry_line, raw, entry_values in zip(columns["line"], columns["raw"], values):
        while starts[k + 1] <= entry_line:  # entries come in the order of the text
            k += 1
        piece = batch[k]
        at = 0 if piece.startswith(raw) else piece.find(raw)
        if at < 0:
            return None
        rows[k].append((entry_line - starts[k], at, at + len(raw)) + entry_values)
    return rows


def _columns(parts: list[str], rows_per_part: list[list]) -> dict[str, list]:
    """The parse's columns from each piece's store rows (lines counted from the file's
    start, raw text cut from the piece)."""
    rows, where, line = [], [], 1
    for piece, piece_rows in zip(parts, rows_per_part):
        for row in piece_rows:
            rows.append(row)
            where.append((piece, line))
        line += piece.count("\n")
    if not rows:
        return {name: [] for name in BIB_COLUMNS}
    offsets, starts, ends, *values = map(list, zip(*rows))
    columns = dict(zip(FIELDS, values))
    if len(columns) != len(FIELDS):
        raise ValueError("a store row of another shape")
    columns["line"] = [first + offset for (_, first), offset in zip(where, offsets)]
    columns["raw"] = [piece[a:b] for (piece, _), a, b in zip(where, starts, ends)]
    return {name: columns[name] for name in BIB_COLUMNS}


@lru_cache(maxsize=1)  # asked when a store is read and again when it is written
def _fingerprint() -> str:
    """Changes whenever the parse could: this code, the reader's, bibtexparser's version."""
    import bibtexparser

    here = Path(__file__).parent
    digest = hashlib.blake2b(digest_size=12)
    for path in (here / "bibcache.py", here / "load.py", here.parent / "base" / "text.py"):
        digest.update(path.read_bytes())
    digest.update(f"{bibtexparser.__version__} {sys.version} {FIELDS}".encode())
    return digest.hexdigest()


def _store_path(path: Path) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    name = hashlib.blake2b(str(Path(path).resolve()).encode("utf-8"),
                           digest_size=12).hexdigest()
    return folder / f"bib-{name}.marshal"


def _load(store_path: Path | None) -> dict[str, list]:
    try:
        with open(store_path, "rb") as handle:  # type: ignore[arg-type]
            data = handle.read()
        collecting = gc.isenabled()
        gc.disable()  # a store is a million small objects: no cycles to look for (4x faster)
        try:
            fingerprint, known = marshal.loads(data)  # marshal.load(file): 4x slower
        finally:
            if collecting:
                gc.enable()
        if fingerprint == _fingerprint() and isinstance(known, dict):
            return known
    except (OSError, TypeError, ValueError, EOFError):
        pass  # no store yet, or one that cannot be used: parse
    return {}


def _save(store_path: Path | None, known: dict[str, list]) -> None:
    """Write the store atomically and keep only the most recent :data:`KEEP_STORES`; a cache
    that cannot be written is no error (the next command parses again)."""
    if store_path is None:
        return
    try:
        store_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = store_path.with_name(f".{store_path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(marshal.dumps((_fingerprint(), known)))
        os.replace(temporary, store_path)
        stores = sorted(store_path.parent.glob("bib-*.marshal"), key=lambda p: p.stat().st_mtime,
                        reverse=True)
        for old in stores[KEEP_STORES:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def _touch(store_path: Path | None) -> None:
    try:
        os.utime(store_path)  # type: ignore[arg-type]
    except (OSError, TypeError):
        pass
