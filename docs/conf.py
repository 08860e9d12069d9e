"""Sphinx configuration: the manual, Markdown pages (MyST) and the API from the docstrings.

    python -m sphinx -W -b html docs docs/_build/html
"""

from lineprof import __version__

project = "lineprof"
release = __version__
extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3  # `[text](page.md#a-heading)` links, as on GitHub
autodoc_member_order = "bysource"
autodoc_typehints = "description"
html_theme = "alabaster"
html_title = f"lineprof {release}"
