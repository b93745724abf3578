"""The review's report as a Word document (python-docx), built from the synthesis tables.

Real Word tables (header row repeated on every page; wide tables in landscape sections),
the figures, the first draft of the findings by domain, per-domain evidence tables with
author-date citations and the APA 7 reference list with italics and hanging indents. Corpus
text goes in as text runs, never as fields or markup. Core properties are fixed and the
zip members dated 2000-01-01, so the same tables give the same bytes.
"""

from __future__ import annotations

import io
from datetime import datetime

import pandas as pd

FLOAT_FORMAT = "{:.1f}"
WIDE = 6  # tables with more columns than this go in a landscape section
EVIDENCE_COLUMNS = ["citation", "country", "design", "weight", "summary"]
EVIDENCE_WIDTHS = {"citation": 4.2, "country": 2.3, "design": 2.4, "weight": 1.7,
                   "summary": 15.0}  # cm, on a landscape A4 page less 4 cm of margins


def _cell_text(value) -> str:
    if isinstance(value, float):
        return FLOAT_FORMAT.format(value) if value == value else ""
    return str(value)


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def add_table(document, frame: pd.DataFrame, font_size: float = 8,
              widths: dict[str, float] | None = None) -> None:
    """A DataFrame as a Word table: bold header row repeated on every page, numbers
    right-aligned; ``widths`` sets columns' widths in cm."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    table = document.add_table(rows=1, cols=len(frame.columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, frame.columns):
        run = cell.paragraphs[0].add_run(str(name))
        run.bold = True
        run.font.size = Pt(font_size)
    _repeat_header(table.rows[0])
    for values in frame.itertuples(index=False):
        cells = table.add_row().cells
        for cell, value in zip(cells, values):
            paragraph = cell.paragraphs[0]
            run = paragraph.add_run(_cell_text(value))
            run.font.size = Pt(font_size)
            if isinstance(value, (int, float)) or hasattr(value, "dtype"):
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if widths:
        table.autofit = False
        for index, name in enumerate(frame.columns):
            if name in widths:  # the grid (LibreOffice reads it) and every cell (Word)
                table.columns[index].width = Cm(widths[name])
                for cell in table.columns[index].cells:
                    cell.width = Cm(widths[name])


def _section(document, landscape: bool) -> None:
    """Start a new section in the given orientation (page size swapped for landscape)."""
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Cm

    current = document.sections[-1]
    want = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    if current.orientation == want:
        return
    section = document.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = want
    short, long = sorted([current.page_width, current.page_height])
    section.page_width, section.page_height = (long, short) if landscape else (short, long)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2))


def _heading_table(document, heading: str, frame: pd.DataFrame, level: int = 2) -> None:
    if len(frame.columns) > WIDE:
        _section(document, landscape=True)
    document.add_heading(heading, level=level)
    add_table(document, frame)


def report_docx(data, tables: dict[str, pd.DataFrame], flow: pd.DataFrame,
                gap_map_png: bytes, flow_png: bytes) -> bytes:
    """The Word report's bytes (deterministic)."""
    from docx import Document
    from docx.shared import Cm, Inches, Pt

    from trustreview.citations import apa_runs
    from trustreview.export import fixed_zip
    from trustreview.report import _suffix
    from trustreview.synthesis import describe_filters

    document = Document()
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(document.sections[0], side, Cm(2))
    document.styles["Normal"].font.name = "Calibri"
    document.styles["Normal"].font.size = Pt(10.5)
    document.add_heading("Strong school trusts: evidence synthesis", level=0)
    n = int(tables["domain_by_country"].set_index("domain").loc["total", "total"])
    document.add_paragraph(
        f"This report synthesises {n} included stud{'y' if n == 1 else 'ies'} by the domains "
        "of a strong school trust. Counts are of studies; a study tagged with several "
        "domains counts in each. " + describe_filters(data.filters))
    document.add_heading("Screening", level=1)
    document.add_picture(io.BytesIO(flow_png), width=Inches(6))
    add_table(document, flow)
    document.add_heading("Evidence gap map", level=1)
    document.add_picture(io.BytesIO(gap_map_png), width=Inches(6.3))
    document.add_heading("Findings by domain (first draft, from the tables)", level=1)
    for row in tables["domain_profiles"].itertuples(index=False):
        document.add_heading(row.label, level=2)
        document.add_paragraph(row.profile)
    _section(document, landscape=True)  # the cross-tables are wide: a landscape section
    document.add_heading("Tables", level=1)
    for name, heading in (("domain_by_country", "Studies by domain and country"),
                          ("domain_by_design", "Studies by domain and design"),
                          ("domain_by_weight", "Studies by domain and weight of evidence"),
                          ("country_by_design", "Studies by country and design"),
                          ("domain_cooccurrence", "Domain co-occurrence"),
                          ("domain_by_period", "Studies by domain and five-year period")):
        _heading_table(document, heading, tables[name])
    labels = {d.id: d.label for d in data.codebook.domains}
    _section(document, landscape=True)
    document.add_heading("Evidence tables", level=1)
    for domain in data.domains:
        evidence = tables[f"evidence_{domain}"]
        document.add_heading(f"Evidence table: {labels.get(domain, domain)}", level=2)
        add_table(document, evidence[[c for c in EVIDENCE_COLUMNS if c in evidence.columns]],
                  widths=EVIDENCE_WIDTHS)
    _section(document, landscape=False)
    document.add_heading("References", level=1)
    rows = data.studies.set_index("study_id")
    for sid in tables["reference_list"]["study_id"]:
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.left_indent = Cm(1.27)
        paragraph.paragraph_format.first_line_indent = Cm(-1.27)  # hanging indent
        for text, italic in apa_runs(rows.loc[sid].to_dict(), _suffix(rows.loc[sid,
                                                                               "citation"])):
            run = paragraph.add_run(text)
            run.italic = italic or None
    properties = document.core_properties
    stamp = datetime(2000, 1, 1)
    properties.author = "trustreview"
    properties.last_modified_by = "trustreview"
    properties.title = "Strong school trusts: evidence synthesis"
    properties.created = stamp
    properties.modified = stamp
    properties.revision = 1
    raw = io.BytesIO()
    document.save(raw)
    return fixed_zip(raw.getvalue())
