"""Synthesis tables from tagged records: counts by domain, country, design, weight and period,
co-occurrence, per-domain evidence tables, the screening flow, and the reference list.

Everything here is pure: DataFrames in, new DataFrames out. Counts are of studies; a study
tagged with several domains counts once in each of them, so a ``total`` row counts distinct
studies, not the sum of the column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from trustreview.synthesis.citations import NO_DATE, add_citations
from trustreview.io.codebook import Codebook
from trustreview.io.text import fold
from trustreview.schema import WEIGHTS
from trustreview.validate import AWAITING, ValidatedCorpus

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


def sort_key(series: pd.Series) -> pd.Series:
    """Case- and accent-insensitive sort key for names and titles."""
    return series.map(lambda s: fold(s).casefold())


def select_for_synthesis(corpus: ValidatedCorpus, predictions: pd.DataFrame,
                         countries: list[str] | None = None, domains: list[str] | None = None,
                         min_weight: str = "low", human_codes_only: bool = False
                         ) -> SynthesisInput:
    """Apply the review's filters to the included studies and their tags.

    ``predictions`` is the long table of :func:`trustreview.model.evaluation.tag_studies`. With
    ``human_codes_only`` the model's tags are dropped (studies keep only human codes).
    Unknown countries or domains raise ``ValueError`` naming the allowed values.
    """
    codebook = corpus.codebook
    countries = list(countries or [])
    domains = list(domains or [])
    for given, allowed, what in ((countries, codebook.countries, "country"),
                                 (domains, codebook.domain_ids, "domain")):
        unknown = [g for g in given if g not in allowed]
        if unknown:
            raise ValueError(f"unknown {what} {', '.join(unknown)}; allowed: "
                             f"{', '.join(allowed)}")
    levels = codebook.weights
    if min_weight not in levels:
        raise ValueError(f"min_weight {min_weight!r}; allowed: {', '.join(levels)}")
    keep_weights = levels[: levels.index(min_weight) + 1]
    studies = corpus.included
    if countries:
        studies = studies[studies["country"].isin(countries)]
    studies = studies[studies["weight"].isin(keep_weights)]
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
                 "human_codes_only": human_codes_only})


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
    totals = base.drop_duplicates("study_id")[cols].value_counts().reindex(
        col_values, fill_value=0).astype("int64")
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
    """The studies of one domain: citation, country, design, weight, sample, summary, source.

    Sorted by weight of evidence (high first), then by citation.
    """
    rows = _tagged_studies(data)
    rows = rows[rows["domain"] == domain].assign(
        _w=lambda f: f["weight"].map({w: i for i, w in enumerate(data.codebook.weights)}),
        _c=lambda f: sort_key(f["citation"]))
    rows = rows.sort_values(["_w", "_c", "study_id"], kind="stable")
    columns = ["citation", "study_id", "country", "design", "weight", "sample", "summary",
               "source"]
    return rows[columns].reset_index(drop=True)


def reference_list(data: SynthesisInput) -> pd.DataFrame:
    """APA 7 references of the included studies (after filters), alphabetical."""
    refs = data.studies.assign(_k=sort_key(data.studies["reference"]))
    refs = refs.sort_values(["_k", "study_id"], kind="stable")
    return refs[["study_id", "citation", "reference"]].reset_index(drop=True)


def compute_screening_flow(corpus: ValidatedCorpus,
                           predictions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Counts of the screening flow (PRISMA 2020 style).

    Stages: records identified (studies table rows), bib entries with no study row, records
    with errors, excluded (total and one row per reason), included, coded by humans, and,
    when ``predictions`` is given, tagged by the model.
    """
    records = corpus.records
    status = records["status"]
    coded = set(corpus.codes["study_id"]) & set(records.loc[status == "included",
                                                            "study_id"])
    rows = [("identified", "records in the studies table", len(records)),
            ("identified", "entries in the bib file", corpus.bib_entries),
            ("identified", "bib entries with no study row", len(corpus.bib_only)),
            ("screened", "records with validation errors", int((status == "error").sum())),
            ("screened", "awaiting screening", int((status == AWAITING).sum())),
            ("screened", "excluded", int((status == "excluded").sum()))]
    reasons = records.loc[status == "excluded", "exclusion_reason"].value_counts()
    rows += [("screened", f"excluded: {reason}", int(count))
             for reason, count in sorted(reasons.items())]
    rows.append(("included", "included in the synthesis", int((status == "included").sum())))
    rows.append(("included", "coded by humans", len(coded)))
    if predictions is not None:
        model = predictions[predictions["source"] == "model"]["study_id"].nunique()
        rows.append(("included", "tagged by the model", int(model)))
    return pd.DataFrame(rows, columns=["stage", "count_of", "n"])


