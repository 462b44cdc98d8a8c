"""Keep every request inside app.py's navigation, though the page scripts live in `pages/`.

Streamlit (1.67) remembers, once per server, whether a `pages/` folder sits beside the main script
(`PagesManager.uses_pages_directory`), and clears that only when `st.navigation` runs. Until then it runs
pages the old way: a fresh server whose very first request is a deep link (`/train?run=...`) runs
pages/train.py alone, without app.py, so the sidebar's model picker and the app's navigation are missing.
(AppTest sets the flag again before every run.)

`leave_pages_folder_mode()` runs first in app.py and in every page. In that old mode it clears the flag and
runs app.py in place of the script Streamlit picked: app.py's `st.navigation` then runs the requested page
(a page's id is its URL path, the same either way), in this same script run, so the query string and any
button press of this run are kept. Then it stops the outer script.
"""

import logging
import runpy
import uuid

import streamlit as st
from streamlit.errors import FragmentHandledException
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

LOG = logging.getLogger("vae_explorer")


def leave_pages_folder_mode() -> None:
    if not PagesManager.uses_pages_directory:
        return
    PagesManager.uses_pages_directory = False
    runpy.run_path(get_script_run_ctx().pages_manager.main_script_path, run_name="__main__")
    st.stop()


# Numbers and formulas are never cut off: a metric's value is smaller than Streamlit's 2.25rem and wraps in a narrow
# column instead of ending in "…", and a formula wider than its box scrolls sideways instead of being clipped.
PAGE_CSS = """<style>
[data-testid="stMetricValue"] { font-size: clamp(1.1rem, 2.2vw, 1.75rem); }
[data-testid="stMetricValue"] *, [data-testid="stMetricLabel"] * {
  white-space: normal !important; word-break: break-all; text-overflow: clip !important;
}
.katex-display { overflow-x: auto; overflow-y: hidden; }
</style>"""


def run_page(main) -> None:
    """A page's entry: leave the old pages/ mode if need be, then run `main()`. An unexpected error becomes a
    message on the page (the traceback goes to the server's log), never a traceback in front of the user."""
    leave_pages_folder_mode()
    st.html(PAGE_CSS)  # style only: Streamlit puts it where it takes no space
    guarded(main)()


def guarded(function):
    """`function`, with an unexpected error shown as a message (and logged) instead of raised. Pages run in it,
    and so must fragments: Streamlit handles an error inside a fragment before the page's own guard sees it."""

    def run(*args, **kwargs) -> None:
        try:
            function(*args, **kwargs)
        except FragmentHandledException:
            raise
        except Exception as err:  # Streamlit's own stop and rerun signals are BaseExceptions and pass through
            # its kind and a reference, never its text: that names internals and can quote whatever a file held
            reference = uuid.uuid4().hex[:8]
            LOG.exception("page failed [%s]", reference)
            st.error(
                f"Something went wrong on this page ({type(err).__name__}, reference {reference}). Nothing saved was "
                "lost; the server's log has the details under that reference.",
                icon=":material/error:",
            )

    return run
