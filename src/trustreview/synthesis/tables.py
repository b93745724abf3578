"""Synthesis tables from tagged records: counts by domain, country, design, weight and period,
co-occurrence, per-domain evidence tables, the screening flow, and the reference list.

Everything here is pure: DataFrames in, new DataFrames out. Counts are of studies; a study
tagged with several domains counts once in each of them, so a ``total`` row counts distinct
studies, not the sum of the column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from trustreview.base.frames import frame_rows
from trustreview.synthesis.citations import NO_DATE, add_citations
from trustreview.io.codebook import BUILT_IN, Codebook
from trustreview.base.text import fold
from trustreview.schema import MERGED, WEIGHTS
from trustreview.corpus.validate import AWAITING, ValidatedCorpus

NOT_RECORDED = "not recorded"  # an excluded study's unknown country or design
TOTAL = "total"


@dataclass
class SynthesisInput:
    """Included studies after the filters, and their domain tags (one row per study and
    tagged domain: study_id, domain, source)."""

    studies: pd.DataFrame
    tags: pd.DataFrame
    domains: list[str]
    countries: list[str]
    designs: list[str]
    codebook: Codebook
    filters: dict = field(default_factory=dict)
    by: list[str] = field(default_factory=list)  # the codebook fields to table domains by
    quotes: pd.DataFrame | None = None  # passages quoted in coding (study_id, code, text, document)
    map_columns: str = "country"  # the field of the gap map's columns
    map_slices: str = "weight"  # the field of its circles' slices ("" for none)


def sort_key(series: pd.Series) -> pd.Series:
    """Case- and accent-insensitive sort key for names and titles."""
    return series.map(lambda s: fold(s).casefold())


def select_for_synthesis(corpus: ValidatedCorpus, predictions: pd.DataFrame,
                         countries: list[str] | None = None, domains: list[str] | None = None,
                         min_weight: str = "", human_codes_only: bool = False,
                         by: list[str] | None = None, where: dict | None = None,
                         map_columns: str = "", map_slices: str = "") -> SynthesisInput:
    """Apply the review's filters to the included studies and their tags.

    ``predictions`` is the long table of :func:`trustreview.model.evaluation.tag_studies`. With
    ``human_codes_only`` the model's tags are dropped (studies keep only human codes).
    Unknown countries or domains raise ``ValueError`` naming the allowed values.
    """
    codebook = corpus.codebook
    first_mappable = next((f.id for f in codebook.fields if f.type in ("choice", "multi")), "")
    countries = list(countries or [])
    domains = list(domains or [])
    if countries and not codebook.has("country"):
        raise ValueError("countries given, but the codebook codes no country; leave "
                         "countries out (or use where: with a field of the codebook)")
    for given, allowed, what in ((countries, codebook.countries, "country"),
                                 (domains, codebook.domain_ids, "domain")):
        unknown = [g for g in given if g not in allowed]
        if unknown:
            raise ValueError(f"unknown {what} {', '.join(unknown)}; allowed: "
                             f"{', '.join(allowed)}")
    levels = codebook.weights
    if min_weight and min_weight not in levels:
        raise ValueError(f"min_weight {min_weight!r}; allowed: {', '.join(levels)}"
                         if levels else f"min_weight {min_weight!r}, but the codebook codes "
                         "no weight of evidence; leave min_weight out")
    min_weight = min_weight or (levels[-1] if levels else "")
    studies = corpus.included
    if countries:
        studies = studies[studies["country"].isin(countries)]
    if levels:
        keep_weights = levels[: levels.index(min_weight) + 1]
        unrated = (studies["weight"] == "") & (min_weight == levels[-1])  # not required
        studies = studies[studies["weight"].isin(keep_weights) | unrated]
    for field_id, values in (where or {}).items():  # a study with any of the values
        wanted = set(values)
        studies = studies[studies[field_id].fillna("").astype(str).map(
            lambda text: bool(wanted & {v.strip() for v in text.split(";")}))]
    studies = add_citations(studies.sort_values("study_id", ignore_index=True))
    tags = predictions[(predictions["tagged"] == 1)
                       & predictions["study_id"].isin(studies["study_id"])]
    if human_codes_only:
        tags = tags[tags["source"] == "human"]
    use_domains = domains or codebook.domain_ids
    tags = tags[tags["domain"].isin(use_domains)][["study_id", "domain", "source"]]
    return SynthesisInput(
        studies=studies.reset_index(drop=True), tags=tags.reset_index(drop=True),
        domains=[d for d in codebook.domain_ids if d in use_domains],
        countries=countries or list(codebook.countries), designs=list(codebook.designs),
        codebook=codebook,
        filters={"countries": countries, "domains": domains, "min_weight": min_weight,
                 "human_codes_only": human_codes_only,
                 "where": {k: list(v) for k, v in (where or {}).items()}},
        by=list(by) if by else default_by(codebook), quotes=corpus.quotes,
        map_columns=map_columns or ("country" if codebook.has("country") else first_mappable),
        map_slices=map_slices or ("weight" if codebook.has("weight") else ""))


def default_by(codebook: Codebook) -> list[str]:
    """The fields tabled when ``by`` is not given: every field but text ones."""
    return [f.id for f in codebook.fields if f.type != "text"]


def _tagged_studies(data: SynthesisInput) -> pd.DataFrame:
    return data.tags.merge(data.studies, on="study_id", how="inner")


def _crosstab(frame: pd.DataFrame, rows: str, row_values: list[str], cols: str,
              col_values: list[str], studies: pd.DataFrame | None = None) -> pd.DataFrame:
    table = pd.crosstab(frame[rows], frame[cols]) if len(frame) else pd.DataFrame()
    table = table.reindex(index=row_values, columns=col_values, fill_value=0).astype("int64")
    table[TOTAL] = (frame.drop_duplicates([rows, "study_id"]).groupby(rows)["study_id"]
                    .nunique().reindex(row_values, fill_value=0).astype("int64")
                    if len(frame) else 0)
    base = studies if studies is not None else frame.drop_duplicates("study_id")
    totals = base.drop_duplicates(["study_id", cols])[cols].value_counts().reindex(
        col_values, fill_value=0).astype("int64")  # a multi field: once per value
    total_row = pd.DataFrame([[*totals.tolist(), int(base["study_id"].nunique())]],
                             columns=[*col_values, TOTAL], index=[TOTAL])
    table = pd.concat([table, total_row])
    table.index.name = rows
    return table.reset_index()


def domain_by(data: SynthesisInput, column: str, values: list[str]) -> pd.DataFrame:
    """Studies per domain (rows) and value of ``column`` (columns), with totals.

    The ``total`` column counts a domain's studies; the ``total`` row counts the distinct
    included studies (after filters) with each value, whether or not they have a tag.
    """
    return _crosstab(_tagged_studies(data), "domain", data.domains, column, values,
                     data.studies)


def domain_by_country(data: SynthesisInput) -> pd.DataFrame:
    return domain_by(data, "country", data.countries)


def domain_by_design(data: SynthesisInput) -> pd.DataFrame:
    return domain_by(data, "design", data.designs)


def domain_by_weight(data: SynthesisInput) -> pd.DataFrame:
    return domain_by(data, "weight", list(data.codebook.weights))


def field_values(studies: pd.DataFrame, item) -> tuple[pd.DataFrame, list[str]]:
    """The studies with ``item``'s column as the values tabled (a multi field's studies
    once per value, a number field binned by its ``bins`` or else by the quartiles of these
    studies), and those values in order; empty cells are :data:`NOT_RECORDED`."""
    column = studies[item.id].fillna("").astype(str).str.strip()
    if item.type == "multi":
        parts = column.str.split(";").map(lambda values: [v.strip() for v in values
                                                          if v.strip()] or [""])
        studies = studies.assign(**{item.id: parts}).explode(item.id)
        column = studies[item.id]
        values = list(item.values)
    elif item.type == "number":
        numbers = pd.to_numeric(column, errors="coerce")
        edges = list(item.bins) or sorted(set(numbers.dropna().quantile(
            [0, 0.25, 0.5, 0.75, 1]).tolist()))
        if len(edges) < 2:
            edges = [numbers.min(), numbers.max()] if numbers.notna().any() else [0, 1]
        edges = sorted(set(edges))
        labels = [f"{a:g}-{b:g}" for a, b in zip(edges[:-1], edges[1:])] or [f"{edges[0]:g}"]
        if len(edges) > 1:
            binned = pd.cut(numbers, edges, labels=labels, include_lowest=True)
            column = binned.astype(str).where(binned.notna(), "")
        else:
            column = numbers.map(lambda v: labels[0] if v == v else "")
        values = labels
        studies = studies.assign(**{item.id: column})
    else:
        values = list(item.allowed)
    column = studies[item.id].fillna("").astype(str)
    studies = studies.assign(**{item.id: column.where(column != "", NOT_RECORDED)})
    if (studies[item.id] == NOT_RECORDED).any():
        values.append(NOT_RECORDED)
    return studies, values


def field_tables(data: SynthesisInput, tables: dict[str, pd.DataFrame]) -> list[tuple]:
    """(field, table name) of each ``domain_by_<field>`` table of the codebook's own fields,
    in ``by`` order (country, design and weight have tables of their own)."""
    return [(data.codebook.field(f), f"domain_by_{f}") for f in data.by
            if f not in BUILT_IN and f"domain_by_{f}" in tables]


def cross_tables(data: SynthesisInput, tables: dict[str, pd.DataFrame]) -> list[tuple]:
    """(table name, heading) of the cross-tables the reports show, in their order: by
    country, design and weight (where the codebook codes them), by the codebook's further
    ``by`` fields, country by design, co-occurrence, period."""
    shown = [("domain_by_country", "Studies by domain and country"),
             ("domain_by_design", "Studies by domain and design"),
             ("domain_by_weight", "Studies by domain and weight of evidence"),
             *[(name, f"Studies by domain and {item.label.lower()}")
               for item, name in field_tables(data, tables)],
             ("country_by_design", "Studies by country and design"),
             ("domain_cooccurrence", "Domain co-occurrence"),
             ("domain_by_period", "Studies by domain and five-year period")]
    return [(name, heading) for name, heading in shown if name in tables]


def domain_by_field(data: SynthesisInput, field_id: str) -> pd.DataFrame:
    """Studies per domain (rows) and value of a codebook field (columns), with totals: a
    study counts once per value of a multi field, and the ``total`` row and column count
    distinct studies."""
    item = data.codebook.field(field_id)
    studies, values = field_values(data.studies, item)
    tagged = data.tags.merge(studies, on="study_id", how="inner")
    table = _crosstab(tagged, "domain", data.domains, field_id, values, studies)
    table.loc[table["domain"] == TOTAL, TOTAL] = int(data.studies["study_id"].nunique())
    return table


def share_by_column(counts: pd.DataFrame) -> pd.DataFrame:
    """Each cell as a share (0-1) of its column's ``total`` row (e.g. of a country's studies)."""
    body = counts.set_index(counts.columns[0])
    totals = body.loc[TOTAL]
    shares = body.div(totals.where(totals > 0)).fillna(0.0)
    return shares.drop(index=TOTAL).reset_index()


def country_by_design(data: SynthesisInput) -> pd.DataFrame:
    """Included studies per country and design (each study once), with totals."""
    return _crosstab(data.studies, "country", data.countries, "design", data.designs,
                     data.studies)


def domain_cooccurrence(data: SynthesisInput) -> pd.DataFrame:
    """Studies tagged with both domains; the diagonal is each domain's number of studies."""
    matrix = pd.crosstab(data.tags["study_id"], data.tags["domain"]) if len(data.tags) \
        else pd.DataFrame()
    matrix = (matrix.reindex(columns=data.domains, fill_value=0) > 0).astype("int64")
    table = (matrix.T @ matrix).reindex(index=data.domains, columns=data.domains,
                                        fill_value=0).astype("int64")
    table.index.name = "domain"
    return table.reset_index()