def compute_corpus_counts(corpus: ValidatedCorpus) -> pd.DataFrame:
    """Studies by country, design and status (included / excluded), with totals."""
    records = corpus.records[corpus.records["status"].isin(["included", "excluded"])]
    records = records.assign(**{c: records[c].replace("", NOT_RECORDED)
                                for c in ("country", "design")})
    table = pd.crosstab([records["country"], records["design"]], records["status"])
    table = table.reindex(columns=["included", "excluded"], fill_value=0)
    table[TOTAL] = table.sum(axis=1)
    country_order = {c: i for i, c in enumerate(corpus.codebook.countries)}
    design_order = {d: i for i, d in enumerate(corpus.codebook.designs)}
    table = table.reset_index()
    table = table.sort_values(
        ["country", "design"], key=lambda s: s.map(country_order if s.name == "country"
                                                   else design_order), kind="stable")
    total = pd.DataFrame([[TOTAL, "", *table[["included", "excluded", TOTAL]].sum()]],
                         columns=table.columns)
    return pd.concat([table, total], ignore_index=True).astype(
        {"included": "int64", "excluded": "int64", TOTAL: "int64"})


def build_synthesis_tables(data: SynthesisInput) -> dict[str, pd.DataFrame]:
    """Every synthesis table, by output name (evidence tables as ``evidence_<domain>``)."""
    by_country = domain_by_country(data)
    tables = {
        "domain_by_country": by_country,
        "domain_by_country_share": share_by_column(by_country),
        "domain_by_design": domain_by_design(data),
        "domain_by_weight": domain_by_weight(data),
        "country_by_design": country_by_design(data),
        "domain_cooccurrence": domain_cooccurrence(data),
        "domain_by_period": domain_by_period(data),
    }
    for domain in data.domains:
        tables[f"evidence_{domain}"] = evidence_table(data, domain)
    tables["reference_list"] = reference_list(data)
    tables["gap_map_cells"] = gap_map_cells(data)
    tables["domain_profiles"] = domain_profiles(data, tables)
    return tables


def gap_map_cells(data: SynthesisInput) -> pd.DataFrame:
    """The studies in each cell of the evidence gap map: domain, country, study_id,
    citation, design, weight (codebook order of domains and countries, then weight, then
    citation)."""
    rows = _tagged_studies(data)
    columns = ["domain", "country", "study_id", "citation", "design", "weight"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    order_d = {d: i for i, d in enumerate(data.domains)}
    order_c = {c: i for i, c in enumerate(data.countries)}
    rows = rows[rows["country"].isin(order_c)].assign(
        _d=lambda f: f["domain"].map(order_d), _c=lambda f: f["country"].map(order_c),
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
    by_country = tables["domain_by_country"].set_index("domain")
    by_design = tables["domain_by_design"].set_index("domain")
    by_weight = tables["domain_by_weight"].set_index("domain")
    included = int(by_country.loc[TOTAL, TOTAL])
    countries = [c for c in data.countries if c in by_country.columns]
    named = [c for c in countries if c != "multi"]
    designs = [d for d in data.designs if d in by_design.columns]
    weights = [w for w in data.codebook.weights if w in by_weight.columns]
    rows = []
    for domain in data.domains:
        label = data.codebook.label(domain)
        n = int(by_country.loc[domain, TOTAL])
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
            sentences = [
                f"{n} of the {included} included studies ({share:.0f}%) examined "
                f"{label.lower()}.",
                f"By country: {_listing(per_country, _country)}.",
                f"By design: {_listing(per_design)}.",
                f"Weight of evidence: {_listing(per_weight)}.",
            ]
            if years:
                span = (f"in {years[0]}" if years[0] == years[-1]
                        else f"between {years[0]} and {years[-1]}")
                sentences.append(f"They were published {span}"
                                 + (f" ({undated} undated)." if undated else "."))
            if none and len(none) < len(named):
                sentences.append(f"No study from {_either([_country(c) for c in none])} "
                                 f"examined {label.lower()}.")
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
    weight = filters.get("min_weight", weights[-1])
    if weight and weight != weights[-1] and weight in weights:
        kept = weights[: weights.index(weight) + 1]
        parts.append(" or ".join(reversed(kept)) + " weight of evidence only")
    domains = list(filters.get("domains") or [])
    if domains:
        parts.append("the domains " + " and ".join(domains) + " only")
    if filters.get("human_codes_only"):
        parts.append("human codes only (no model tags)")
    if not parts:
        return "All included studies: every country, domain and weight of evidence."
    text = "; ".join(parts)
    return "Filters: " + text[0].lower() + text[1:] + "."
