"""The replay of a saved model's training, epoch by epoch, as the Train page showed it."""

from pathlib import Path

import streamlit as st

from ui import catalogue
from ui.navigation import guarded
from ui.text import plain
from vae_core.config import IMPORTED
from vae_core.store.files import HISTORY_FILE


@st.cache_resource(show_spinner=False, max_entries=4)  # one shared copy: st.cache_data would copy it per view
def saved_replay(path: str, mtime: int):
    """The model's replay, or the reason it cannot be shown (vae_core.analysis.replay.ReplayError) as text."""
    from vae_core.analysis.replay import ReplayError, from_history  # first paint: torch comes after the map

    meta = catalogue.load_model(path, mtime)[1]
    try:
        return from_history(meta.history, meta.beta_changes, meta.image_shape)
    except ReplayError as err:
        return f"This model's replay cannot be shown: {plain(err)}."


def replay_section(row) -> None:
    """The replay of the model's training, epoch by epoch, as the Train page showed it (off until asked for)."""
    if not st.toggle(
        "Replay its training",
        key="explore_replay",
        help="How the map formed while the model trained: each epoch's map of 500 test images, a few "
        "reconstructions and the KL per dimension, kept in the checkpoint.",
    ):
        return
    from ui.replay import replay_panel, run_every  # first paint: torch comes after the map

    key = f"explore_replay_{row.name}"
    if row.arch == IMPORTED and not (Path(row.path) / HISTORY_FILE).is_file():  # vae_explorer's Monitor writes one
        st.info(
            "This is an imported model (ONNX) without its training history, so there is no replay or training "
            f"curve to show. A notebook's Monitor saves one beside it ({HISTORY_FILE}).",
            icon=":material/info:",
        )
        return
    replay = saved_replay(row.path, row.mtime)
    if isinstance(replay, str):
        st.warning(replay, icon=":material/warning:")
        return
    show = lambda: replay_panel(
        replay,
        key,
        empty_note=("This model was saved without a replay of its training (saved before replays were kept, or by a sweep)."),
    )
    st.fragment(run_every=run_every(key, None))(guarded(show))()
