"""Screening with the model: the relevance ranking, the Excel round trip, the screener's
decisions on disk, the simulation file, and the stopping test's arithmetic. The records are
this project's own: titles and abstracts about groups of schools (relevant) and about
hospital care (not)."""

from __future__ import annotations

import math
import random
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trustreview.model.relevance import EXCLUDED, INCLUDED, UNKNOWN, RelevanceModel
from trustreview.screening import stopping

RELEVANT = ["multi-academy trust", "academy chain", "school board", "charter network",
            "trust governance", "school improvement", "trust leaders", "executive headteacher",
            "local authority schools", "pupil attainment across schools"]
OTHER = ["hospital patients", "nursing care", "cardiac surgery", "blood pressure",
         "drug trial", "intensive care", "dementia", "stroke rehabilitation"]


def search_file(folder: Path, n: int = 60, every: int = 4) -> Path:
    """A RIS search of ``n`` records, every ``every``-th about groups of schools."""
    rng = random.Random(1)
    lines = []
    for i in range(n):
        words = RELEVANT if i % every == 0 else OTHER
        title = " ".join(rng.sample(words, 3)).capitalize() + f" study {i}"
        abstract = f"We examine {', '.join(rng.sample(words, 4))} over {i % 7 + 2} years."
        lines.append(f"TY  - JOUR\nID  - rec{i:03d}\nAU  - Writer{i}, A.\nTI  - {title}\n"
                     f"PY  - 2020\nT2  - Journal {i % 5}\nAB  - {abstract}\nER  - \n")
    path = folder / "search.ris"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def relevant(study_id: str, every: int = 4) -> bool:
    return int(study_id[3:]) % every == 0


@pytest.fixture
def review(tmp_path, cli):
    code, _, err = cli("new", tmp_path / "rev", "--from", search_file(tmp_path),
                       "--date", "2026-01-01")
    assert code == 0, err
    return tmp_path / "rev"


