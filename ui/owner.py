"""Whose runs these are: a browser's token, kept in its local storage by a tiny component (ui/js/owner.js), marks the
runs started from that browser (Run.owner, kept in their snapshots). Train lists them in any tab of that browser,
and after a restart, and in no other browser: a run's URL stays a private key, and a closed tab loses nothing."""

import streamlit as st

from ui.scripts import component_script
from vae_core.runs.snapshots import is_owner_token

OWNER = "_owner"  # this session's browser token, once the page has sent it

_mount = st.components.v2.component("vae_explorer_owner", js=component_script("owner.js"))


def _take_token() -> None:
    token = (st.session_state.get("owner_token") or {}).get("token")
    if is_owner_token(token):  # the page's text is hostile until shown to be a token
        st.session_state[OWNER] = token


def browser_owner() -> str:
    """This browser's token, or "" until its page has sent it (the first run of a new session)."""
    _mount(data={"known": st.session_state.get(OWNER, "")}, key="owner_token", on_token_change=_take_token)
    return st.session_state.get(OWNER, "")
