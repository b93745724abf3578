"""Screening titles and abstracts with the model: the records awaiting screening in
relevance order (:mod:`trustreview.model.relevance`), in an Excel sheet
(:mod:`~trustreview.screening.sheet`) or one at a time in JupyterLab
(:mod:`~trustreview.screening.screener`); each decision kept in ``decisions.csv`` with its
place in the order (``sequence``); when screening may stop
(:mod:`~trustreview.screening.stopping`, :mod:`~trustreview.screening.progress`); and a
finished review's screening replayed (:mod:`~trustreview.screening.simulate`).

This part owns the screening decisions. It may import ``model``, ``corpus``, ``io``,
``base``, the schema and the errors; never coding, the run, the synthesis or the CLI.
"""
