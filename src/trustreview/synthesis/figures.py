"""Figures as matplotlib Figure objects (saving is :mod:`trustreview.io.export`'s job).

Figures are built with the object API (no pyplot state), so they never pop up twice in a
notebook and never depend on the backend.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Wedge

# Greys distinguishable in print and greyscale, plus hatching so colour is never the only
# cue: the codebook's weight levels take them in order, highest first.
WEIGHT_STYLES = (("#1a1a1a", ""), ("#8c8c8c", "////"), ("#e0e0e0", "...."),
                 ("#ffffff", "xx"), ("#bdbdbd", "\\\\"), ("#5a5a5a", "++"))


def weight_style(weights, weight: str) -> tuple[str, str]:
    """The fill and hatch of a weight level: by its place in ``weights`` (highest first)."""
    return WEIGHT_STYLES[list(weights).index(weight) % len(WEIGHT_STYLES)]


def plot_learning_curve(curve: pd.DataFrame) -> Figure:
    """Macro- and micro-F1 against the number of coded training studies."""
    fig = Figure(figsize=(6, 3.6), dpi=100)
    ax = fig.add_subplot()
    ax.plot(curve["n_coded"], curve["macro_f1"], marker="o", color="black", label="macro-F1")
    ax.plot(curve["n_coded"], curve["micro_f1"], marker="s", color="grey", linestyle="--",
            label="micro-F1")
    ax.set_xlabel("coded studies used for training (0 = codebook only)")
    ax.set_ylabel("F1 on held-out studies")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def show(figure: Figure | None):
    """A figure as a PNG image a notebook displays (a bare matplotlib ``Figure`` shows only
    its text form when pyplot is not in use); None stays None."""
    if figure is None:
        return None
    from IPython.display import Image

    from trustreview.io.export import figure_bytes

    return Image(data=figure_bytes(figure, "png"), format="png")


def plot_work_saved(curve: pd.DataFrame, target: float) -> Figure:
    """F1 of the final codes against the share of the model's decisions a reviewer checks,
    least certain first (overall in black, each domain in grey), with the target F1."""
    fig = Figure(figsize=(6, 3.6), dpi=100)
    ax = fig.add_subplot()
    for domain, rows in curve.groupby("domain", sort=False):
        if domain != "overall":
            ax.plot(rows["share_checked"], rows["f1"], color="grey", alpha=0.5, linewidth=1)
    overall = curve[curve["domain"] == "overall"]
    ax.plot(overall["share_checked"], overall["f1"], color="black", marker="o",
            markersize=3, label="all domains")
    ax.axhline(target, color="black", linestyle=":", linewidth=1,
               label=f"F1 {target:.2f} (a second coder)")
    ax.set_xlabel("share of decisions checked by a reviewer (least certain first)")
    ax.set_ylabel("F1 of the final codes")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def plot_evidence_gap_map(data, labels: dict[str, str] | None = None) -> Figure:
    """Domain (rows) by country (columns): a circle per cell, area proportional to the number
    of studies, split into pie slices by weight of evidence (black = high, grey hatched =
    medium, light dotted = low); the count is printed in the cell's corner. Empty cells show
    a dash.

    ``data`` is a :class:`trustreview.synthesis.SynthesisInput`.
    """
    from trustreview.synthesis.tables import gap_map_axes

    labels = labels or {}
    merged, countries, levels = gap_map_axes(data)
    column = data.map_columns
    merged = merged.drop_duplicates(["domain", column, "_slice", "study_id"])
    counts = merged.groupby(["domain", column, "_slice"]).size()
    domains = data.domains
    per_cell = merged.drop_duplicates(["domain", column, "study_id"]).groupby(
        ["domain", column]).size()
    totals = {(d, c): int(per_cell.get((d, c), 0)) for d in domains for c in countries}
    largest = max(totals.values(), default=0) or 1
    present = [w for w in levels if any(
        counts.get((d, c, w), 0) for d in domains for c in countries)]
    # sized to what it holds: the row labels, the cells, the title and the legend
    label_width = 0.085 * max((len(labels.get(d, d)) for d in domains), default=4) + 0.4
    columns = 3 if len(countries) >= 3 else 1
    legend_rows = -(-max(len(present), 1) // columns)
    width = max(label_width + 1.3 * len(countries) + 0.4, 5.6)
    height = 0.85 * len(domains) + 1.5 + 0.3 * legend_rows
    fig = Figure(figsize=(width, height), dpi=100)
    ax = fig.add_subplot()
    ax.set_xlim(-0.5, len(countries) - 0.5)
    ax.set_ylim(len(domains) - 0.5, -0.5)
    ax.set_aspect("equal")
    for i, domain in enumerate(domains):
        for j, country in enumerate(countries):
            total = totals[(domain, country)]
            if total == 0:
                ax.text(j, i, "–", ha="center", va="center", color="#555555", fontsize=10)
                continue
            radius = 0.36 * np.sqrt(total / largest)
            radius = max(radius, 0.09)
            start = 90.0
            sliced = sum(int(counts.get((domain, country, w), 0)) for w in levels) or 1
            for weight in levels:
                n = int(counts.get((domain, country, weight), 0))
                if n == 0:
                    continue
                extent = 360.0 * n / sliced  # a study in two slices of a multi field: each
                colour, hatch = weight_style(levels, weight)
                ax.add_patch(Wedge((j, i), radius, start, start + extent, facecolor=colour,
                                   edgecolor="black", linewidth=0.6, hatch=hatch))
                start += extent
            # the count in the cell's top-right corner, clear of the circle and of the
            # neighbouring cells
            ax.text(j + 0.46, i - 0.44, str(total), fontsize=8, ha="right", va="top")
    if max((len(c) for c in countries), default=0) > 11:  # long values: wrapped, smaller
        ax.set_xticks(range(len(countries)),
                      [textwrap.fill(c, 11, break_long_words=False) for c in countries],
                      fontsize=8)
    else:
        ax.set_xticks(range(len(countries)), countries)
    ax.set_yticks(range(len(domains)), [labels.get(d, d) for d in domains])
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.grid(False)
    for k in range(len(countries) + 1):
        ax.axvline(k - 0.5, color="#cccccc", linewidth=0.5)
    for k in range(len(domains) + 1):
        ax.axhline(k - 0.5, color="#cccccc", linewidth=0.5)
    slice_label = "weight" if data.map_slices == "weight" else ""
    handles = [Wedge((0, 0), 1, 0, 360, facecolor=weight_style(levels, w)[0],
                     edgecolor="black", hatch=weight_style(levels, w)[1],
                     label=f"{w} {slice_label}".strip()) for w in present
               if w != "all"]
    fig.legend(handles=handles, loc="lower center", ncol=columns, frameon=False, fontsize=8,
               title="circle area = number of studies", title_fontsize=8)
    what = "country" if column == "country" else data.codebook.field(column).label.lower()
    fig.suptitle(f"Evidence gap map: studies per domain and {what}", fontsize=11)
    fig.tight_layout(rect=(0, 0.06 + 0.06 * legend_rows * 4 / max(height, 1), 1, 0.97))
    return fig


def plot_screening_flow(flow: pd.DataFrame) -> Figure:
    """The screening flow as a PRISMA 2020 diagram: identification, screening and included
    boxes top-down, what leaves at each step beside them (reasons listed)."""
    n = dict(zip(flow["count_of"], flow["n"]))

    def listed(prefix):
        return [f"  {k[len(prefix):]}: {v}" for k, v in zip(flow["count_of"], flow["n"])
                if k.startswith(prefix)]

    sources = listed("records identified: ")
    identified = [f"Records identified: {n.get('records identified', 0)}", *sources]
    if "studies from before the searches" in n:
        identified.append(f"Studies from before the searches: "
                          f"{n['studies from before the searches']}")
    screened = [f"Records screened: {n.get('records screened', 0)}"]
    for extra in ("awaiting screening", "records with validation errors"):
        if n.get(extra, 0):
            screened.append(f"({extra}: {n[extra]})")
    steps = [  # (main box, side box)
        (identified, [f"Duplicate records removed: {n.get('duplicate records removed', 0)}"]),
        (screened, [f"Records excluded: {n.get('records excluded', 0)}",
                    *listed("records excluded: ")]),
        ([f"Reports sought for retrieval: {n.get('reports sought for retrieval', 0)}"],
         [f"Reports not retrieved: {n.get('reports not retrieved', 0)}"]),
        ([f"Reports assessed for eligibility: "
          f"{n.get('reports assessed for eligibility', 0)}"],
         [f"Reports excluded: {n.get('reports excluded', 0)}",
          *listed("reports excluded: ")]),
        ([f"Studies included in the synthesis: {n.get('included in the synthesis', 0)}",
          f"Coded by humans: {n.get('coded by humans', 0)}"] +
         ([f"Tagged by the model: {n['tagged by the model']}"]
          if "tagged by the model" in n else []), []),
    ]
    heights = [max(len(main), len(side), 2) * 0.32 + 0.5 for main, side in steps]
    total = sum(heights) + 0.4 * (len(steps) - 1)
    fig = Figure(figsize=(7.5, max(total * 0.72, 4.5)), dpi=100)
    ax = fig.add_subplot()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, total)
    ax.axis("off")
    top = total
    centres = []
    for (main, side), height in zip(steps, heights):
        y = top - height / 2
        centres.append((y, height))
        ax.add_patch(FancyBboxPatch((0.3, top - height + 0.05), 4.8, height - 0.1,
                                    boxstyle="round,pad=0.02", facecolor="white",
                                    edgecolor="black"))
        ax.text(2.7, y, "\n".join(main), ha="center", va="center", fontsize=8.5)
        if side:
            ax.add_patch(FancyBboxPatch((5.7, top - height + 0.05), 4.0, height - 0.1,
                                        boxstyle="round,pad=0.02", facecolor="#f0f0f0",
                                        edgecolor="black"))
            ax.text(5.85, y, "\n".join(side), ha="left", va="center", fontsize=8)
            ax.annotate("", xy=(5.65, y), xytext=(5.15, y),
                        arrowprops={"arrowstyle": "->", "color": "black"})
        top -= height + 0.4
    for (upper, h1), (lower, h2) in zip(centres[:-1], centres[1:]):
        ax.annotate("", xy=(2.7, lower + h2 / 2 - 0.04), xytext=(2.7, upper - h1 / 2 + 0.04),
                    arrowprops={"arrowstyle": "->", "color": "black"})
    fig.suptitle("Screening flow (PRISMA 2020)", fontsize=11)
    fig.tight_layout()
    return fig



def plot_recall_curve(included, stops: dict[str, int | None] | None = None,
                      title: str = "") -> Figure:
    """Included records found against records screened, in screening order (black), the
    line a random order would give (grey dashes), and where each stopping rule says stop
    (vertical lines, labelled)."""
    found = np.cumsum(np.asarray(included, dtype=float))
    n = len(found)
    fig = Figure(figsize=(6, 3.6), dpi=100)
    ax = fig.add_subplot()
    x = np.arange(1, n + 1)
    ax.plot(x, found, color="black", label="screening order")
    if n:
        ax.plot([0, n], [0, found[-1]], color="grey", linestyle="--", label="random order")
    styles = {"hypergeometric": ":", "knee": "-.", "in_a_row": (0, (1, 4))}
    for rule, at in (stops or {}).items():
        if at is not None:
            ax.axvline(at, color="black", linestyle=styles.get(rule, ":"), linewidth=1,
                       label=f"{rule.replace('_', ' ')}: stop at {at:,}")
    ax.set_xlabel("records screened")
    ax.set_ylabel("included records found")
    if title:
        ax.set_title(title)
    ax.set_xlim(0, max(n, 1))
    ax.set_ylim(0, max(found[-1] if n else 0, 1) * 1.05)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
