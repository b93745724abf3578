"""A self-contained HTML report: tables, figures (inline PNG) and the reference list.

Every text from the corpus is HTML-escaped; the page loads nothing from any other host (a
Content-Security-Policy forbids it), so it opens offline and cannot run injected script.
"""

from __future__ import annotations

import base64
from html import escape

import pandas as pd


FLOAT_FORMAT = "%.4f"
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
nav ul { columns: 2; }
"""


def html_table(frame: pd.DataFrame, table_id: str = "") -> str:
    """A DataFrame as an escaped HTML table (numbers right-aligned)."""
    head = "".join(f"<th scope=\"col\">{escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            if isinstance(value, float):
                text = FLOAT_FORMAT % value if value == value else ""
                cells.append(f"<td class=\"num\">{text}</td>")
            elif isinstance(value, (int,)) or hasattr(value, "dtype"):
                cells.append(f"<td class=\"num\">{escape(str(value))}</td>")
            else:
                cells.append(f"<td>{escape(str(value))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    ident = f" id=\"{escape(table_id)}\"" if table_id else ""
    return (f"<table{ident}><thead><tr>{head}</tr></thead><tbody>" + "".join(rows)
            + "</tbody></table>")


def build_report(title: str, intro: str, sections: list[tuple[str, str, object]],
                 references: list[str]) -> str:
    """The report page.

    ``sections`` are (anchor id, heading, content) where content is a DataFrame (shown as a
    table) or PNG bytes (shown as an inline image). ``references`` are plain-text entries.
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
        if isinstance(content, (bytes, bytearray)):
            data = base64.b64encode(bytes(content)).decode("ascii")
            parts.append(f"<figure><img alt=\"{escape(heading)}\" "
                         f"src=\"data:image/png;base64,{data}\"></figure>")
        else:
            parts.append(html_table(content, f"table-{anchor}"))
        parts.append("</section>")
    parts.append("<section id=\"references\"><h2>References</h2><ol class=\"refs\">")
    parts.extend(f"<li>{escape(ref)}</li>" for ref in references)
    parts.append("</ol></section></body></html>")
    return "\n".join(parts) + "\n"


def build_review_report(tables: dict[str, pd.DataFrame], flow: pd.DataFrame,
                        gap_map_png: bytes, flow_png: bytes, filters: dict) -> str:
    """The review's report page from the synthesis tables and figures."""
    shown = {k: v for k, v in filters.items() if v not in ([], None, False, "low")}
    intro = ("Synthesis of the included studies by domain of a strong school trust. "
             "Counts are of studies; a study tagged with several domains counts in each. "
             + (f"Filters: {shown}." if shown else "No filters applied."))
    sections: list[tuple[str, str, object]] = [
        ("gap-map", "Evidence gap map", gap_map_png),
        ("domain-by-country", "Studies by domain and country", tables["domain_by_country"]),
        ("domain-by-design", "Studies by domain and design", tables["domain_by_design"]),
        ("domain-by-weight", "Studies by domain and weight of evidence",
         tables["domain_by_weight"]),
        ("country-by-design", "Studies by country and design", tables["country_by_design"]),
        ("cooccurrence", "Domain co-occurrence", tables["domain_cooccurrence"]),
        ("period", "Studies by domain and five-year period", tables["domain_by_period"]),
        ("screening-flow", "Screening flow", flow),
        ("screening-figure", "Screening flow diagram", flow_png),
    ]
    for name, table in tables.items():
        if name.startswith("evidence_"):
            domain = name[len("evidence_"):]
            sections.append((name.replace("_", "-"), f"Evidence table: {domain}", table))
    references = list(tables["reference_list"]["reference"])
    return build_report("Strong school trusts: evidence synthesis", intro, sections,
                        references)
