"""Exports: the workbook equals the CSVs, hostile text stays inert, the HTML report is safe
and renders in a real headless browser."""

import io
import math
import os
import shutil
import subprocess

import pandas as pd
import pytest
from openpyxl import load_workbook

from trustreview import export, figures, report, synthesis
from trustreview.evaluation import tag_studies
from trustreview.validate import open_corpus

HOSTILE = '=HYPERLINK("http://example.invalid","click") <script>alert(1)</script>'


@pytest.fixture
def hostile_outputs(tiny, tmp_path):
    corpus_dir, bib = tiny
    studies = corpus_dir / "studies.csv"
    frame = pd.read_csv(studies, dtype=str, keep_default_na=False)
    frame.loc[frame["study_id"] == "torres2016workload", "summary"] = HOSTILE
    frame.loc[frame["study_id"] == "torres2016workload", "sample"] = "+1 @me -x"
    frame.to_csv(studies, index=False)
    corpus = open_corpus(corpus_dir, bib)
    tagged = tag_studies(corpus, seed=0)
    data = synthesis.select_for_synthesis(corpus, tagged.predictions)
    tables = synthesis.build_synthesis_tables(data)
    out = tmp_path / "out"
    export.write_synthesis(tables, out)
    flow = synthesis.compute_screening_flow(corpus, tagged.predictions)
    gap = export.figure_bytes(figures.plot_evidence_gap_map(data), "png")
    page = report.build_review_report(tables, flow, gap,
                                      export.figure_bytes(figures.plot_screening_flow(flow),
                                                          "png"), data.filters)
    export.write_text(page, out / "report.html")
    return out, tables


def test_workbook_equals_csvs(hostile_outputs):
    out, tables = hostile_outputs
    workbook = load_workbook(out / "synthesis.xlsx")
    for name in tables:
        sheet = workbook[name[:31]]
        assert sheet.freeze_panes == "A2"
        assert sheet["A1"].font.bold
        rows = list(sheet.iter_rows(values_only=True))
        from_xlsx = pd.DataFrame(rows[1:], columns=rows[0]).fillna("")
        from_csv = pd.read_csv(out / "tables" / f"{name}.csv", dtype=str,
                               keep_default_na=False)
        assert list(from_xlsx.columns) == list(from_csv.columns)
        assert len(from_xlsx) == len(from_csv)
        for column in from_csv.columns:
            for xlsx_value, csv_value in zip(from_xlsx[column], from_csv[column]):
                if isinstance(xlsx_value, (int, float)) and not isinstance(xlsx_value, bool):
                    assert float(csv_value) == pytest.approx(xlsx_value, abs=5e-5)
                else:
                    assert str(xlsx_value) == csv_value


def test_hostile_text_is_inert_in_the_workbook(hostile_outputs):
    out, _ = hostile_outputs
    workbook = load_workbook(out / "synthesis.xlsx")
    sheet = workbook["evidence_workforce"]
    cells = [c for row in sheet.iter_rows() for c in row if c.value == HOSTILE]
    assert cells and all(c.data_type == "s" for c in cells)
    formulas = [c for ws in workbook for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    assert formulas == []


def test_hostile_text_is_escaped_in_html(hostile_outputs):
    out, _ = hostile_outputs
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "src=\"http" not in html and "href=\"http" not in html
    assert "default-src 'none'" in html


def test_markdown_escapes_pipes():
    text = export.markdown_table(pd.DataFrame({"a": ["x|y"], "b": [1.5]}))
    assert "x\\|y" in text and "1.5000" in text


def test_figures_are_byte_stable(hostile_outputs):
    out, tables = hostile_outputs
    fig = figures.plot_learning_curve(pd.DataFrame({"n_coded": [0, 5], "macro_f1": [0.3, 0.5],
                                                    "micro_f1": [0.4, 0.6]}))
    assert export.figure_bytes(fig, "png") == export.figure_bytes(fig, "png")
    assert export.figure_bytes(fig, "svg") == export.figure_bytes(fig, "svg")


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_in_headless_browser(hostile_outputs, tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it with apt")
        pytest.skip("chromium not installed (CI installs it)")
    out, _ = hostile_outputs
    page = (out / "report.html").resolve()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    shot = tmp_path / "shot.png"
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'id="table-domain-by-country"' in dom.stdout
    assert 'alt="Evidence gap map"' in dom.stdout
    assert "<script>alert(1)</script>" not in dom.stdout
    console_errors = [line for line in dom.stderr.splitlines()
                      if "CONSOLE" in line and ("ERROR" in line or "error" in line)]
    assert console_errors == []
    blocked = [line for line in dom.stderr.splitlines() if "Refused to" in line]
    assert blocked == []  # nothing tried to load from elsewhere
    run = subprocess.run([browser, *flags, f"--screenshot={shot}", "--window-size=1200,1600",
                          page.as_uri()], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    from PIL import Image

    image = Image.open(shot).convert("L")
    low, high = image.getextrema()
    assert high - low > 100  # not a blank page
    histogram = image.histogram()
    assert sum(histogram[:128]) > 1000  # plenty of dark pixels: text and the gap map


def test_long_tables_continue_on_further_sheets(monkeypatch):
    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 4)
    frame = pd.DataFrame({"study_id": [f"s{i}" for i in range(10)]})
    workbook = load_workbook(io.BytesIO(export.workbook_bytes({"evidence_civic": frame})))
    assert workbook.sheetnames == ["evidence_civic", "evidence_civic~2", "evidence_civic~3"]
    values = [v for ws in workbook for (v,) in ws.iter_rows(min_row=2, values_only=True)]
    assert values == frame["study_id"].tolist()


def test_gap_map_counts_stay_inside_their_cells(bundled):
    # the bundled corpus: its largest cells (15 studies) used to print into the next cell
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    data = synthesis.select_for_synthesis(bundled, tag_studies(bundled, seed=0).predictions)
    figure = figures.plot_evidence_gap_map(data)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = figure.axes[0]
    counts = [t for t in ax.texts if t.get_text().isdigit()]
    table = synthesis.domain_by_country(data).set_index("domain").loc[data.domains]
    cells = table[[c for c in table.columns if c != "total"]]
    assert len(counts) == int((cells.to_numpy() > 0).sum())  # one per non-empty cell
    to_data = ax.transData.inverted()
    for text in counts:
        (x0, y0), (x1, y1) = to_data.transform(text.get_window_extent(renderer).get_points())
        column, row = text.get_position()
        cell_x, cell_y = math.floor(column + 0.5), math.floor(row + 0.5)
        assert cell_x - 0.5 <= min(x0, x1) and max(x0, x1) <= cell_x + 0.5, text.get_text()
        assert cell_y - 0.5 <= min(y0, y1) and max(y0, y1) <= cell_y + 0.5, text.get_text()
