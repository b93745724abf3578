"""Sphinx configuration of trustreview's documentation (`make docs`)."""

from __future__ import annotations

import shutil
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

import trustreview

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

project = "trustreview"
author = "the trustreview developers"
copyright = "the trustreview developers"  # noqa: A001  (Sphinx's name)
release = version = trustreview.__version__
extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # the notebooks are rendered with the outputs they were committed with
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "pydata_sphinx_theme"
html_title = "trustreview"
html_last_updated_fmt = None
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "undoc-members": False}
autodoc_typehints = "none"
napoleon_numpy_docstring = True
napoleon_google_docstring = False


class CommandHelp(SphinxDirective):
    """``{command-help} SUBCOMMAND``: the help of ``trustreview SUBCOMMAND`` (or of
    ``trustreview`` itself with no argument) as argparse prints it, so the reference is
    never out of step with the command line."""

    optional_arguments = 1

    def run(self):
        from trustreview.cli import _parser

        parser = _parser()
        if self.arguments:
            actions = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
            parser = actions[0].choices[self.arguments[0]]
        text = parser.format_help()
        return [nodes.literal_block(text, text)]


def copy_notebooks(app):
    """The committed stage notebooks (with their outputs) into docs/notebooks/."""
    target = HERE / "notebooks"
    target.mkdir(exist_ok=True)
    for notebook in sorted((REPO / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        shutil.copyfile(notebook, target / notebook.name)


def setup(app):
    app.add_directive("command-help", CommandHelp)
    app.connect("builder-inited", copy_notebooks)
