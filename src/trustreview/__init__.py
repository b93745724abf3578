"""trustreview: evidence reviews of school trusts, from searches and a coded corpus to
synthesis tables, figures and a report.

The package's parts, in the order a review meets them: ``searches`` (the exports made into
studies) with ``dedup`` (which records are the same work), ``corpus`` (validation),
``screening`` (relevance order, stopping) and ``coding`` (workbooks), ``model`` (the
relevance model, the tagger and its measures), ``synthesis`` (tables, figures, reports),
``run`` (the stages, the settings and the notebooks); ``io`` reads and writes files and
``base`` holds what every part uses. At the top sit only the command line (``cli``), the
corpus vocabulary (``schema``) and the errors (``errors``). ``tests/test_architecture.py``
states which part may import which.
"""

__version__ = "0.1.0"
