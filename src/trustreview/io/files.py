"""Files at the edges: paths as the user gave them, reading checked text files, and the one
way every file is written (a temporary file, then a rename)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from trustreview.errors import InputError, OutputError


def display_path(path: str | os.PathLike) -> str:
    """A path as the user gave it, relative to the working directory when it is below it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{display_path(path)}: file not found; check the path "
                         "(--corpus and --bib; corpus_dir and bib_path in a notebook)")
    if path.is_dir():
        raise InputError(f"{display_path(path)}: is a folder, expected a file; give the "
                         "path of the file itself")
    if not os.access(path, os.R_OK):
        raise InputError(f"{display_path(path)}: cannot be read (permission denied); "
                         "make it readable (chmod +r)")


def read_text(path: Path, source: str) -> str:
    """The decoded contents of a checked file; an OS error becomes an :class:`InputError`."""
    check_file(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{source}: cannot be read ({error.strerror or error}); check that the "
                         "file is readable and not locked by another program") from None
    return decode_text(data, source)


def decode_text(data: bytes, source: str) -> str:
    """Decode UTF-8 (a BOM is dropped, CRLF line endings become LF).

    Raises
    ------
    InputError
        When the bytes are not UTF-8, naming the line and the encoding to save as.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        guess = ""
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            guess = " (it looks like UTF-16)"
        else:
            try:
                data.decode("cp1252")
                guess = " (it looks like Windows-1252 / Latin-1)"
            except UnicodeDecodeError:
                pass
        raise InputError(
            f"{source}:{line}: the file is not UTF-8{guess}: byte 0x{data[error.start]:02x} "
            "cannot be decoded; save it as UTF-8 (in Excel: 'CSV UTF-8 (Comma delimited)')"
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError(f"{source}:{line}: the file contains NUL bytes, so it is not a text "
                         "table; save it as UTF-8 CSV")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def sha256_file(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, read in blocks (``hashlib.file_digest``)."""
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as error:  # Ctrl-C included: never leave a half-written temp file
        tmp.unlink(missing_ok=True)
        if not isinstance(error, OSError):
            raise
        if error.errno == errno.ENOSPC:
            raise OutputError(f"{path}: the disk is full; free some space or choose another "
                              "--out folder") from None
        raise OutputError(f"{path}: cannot be written ({error.strerror}); check the folder's "
                          "permissions or choose another --out folder") from None


def replace_files(contents: dict[Path, bytes]) -> list[Path]:
    """Write several files together: each is written to a temporary file first, and only
    when all are written are they renamed into place. Files whose bytes are unchanged are
    left alone. Returns the files written."""
    changed = {path: data for path, data in contents.items()
               if not (path.exists() and path.read_bytes() == data)}
    temps = {}
    try:
        for path, data in changed.items():
            temp = path.with_name(f".{path.name}.merging")
            atomic_write(temp, data)
            temps[path] = temp
    except BaseException:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
        raise
    for path, temp in temps.items():
        os.replace(temp, path)
    return sorted(changed)
