"""Finding the records of several searches that are the same work, in four steps as
CoLRev's bib-dedupe separates them: :mod:`~trustreview.dedup.prepare` (each field
normalised once), :mod:`~trustreview.dedup.block` (candidate pairs),
:mod:`~trustreview.dedup.match` (each pair decided ``merged``, ``check`` or ``distinct``,
the rules in words) and :mod:`~trustreview.dedup.merge` (clusters, each kept as one study).

This part owns the rules of sameness. It may import only ``base`` and the schema: the
searches and validation call it, never the other way round.
"""

from trustreview.dedup.block import candidate_pairs
from trustreview.dedup.match import Decision, decide, find_pairs
from trustreview.dedup.merge import resolve
from trustreview.dedup.prepare import prepare, title_key
from trustreview.schema import CHECK, DISTINCT, MERGED

__all__ = ["CHECK", "DISTINCT", "MERGED", "Decision", "candidate_pairs", "decide",
           "find_pairs", "prepare", "resolve", "title_key"]
