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

from conftest import make_corpus
from trustreview.io import export, files, workbook
from trustreview.synthesis import figures
from trustreview.synthesis import report
from trustreview.synthesis import tables as synthesis
from trustreview.synthesis import word
from trustreview.model.evaluation import tag_studies
from trustreview.corpus.validate import open_corpus

HOSTILE = '=HYPERLINK("http://example.invalid","click") <script>alert(1)</script>'


@pytest.fixture(scope="session")
def hostile_outputs(tmp_path_factory):
    """The synthesis of a corpus with hostile text, written once per test run (tests only
    read it)."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    corpus_dir, bib = make_corpus(tmp_path)
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
    flow_png = export.figure_bytes(figures.plot_screening_flow(flow), "png")
    page = report.build_review_report(data, tables, flow, gap, flow_png)
    export.write_text(page, out / "report.html")
    files.atomic_write(out / "report.docx", word.report_docx(data, tables, flow, gap,
                                                              flow_png))
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


def test_rows_read_from_column_lists_are_the_rows_itertuples_gives():
    # markdown, the workbook, the report and Word read rows through frame_tuples
    from trustreview.base.frames import frame_rows, frame_tuples

    frame = pd.DataFrame({
        "text": pd.Series(["a", None, "=1+1", ""], dtype="str"),
        "count": [1, 2, 3, 4], "share": [0.5, float("nan"), 1e-9, -2.0],
        "flag": [True, False, True, False],
        "maybe": pd.array([1, None, 3, 4], dtype="Int64"),
        "when": pd.to_datetime(["2020-01-01", None, "2021-05-06", "2022-12-31"]),
        "objects": [["x"], None, {"k": 1}, 2]})
    expected = list(frame.itertuples(index=False, name=None))
    got = list(frame_tuples(frame))
    assert len(got) == len(expected) == 4

    def plain(value):  # missing as None, numpy scalars as the Python values they hold
        if not isinstance(value, (list, dict)) and pd.isna(value):
            return None
        return value.item() if hasattr(value, "item") and not isinstance(value, pd.Timestamp) \
            else value

    assert [[plain(v) for v in row] for row in got] == [[plain(v) for v in row]
                                                        for row in expected]
    assert all(type(v).__module__ != "numpy" for row in got for v in row)  # Python values
    assert [row["count"] for row in frame_rows(frame)] == [1, 2, 3, 4]
    assert list(frame_tuples(frame.iloc[:0])) == [] and list(frame_tuples(pd.DataFrame())) == []
    assert export.markdown_table(frame.iloc[:, :3]).splitlines()[2:] == [
        "| a | 1 | 0.5000 |", "|  | 2 |  |", "| =1+1 | 3 | 0.0000 |", "|  | 4 | -2.0000 |"]


def test_a_missing_value_is_an_empty_cell_in_every_export_as_in_the_csv():
    frame = pd.DataFrame({"n": pd.array([1, None], dtype="Int64"),
                          "s": pd.Series(["x", None], dtype="str"),
                          "f": [0.5, float("nan")],
                          "t": pd.to_datetime(["2020-01-02", None])})
    sheet = load_workbook(io.BytesIO(workbook.workbook_bytes({"t": frame})))["t"]
    assert [c.value for c in sheet[3]] == [None, None, None, None]
    assert export.table_csv(frame).decode().splitlines()[2] == ",,,"
    assert export.markdown_table(frame).splitlines()[3] == "|  |  |  |  |"
    html = "".join(report.html_table_parts(frame))
    assert "NA" not in html and "NaT" not in html
    assert [word._cell_text(v) for v in (pd.NA, pd.NaT, None, float("nan"))] == [""] * 4


def test_figures_are_byte_stable(hostile_outputs):
    out, tables = hostile_outputs
    fig = figures.plot_learning_curve(pd.DataFrame({"n_coded": [0, 5], "macro_f1": [0.3, 0.5],
                                                    "micro_f1": [0.4, 0.6]}))
    assert export.figure_bytes(fig, "png") == export.figure_bytes(fig, "png")
    assert export.figure_bytes(fig, "svg") == export.figure_bytes(fig, "svg")


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow  # starts the browser
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
    # every non-empty cell of the clickable gap map links to a list of exactly its studies
    import re as regex

    cells = pd.read_csv(out / "tables" / "gap_map_cells.csv", dtype=str)
    counts = cells.groupby(["domain", "country"]).size()
    by_country = pd.read_csv(out / "tables" / "domain_by_country.csv").set_index("domain")
    links = regex.findall(r'<td class="num"><a href="#(cell-[^"]+)">(\d+)</a></td>', dom.stdout)
    assert len(links) == len(counts) > 0
    for anchor, shown in links:
        block = regex.search(rf'<div class="cell" id="{anchor}">(.*?)</div>', dom.stdout,
                             regex.S)
        assert block, anchor
        assert block.group(1).count("<li>") == int(shown)
    assert sum(int(n) for _, n in links) == int(sum(
        by_country.loc[d, c] for d in by_country.index if d != "total"
        for c in by_country.columns if c != "total"))
    for domain in by_country.index.drop("total"):  # each evidence table links back
        assert f'href="#gap-row-{domain}"' in dom.stdout and f'id="gap-row-{domain}"' in \
            dom.stdout
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
    monkeypatch.setattr(workbook, "EXCEL_MAX_ROWS", 4)
    frame = pd.DataFrame({"study_id": [f"s{i}" for i in range(10)]})
    book = load_workbook(io.BytesIO(workbook.workbook_bytes({"evidence_civic": frame})))
    assert book.sheetnames == ["evidence_civic", "evidence_civic~2", "evidence_civic~3"]
    values = [v for ws in book for (v,) in ws.iter_rows(min_row=2, values_only=True)]
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


def test_report_docx_tables_headings_figures_and_italic_references(hostile_outputs):
    from docx import Document

    out, tables = hostile_outputs
    document = Document(out / "report.docx")
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    labels = {"governance": "Strategic governance", "civic": "Public benefit and civic duty"}
    for label in labels.values():
        assert label in headings and f"Evidence table: {label}" in headings
    assert "References" in headings
    # the domain-by-country table, cell for cell
    expected = pd.read_csv(out / "tables" / "domain_by_country.csv", dtype=str)
    found = None
    for table in document.tables:
        header = [c.text for c in table.rows[0].cells]
        if header == list(expected.columns):
            found = [[c.text for c in row.cells] for row in table.rows[1:]]
            break
    assert found == expected.values.tolist()
    for table in document.tables:  # header rows repeat on every page
        assert table.rows[0]._tr.xpath("./w:trPr/w:tblHeader")
    assert len(document.inline_shapes) == 2  # screening flow and gap map
    # italics where APA puts them: an article's journal and volume
    references = pd.read_csv(out / "tables" / "reference_list.csv", dtype=str)
    honingh = references.loc[references["study_id"] == "honingh2020boardsmatter",
                             "reference"].iloc[0]
    paragraph = next(p for p in document.paragraphs if p.text == honingh)
    italic = [r.text for r in paragraph.runs if r.italic]
    assert italic == ["Public Policy and Administration", "35"]
    assert paragraph.paragraph_format.first_line_indent < 0  # hanging indent
    report_title = next(p for p in document.paragraphs
                        if p.text.startswith("Ofsted. (2019). Multi-academy trusts"))
    assert [r.text for r in report_title.runs if r.italic][0].startswith("Multi-academy")


def test_hostile_text_is_inert_in_the_word_file(hostile_outputs):
    import zipfile

    from docx import Document

    out, _ = hostile_outputs
    document = Document(out / "report.docx")
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert any(HOSTILE in text for text in cells)  # shown as the text it is
    with zipfile.ZipFile(out / "report.docx") as archive:
        body = archive.read("word/document.xml").decode("utf-8")
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "w:fldSimple" not in body and "w:instrText" not in body  # no field, no link


def test_report_docx_is_the_same_bytes_twice(hostile_outputs):
    out, tables = hostile_outputs
    first = (out / "report.docx").read_bytes()
    corpus = open_corpus(out.parent / "corpus", out.parent / "references.bib")
    tagged = tag_studies(corpus, seed=0)
    data = synthesis.select_for_synthesis(corpus, tagged.predictions)
    tables = synthesis.build_synthesis_tables(data)
    flow = synthesis.compute_screening_flow(corpus, tagged.predictions)
    again = word.report_docx(data, tables, flow,
                             export.figure_bytes(figures.plot_evidence_gap_map(data), "png"),
                             export.figure_bytes(figures.plot_screening_flow(flow), "png"))
    assert again == first


def test_report_html_italics_and_filters_in_words(hostile_outputs):
    out, _ = hostile_outputs
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<i>Public Policy and Administration</i>, <i>35</i>(1)" in page
    assert "Filters: {" not in page and "every country, domain and weight" in page
    assert synthesis.describe_filters({"countries": ["US"], "min_weight": "high"}) == \
        "Filters: studies from the US only; high weight of evidence only."
    assert synthesis.describe_filters({"countries": ["England", "Sweden"],
                                       "min_weight": "medium", "domains": ["civic"],
                                       "human_codes_only": True}) == \
        ("Filters: studies from England and Sweden only; medium or high weight of evidence "
         "only; the domains civic only; human codes only (no model tags).")


def test_gap_map_cells_sheet_matches_the_counts(hostile_outputs):
    out, tables = hostile_outputs
    cells = tables["gap_map_cells"]
    assert list(cells.columns) == ["domain", "country", "study_id", "citation", "design",
                                   "weight"]
    counts = cells.groupby(["domain", "country"]).size()
    by_country = tables["domain_by_country"].set_index("domain")
    for (domain, country), n in counts.items():
        assert by_country.loc[domain, country] == n
    workbook = load_workbook(out / "synthesis.xlsx", read_only=True)
    rows = list(workbook["gap_map_cells"].iter_rows(values_only=True))
    assert len(rows) == len(cells) + 1


@pytest.mark.parametrize("filters", [{"countries": ["US"]}, {"domains": ["civic"]},
                                     {"countries": ["Sweden"], "domains": ["finance"]},
                                     {"min_weight": "high"}])
def test_gap_map_fits_any_selection_and_its_legend_only_weights_present(bundled, filters):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    data = synthesis.select_for_synthesis(bundled, tag_studies(bundled, seed=0).predictions,
                                          **filters)
    labels = {d.id: d.label for d in bundled.codebook.domains}
    figure = figures.plot_evidence_gap_map(data, labels)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    texts = [t for ax in figure.axes for t in [*ax.texts, *ax.get_xticklabels(),
                                                *ax.get_yticklabels()]]
    texts += [figure._suptitle, *[t for legend in figure.legends
                                  for t in [*legend.get_texts(), legend.get_title()]]]
    box = figure.bbox
    for text in texts:
        if text is None or not text.get_text():
            continue
        extent = text.get_window_extent(renderer)
        assert box.x0 - 0.5 <= extent.x0 and extent.x1 <= box.x1 + 0.5, text.get_text()
        assert box.y0 - 0.5 <= extent.y0 and extent.y1 <= box.y1 + 0.5, text.get_text()
    present = set(data.studies.merge(data.tags, on="study_id")["weight"])
    legend = {t.get_text().split()[0] for lg in figure.legends for t in lg.get_texts()}
    assert legend == present


def test_domain_profiles_numbers_come_from_the_tables(bundled):
    import re as regex

    data = synthesis.select_for_synthesis(bundled, tag_studies(bundled, seed=0).predictions)
    tables = synthesis.build_synthesis_tables(data)
    profiles = tables["domain_profiles"].set_index("domain")
    by_country = tables["domain_by_country"].set_index("domain")
    by_design = tables["domain_by_design"].set_index("domain")
    by_weight = tables["domain_by_weight"].set_index("domain")
    included = data.studies["study_id"].nunique()
    for domain in data.domains:
        text = profiles.loc[domain, "profile"]
        evidence = tables[f"evidence_{domain}"]
        n = len(evidence)
        assert text.startswith(f"{n} of the {included} included studies "
                               f"({100 * n / included:.0f}%)")
        for country in data.countries:
            shown = "more than one country" if country == "multi" else \
                {"US": "the US", "Netherlands": "the Netherlands"}.get(country, country)
            count = int((evidence["country"] == country).sum())
            assert count == by_country.loc[domain, country]
            if count:
                assert f"{shown} {count}" in text
        for design, count in by_design.loc[domain].drop("total").items():
            assert (f"{design} {count}" in text) == bool(count)
        for weight, count in by_weight.loc[domain].drop("total").items():
            assert (f"{weight} {count}" in text) == bool(count)
        years = sorted(int(y) for y in data.studies.loc[data.studies["study_id"].isin(
            evidence["study_id"]), "year"] if str(y).isdigit())
        assert f"between {years[0]} and {years[-1]}" in text
        fields = [tables[f"domain_by_{f}"].set_index("domain").loc[domain]
                  for f in ("group_type", "phase")]  # the bundled codebook's own fields
        for counts in fields:
            for value, count in counts.drop("total").items():
                assert (f"{value} {count}" in text) == bool(count), (domain, value)
        numbers = [int(x) for x in regex.findall(r"\d+", text)]
        assert all(x in {n, included, round(100 * n / included), *years,
                         *by_country.loc[domain], *by_design.loc[domain],
                         *by_weight.loc[domain], int(profiles.loc[domain, "undated"]),
                         *fields[0], *fields[1]}
                   for x in numbers)
    # a domain with no study from a country says so, by name
    only = synthesis.select_for_synthesis(bundled, tag_studies(bundled, seed=0).predictions,
                                          countries=["England", "Sweden"], min_weight="high")
    table = synthesis.build_synthesis_tables(only)
    counts = table["domain_by_country"].set_index("domain")
    for row in table["domain_profiles"].itertuples(index=False):
        missing = [c for c in ("England", "Sweden") if counts.loc[row.domain, c] == 0]
        if row.studies and len(missing) == 1:
            assert f"No study from {missing[0]} examined" in row.profile
