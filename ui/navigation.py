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
import runpy

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx


def leave_pages_folder_mode() -> None:
    if not PagesManager.uses_pages_directory:
        return
    PagesManager.uses_pages_directory = False
    runpy.run_path(get_script_run_ctx().pages_manager.main_script_path, run_name="__main__")
    st.stop()
