"""A user's own files in the output folder are never deleted: the files the earlier run
wrote (its manifest lists them) are replaced, anything else is carried into the new folder
untouched, left out of the new manifest, and named on the terminal. (The end-to-end run
with an interrupted run between is in test_interrupt.py, beside its complete run.)"""

import json
import os

from trustreview.io.files import atomic_write
from trustreview.run import outputs


def earlier_run(out, files):
    """A complete output folder as a run leaves it: the marker, the files, a manifest
    listing them."""
    out.mkdir()
    atomic_write(out / outputs.MARKER, b"x")
    for name in files:
        atomic_write(out / name, f"old {name}".encode())
    manifest = {"tables": {n: "" for n in files if n.startswith("tables/")},
                "notebooks": {n.split("/")[1]: "" for n in files if n.startswith("notebooks/")},
                "other_outputs": [n for n in files if not n.startswith(("tables/",
                                                                        "notebooks/"))]}
    atomic_write(out / "manifest.json", json.dumps(manifest).encode())


def new_run(tmp_path, out, files):
    with outputs.staged_output(out, tmp_path / "corpus") as staging:
        for name in files:
            atomic_write(staging / name, f"new {name}".encode())
        atomic_write(staging / "manifest.json", b"{}")
    return staging


def test_publish_replaces_the_runs_files_and_carries_the_users(tmp_path):
    (tmp_path / "corpus").mkdir()
    out = tmp_path / "outputs"
    earlier_run(out, ["tables/a.csv", "tables/gone.csv", "report.html", "figures/map.png",
                      "notebooks/01-x.ipynb"])
    atomic_write(out / "my-notes.txt", b"mine")
    atomic_write(out / "drafts" / "chapter.docx", b"draft")
    atomic_write(out / "figures" / "my-sketch.png", b"sketch")
    os.utime(out / "my-notes.txt", (1_000_000_000, 1_000_000_000))
    os.symlink("my-notes.txt", out / "notes-link")
    staging = new_run(tmp_path, out, ["tables/a.csv", "report.html", "figures/map.png",
                                      "notebooks/01-x.ipynb"])
    kept = outputs.publish(staging, out)
    assert kept == ["drafts/chapter.docx", "figures/my-sketch.png", "my-notes.txt",
                    "notes-link"]
    assert (out / "my-notes.txt").read_bytes() == b"mine"
    assert (out / "my-notes.txt").stat().st_mtime == 1_000_000_000  # untouched
    assert (out / "drafts" / "chapter.docx").read_bytes() == b"draft"
    assert (out / "figures" / "my-sketch.png").read_bytes() == b"sketch"
    assert os.readlink(out / "notes-link") == "my-notes.txt"
    assert (out / "tables" / "a.csv").read_bytes() == b"new tables/a.csv"
    assert not (out / "tables" / "gone.csv").exists()  # the earlier run's, not written again
    assert not staging.exists() and not (tmp_path / "outputs.old").exists()


def test_without_a_manifest_only_what_the_new_run_writes_is_replaced(tmp_path):
    (tmp_path / "corpus").mkdir()
    out = tmp_path / "outputs"
    out.mkdir()
    atomic_write(out / outputs.MARKER, b"x")
    atomic_write(out / "tables" / "a.csv", b"from a notebook run")
    atomic_write(out / "notes.md", b"mine")
    kept = outputs.publish(new_run(tmp_path, out, ["tables/a.csv"]), out)
    assert kept == ["notes.md"] and (out / "notes.md").read_bytes() == b"mine"
    assert (out / "tables" / "a.csv").read_bytes() == b"new tables/a.csv"