def fill(path: Path, decide) -> None:
    """Fill a screening sheet as a person would in Excel: decide(study_id) gives (included,
    reason) or None to leave the row."""
    import openpyxl
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["coding"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        decision = decide(row[0].value)
        if decision:
            row[header.index("included")].value = decision[0]
            row[header.index("exclusion_reason")].value = decision[1]
    workbook.save(path)


def sheet_ids(path: Path) -> list[str]:
    import openpyxl
    rows = openpyxl.load_workbook(path)["coding"].iter_rows(min_row=2, values_only=True)
    return [r[0] for r in rows if r[0]]


def truth(sid):
    return ("yes", None) if relevant(sid) else ("no", "out-of-scope-topic")


# -- the model ------------------------------------------------------------------------------
def test_includes_rank_above_excludes_once_the_model_has_learnt():
    texts = [f"{' '.join(RELEVANT[i % 5: i % 5 + 4])} case {i}" if i % 3 == 0 else
             f"{' '.join(OTHER[i % 4: i % 4 + 4])} case {i}" for i in range(60)]
    labels = np.full(60, UNKNOWN)
    labels[[0, 3]] = INCLUDED
    labels[[1, 2]] = EXCLUDED
    for name in ("logistic", "svm", "nb", "ensemble"):
        scores = RelevanceModel(model=name).fit_texts(texts).scores(labels)
        waiting = [i for i in range(60) if labels[i] == UNKNOWN]
        top = sorted(waiting, key=lambda i: -scores[i])[:18]
        assert all(i % 3 == 0 for i in top), name  # every relevant record first
    again = RelevanceModel().fit_texts(texts).scores(labels)
    assert np.array_equal(again, RelevanceModel().fit_texts(texts).scores(labels))


def test_the_cold_start_ranks_by_the_scope():
    texts = ["hospital patients nursing care"] * 5 + ["charter network school board"] * 5
    model = RelevanceModel(scope="charter networks and school boards governing schools")
    scores = model.fit_texts(texts).scores(np.full(10, UNKNOWN))
    assert scores[5:].min() > scores[:5].max()
    raising, _ = model.terms(7, np.full(10, UNKNOWN))
    assert "charter" in raising or "board" in raising


# -- Excel ----------------------------------------------------------------------------------
def test_the_sheet_round_trip(review, cli):
    corpus = review / "corpus"
    first = review / "s1.xlsx"
    code, _, err = cli("sheet", "--screen", "--coder", "A", "--batch", "10", "--out", first,
                       cwd=review)
    assert code == 0, err and "10 record(s) for A" in err
    assert sum(relevant(s) for s in sheet_ids(first)) >= 8  # the scope found them first
    fill(first, truth)
    code, out, err = cli("merge", first, cwd=review)
    assert code == 0, err
    decisions = pd.read_csv(corpus / "decisions.csv", dtype=str, keep_default_na=False)
    assert list(decisions.columns)[-1] == "sequence"
    by_order = decisions.sort_values("sequence", key=lambda s: s.astype(int))
    assert by_order["study_id"].tolist() == sheet_ids(first)  # in the sheet's order
    assert sorted(decisions["sequence"].astype(int)) == list(range(1, 11))
    studies = pd.read_csv(corpus / "studies.csv", dtype=str, keep_default_na=False)
    excluded = studies[studies["included"] == "no"]
    assert set(excluded["study_id"]) == {s for s in sheet_ids(first) if not relevant(s)}
    assert (excluded["exclusion_reason"] == "out-of-scope-topic").all()
    # merging it again changes nothing
    before = (corpus / "decisions.csv").read_bytes()
    code, out, err = cli("merge", first, cwd=review)
    assert code == 0 and (corpus / "decisions.csv").read_bytes() == before
    # the next sheet: none of those again, ranked with what was merged
    second = review / "s2.xlsx"
    code, _, err = cli("sheet", "--screen", "--coder", "A", "--batch", "20", "--out", second,
                       cwd=review)
    assert code == 0, err
    assert not set(sheet_ids(second)) & set(sheet_ids(first))
    left = [s for s in sheet_ids(second)]
    assert all(relevant(s) for s in left[:5]) and not any(relevant(s) for s in left[-5:])
    # the other coder screens blind: A's decisions neither shown nor counted
    blind = review / "b.xlsx"
    code, _, err = cli("sheet", "--screen", "--coder", "B", "--out", blind, cwd=review)
    assert code == 0 and "60 awaiting B, 0 decided" in err
    # the validation still passes: an inclusion waits for its coding sheet
    code, _, err = cli("validate", cwd=review)
    assert code == 0, err


def test_a_wrong_row_names_sheet_row_column_and_fix(review, cli):
    sheet = review / "s.xlsx"
    cli("sheet", "--screen", "--coder", "A", "--batch", "5", "--out", sheet, cwd=review)
    ids = sheet_ids(sheet)
    fill(sheet, lambda sid: ("no", None) if sid == ids[2] else
         ("maybe", None) if sid == ids[3] else truth(sid))
    before = (review / "corpus" / "studies.csv").read_bytes()
    code, _, err = cli("merge", sheet, cwd=review)
    assert code == 1
    assert "row 4, column 'exclusion_reason': an excluded record needs a reason" in err
    assert "row 5, column 'included': included is not yes or no" in err and "fix:" in err
    assert (review / "corpus" / "studies.csv").read_bytes() == before
    assert not (review / "corpus" / "decisions.csv").exists()


def test_a_screened_inclusion_goes_on_to_the_coding_sheet(review, cli):
    sheet = review / "s.xlsx"
    cli("sheet", "--screen", "--coder", "A", "--batch", "8", "--out", sheet, cwd=review)
    fill(sheet, truth)
    assert cli("merge", sheet, cwd=review)[0] == 0
    coding = review / "c.xlsx"
    code, _, err = cli("sheet", "--coder", "A", "--out", coding, cwd=review)
    assert code == 0, err
    listed = set(sheet_ids(coding))
    screened = sheet_ids(sheet)
    assert {s for s in screened if relevant(s)} <= listed
    assert not {s for s in screened if not relevant(s)} & listed


# -- JupyterLab -----------------------------------------------------------------------------
def test_the_screener_writes_each_decision_at_once(review):
    from trustreview.screening.screener import Screener
    screener = Screener(review / "corpus", review / "references.bib", "A")
    first = screener.current
    assert relevant(first)  # the scope's best
    second = screener.include("clearly about trusts")
    decisions = pd.read_csv(review / "corpus" / "decisions.csv", dtype=str,
                            keep_default_na=False)
    assert decisions[["study_id", "included", "sequence", "note"]].values.tolist() == \
        [[first, "yes", "1", "clearly about trusts"]]
    assert screener.skip() != second
    assert screener.back() == first  # the last decided
    screener.exclude("out-of-scope-topic")  # decided anew: replaced, same place
    decisions = pd.read_csv(review / "corpus" / "decisions.csv", dtype=str,
                            keep_default_na=False)
    assert decisions[["study_id", "included", "sequence"]].values.tolist() == \
        [[first, "no", "1"]]
    studies = pd.read_csv(review / "corpus" / "studies.csv", dtype=str, keep_default_na=False)
    assert studies.set_index("study_id").loc[first, "included"] == "no"
    from trustreview.errors import SheetError
    with pytest.raises(SheetError, match="needs a reason"):
        screener.exclude("")
    assert "<span" in screener.record_html() and "screened" in screener.progress_html()
    widget = screener.show()
    assert widget.children  # the buttons and the record, as ipywidgets


@pytest.mark.slow
def test_a_decision_survives_a_killed_kernel(review):
    script = (
        "import os, signal\n"
        "from trustreview.screening.screener import Screener\n"
        f"s = Screener({str(review / 'corpus')!r}, {str(review / 'references.bib')!r}, 'A')\n"
        "first = s.current\n"
        "s.include()\n"
        "print(first, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == -signal.SIGKILL
    first = done.stdout.split()[0]
    decisions = pd.read_csv(review / "corpus" / "decisions.csv", dtype=str,
                            keep_default_na=False)
    assert decisions[["study_id", "coder", "included"]].values.tolist() == [[first, "A", "yes"]]
    assert not list((review / "corpus").glob(".*merging*"))


# -- simulation -----------------------------------------------------------------------------
def finished(review: Path) -> None:
    studies = pd.read_csv(review / "corpus" / "studies.csv", dtype=str, keep_default_na=False)
    studies["included"] = ["yes" if relevant(s) else "no" for s in studies["study_id"]]
    studies["exclusion_reason"] = ["" if relevant(s) else "out-of-scope-topic"
                                   for s in studies["study_id"]]
    studies.to_csv(review / "corpus" / "studies.csv", index=False)


def test_the_simulation_file_holds_every_study_once_priors_first(review, cli):
    finished(review)
    out = review / "sim.csv"
    code, printed, err = cli("simulate", "--prior-included", "2", "--prior-excluded", "3",
                             "--seed", "4", "--out", out, cwd=review)
    assert code == 0, err
    order = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(order.columns) == ["rank", "study_id", "included", "batch", "stop"]
    studies = pd.read_csv(review / "corpus" / "studies.csv", dtype=str)
    assert sorted(order["study_id"]) == sorted(studies["study_id"])
    assert order["rank"].tolist() == [str(n) for n in range(1, 61)]
    priors = order[order["batch"] == "0"]
    assert len(priors) == 5 and order.index[order["batch"] == "0"].tolist() == list(range(5))
    assert sorted(priors["included"]) == ["no", "no", "no", "yes", "yes"]
    assert (order["stop"] == "yes").sum() <= 1
    assert all(relevant(s) == (i == "yes") for s, i in zip(order["study_id"],
                                                            order["included"]))
    found = order["included"].eq("yes").cumsum()
    assert found.iat[14 + 5] == 15  # every included record found first
    assert "WSS@95" in printed and "hypergeometric (recommended)" in printed
    assert (review / "sim.png").read_bytes()[:4] == b"\x89PNG"
    again = review / "again.csv"
    cli("simulate", "--prior-included", "2", "--prior-excluded", "3", "--seed", "4",
        "--out", again, cwd=review)
    assert again.read_bytes() == out.read_bytes()


def test_simulate_refuses_an_unfinished_review(review, cli):
    code, _, err = cli("simulate", "--out", review / "sim.csv", cwd=review)
    assert code == 1 and "corpus/studies.csv:2, study 'rec000', field 'included'" in err


@pytest.mark.slow
def test_a_run_says_whether_screening_may_stop(review, cli):
    from trustreview.screening.screener import Screener
    screener = Screener(review / "corpus", review / "references.bib", "A")
    while screener.current is not None:
        sid = screener.current
        if relevant(sid):
            screener.include()
        else:
            screener.exclude("out-of-scope-topic")
    progress = screener.progress()
    assert progress["screened"] == 60 and progress["included"] == 15
    code, _, err = cli("run", "--out", review / "out", cwd=review)
    assert code == 0, err
    table = pd.read_csv(review / "out" / "tables" / "screening_progress.csv", dtype=str,
                        keep_default_na=False)
    assert table["screened"].tolist() == [str(n) for n in range(1, 61)]
    page = (review / "out" / "report.html").read_text(encoding="utf-8")
    assert "Screening: can we stop?" in page and "you may stop" in page
    assert (review / "out" / "figures" / "screening_progress.png").exists()


# -- when to stop ---------------------------------------------------------------------------
def naive_p(decisions, total, target=0.95):
    """Callaghan & Müller-Hansen's p-value, every sample size tried, from scipy."""
    from scipy.stats import hypergeom
    found, n = sum(decisions), len(decisions)
    best = 1.0
    for k in range(1, n + 1):
        in_sample = sum(decisions[n - k:])
        urn = k + total - n
        least = min(math.floor(found / target) + 1 - (found - in_sample), urn)
        best = min(best, hypergeom.cdf(in_sample, urn, least, k))
    return best


@pytest.mark.parametrize("decisions, total", [
    ([1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], 40),
    ([1] * 10 + [0] * 10, 100),
    ([1, 0] * 8 + [0] * 4, 500),
    ([0, 0, 1], 3),
])
def test_the_stopping_test_is_scipys_hypergeometric_tail(decisions, total):
    assert stopping.hypergeometric_p(decisions, total) == pytest.approx(
        naive_p(decisions, total), rel=1e-9)


def test_the_tail_by_hand():
    # 10 found, then 10 exclusions, 90 records left: were recall below 0.95, at least
    # floor(10 / 0.95) + 1 - 10 = 1 included record would be among the last 10 screened
    # and the 90 left; the chance that 10 draws from those 100 miss it is C(99,10)/C(100,10)
    by_hand = math.comb(99, 10) / math.comb(100, 10)
    from scipy.stats import hypergeom
    assert hypergeom.cdf(0, 100, 1, 10) == pytest.approx(by_hand) == pytest.approx(0.9)
    assert stopping.hypergeometric_p([1] * 10 + [0] * 10, 110) <= by_hand


def test_the_rules_stop_late_enough_and_never_early():
    long_run = [1] * 30 + [0] * 600
    stops = stopping.first_stops(long_run, 700)  # 70 records left at the end
    assert stops["hypergeometric"] is not None and 30 < stops["hypergeometric"] <= 630
    assert stops["in_a_row"] == 30 + stopping.in_a_row_needed(700)
    assert stops["knee"] is not None and stops["knee"] >= stopping.KNEE_MIN_SCREENED
    # the same 630 decisions with 4,370 records still unscreened: too few to be sure
    assert stopping.first_stops(long_run, 5000)["hypergeometric"] is None
    assert stopping.first_stops([1, 0, 0, 0], 5000) == {r: None for r in stopping.RULES}
    assert not stopping.hypergeometric_test([0] * 50, 100)  # nothing found: never stop
