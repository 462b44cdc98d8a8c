"""Generate's interpolation and traversal decoded in the page, by the decoder and runtime Explore uses
(ui/explore/browser_decode.py): the server computes the codes of the sliders' positions (a few numbers) and the page
decodes and draws them (ui/js/decoded_grid.js), as the server's images would show them. Where the page cannot (no
runtime, a decoder over the limit or refused, a failure in this page), the server decodes as before, said once."""

from __future__ import annotations

import numpy as np
import streamlit as st

from ui.explore.browser_decode import (
    decoded_grid,
    generate_problem,
    model_key,
    page_decodes,
    say_where_decoded,
    send_model,
)
from ui.navigation import guarded
from vae_core.analysis.effects import LITTLE

WHAT = "Interpolation and traversals"
KEY = "generate_decoder"  # the decoder component's key on this page: its state "status" is the page's report


def page_view(row, label: int | None, shown: str) -> str | None:
    """What the page's decoder must hold to draw this page's grids, or None where the server decodes them: until
    the page has said that it holds the decoder, and for good where it cannot."""
    ok = page_decodes(row, KEY) and not generate_problem(row, label)
    return f"{model_key(row)}|generate|{label}|{shown}" if ok else None


def send_decoder(row, label: int | None, shown: str, view: str | None) -> None:
    """The decoder component (in a fragment: the page's report reruns only it), or the sidebar's one line that says the
    server decodes. view: what this run of the page drew with (page_view); when the page reports that it holds the
    decoder after the server drew the grids, the page is run once more, and the page draws them from then on."""

    def component() -> None:
        if view is None and page_decodes(row, KEY) and not generate_problem(row, label):
            st.rerun()
        problem = generate_problem(row, label)
        send_model(row, KEY, problem, f"{model_key(row)}|generate|{label}|{shown}", row.latent_dim, label, shown, None)

    say_where_decoded(generate_problem(row, label), WHAT)
    st.fragment(guarded(component))()


def traversal_row(view: str, codes: np.ndarray, steps: int, key: str, alt: str, between: float) -> None:
    """One traversal row decoded in the page, which marks it when it changes little (under LITTLE times between)."""
    decoded_grid(view, codes, steps, 620, key, alt, between=between, little=LITTLE)