def five_year_band(year: str) -> str:
    """``2016`` -> ``2015-2019``; no year -> ``n.d.``."""
    year = str(year).strip()
    if not year.isdigit():
        return NO_DATE
    start = int(year) // 5 * 5
    return f"{start}-{start + 4}"


def domain_by_period(data: SynthesisInput) -> pd.DataFrame:
    """Studies per domain and five-year band of publication (``n.d.`` last)."""
    studies = data.studies.assign(period=data.studies["year"].map(five_year_band))
    bands = sorted(b for b in set(studies["period"]) if b != NO_DATE)
    if (studies["period"] == NO_DATE).any():
        bands.append(NO_DATE)
    tagged = data.tags.merge(studies, on="study_id", how="inner")
    return _crosstab(tagged, "domain", data.domains, "period", bands, studies)


def evidence_table(data: SynthesisInput, domain: str) -> pd.DataFrame:
    """The studies of one domain: citation, country, design, weight, the codebook's further
    ``by`` fields, sample, summary, source, and the passages quoted in coding where the
    review has any (``quotes``: "code: text (document)", joined by " | ").

    Sorted by weight of evidence (high first), then by citation.
    """
    rows = _tagged_studies(data)
    rows = rows[rows["domain"] == domain].assign(
        _w=lambda f: f["weight"].map({w: i for i, w in enumerate(data.codebook.weights)}),
        _c=lambda f: sort_key(f["citation"]))
    rows = rows.sort_values(["_w", "_c", "study_id"], kind="stable")
    extra = [f for f in data.by if f not in BUILT_IN and f in rows.columns]
    columns = ["citation", "study_id", *data.codebook.coded("country", "design", "weight"),
               *extra, "sample", "summary", "source"]
    if data.quotes is not None and len(data.quotes):  # where the review has quotes
        quoted = {}
        for row in frame_rows(data.quotes):
            where = f" ({row['document']})" if row["document"] else ""
            quoted.setdefault(row["study_id"], []).append(
                f"{row['code']}: {row['text']}{where}" if row["code"] else row["text"] + where)
        rows = rows.assign(quotes=[" | ".join(quoted.get(s, [])) for s in rows["study_id"]])
        columns.append("quotes")
    return rows[columns].reset_index(drop=True)


