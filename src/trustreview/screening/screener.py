"""Screening one record at a time in JupyterLab: the most relevant record awaiting the coder,
its title and abstract with the words that raise its relevance (green) or lower it (red)
marked, the progress and the stopping verdict; buttons Include, Exclude (with a reason),
Back and Skip, and keys typed in the key box (i, e, b, s). The model is retrained after
every decision.

Every decision is written to ``decisions.csv`` (and ``studies.csv`` for an exclusion) the
moment it is made, both files replaced together (:func:`trustreview.screening.decisions.write`),
so a closed tab or a killed kernel loses nothing decided; the checks are those of a merged
sheet (:mod:`trustreview.screening.decisions`). :class:`Screener` works without widgets
too: :meth:`Screener.include`, :meth:`~Screener.exclude`, :meth:`~Screener.back` and
:meth:`~Screener.skip` are what the buttons call.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from trustreview.errors import InputError, SheetError
from trustreview.model.relevance import EXCLUDED, INCLUDED, UNKNOWN
from trustreview.schema import NO, YES
from trustreview.screening import decisions as screening
from trustreview.screening import stopping
from trustreview.screening.sheet import rank

KEYS = {"i": "include", "e": "exclude", "b": "back", "s": "skip"}


class Screener:
    """A coder's screening session over a review folder's corpus (see the module
    docstring). ``corpus_dir`` and ``bib_path`` as for ``trustreview validate``."""

    def __init__(self, corpus_dir, bib_path, coder: str, seed: int = 0):
        from trustreview.io.load import find_table, read_table
        from trustreview.corpus.validate import open_corpus, require_valid

        if not coder or coder != coder.strip():
            raise InputError(f"coder {coder!r}: give the coder's name or initials")
        self.corpus_dir = Path(corpus_dir)
        self.coder = coder
        corpus = require_valid(open_corpus(corpus_dir, bib_path))
        self.codebook = corpus.codebook
        self.reasons = [r.id for r in corpus.codebook.exclusion_reasons]
        self.studies_path = find_table(self.corpus_dir, "studies")
        self.studies = read_table(self.studies_path).frame.drop(columns="line")
        self.decisions = corpus.decisions
        self.columns = list(corpus.codebook.decision_columns)
        self.ranking = rank(corpus.records, self.decisions, corpus.codebook, coder, seed)
        self.position = {sid: i for i, sid in enumerate(self.ranking.study_ids)}
        self.history: list[str] = []  # studies decided in this session, in order
        self.skipped: set[str] = set()
        self.current: str | None = None
        self.widget = None
        self._next()

    # -- what the buttons do ---------------------------------------------------------------
    def include(self, note: str = "") -> str | None:
        """Include the record shown; returns the next one's study_id."""
        return self._decide(YES, "", note)

    def exclude(self, reason: str, note: str = "") -> str | None:
        """Exclude the record shown with ``reason``; returns the next one's study_id."""
        return self._decide(NO, reason, note)

    def skip(self) -> str | None:
        """Leave the record shown for later (this session shows it again only at the end)."""
        if self.current is not None:
            self.skipped.add(self.current)
        return self._next()

    def back(self) -> str | None:
        """Show the record decided last in this session again, to decide it anew."""
        if self.history:
            self.current = self.history.pop()
            self._refresh()
        return self.current

    # -- the decision, written at once -----------------------------------------------------
    def _decide(self, included: str, reason: str, note: str) -> str | None:
        if self.current is None:
            raise InputError("nothing awaits screening: every record has your decision")
        row = {"row": 0, "study_id": self.current, "included": included,
               "exclusion_reason": reason, "note": note}
        problems = screening.check_rows(pd.DataFrame([row]), "the screener",
                                        set(self.studies["study_id"]))
        if problems:
            raise SheetError("the screener", problems)
        again = self.ranking.labels[self.position[self.current]] != UNKNOWN
        result = screening.apply([row], self.studies, self.decisions, self.coder,
                                 self.columns, replace=again)
        screening.write(result, self.studies_path, self.corpus_dir)
        self.studies, self.decisions = result.studies, result.decisions
        self.ranking.labels[self.position[self.current]] = INCLUDED if included == YES \
            else EXCLUDED
        self.history.append(self.current)
        self.ranking.scores = self.ranking.model.scores(self.ranking.labels)
        return self._next()

    def _next(self) -> str | None:
        waiting = self.ranking.awaiting
        fresh = [i for i in waiting if self.ranking.study_ids[i] not in self.skipped]
        chosen = fresh[0] if fresh else (waiting[0] if waiting else None)
        self.current = None if chosen is None else self.ranking.study_ids[chosen]
        self._refresh()
        return self.current

    # -- what is shown ---------------------------------------------------------------------
    def progress(self) -> dict:
        """Screened, included and the stopping rules' verdict over the coder's decisions
        in the order they were made."""
        mine = self.decisions[self.decisions["coder"] == self.coder]
        order = screening.screening_order(mine)
        made = [1 if v.lower() == YES else 0 for v in order["included"]]
        verdict = stopping.verdict(made, len(self.ranking.study_ids))
        return {"screened": int((self.ranking.labels != UNKNOWN).sum()),
                "included": int((self.ranking.labels == INCLUDED).sum()),
                "total": len(self.ranking.study_ids), "verdict": verdict}

    def record_html(self) -> str:
        """The record shown, its words that raise or lower its relevance marked."""
        if self.current is None:
            return "<p><b>Nothing awaits screening</b>: every record has your decision.</p>"
        i = self.position[self.current]
        record = self.ranking.records.iloc[i]
        raising, lowering = self.ranking.model.terms(i, self.ranking.labels)
        abstract = str(record["abstract"] or record["summary"])
        return (f"<h3>{_marked(str(record['title']), raising, lowering)}</h3>"
                f"<p><i>{html.escape(str(record['authors']))} ({html.escape(str(record['year']))})"
                f" {html.escape(str(record['venue']))}</i> &middot; {html.escape(self.current)}"
                f" &middot; relevance {self.ranking.scores[i]:.3f}</p>"
                f"<p>{_marked(abstract, raising, lowering)}</p>")

    def progress_html(self) -> str:
        p = self.progress()
        verdict = p["verdict"]
        words = "you may stop" if verdict.stop else "not yet"
        return (f"<p>{p['screened']:,} of {p['total']:,} screened, {p['included']:,} "
                f"included, {verdict.since_last:,} excluded since the last inclusion. "
                f"<b>Can we stop?</b> {words} (95% recall at 95% confidence: p = "
                f"{verdict.p_value:.3f}); knee method: {'stop' if verdict.knee else 'not yet'}"
                f"; {stopping.in_a_row_needed(p['total'])} excluded in a row: "
                f"{'stop' if verdict.in_a_row else 'not yet'}</p>")

    def show(self):
        """The screener as ipywidgets (JupyterLab)."""
        import ipywidgets as w

        record, status = w.HTML(), w.HTML()
        # no reason chosen until the coder chooses one: an Exclude without it is refused
        reason = w.Dropdown(options=self.reasons, value=None, description="reason")
        note = w.Text(description="note")
        keys = w.Text(description="key", placeholder="i include, e exclude, b back, s skip")
        buttons = {name: w.Button(description=name.capitalize()) for name in KEYS.values()}
        message = w.HTML()

        def act(name):
            try:
                if name == "include":
                    self.include(note.value)
                elif name == "exclude":
                    self.exclude(reason.value or "", note.value)
                else:
                    getattr(self, name)()
                message.value = ""
            except (InputError, SheetError) as error:
                message.value = f"<p style='color:#a00'>{html.escape(str(error))}</p>"
            note.value = ""
            reason.value = None
            self._refresh()

        for name, button in buttons.items():
            button.on_click(lambda _, name=name: act(name))

        def typed(change):
            key = (change["new"] or "")[-1:].lower()
            if key in KEYS:
                keys.value = ""
                act(KEYS[key])

        keys.observe(typed, names="value")
        self.widget = {"record": record, "status": status, "message": message}
        self._refresh()
        return w.VBox([status, record, w.HBox(list(buttons.values())), reason, note, keys,
                       message])

    def _refresh(self) -> None:
        if self.widget:
            self.widget["record"].value = self.record_html()
            self.widget["status"].value = self.progress_html()


def _marked(text: str, raising: list[str], lowering: list[str]) -> str:
    """``text`` as HTML, each word of ``raising`` on green and of ``lowering`` on red."""
    escaped = html.escape(text)
    words = {w: "#c6efce" for t in raising for w in t.split()}
    words.update({w: "#ffc7ce" for t in lowering for w in t.split() if w not in words})
    if not words:
        return escaped
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, words), key=len,
                                                  reverse=True)) + r")\b", re.IGNORECASE)
    return pattern.sub(lambda m: f"<span style='background:{words[m.group(0).lower()]}'>"
                                 f"{m.group(0)}</span>", escaped)
