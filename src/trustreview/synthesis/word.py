"""The review's report as a Word document (python-docx), built from the synthesis tables.

Real Word tables (header row repeated on every page; wide tables in landscape sections),
the figures, the first draft of the findings by domain, per-domain evidence tables with
author-date citations and the APA 7 reference list with italics and hanging indents. Corpus
text goes in as text runs, never as fields or markup. Core properties are fixed and the
zip members dated 2000-01-01, so the same tables give the same bytes.
"""

from __future__ import annotations

import io
import re
from datetime import datetime

import pandas as pd

from trustreview.base.frames import frame_tuples, is_missing

FLOAT_FORMAT = "{:.1f}"
# Word is for reading: a very large review's evidence tables and reference list are cut
# here, saying so; the complete ones are in tables/*.csv, synthesis.xlsx and report.html.
MAX_EVIDENCE_ROWS = 400
MAX_REFERENCES = 3000
WIDE = 6  # tables with more columns than this go in a landscape section
EVIDENCE_COLUMNS = ["citation", "country", "design", "weight", "summary"]
EVIDENCE_WIDTHS = {"citation": 4.2, "country": 2.3, "design": 2.4, "weight": 1.7,
                   "summary": 15.0}  # cm, on a landscape A4 page less 4 cm of margins


def _cell_text(value) -> str:
    if is_missing(value):
        return ""
    return FLOAT_FORMAT.format(value) if isinstance(value, float) else str(value)


def _xml_text(text: str) -> str:
    """Text for a ``w:t`` element: escaped, without the control characters XML forbids."""
    from xml.sax.saxutils import escape

    return escape(re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text))


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
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    from docx.shared import Cm, Pt

    table = document.add_table(rows=1, cols=len(frame.columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, frame.columns):
        run = cell.paragraphs[0].add_run(str(name))
        run.bold = True
        run.font.size = Pt(font_size)
    _repeat_header(table.rows[0])
    size = int(round(font_size * 2))  # half-points
    body = []
    for values in frame_tuples(frame):
        cells = []
        for value in values:
            right = isinstance(value, (int, float)) or hasattr(value, "dtype")
            align = '<w:pPr><w:jc w:val="right"/></w:pPr>' if right else ""
            cells.append(f'<w:tc><w:p>{align}<w:r><w:rPr><w:sz w:val="{size}"/></w:rPr>'
                         f'<w:t xml:space="preserve">{_xml_text(_cell_text(value))}</w:t>'
                         "</w:r></w:p></w:tc>")
        body.append("<w:tr>" + "".join(cells) + "</w:tr>")
    if body:  # rows as XML text: python-docx builds cells one by one, far too slowly
        fragment = parse_xml(f"<w:tbl {nsdecls('w')}>" + "".join(body) + "</w:tbl>")
        for row in list(fragment):
            table._tbl.append(row)
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
                gap_map_png: bytes, flow_png: bytes, changed: list[str] | None = None,
                stop=None) -> bytes:
    """The Word report's bytes (deterministic); ``changed``: the sentences of a "What
    changed since the previous run" section, after the introduction."""
    from docx import Document
    from docx.shared import Cm, Inches, Pt

    from trustreview.io.workbook import fixed_zip
    from trustreview.synthesis.report import report_title
    from trustreview.synthesis.tables import cross_tables, describe_filters

    document = Document()
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(document.sections[0], side, Cm(2))
    document.styles["Normal"].font.name = "Calibri"
    document.styles["Normal"].font.size = Pt(10.5)
    document.add_heading(report_title(data.codebook), level=0)
    n = int(tables["domain_by_period"].set_index("domain").loc["total", "total"])
    document.add_paragraph(
        f"This report synthesises {n} included stud{'y' if n == 1 else 'ies'} by the domains "
        "of a strong school trust. Counts are of studies; a study tagged with several "
        "domains counts in each. " + describe_filters(data.filters, data.codebook.weights))
    if changed is not None:
        document.add_heading("What changed since the previous run", level=1)
        for line in changed:
            document.add_paragraph(line, style="List Bullet")
    document.add_heading("Screening", level=1)
    document.add_picture(io.BytesIO(flow_png), width=Inches(6))
    add_table(document, flow)
    if stop is not None:
        said, figure = stop
        document.add_heading("Screening: can we stop?", level=1)
        document.add_paragraph().add_run(said.recommended).bold = True
        document.add_paragraph(said.assumptions)
        for line in said.others:
            document.add_paragraph(line, style="List Bullet")
        document.add_picture(io.BytesIO(figure), width=Inches(6))
    document.add_heading("Evidence gap map", level=1)
    document.add_picture(io.BytesIO(gap_map_png), width=Inches(6.3))
    document.add_heading("Findings by domain (first draft, from the tables)", level=1)
    for row in tables["domain_profiles"].itertuples(index=False):
        document.add_heading(row.label, level=2)
        document.add_paragraph(row.profile)
    _section(document, landscape=True)  # the cross-tables are wide: a landscape section
    document.add_heading("Tables", level=1)
    for name, heading in cross_tables(data, tables):
        _heading_table(document, heading, tables[name])
    labels = {d.id: d.label for d in data.codebook.domains}
    _section(document, landscape=True)
    document.add_heading("Evidence tables", level=1)
    for domain in data.domains:
        evidence = tables[f"evidence_{domain}"]
        document.add_heading(f"Evidence table: {labels.get(domain, domain)}", level=2)
        if len(evidence) > MAX_EVIDENCE_ROWS:
            document.add_paragraph(
                f"The {MAX_EVIDENCE_ROWS} strongest of {len(evidence)} studies; all of them "
                f"are in tables/evidence_{domain}.csv, synthesis.xlsx and report.html.")
        shown = evidence.head(MAX_EVIDENCE_ROWS)
        add_table(document, shown[[c for c in EVIDENCE_COLUMNS if c in shown.columns]],
                  widths=EVIDENCE_WIDTHS)
    _section(document, landscape=False)
    document.add_heading("References", level=1)
    runs = dict(zip(data.studies["study_id"], data.studies["reference_runs"]))
    ids = list(tables["reference_list"]["study_id"])
    if len(ids) > MAX_REFERENCES:
        document.add_paragraph(f"The first {MAX_REFERENCES} of {len(ids)} references; all of "
                               "them are in tables/reference_list.csv and report.html.")
    for sid in ids[:MAX_REFERENCES]:
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.left_indent = Cm(1.27)
        paragraph.paragraph_format.first_line_indent = Cm(-1.27)  # hanging indent
        for text, italic in runs[sid]:
            run = paragraph.add_run(text)
            run.italic = italic or None
    properties = document.core_properties
    stamp = datetime(2000, 1, 1)
    properties.author = "trustreview"
    properties.last_modified_by = "trustreview"
    properties.title = report_title(data.codebook)
    properties.created = stamp
    properties.modified = stamp
    properties.revision = 1
    raw = io.BytesIO()
    document.save(raw)
    return fixed_zip(raw.getvalue())
