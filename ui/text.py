"""The one way a name from a file or a user (a class folder, a checkpoint or zip name, a factor, a URL value, an
error that quotes one) reaches the page: as plain text. Streamlit renders Markdown in captions, labels, alerts and
image captions (`![x](url)` fetches from any host), and Plotly renders a subset of HTML in legends, hover boxes
and titles (`<a href>` makes a live link): so a name goes through plain() into Markdown and plotly_text() into a
figure, never as it is."""

from __future__ import annotations

import html
import re

MARKDOWN_SIGNS = "\\`*_{}[]()<>#+-.!|~$:"  # what Streamlit's Markdown (images, links, LaTeX, icons) acts on
WORD_JOINER = "\u2060"  # invisible; splits "http://" and "www." so that GFM does not make a link of them


def plain(text) -> str:
    """Text escaped so that Streamlit's Markdown shows it as it is: a `![t](http://…)` must never make the browser
    fetch that host, nor `[t](…)` or a bare address become a live link (GitHub's autolinks act on text after its
    escapes, hence the invisible joiners)."""
    escaped = "".join(f"\\{c}" if c in MARKDOWN_SIGNS else c for c in str(text))
    return re.sub(r"(?i)(\\:|www)", lambda m: m.group(1) + WORD_JOINER, escaped)


def plotly_text(text) -> str:
    """Text that Plotly shows as it is: it parses tags first and decodes entities after, so an escaped `<a href>`
    is shown, not followed."""
    return html.escape(str(text), quote=False)
