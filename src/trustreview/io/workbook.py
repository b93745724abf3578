"""Excel workbooks, read and written: the sheets of a corpus table, the coding workbooks
(written for a coder, read back filled), and synthesis workbooks. Same content, same bytes."""

from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from trustreview.errors import InputError
from trustreview.io.files import check_file, display_path
from trustreview.base.frames import frame_tuples, is_missing
from trustreview.schema import CHECK_DOMAINS, SUGGESTED_DOMAINS


EXCEL_ERRORS = {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!",
                "#CALC!"}


def read_first_sheet(path: Path, source: str):
    """The first sheet of a workbook as text: (header, rows, Excel row numbers, artefacts),
    blank rows left out; artefacts are cells Excel stored as dates or numbers (see
    :func:`_artefacts`)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for files it cannot read
        raise InputError(f"{source}: cannot be opened as an Excel workbook "
                         f"({type(error).__name__}: {error}); save it as .xlsx or export it "
                         "as UTF-8 CSV") from None
    try:
        sheet = workbook.worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        raw = [["" if cell is None else _cell_text(cell) for cell in row] for row in values]
        artefacts = _artefacts(values, sheet.title)
    except Exception as error:
        raise InputError(f"{source}: the first sheet cannot be read ({type(error).__name__}: "
                         f"{error}); save it again from Excel as .xlsx") from None
    finally:
        workbook.close()
    if not raw or not any(cell.strip() for cell in raw[0]):
        raise InputError(f"{source}: the first sheet is empty; it needs a header row "
                         "and one row per record")
    header = [cell.strip() for cell in raw[0]]
    rows, lines = [], []
    for number, row in enumerate(raw[1:], start=2):
        if any(cell.strip() for cell in row):
            rows.append(row)
            lines.append(number)
    return header, rows, lines, artefacts


ID_COLUMNS = ("study_id", "coder")


def _artefacts(values: list[tuple], sheet: str) -> list[tuple[int, str, str]]:
    """Cells of a sheet that Excel stored as a date or time, or as a number in an id
    column (where leading zeros are lost): (row, column, message)."""
    from datetime import date, datetime, time

    if not values:
        return []
    header = ["" if c is None else str(c).strip() for c in values[0]]
    found = []
    for number, row in enumerate(values[1:], start=2):
        for name, value in zip(header, row):
            if isinstance(value, (datetime, date, time)):
                found.append((number, name, f"sheet {sheet!r}, row {number}, column "
                              f"{name!r}: Excel stored this cell as a date or time "
                              f"({_cell_text(value)}), not as the text typed"))
            elif name in ID_COLUMNS and isinstance(value, (int, float)) and \
                    not isinstance(value, bool):
                found.append((number, name, f"sheet {sheet!r}, row {number}, column "
                              f"{name!r}: Excel stored this id as a number "
                              f"({_cell_text(value)}), so leading zeros are lost"))
    return found


def _cell_text(value: object) -> str:
    from datetime import datetime

    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date().isoformat()  # not "2024-03-05 00:00:00"
    return str(value)


def read_coding_workbook(path: str | os.PathLike):
    """A filled coding workbook (written by ``trustreview sheet``) as a
    :class:`Filled`: the coder and kind from its ``about`` sheet, the
    rows of its ``coding`` sheet as text with their Excel row numbers. A cell Excel turned
    into a date or a formula's error is a problem of that row, not a silent change."""
    from datetime import date, datetime, time

    from openpyxl import load_workbook

    path = Path(path)
    source = display_path(path)
    if not path.exists():
        raise InputError(f"{source}: file not found; give the path of the filled workbook "
                         "(the one trustreview sheet wrote)")
    check_file(path)
    try:
        workbook = load_workbook(path, data_only=True)
    except Exception as error:  # openpyxl raises many types for files it cannot read
        raise InputError(f"{source}: cannot be opened as an Excel workbook "
                         f"({type(error).__name__}: {error}); save it as .xlsx") from None
    not_ours = (f"{source}: not a coding workbook written by trustreview sheet (%s); write "
                "one with trustreview sheet --coder NAME --out FILE.xlsx and fill that")
    if "coding" not in workbook.sheetnames or "about" not in workbook.sheetnames:
        raise InputError(not_ours % "no 'coding' and 'about' sheets")
    about = {str(row[0]).strip(): "" if row[1] is None else str(row[1]).strip()
             for row in workbook["about"].iter_rows(values_only=True, max_col=2)
             if row and row[0] is not None and len(row) > 1}
    kind, coder = about.get("sheet", ""), about.get("coder", "")
    if kind not in KINDS or not coder:
        raise InputError(not_ours % "its 'about' sheet has no coder or sheet kind")
    sheet = workbook["coding"]
    raw = list(sheet.iter_rows(values_only=True))
    if not raw:
        raise InputError(not_ours % "the 'coding' sheet is empty")
    columns = ["" if c is None else str(c).strip() for c in raw[0]]
    problems, records = [], []
    for number, values in enumerate(raw[1:], start=2):
        row = {"row": number}
        for name, value in zip(columns, values):
            if not name or name in row:
                continue
            if isinstance(value, (datetime, date, time)):
                problems.append(Problem(source, number, name, str(value), "Excel turned "
                                        "this cell into a date or time", "text",
                                        "format the cell as Text and type it again"))
                value = str(value)
            elif isinstance(value, str) and value in EXCEL_ERRORS:
                problems.append(Problem(source, number, name, value, "the cell holds a "
                                        "formula error", "a value", "type the value itself"))
            row[name] = "" if value is None else _cell_text(value).strip()
        for name in columns:
            row.setdefault(name, "")
        if any(v for k, v in row.items() if k != "row"):
            records.append(row)
    workbook.close()
    rows = pd.DataFrame(records, columns=["row", *[c for c in columns if c]])
    rows = rows.fillna("")
    return Filled(source, kind, coder, [c for c in columns if c], rows, problems)


