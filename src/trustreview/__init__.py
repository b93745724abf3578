"""trustreview: evidence reviews of school trusts, from searches and a coded corpus to
synthesis tables, figures and a report.

The package's parts: ``io`` reads and writes files, ``model`` tags and measures,
``synthesis`` builds the tables, figures and report, ``run`` executes the notebooks; at the
top sit the corpus vocabulary (``schema``), checking (``validate``), coding workbooks
(``coding``), the run's settings (``params``) and stages (``pipeline``), ``new`` (``scaffold``)
and the command line (``cli``).
"""

from importlib import import_module

__version__ = "0.1.0"

# Notebooks written before the package had folders (the stage notebooks, and the copies
# ``trustreview new`` put in review folders) import these modules from the top.
_MOVED = {"agreement": "trustreview.model.agreement", "outputs": "trustreview.run.outputs",
          "figures": "trustreview.synthesis.figures"}


def __getattr__(name: str):
    if name in _MOVED:
        return import_module(_MOVED[name])
    raise AttributeError(f"module 'trustreview' has no attribute {name!r}")
