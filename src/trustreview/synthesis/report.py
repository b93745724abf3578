"""A self-contained HTML report: tables, figures (inline PNG) and the reference list.

Every text from the corpus is HTML-escaped; the page loads nothing from any other host (a
Content-Security-Policy forbids it), so it opens offline and cannot run injected script.
"""

from __future__ import annotations

import base64
import re
from html import escape

import pandas as pd

from trustreview.io.export import FLOAT_FORMAT  # the tables' numbers as the CSV files have them

from trustreview.base.frames import frame_tuples, is_missing

MAX_CELL_STUDIES = 500  # studies listed under one gap-map cell (all are in gap_map_cells.csv)
STYLE = """
body { font-family: Georgia, 'Times New Roman', serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #111; line-height: 1.45; }
h1, h2, h3 { font-family: Helvetica, Arial, sans-serif; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #999; padding: 0.25rem 0.5rem; vertical-align: top; text-align: left; }
th { background: #e8e8e8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0 2rem; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.9rem; color: #333; }
ol.refs li { margin-bottom: 0.4rem; }
#gap-map-table td a { display: block; }
div.cell { margin-bottom: 1rem; } div.cell h4 { margin-bottom: 0.2rem; }
nav ul { columns: 2; }
"""


def html_table_parts(frame: pd.DataFrame, table_id: str = "") -> list[str]:
    """A DataFrame as an escaped HTML table (numbers right-aligned), as a list of pieces:
    a long table is not copied into one string before it joins the page."""
    head = "".join(f"<th scope=\"col\">{escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for row in frame_tuples(frame):
        cells = []
        for value in row:
            if isinstance(value, float):
                text = FLOAT_FORMAT % value if value == value else ""
                cells.append(f"<td class=\"num\">{text}</td>")
            elif is_missing(value):
                cells.append("<td></td>")
            elif isinstance(value, (int,)) or hasattr(value, "dtype"):
                cells.append(f"<td class=\"num\">{escape(str(value))}</td>")
            else:
                cells.append(f"<td>{escape(str(value))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    ident = f" id=\"{escape(table_id)}\"" if table_id else ""
    return [f"<table{ident}><thead><tr>{head}</tr></thead><tbody>", *rows,
            "</tbody></table>"]


class Html(str):
    """A fragment of HTML built here from escaped text (placed in the page as it is)."""


def runs_html(runs) -> str:
    """(text, italic) runs as escaped HTML, italic runs in ``<i>``."""
    return "".join(f"<i>{escape(t)}</i>" if italic else escape(t) for t, italic in runs)


def build_report(title: str, intro: str, sections: list[tuple[str, str, object]],
                 references: list) -> str:
    """The report page.

    ``sections`` are (anchor id, heading, content) where content is a DataFrame (shown as a
    table), PNG bytes (an inline image), :class:`Html` or a list of HTML pieces built here.
    ``references`` are plain-text
    entries or lists of (text, italic) runs.
    """
    parts = [
        "<!DOCTYPE html>",
        "<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>{escape(intro)}</p>",
        "<nav><h2>Contents</h2><ul>",
        *[f"<li><a href=\"#{escape(anchor)}\">{escape(heading)}</a></li>"
          for anchor, heading, _ in sections],
        "<li><a href=\"#references\">References</a></li></ul></nav>",
    ]
    for anchor, heading, content in sections:
        parts.append(f"<section id=\"{escape(anchor)}\"><h2>{escape(heading)}</h2>")
        if isinstance(content, Html):
            parts.append(content)
        elif isinstance(content, list):  # pieces of HTML built here
            parts.extend(content)
        elif isinstance(content, (bytes, bytearray)):
            data = base64.b64encode(bytes(content)).decode("ascii")
            parts.append(f"<figure><img alt=\"{escape(heading)}\" "
                         f"src=\"data:image/png;base64,{data}\"></figure>")
        else:
            parts.extend(html_table_parts(content, f"table-{anchor}"))
        parts.append("</section>")
    parts.append("<section id=\"references\"><h2>References</h2><ol class=\"refs\">")
    parts.extend(f"<li>{escape(ref) if isinstance(ref, str) else runs_html(ref)}</li>"
                 for ref in references)
    parts.append("</ol></section></body></html>")
    return "\n".join(parts) + "\n"


def cell_anchor(domain: str, position: int) -> str:
    """The id of a gap-map cell's study list (countries may hold any text: by position)."""
    return f"cell-{domain}-{position}"


def first_sentence(text: str) -> str:
    text = " ".join(str(text).split())
    end = re.search(r"(?<=[.!?])\s", text)
    return text[:end.start()] if end else text


def gap_map_html(data, tables: dict[str, pd.DataFrame], png: bytes) -> Html:
    """The gap map as a picture and as a table you can click: each non-empty cell links to
    the list of its studies (citation, design, weight, first sentence of the summary); each
    row's label links to the domain's evidence table, which links back here."""
    from trustreview.synthesis.tables import gap_map_axes

    cells = tables["gap_map_cells"]
    _, columns, _ = gap_map_axes(data)
    summaries = dict(zip(data.studies["study_id"], data.studies["summary"]))
    labels = {d.id: d.label for d in data.codebook.domains}
    picture = base64.b64encode(png).decode("ascii")
    slices = {"weight": "weight of evidence", "": ""}.get(
        data.map_slices, data.codebook.field(data.map_slices).label.lower()
        if data.map_slices else "")
    out = [f"<figure><img alt=\"Evidence gap map\" src=\"data:image/png;base64,{picture}\">"
           f"<figcaption>Circle area: number of studies"
           f"{'; slices: ' + escape(slices) if slices else ''}. The "
           "table below has the same counts: click one to see its studies.</figcaption>"
           "</figure>",
           "<table id=\"gap-map-table\"><thead><tr><th scope=\"col\">domain</th>"
           + "".join(f"<th scope=\"col\">{escape(c)}</th>" for c in columns)
           + "</tr></thead><tbody>"]
    grouped = {key: group for key, group in cells.groupby(["domain", data.map_columns],
                                                          sort=False)}
    for domain in data.domains:
        row = [f"<tr id=\"gap-row-{escape(domain)}\"><th scope=\"row\"><a href=\"#evidence-"
               f"{escape(domain)}\">{escape(labels.get(domain, domain))}</a></th>"]
        for j, country in enumerate(columns):
            n = len(grouped.get((domain, country), ()))
            row.append(f"<td class=\"num\"><a href=\"#{cell_anchor(domain, j)}\">{n}</a></td>"
                       if n else "<td class=\"num\">–</td>")
        out.append("".join(row) + "</tr>")
    out.append("</tbody></table>")
    out.append("<h3>Studies in each cell</h3>")
    for domain in data.domains:
        for j, country in enumerate(columns):
            group = grouped.get((domain, country))
            if group is None or not len(group):
                continue
            out.append(f"<div class=\"cell\" id=\"{cell_anchor(domain, j)}\"><h4>"
                       f"{escape(labels.get(domain, domain))}, {escape(country)} "
                       f"({len(group)})</h4>")
            if len(group) > MAX_CELL_STUDIES:
                out.append(f"<p>The {MAX_CELL_STUDIES} strongest of {len(group)} studies; all "
                           "of them are in tables/gap_map_cells.csv.</p>")
            out.append("<ul>")
            for item in group.head(MAX_CELL_STUDIES).to_dict("records"):
                summary = first_sentence(summaries[item["study_id"]])
                about = ", ".join([*([item["design"]] if "design" in item else []),
                                   *([f"{item['weight']} weight"] if "weight" in item else [])])
                out.append(f"<li>{escape(item['citation'])}: "
                           + (f"{escape(about)}. " if about else "")
                           + f"{escape(summary)}</li>")
            out.append(f"</ul><p><a href=\"#gap-row-{escape(domain)}\">back to the gap "
                       "map</a></p></div>")
    return Html("\n".join(out))


def profiles_html(profiles: pd.DataFrame) -> Html:
    return Html("\n".join(f"<h3>{escape(row.label)}</h3><p>{escape(row.profile)}</p>"
                          for row in profiles.itertuples(index=False)))


def evidence_html(domain: str, table: pd.DataFrame) -> list[str]:
    return [f"<p><a href=\"#gap-row-{escape(domain)}\">back to the gap map</a></p>",
            *html_table_parts(table, f"table-evidence-{domain}")]


def report_title(codebook) -> str:
    """The report's title: the codebook's ``name``, with "evidence synthesis"."""
    return f"{codebook.name or 'Evidence review'}: evidence synthesis"


ANCHORS = {"domain_cooccurrence": "cooccurrence", "domain_by_period": "period"}


def build_review_report(data, tables: dict[str, pd.DataFrame], flow: pd.DataFrame,
                        gap_map_png: bytes, flow_png: bytes,
                        changed: list[str] | None = None, stop=None) -> str:
    """The review's report page from the synthesis tables and figures; ``changed``: the
    sentences of a "What changed since the previous run" section, first; ``stop``: the
    screening verdict and its figure (:func:`trustreview.run.pipeline.screening_stop`), for a
    section "Screening: can we stop?"."""
    from trustreview.synthesis.tables import cross_tables, describe_filters

    intro = ("Synthesis of the included studies by domain of a strong school trust. "
             "Counts are of studies; a study tagged with several domains counts in each. "
             + describe_filters(data.filters, data.codebook.weights))
    sections: list[tuple[str, str, object]] = []
    if changed is not None:
        sections.append(("changes", "What changed since the previous run",
                         ["<ul>", *[f"<li>{escape(line)}</li>" for line in changed], "</ul>"]))
    sections += [
        ("gap-map", "Evidence gap map", gap_map_html(data, tables, gap_map_png)),
        ("findings", "Findings by domain (first draft, from the tables)",
         profiles_html(tables["domain_profiles"])),
        *[(ANCHORS.get(name, name.replace("_", "-")), heading, tables[name])
          for name, heading in cross_tables(data, tables)],
        ("screening-flow", "Screening flow", flow),
        ("screening-figure", "Screening flow diagram", flow_png),
    ]
    if stop is not None:
        said, figure = stop
        data_uri = base64.b64encode(figure).decode("ascii")
        sections.append(("screening-stop", "Screening: can we stop?", [
            f"<p><strong>{escape(said.recommended)}</strong></p>",
            f"<p>{escape(said.assumptions)}</p>", "<ul>",
            *[f"<li>{escape(line)}</li>" for line in said.others], "</ul>",
            f"<figure><img alt=\"Included records found against records screened\" "
            f"src=\"data:image/png;base64,{data_uri}\"></figure>"]))
    for domain in data.domains:
        sections.append((f"evidence-{domain}", f"Evidence table: {domain}",
                         evidence_html(domain, tables[f"evidence_{domain}"])))
    runs = dict(zip(data.studies["study_id"], data.studies["reference_runs"]))
    references = [runs[sid] for sid in tables["reference_list"]["study_id"]]
    return build_report(report_title(data.codebook), intro, sections,
                        references)