KINDS = ("coder", "reconcile", "duplicates", "screen")


@dataclass
class Filled:
    """A filled workbook as read back: ``rows`` has a ``row`` column (the Excel row) and the
    sheet's columns as text; ``problems`` holds cells that could not be read as text."""

    source: str
    kind: str
    coder: str
    columns: list[str]
    rows: pd.DataFrame
    problems: list["Problem"] = field(default_factory=list)


@dataclass(frozen=True)
class Problem:
    """One problem in a filled sheet: where, what was found, what is allowed, the fix."""

    source: str
    row: int
    column: str
    value: str
    found: str
    allowed: str
    fix: str

    def format(self) -> str:
        where = f"{self.source}, sheet 'coding', row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        text = f"{where}: {self.found}"
        if self.value:
            text += f" (value {self.value!r})"
        if self.allowed:
            text += f"; allowed: {self.allowed}"
        return text + f"; fix: {self.fix}"


EXCEL_MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows less the header row


def workbook_bytes(tables: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx with one sheet per table: bold header, frozen header row, sensible widths.

    Text cells are always stored as text (never formulas), so a cell beginning with ``=``,
    ``+``, ``-`` or ``@`` is inert. Sheet names are cut to Excel's 31 characters. A table
    longer than a sheet holds (:data:`EXCEL_MAX_ROWS` data rows) continues on sheets named
    ``<name>~2``, ``<name>~3``, ...: nothing is cut off.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    # write-only: rows go to the file as they come, no cell kept (at 100,000 studies the
    # workbook's 3.9 million cells took 90 s and most of a run's memory)
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    parts = [(f"{name[:27]}~{k // EXCEL_MAX_ROWS + 1}" if k else name,
              frame.iloc[k:k + EXCEL_MAX_ROWS])
             for name, frame in tables.items()
             for k in range(0, max(len(frame), 1), EXCEL_MAX_ROWS)]
    bold = Font(bold=True)
    for name, frame in parts:
        title = name[:31]
        n = 1
        while title in used:
            title = f"{name[:28]}~{n}"
            n += 1
        used.add(title)
        sheet = workbook.create_sheet(title)
        for index, column in enumerate(frame.columns, start=1):
            values = [str(column)] + [str(v) for v in frame[column].head(500)]
            width = min(max(max(len(v) for v in values) + 2, 8), 60)
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        header = []
        for column in frame.columns:
            cell = WriteOnlyCell(sheet, value=str(column))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in frame_tuples(frame):
            values = [_excel_value(v) for v in row]
            sheet.append([_text_cell(sheet, v) if isinstance(v, str) and v[:1] == "=" else v
                          for v in values])
    return saved_workbook(workbook)


def _text_cell(sheet, value: str):
    """A cell that keeps ``value`` as text: openpyxl stores a string starting with ``=``
    as a formula."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def saved_workbook(workbook) -> bytes:
    """An openpyxl workbook's bytes with fixed dates, so the same content gives the same
    bytes."""
    stamp = datetime(2000, 1, 1)
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    workbook.properties.creator = "trustreview"
    raw = io.BytesIO()
    workbook.save(raw)
    return fixed_zip(raw.getvalue())


def fixed_zip(data: bytes) -> bytes:
    """An Office file (zip) rewritten with fixed member dates and a fixed modified date in
    its core properties, so the same content gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                # the date only: the element keeps its own attributes and namespaces
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>2000-01-01T00:00:00Z\2", data)
            info = zipfile.ZipInfo(item.filename, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, data)
    return out.getvalue()


def _as_text(cells) -> None:
    """Keep every text cell text: openpyxl stores a string starting with ``=`` as a
    formula."""
    for row in cells:
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


WIDTHS = {"study_id": 26, "title": 50, "year": 6, "authors": 30, "abstract": 60,
          "included": 10, "exclusion_reason": 22, "country": 13, "design": 13, "sample": 30,
          "summary": 60, "weight": 10, "note": 30, SUGGESTED_DOMAINS: 24,
          CHECK_DOMAINS: 24}


def coding_workbook_bytes(sheet) -> bytes:
    """The workbook of a :class:`~trustreview.coding.Sheet`.

    Sheet ``coding``: bold frozen header, the form columns editable and everything else
    locked (sheet protection without a password), a drop-down list on every fixed-value
    column (values on the hidden sheet ``lists``), cells where coders differ shaded, text
    never a formula. Sheet ``about``: the coder's name and the sheet's kind (read back by
    :func:`trustreview.io.load.read_coding_workbook`), how to fill the form, the domains.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    frame = sheet.frame
    workbook = Workbook()
    coding = workbook.active
    coding.title = "coding"
    columns = list(frame.columns)
    coding.append(columns)
    for row in frame_tuples(frame):
        coding.append([_excel_value(v) for v in row])
    _as_text(coding.iter_rows(min_row=2))
    n = len(frame)
    form = PatternFill("solid", fgColor="FFF2CC")
    context = PatternFill("solid", fgColor="E7E6E6")
    disputed = PatternFill("solid", fgColor="F4B084")
    unlocked = Protection(locked=False)
    for index, name in enumerate(columns, start=1):
        letter = get_column_letter(index)
        header = coding.cell(row=1, column=index)
        header.font = Font(bold=True)
        header.fill = form if name in sheet.editable else context
        width = WIDTHS.get(name, 40 if name in sheet.coders else
                           10 if name.startswith("p_") else max(len(name) + 4, 8))
        coding.column_dimensions[letter].width = width
        if name in sheet.editable:
            for row in range(2, max(n, 1) + 1):
                coding.cell(row=row, column=index).protection = unlocked
        if name in ("title", "abstract", "sample", "summary") or name in sheet.coders:
            for row in range(2, n + 2):
                coding.cell(row=row, column=index).alignment = Alignment(wrap_text=True,
                                                                         vertical="top")
    for position, name in sheet.disputed:
        coding.cell(row=position + 2, column=columns.index(name) + 1).fill = disputed
    coding.freeze_panes = "B2"
    coding.protection.sheet = True
    for option in ("formatColumns", "formatRows", "formatCells", "sort", "autoFilter"):
        setattr(coding.protection, option, False)  # False = allowed on a protected sheet
    coding.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{n + 1}"
    lists = workbook.create_sheet("lists")
    for index, (name, values) in enumerate(sheet.choices.items(), start=1):
        letter = get_column_letter(index)
        lists.cell(row=1, column=index, value=name)
        for row, value in enumerate(values, start=2):
            lists.cell(row=row, column=index, value=value).data_type = "s"
        if name not in columns or not values:
            continue
        target = get_column_letter(columns.index(name) + 1)
        rule = DataValidation(type="list", allow_blank=True,
                              formula1=f"=lists!${letter}$2:${letter}${len(values) + 1}",
                              showErrorMessage=True,
                              errorStyle="information" if name == "exclusion_reason"
                              else "stop",
                              errorTitle=name, error=f"Choose a value of the list for {name}.")
        rule.add(f"{target}2:{target}{max(n, 1) + 1}")
        coding.add_data_validation(rule)
    for name, (low, high) in getattr(sheet, "numbers", {}).items():
        if name not in columns:
            continue
        target = get_column_letter(columns.index(name) + 1)
        if low is not None and high is not None:
            rule = DataValidation(type="decimal", operator="between", formula1=f"{low:g}",
                                  formula2=f"{high:g}")
        elif low is not None or high is not None:
            bound = low if low is not None else high
            rule = DataValidation(type="decimal", formula1=f"{bound:g}",
                                  operator="greaterThanOrEqual" if low is not None
                                  else "lessThanOrEqual")
        else:
            rule = DataValidation(type="decimal", operator="between", formula1="-1E+300",
                                  formula2="1E+300")
        rule.allow_blank, rule.showErrorMessage = True, True
        rule.errorTitle, rule.error = name, f"Type a number for {name}."
        rule.add(f"{target}2:{target}{max(n, 1) + 1}")
        coding.add_data_validation(rule)
    lists.sheet_state = "hidden"
    about = workbook.create_sheet("about")
    for row in _about_rows(sheet):
        about.append(row)
    _as_text(about.iter_rows())
    about.column_dimensions["A"].width = 22
    about.column_dimensions["B"].width = 100
    for cell in about["A"]:
        cell.font = Font(bold=True)
    return saved_workbook(workbook)


def _about_rows(sheet) -> list[list[str]]:
    from trustreview import __version__ as version

    if sheet.kind == "duplicates":
        how = ["Each row is a pair of records that may be the same study: the study's "
               "fields beside the record's (cells that differ are shaded), and why they "
               "were found alike.",
               "Write same: yes (the same study: the record is merged into the study) or "
               "no (two studies: never proposed again). A row left empty is left for later.",
               "Then: trustreview merge THIS-FILE.xlsx"]
        return [["coder", sheet.coder], ["sheet", sheet.kind],
                ["written by", f"trustreview {version}"], []] + \
            [["how to fill", line] for line in how]
    if sheet.kind == "screen":
        how = ["Each row is a record awaiting your screening, the most likely relevant first "
               "(relevance: the model's probability of inclusion, 0-1, learnt from the "
               "decisions merged so far).",
               "Write included: yes or no; for no, choose an exclusion_reason (the list is "
               "the codebook's; another reason may be typed). A note is optional. A row "
               "left empty is left for later.",
               "An included record needs no coding yet: country, design, weight and domains "
               "come with the coder's sheet (trustreview sheet --coder).",
               "Then: trustreview merge THIS-FILE.xlsx, and trustreview sheet --screen for "
               "the next records, ranked again with what you decided."]
        return [["coder", sheet.coder], ["sheet", sheet.kind],
                ["written by", f"trustreview {version}"], []] + \
            [["how to fill", line] for line in how]
    if sheet.kind == "reconcile":
        how = ["Each row is a study where the coders differ (their decisions are in the "
               "columns named after them; differing cells are shaded).",
               "Fill in the agreed decision: included, the study fields and the domains. "
               "A row with included empty is left for later.",
               "Then: trustreview merge THIS-FILE.xlsx"]
    else:
        how = ["One row per study; write included (yes/no), then for an included study its "
               "country, design, weight, sample and summary, and 1 under each domain it "
               "examines; for an excluded one the exclusion_reason.",
               "An included study with no domain marked is coded 'none'; a row you leave "
               "as it was (or with included empty) is skipped.",
               "Grey columns are context and cannot be edited."
               + (" suggested_domains and p_<domain> are the model's suggestions; "
                  "check_domains are the ones it is not sure of."
                  if SUGGESTED_DOMAINS in sheet.frame.columns else ""),
               "Then: trustreview merge THIS-FILE.xlsx"]
    rows = [["coder", sheet.coder], ["sheet", sheet.kind],
            ["written by", f"trustreview {version}"], []]
    rows += [["how to fill", line] for line in how]
    rows.append([])
    rows.append(["domain", "definition"])
    rows += [[d.id, f"{d.label}: {d.definition}"] for d in sheet.codebook.domains]
    extra = sheet.codebook.extra_fields
    if extra:
        rows.append([])
        rows.append(["field", "definition"])
        for item in extra:
            how = {"choice": "one of " + ", ".join(item.values),
                   "multi": "mark 1 under each that applies: " + ", ".join(item.values),
                   "yes-no": "yes or no", "number": "a number", "text": "text"}[item.type]
            rows.append([item.id, f"{item.label} ({how}"
                         f"{'; required when included' if item.required else ''})"
                         + (f": {item.definition}" if item.definition else "")])
    return rows


def _excel_value(value):
    if is_missing(value):  # an empty cell, as in the CSV
        return None
    if isinstance(value, (bool, int, float)) and not isinstance(value, str):
        return value.item() if hasattr(value, "item") else value
    if hasattr(value, "item"):
        return value.item()
    return str(value)
