"""Reports: a sweep's results store rendered as one self-contained HTML page or Markdown."""

from poisonlab.reports.html import render_html
from poisonlab.reports.markdown import render_markdown

__all__ = ["render_html", "render_markdown"]
