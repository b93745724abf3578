"""A large reference file is parsed again only where it changed, and the result is always
the whole-file parse's: same entries, same failed blocks and warnings, same lines."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from trustreview.io import bibcache, load

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def bib(tmp_path, monkeypatch):
    """The bundled references.bib in a temporary folder, large enough for a store, and a
    counter of the entries bibtexparser is given."""
    monkeypatch.setattr(bibcache, "MIN_ENTRIES", 20)
    monkeypatch.setenv("TRUSTREVIEW_CACHE", str(tmp_path / "stores"))
    path = tmp_path / "references.bib"
    path.write_text((REPO / "references.bib").read_text(encoding="utf-8"), encoding="utf-8")
    parsed = []
    library_columns = load._library_columns

    def counting(text, source, keep_duplicate_keys=False):
        parsed.append(text.count("\n@") + text.startswith("@"))
        return library_columns(text, source, keep_duplicate_keys)

    monkeypatch.setattr(load, "_library_columns", counting)
    return path, parsed


def whole_file(path: Path, monkeypatch) -> load.Bibliography:
    with monkeypatch.context() as m:
        m.setenv("TRUSTREVIEW_CACHE", "off")
        return load.read_bib(path)


def same(a: load.Bibliography, b: load.Bibliography) -> None:
    pd.testing.assert_frame_equal(a.entries, b.entries)
    assert (a.failed, a.warnings, a.strings) == (b.failed, b.warnings, b.strings)


def test_a_second_read_parses_nothing_and_gives_the_same_entries(bib, monkeypatch):
    path, parsed = bib
    expected = whole_file(path, monkeypatch)
    n = len(expected.entries)
    assert n > 100 and parsed == [n]
    same(load.read_bib(path), expected)  # the first read parses and keeps a store
    assert parsed == [n, n] and len(list((path.parent / "stores").iterdir())) == 1
    same(load.read_bib(path), expected)
    assert parsed == [n, n]  # the second read parsed no entry


def test_an_edited_and_a_longer_file_parse_only_what_changed(bib, monkeypatch):
    path, parsed = bib
    load.read_bib(path)
    text = path.read_text(encoding="utf-8")
    first = text.index("title = {") + len("title = {")
    text = text[:first] + "Edited: " + text[first:]  # one entry changed
    text += ("\n@article{added2026,\n  author = {Hutchings, Merryn},\n  title = {An entry "
             "added at the end},\n  journal = {A Journal},\n  year = {2026}\n}\n")
    path.write_text(text, encoding="utf-8")
    parsed.clear()
    got = load.read_bib(path)
    # the edited entry, the new one, and the entry before it (its piece now ends with the
    # blank line written before the new entry), together
    assert parsed == [3]
    same(got, whole_file(path, monkeypatch))
    assert got.entries["title"].iloc[0].startswith("Edited: ")
    assert got.entries["key"].iloc[-1] == "added2026"
    assert got.entries["line"].iloc[-1] == text[:text.index("@article{added2026")].count(
        "\n") + 1


@pytest.mark.parametrize("damage", [
    ("title = {", "title = {{"),  # unbalanced braces: a failed block, with its line
    ("duplicate key",),  # a copy of the first entry appended
])
def test_a_problem_in_a_changed_entry_is_reported_as_the_whole_file_reports_it(
        bib, monkeypatch, damage):
    path, _ = bib
    load.read_bib(path)
    text = path.read_text(encoding="utf-8")
    if len(damage) == 2:
        at = text.index(damage[0], len(text) // 2)
        text = text[:at] + damage[1] + text[at + len(damage[0]):]
    else:  # a copy of the first entry appended: a duplicate key
        start = text.index("@")
        text += "\n" + text[start:text.index("\n@", start)] + "\n"
    path.write_text(text, encoding="utf-8")
    got = load.read_bib(path)
    assert got.failed
    same(got, whole_file(path, monkeypatch))


def test_a_store_of_other_code_or_damaged_is_not_used(bib, monkeypatch):
    path, parsed = bib
    expected = whole_file(path, monkeypatch)
    n = len(expected.entries)
    load.read_bib(path)
    monkeypatch.setattr(bibcache, "_fingerprint", lambda: "another version")
    parsed.clear()
    same(load.read_bib(path), expected)
    assert parsed == [n]  # parsed again, and stored under the new fingerprint
    (store,) = (path.parent / "stores").iterdir()
    store.write_bytes(b"not a store")
    parsed.clear()
    same(load.read_bib(path), expected)
    assert parsed == [n]


def test_off_small_files_and_string_macros_keep_no_store(bib, monkeypatch, tmp_path):
    path, _ = bib
    stores = tmp_path / "stores"
    whole_file(path, monkeypatch)
    assert not stores.exists()  # TRUSTREVIEW_CACHE=off
    text = path.read_text(encoding="utf-8")
    with_macro = tmp_path / "macros.bib"
    with_macro.write_text("@string{dfe = {Department for Education}}\n" + text,
                          encoding="utf-8")
    load.read_bib(with_macro)
    assert not stores.exists()
    assert bibcache.has_string_block("  @STRING {x = {y}}") and \
        not bibcache.has_string_block("note = {see @string docs}")
    monkeypatch.setattr(bibcache, "MIN_ENTRIES", 10_000)
    load.read_bib(path)
    assert not stores.exists()


def test_only_the_most_recent_stores_are_kept(bib, monkeypatch, tmp_path):
    path, _ = bib
    monkeypatch.setattr(bibcache, "KEEP_STORES", 2)
    for i in range(4):
        copy = tmp_path / f"copy{i}.bib"
        copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        load.read_bib(copy)
    assert len(list((tmp_path / "stores").iterdir())) == 2


def test_new_keeps_the_store_of_the_references_it_writes(bib, tmp_path):
    from trustreview.searches.folder import new_review

    path, parsed = bib
    new_review(tmp_path / "review", [path], added="2026-01-01")
    made = tmp_path / "review" / "references.bib"
    assert len(list((tmp_path / "stores").iterdir())) == 1
    parsed.clear()
    entries = load.read_bib(made).entries
    assert parsed == [] and len(entries) > 100  # the review's first read parses nothing


def test_bibtexparsers_own_messages_never_reach_the_user(bib, monkeypatch, caplog):
    # a broken entry is reported once, by trustreview, with its line in the file; before,
    # bibtexparser's log line reached the terminal too (and, for a changed piece read from
    # the store, with a line counted from the start of the piece)
    import logging

    path, _ = bib
    load.read_bib(path)
    text = path.read_text(encoding="utf-8")
    at = text.index("title = {", len(text) // 2)
    path.write_text(text[:at] + "title = {{" + text[at + len("title = {"):], encoding="utf-8")
    with caplog.at_level(logging.DEBUG):
        got = load.read_bib(path)
        whole_file(path, monkeypatch)
    assert got.failed
    assert not [r for r in caplog.records if r.name.startswith("bibtexparser")]