def reference_list(data: SynthesisInput) -> pd.DataFrame:
    """APA 7 references of the included studies (after filters), alphabetical."""
    refs = data.studies.assign(_k=sort_key(data.studies["reference"]))
    refs = refs.sort_values(["_k", "study_id"], kind="stable")
    return refs[["study_id", "citation", "reference"]].reset_index(drop=True)


def compute_screening_flow(corpus: ValidatedCorpus,
                           predictions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The screening flow as PRISMA 2020 counts it, one row per box (``stage``,
    ``count_of``, ``n``).

    Identification starts from the searches (records per database, duplicate records
    removed, and studies already in the review before the searches); a corpus made without
    searches starts from its studies table. Screening splits exclusions by the stage the
    codebook gives their reason: records excluded on title and abstract, reports not
    retrieved, reports excluded after the full text, each with its reasons. Records awaiting
    screening or with validation errors are counted apart. With ``predictions``, the
    studies tagged by the model are counted too.
    """
    flow = screening_counts(corpus)
    rows = [("identification", f"records identified: {database}", n)
            for database, n in flow["databases"]]
    rows += [("identification", "records identified", flow["identified"]),
             ("identification", "duplicate records removed", flow["duplicates"])]
    if flow["previous"]:
        rows.append(("identification", "studies from before the searches", flow["previous"]))
    rows += [("identification", "entries in the bib file", corpus.bib_entries),
             ("identification", "bib entries with no study row", len(corpus.bib_only)),
             ("screening", "records with validation errors", flow["errors"]),
             ("screening", "awaiting screening", flow["awaiting"]),
             ("screening", "records screened", flow["screened"]),
             ("screening", "records excluded", flow["records_excluded"])]
    rows += [("screening", f"records excluded: {r}", n) for r, n in flow["record_reasons"]]
    rows += [("screening", "reports sought for retrieval", flow["sought"]),
             ("screening", "reports not retrieved", flow["not_retrieved"]),
             ("screening", "reports assessed for eligibility", flow["assessed"]),
             ("screening", "reports excluded", flow["reports_excluded"])]
    rows += [("screening", f"reports excluded: {r}", n) for r, n in flow["report_reasons"]]
    rows.append(("included", "new studies included", flow["new_included"]))
    if flow["previous"]:
        rows.append(("included", "studies from before the searches included",
                     flow["previous_included"]))
    rows.append(("included", "included in the synthesis", flow["included"]))
    status = corpus.records["status"]
    coded = set(corpus.codes["study_id"]) & set(
        corpus.records.loc[status == "included", "study_id"])
    rows.append(("included", "coded by humans", len(coded)))
    if predictions is not None:
        model = predictions[predictions["source"] == "model"]["study_id"].nunique()
        rows.append(("included", "tagged by the model", int(model)))
    return pd.DataFrame(rows, columns=["stage", "count_of", "n"]).astype({"n": "int64"})


def screening_counts(corpus: ValidatedCorpus) -> dict:
    """The PRISMA 2020 numbers of the review (see :func:`compute_screening_flow`)."""
    records = corpus.records
    searches, ledger = corpus.searches, corpus.search_records
    if len(searches):
        databases: dict[str, int] = {}
        for database, n in zip(searches["database"], searches["records"]):
            databases[database] = databases.get(database, 0) + int(n)
        from_searches = set(ledger["record"])
        identified = sum(databases.values())
        merged = corpus.duplicates[(corpus.duplicates["status"] == MERGED) &
                                   corpus.duplicates["record"].isin(from_searches)]
        duplicates = len(merged)
    else:
        databases, from_searches = {}, set(records["study_id"])
        identified, duplicates = len(records), 0
    new = records[records["study_id"].isin(from_searches)]
    old = records[~records["study_id"].isin(from_searches)]
    stage = (corpus.codebook.stage if corpus.codebook is not None else
             (lambda reason: "title-abstract"))
    excluded = new[new["status"] == "excluded"]
    stages = excluded["exclusion_reason"].map(stage)

    def reasons(mask):
        counts = excluded.loc[mask, "exclusion_reason"].value_counts()
        return [(reason, int(n)) for reason, n in sorted(counts.items())]

    counts = {
        "databases": list(databases.items()), "identified": identified,
        "duplicates": duplicates, "previous": len(old),
        "errors": int((new["status"] == "error").sum()),
        "awaiting": int((new["status"] == AWAITING).sum()),
        "records_excluded": int((stages == "title-abstract").sum()),
        "record_reasons": reasons(stages == "title-abstract"),
        "not_retrieved": int((stages == "not-retrieved").sum()),
        "reports_excluded": int((stages == "full-text").sum()),
        "report_reasons": reasons(stages == "full-text"),
        "new_included": int((new["status"] == "included").sum()),
        "previous_included": int((old["status"] == "included").sum()),
        "included": int((records["status"] == "included").sum()),
    }
    counts["screened"] = len(new) - counts["errors"] - counts["awaiting"]
    counts["sought"] = counts["screened"] - counts["records_excluded"]
    counts["assessed"] = counts["sought"] - counts["not_retrieved"]
    return counts


# The PRISMA2020 R package's and Shiny app's CSV: its template's columns and data keys
PRISMA_COLUMNS = ["data", "node", "box", "description", "boxtext", "tooltips", "url", "n"]
PRISMA_BOXES = [  # data, node, box, description, boxtext
    ("NA", "node4", "prevstud", "Grey title box; Previous studies", "Previous studies"),
    ("previous_studies", "node5", "box1", "Studies included in previous version of review",
     "Studies included in previous version of review"),
    ("previous_reports", "NA", "box1", "Reports of studies included in previous version of "
     "review", "Reports of studies included in previous version of review"),
    ("NA", "node6", "newstud", "Yellow title box; Identification of new studies via "
     "databases and registers", "Identification of new studies via databases and registers"),
    ("database_results", "node7", "box2", "Records identified from: Databases", "Databases"),
    ("database_specific_results", "NA", "box2", "Records identified from: specific "
     "databases", "Specific Databases"),
    ("register_results", "NA", "box2", "Records identified from: Registers", "Registers"),
    ("register_specific_results", "NA", "box2", "Records identified from: specific "
     "registers", "Specific Registers"),
    ("NA", "node16", "othstud", "Grey title box; Identification of new studies via other "
     "methods", "Identification of new studies via other methods"),
    ("website_results", "node17", "box11", "Records identified from: Websites", "Websites"),
    ("organisation_results", "NA", "box11", "Records identified from: Organisations",
     "Organisations"),
    ("citations_results", "NA", "box11", "Records identified from: Citation searching",
     "Citation searching"),
    ("duplicates", "node8", "box3", "Duplicate records", "Duplicate records"),
    ("excluded_automatic", "NA", "box3", "Records marked as ineligible by automation tools",
     "Records marked as ineligible by automation tools"),
    ("excluded_other", "NA", "box3", "Records removed for other reasons",
     "Records removed for other reasons"),
    ("records_screened", "node9", "box4", "Records screened (databases and registers)",
     "Records screened"),
    ("records_excluded", "node10", "box5", "Records excluded (databases and registers)",
     "Records excluded"),
    ("dbr_sought_reports", "node11", "box6", "Reports sought for retrieval (databases and "
     "registers)", "Reports sought for retrieval"),
    ("dbr_notretrieved_reports", "node12", "box7", "Reports not retrieved (databases and "
     "registers)", "Reports not retrieved"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval (other)",
     "Reports sought for retrieval"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved (other)",
     "Reports not retrieved"),
    ("dbr_assessed", "node13", "box8", "Reports assessed for eligibility (databases and "
     "registers)", "Reports assessed for eligibility"),
    ("dbr_excluded", "node14", "box9", "Reports excluded (databases and registers): "
     "[separate reasons and numbers using ; e.g. Reason1, xxx; Reason2, xxx]",
     "Reports excluded"),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility (other)",
     "Reports assessed for eligibility"),
    ("other_excluded", "node21", "box15", "Reports excluded (other): [separate reasons and "
     "numbers using ; e.g. Reason1, xxx; Reason2, xxx]", "Reports excluded"),
    ("new_studies", "node15", "box10", "New studies included in review",
     "New studies included in review"),
    ("new_reports", "NA", "box10", "Reports of new included studies",
     "Reports of new included studies"),
    ("total_studies", "node22", "box16", "Total studies included in review",
     "Total studies included in review"),
    ("total_reports", "NA", "box16", "Reports of total included studies",
     "Reports of total included studies"),
    ("identification", "node1", "identification", "Blue identification box",
     "Identification"),
    ("screening", "node2", "screening", "Blue screening box", "Screening"),
    ("included", "node3", "included", "Blue included box", "Included"),
]


def prisma2020(corpus: ValidatedCorpus) -> pd.DataFrame:
    """The review's counts in the CSV format of the PRISMA2020 R package and Shiny app (its
    template's columns and ``data`` keys), to draw the official flow diagram from. One report
    per study; studies already in the review before its searches are the previous version's
    studies; nothing comes from registers or other methods."""
    flow = screening_counts(corpus)
    databases = "; ".join(f"{name}, {n}" for name, n in flow["databases"])
    values = {
        "previous_studies": flow["previous_included"],
        "previous_reports": flow["previous_included"],
        "database_results": flow["identified"],
        "database_specific_results": databases or f"studies table, {flow['identified']}",
        "duplicates": flow["duplicates"],
        "records_screened": flow["screened"], "records_excluded": flow["records_excluded"],
        "dbr_sought_reports": flow["sought"],
        "dbr_notretrieved_reports": flow["not_retrieved"],
        "dbr_assessed": flow["assessed"],
        "dbr_excluded": "; ".join(f"{r}, {n}" for r, n in flow["report_reasons"]) or 0,
        "new_studies": flow["new_included"], "new_reports": flow["new_included"],
        "total_studies": flow["new_included"] + flow["previous_included"],
        "total_reports": flow["new_included"] + flow["previous_included"],
    }
    rows = []
    for data, node, box, description, boxtext in PRISMA_BOXES:
        rows.append([data, node, box, description, boxtext,
                     description if node != "NA" else "NA",
                     "NA" if node == "NA" else f"{box if data == 'NA' else data}.html",
                     str(values.get(data, 0))])
    return pd.DataFrame(rows, columns=PRISMA_COLUMNS)


def compute_corpus_counts(corpus: ValidatedCorpus) -> pd.DataFrame:
    """Studies by country, design and status (included / excluded), with totals (by those
    of country and design the codebook codes; with neither, the total row only)."""
    codebook = corpus.codebook
    keys = codebook.coded("country", "design")
    records = corpus.records[corpus.records["status"].isin(["included", "excluded"])]
    counts = records["status"].value_counts()
    included, excluded = int(counts.get("included", 0)), int(counts.get("excluded", 0))
    total = pd.DataFrame([[TOTAL, *[""] * (len(keys) - 1), included, excluded,
                           included + excluded]],
                         columns=[*(keys or ["count_of"]), "included", "excluded", TOTAL])
    if not keys:
        return total
    records = records.assign(**{c: records[c].replace("", NOT_RECORDED) for c in keys})
    table = pd.crosstab([records[c] for c in keys], records["status"])
    table = table.reindex(columns=["included", "excluded"], fill_value=0)
    table[TOTAL] = table.sum(axis=1)
    order = {"country": {c: i for i, c in enumerate(codebook.countries)},
             "design": {d: i for i, d in enumerate(codebook.designs)}}
    table = table.reset_index().sort_values(keys, key=lambda s: s.map(order[s.name]),
                                            kind="stable")
    return pd.concat([table[list(total.columns)], total], ignore_index=True).astype(
        {"included": "int64", "excluded": "int64", TOTAL: "int64"})


def build_synthesis_tables(data: SynthesisInput) -> dict[str, pd.DataFrame]:
    """Every synthesis table, by output name (evidence tables as ``evidence_<domain>``)."""
    has = data.codebook.has
    tables = {}
    if has("country"):
        tables["domain_by_country"] = domain_by_country(data)
        tables["domain_by_country_share"] = share_by_column(tables["domain_by_country"])
    if has("design"):
        tables["domain_by_design"] = domain_by_design(data)
    if has("weight"):
        tables["domain_by_weight"] = domain_by_weight(data)
    if has("country") and has("design"):
        tables["country_by_design"] = country_by_design(data)
    tables["domain_cooccurrence"] = domain_cooccurrence(data)
    tables["domain_by_period"] = domain_by_period(data)
    for domain in data.domains:
        tables[f"evidence_{domain}"] = evidence_table(data, domain)
    for field_id in data.by:
        if field_id not in BUILT_IN:
            tables[f"domain_by_{field_id}"] = domain_by_field(data, field_id)
    tables["reference_list"] = reference_list(data)
    tables["gap_map_cells"] = gap_map_cells(data)
    tables["domain_profiles"] = domain_profiles(data, tables)
    return tables


def gap_map_axes(data: SynthesisInput) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The gap map's tagged studies (one row per domain tag, and per value of a multi
    field), its column values and its slice values: the columns are ``data.map_columns``
    (country: the countries after the filters), the slices ``data.map_slices`` (none: one
    slice, ``all``)."""
    codebook = data.codebook
    column, slices = data.map_columns, data.map_slices
    studies = data.studies
    if column == "country":
        values = list(data.countries)
    else:
        studies, values = field_values(studies, codebook.field(column))
    if slices and slices != column:
        studies, levels = field_values(studies, codebook.field(slices)) \
            if slices != "weight" else (studies, list(codebook.weights))
        studies = studies.assign(_slice=studies[slices])
    else:
        studies, levels = studies.assign(_slice="all"), ["all"]
    rows = data.tags.merge(studies, on="study_id", how="inner")
    return rows, values, levels


def gap_map_cells(data: SynthesisInput) -> pd.DataFrame:
    """The studies in each cell of the evidence gap map: domain, the map's column field
    (country by default), study_id, citation, design, weight (codebook order of domains and
    columns, then weight, then citation)."""
    rows, values, _ = gap_map_axes(data)
    field_id = data.map_columns
    columns = ["domain", field_id, "study_id", "citation",
               *data.codebook.coded(*(c for c in ("design", "weight") if c != field_id))]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    order_d = {d: i for i, d in enumerate(data.domains)}
    order_c = {c: i for i, c in enumerate(values)}
    rows = rows[rows[field_id].isin(order_c)].assign(
        _d=lambda f: f["domain"].map(order_d), _c=lambda f: f[field_id].map(order_c),
        _w=lambda f: f["weight"].map({w: i for i, w in enumerate(data.codebook.weights)}),
        _k=lambda f: sort_key(f["citation"]))
    rows = rows.sort_values(["_d", "_c", "_w", "_k", "study_id"], kind="stable")
    return rows[columns].reset_index(drop=True)


COUNTRY_NAMES = {"US": "the US", "Netherlands": "the Netherlands", "UK": "the UK",
                 "multi": "more than one country"}
PROFILE_COLUMNS = ["domain", "label", "studies", "included", "share", "countries",
                   "designs", "weights", "first_year", "last_year", "undated",
                   "no_study_from", "profile"]


def _country(name: str) -> str:
    return COUNTRY_NAMES.get(name, name)


def _listing(counts: dict[str, int], name=lambda k: k) -> str:
    """"England 21, the US 10 and Sweden 2" (non-zero counts, in the given order)."""
    parts = [f"{name(k)} {v}" for k, v in counts.items() if v]
    return " and ".join(parts) if len(parts) < 3 else ", ".join(parts[:-1]) + " and " + \
        parts[-1]


def _either(names: list[str]) -> str:
    return " or ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " or " + \
        names[-1]


def domain_profiles(data: SynthesisInput, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """A first draft of the findings by domain: for each domain, sentences built from the
    synthesis tables alone (how many included studies, from which countries, of what
    designs and weight of evidence, the years they span, the countries with none). No
    claim about what the studies found: that stays in the evidence tables."""
    empty = pd.DataFrame({"domain": [*data.domains, TOTAL]})
    by_country, by_design, by_weight = (
        tables.get(name, empty).set_index("domain")
        for name in ("domain_by_country", "domain_by_design", "domain_by_weight"))
    by_period = tables["domain_by_period"].set_index("domain")  # always made: the totals
    included = int(by_period.loc[TOTAL, TOTAL])
    countries = [c for c in data.countries if c in by_country.columns]
    named = [c for c in countries if c != "multi"]
    designs = [d for d in data.designs if d in by_design.columns]
    weights = [w for w in data.codebook.weights if w in by_weight.columns]
    rows = []
    for domain in data.domains:
        label = data.codebook.label(domain)
        n = int(by_period.loc[domain, TOTAL])
        evidence = tables.get(f"evidence_{domain}", pd.DataFrame(columns=["study_id"]))
        all_years = data.studies.loc[data.studies["study_id"].isin(evidence["study_id"]),
                                     "year"].astype(str)
        years = sorted(int(y) for y in all_years if y.isdigit())
        undated = len(all_years) - len(years)
        per_country = {c: int(by_country.loc[domain, c]) for c in countries}
        per_design = {d: int(by_design.loc[domain, d]) for d in designs}
        per_weight = {w: int(by_weight.loc[domain, w]) for w in weights}
        none = [c for c in named if per_country[c] == 0]
        share = 100.0 * n / included if included else 0.0
        if n == 0:
            text = f"No included study examined {label.lower()}."
        else:
            sentences = [f"{n} of the {included} included studies ({share:.0f}%) examined "
                         f"{label.lower()}."]
            for what, counts, name in (("By country", per_country, _country),
                                       ("By design", per_design, str),
                                       ("Weight of evidence", per_weight, str)):
                if counts:
                    sentences.append(f"{what}: {_listing(counts, name)}.")
            if years:
                span = (f"in {years[0]}" if years[0] == years[-1]
                        else f"between {years[0]} and {years[-1]}")
                sentences.append(f"They were published {span}"
                                 + (f" ({undated} undated)." if undated else "."))
            if none and len(none) < len(named):
                sentences.append(f"No study from {_either([_country(c) for c in none])} "
                                 f"examined {label.lower()}.")
            for item, name in field_tables(data, tables):  # as countries above
                cells = tables[name].set_index("domain")
                counts = {v: int(cells.loc[domain, v]) for v in cells.columns
                          if v not in (TOTAL, NOT_RECORDED)}
                if any(counts.values()):
                    sentences.append(f"By {item.label.lower()}: {_listing(counts)}"
                                     + (" (a study may count under several)"
                                        if item.type == "multi" else "") + ".")
            text = " ".join(sentences)
        rows.append({"domain": domain, "label": label, "studies": n, "included": included,
                     "share": round(share, 1),
                     "countries": "; ".join(f"{c} {v}" for c, v in per_country.items()),
                     "designs": "; ".join(f"{d} {v}" for d, v in per_design.items()),
                     "weights": "; ".join(f"{w} {v}" for w, v in per_weight.items()),
                     "first_year": years[0] if years else "",
                     "last_year": years[-1] if years else "", "undated": undated,
                     "no_study_from": "; ".join(none), "profile": text})
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)


def describe_filters(filters: dict, weights: tuple[str, ...] = WEIGHTS) -> str:
    """The review's filters in words, for the report (``weights``: the codebook's levels,
    highest first)."""
    parts = []
    countries = list(filters.get("countries") or [])
    if countries:
        parts.append("studies from " + " and ".join(_country(c) for c in countries) + " only")
    weight = filters.get("min_weight", "")
    if weight and weight != weights[-1] and weight in weights:
        kept = weights[: weights.index(weight) + 1]
        parts.append(" or ".join(reversed(kept)) + " weight of evidence only")
    domains = list(filters.get("domains") or [])
    if domains:
        parts.append("the domains " + " and ".join(domains) + " only")
    for field_id, values in (filters.get("where") or {}).items():
        parts.append(f"studies whose {field_id} is " + " or ".join(values))
    if filters.get("human_codes_only"):
        parts.append("human codes only (no model tags)")
    if not parts:
        return "All included studies: every country, domain and weight of evidence."
    text = "; ".join(parts)
    return "Filters: " + text[0].lower() + text[1:] + "."
