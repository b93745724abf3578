"""Coding workbooks: a coder's or the reconciler's sheet (:mod:`~trustreview.coding.sheets`),
a filled sheet checked (:mod:`~trustreview.coding.checks`) and merged back into the corpus
tables (:mod:`~trustreview.coding.merging`). Pure functions over DataFrames, but for
:func:`build_sheet` and :func:`merge_workbook` at the edges.

This part may import ``io``, ``corpus`` (a field's allowed values), ``model`` (the tagger's
suggestions and the order to code in), ``screening.decisions`` (a screening row is not a
coding decision), ``base`` and the schema.
"""

from trustreview.coding.checks import check_rows
from trustreview.coding.merging import (Merged, merge, merge_coder, merge_reconciliation,
                                        merge_workbook)
from trustreview.coding.sheets import (FIELDS, RECONCILED, Sheet, build_sheet, coder_sheet,
                                       collapse_multi, decisions_columns, empty_decisions,
                                       expand_multi, fields_of, needs_decision,
                                       reconcile_sheet, reconciliation)

__all__ = ["FIELDS", "RECONCILED", "Merged", "Sheet", "build_sheet", "check_rows",
           "coder_sheet", "collapse_multi", "decisions_columns", "empty_decisions",
           "expand_multi", "fields_of", "merge", "merge_coder", "merge_reconciliation",
           "merge_workbook", "needs_decision", "reconcile_sheet", "reconciliation"]
