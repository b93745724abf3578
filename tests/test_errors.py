"""Every user mistake gets one plain message with the fix and a non-zero exit, no traceback;
--debug shows the traceback. YAML is loaded safely."""

import errno
from pathlib import Path

import pytest

from trustreview.errors import InputError


def assert_plain(code, err, *needles):
    assert code == 1
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


def test_missing_bib_file(tiny, cli, tmp_path):
    corpus, _ = tiny
    code, _, err = cli("validate", "--corpus", corpus, "--bib", tmp_path / "missing.bib")
    assert_plain(code, err, "missing.bib", "file not found")


def test_folder_given_for_a_file(tiny, cli):
    corpus, _ = tiny
    code, _, err = cli("validate", "--corpus", corpus, "--bib", corpus)
    assert_plain(code, err, "is a folder, expected a file")


def test_unreadable_file(tiny, cli, monkeypatch):
    corpus, bib = tiny
    real = Path.read_bytes

    def refuse(self):
        if self.name == "studies.csv":
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    code, _, err = cli("validate", "--corpus", corpus, "--bib", bib)
    assert_plain(code, err, "studies.csv", "cannot be read", "Permission denied")


def test_full_disk_on_output(tiny, cli, tmp_path, monkeypatch):
    corpus, bib = tiny

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("trustreview.io.export.os.fsync", no_space)
    out = tmp_path / "tags.csv"
    code, _, err = cli("tag", "--corpus", corpus, "--bib", bib, "--out", out)
    assert_plain(code, err, "tags.csv", "disk is full")
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))


def test_wrong_parameter_type(tiny, cli, tmp_path):
    corpus, bib = tiny
    for name, value, expected in (("cv_folds", "abc", "a whole number"),
                                  ("human_codes_only", "maybe", "true or false"),
                                  ("min_weight", "strong", "low, medium, high"),
                                  ("min_domains", "-1", "use 0 or more")):
        code, _, err = cli("run", "--corpus", corpus, "--bib", bib, "--out", tmp_path / "o",
                           "-p", name, value)
        assert_plain(code, err, name, expected)


def test_missing_params_file(tiny, cli, tmp_path):
    corpus, bib = tiny
    code, _, err = cli("run", "--corpus", corpus, "--bib", bib, "--out", tmp_path / "o",
                       "--params", tmp_path / "p.yaml")
    assert_plain(code, err, "p.yaml", "parameters file not found")


def test_debug_shows_the_traceback(cli, tmp_path):
    with pytest.raises(InputError):
        cli("--debug", "validate", "--corpus", tmp_path / "none", "--bib", tmp_path / "x.bib")


def test_yaml_is_loaded_safely(tiny, cli, tmp_path):
    corpus, bib = tiny
    marker = tmp_path / "pwned"
    (corpus / "codebook.yml").write_text(
        f"!!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    code, _, err = cli("validate", "--corpus", corpus, "--bib", bib)
    assert_plain(code, err, "codebook.yml", "not valid YAML")
    assert not marker.exists()


def test_output_inside_corpus_is_refused(tiny, cli):
    corpus, bib = tiny
    code, _, err = cli("run", "--corpus", corpus, "--bib", bib, "--out", corpus / "out")
    assert_plain(code, err, "overlaps the corpus folder")
    assert not (corpus / "out").exists()


def test_output_that_is_a_file_is_refused(tiny, cli, tmp_path):
    corpus, bib = tiny
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    code, _, err = cli("run", "--corpus", corpus, "--bib", bib, "--out", target)
    assert_plain(code, err, "is not a folder")
    assert target.read_text() == "keep me"
