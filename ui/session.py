"""The session state that several pages share, each key behind a named accessor: the sidebar's model (and the
picker that draws it), the Explore link this session last wrote, points and groups picked on Explore for
Generate. A key that one page alone uses lives in that page. (The Train form and Explore's view controls keep
their values across pages themselves, with persist_state="session".)
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ui.catalogue import checkpoint_dir, checkpoints, dataset_label, load_model, map_data
from ui.text import plain
from vae_core.config import DIFFERENT_MODE, IMAGES
from vae_core.maps.projection import MapData
from vae_core.store.files import ListedCheckpoint
from vae_core.store.meta import CheckpointMeta

# Widget keys ("checkpoint") are also what their widgets are created with.
DEFAULT_CHECKPOINT = "digits-2d"
CHECKPOINT = "checkpoint"  # the sidebar's selectbox: the selected checkpoint's name
NEXT_CHECKPOINT = "_pick_checkpoint"  # preselected in the sidebar on the next run (its widget is drawn already)
EXPLORE_LINK = "_explore_link"  # the query parameters Explore last wrote (ui.links)
PICK_NOTE = "_pick_note"  # what the last "Use as A/B" did, said by the run it causes
LINK_WARNINGS = "_link_warnings"  # what was wrong with the link opened, said again while its page and model are shown
PAGE_RUN = "_page_run"  # (how many runs of the whole page this session has had, the page's title): app.py
LINK_ICON = ":material/link_off:"
SESSION_RUNS = "_runs"  # ids of the training runs this session started or opened, oldest first


@dataclass(frozen=True)
class SelectedModel:
    """The sidebar's checkpoint with its model, metadata and latent map of the test set."""

    row: ListedCheckpoint
    model: object  # vae_core.VAE
    meta: CheckpointMeta
    map: MapData


def checkpoint_name() -> str | None:
    """The name of the checkpoint selected in the sidebar."""
    return st.session_state.get(CHECKPOINT)


def pick_next_run(name: str) -> None:
    """Preselect a checkpoint in the sidebar from the next run on (its widget may already be drawn now)."""
    st.session_state[NEXT_CHECKPOINT] = name


def follow_model_link(usable: dict) -> None:
    """A new `?model=NAME` in the URL (a shared link, not the URL this session wrote) selects that model; a name
    that is not here is said on the page, and the sidebar's choice stays."""
    linked = st.query_params.get("model")
    if linked is None or linked == written_link().get("model"):
        return
    if linked in usable:
        st.session_state[CHECKPOINT] = linked
    else:
        link_warning(
            f"There is no usable model named “{plain(linked)}” here; showing "
            f"{st.session_state.get(CHECKPOINT) or DEFAULT_CHECKPOINT} instead."
        )
    remember_written_link({**written_link(), "model": linked})


def start_page_run(title: str) -> None:
    """Count this run of the whole page (app.py, at each; a fragment's run is not one), on the page `title`."""
    runs = st.session_state.get(PAGE_RUN, (0, ""))[0]
    st.session_state[PAGE_RUN] = (runs + 1, title)


def link_warning(text: str) -> None:
    """Say what is wrong with a link someone opened, and keep it: repeat_link_warnings says it again at every run
    while the same page shows the same model. The page reruns on its own (once the browser holds the decoder,
    ui.explore.browser_decode), and by then the address is the one this session wrote: a warning said only when
    the link is followed went before it could be read."""
    st.warning(text, icon=LINK_ICON)
    run = st.session_state.get(PAGE_RUN, (0, ""))
    kept = st.session_state.get(LINK_WARNINGS)
    if kept is None or kept["run"] != run:  # a link opened in another run: its warnings are gone
        kept = st.session_state[LINK_WARNINGS] = {"run": run, "model": None, "texts": []}
    kept["texts"].append(text)


def repeat_link_warnings() -> None:
    """The warnings of the link opened in an earlier run, while its page shows the model it showed then."""
    kept = st.session_state.get(LINK_WARNINGS)
    run = st.session_state.get(PAGE_RUN, (0, ""))
    if kept is None or kept["run"] == run:
        return
    if kept["model"] is None:  # the first run after: the model the link's run ended on
        kept["model"] = checkpoint_name()
    (_, page_then), (_, page_now) = kept["run"], run
    if page_then != page_now or kept["model"] != checkpoint_name():
        del st.session_state[LINK_WARNINGS]  # another page or model: the link is left behind
        return
    for text in kept["texts"]:
        st.warning(text, icon=LINK_ICON)


def written_link() -> dict:
    """The Explore query parameters this session last wrote: a URL that differs is a link someone opened."""
    return st.session_state.get(EXPLORE_LINK, {})


def remember_written_link(params: dict) -> None:
    st.session_state[EXPLORE_LINK] = dict(params)


def checkpoint_picker() -> ListedCheckpoint | None:
    """Sidebar: pick a usable checkpoint (the default preselected), list unusable ones with their reason."""
    rows = checkpoints()
    usable = {r.name: r for r in rows if r.error is None}
    follow_model_link(usable)
    if st.session_state.get(NEXT_CHECKPOINT) in usable:
        st.session_state[CHECKPOINT] = st.session_state.pop(NEXT_CHECKPOINT)
    with st.sidebar:
        st.subheader("Model")
        if not usable:
            st.error(
                "No usable checkpoint in the checkpoints folder. Train one on the Train page, "
                "or rebuild the shipped ones with `make checkpoints`."
            )
        else:
            if checkpoint_name() not in usable:
                st.session_state[CHECKPOINT] = DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT in usable else next(iter(usable))
            st.selectbox(
                "Checkpoint",
                list(usable),
                key=CHECKPOINT,
                format_func=lambda n: usable[n].describe(),
                help=f"Files in {checkpoint_dir()}",
            )
            row = usable[checkpoint_name()]  # in full, wrapped: the picker cuts a long name off
            st.caption(
                f"**{plain(row.name)}**: {row.arch}, z={row.latent_dim}, β {row.beta_text}, "
                f"{row.likelihood} likelihood, on {plain(dataset_label(row.dataset))}"
            )
            image_choice(row)
        for row in rows:
            if row.error is not None:
                st.warning(f"**{plain(row.name)}** is unusable: {plain(row.error)}", icon=":material/warning:")
    return usable.get(checkpoint_name())


IMAGE_TITLES = {"mean": "the mean E[x|z]", "mode": "the most likely x"}
IMAGE_HELP = (
    "What an image decoded from z shows. The mean E[x|z] averages over the pixel values p(x|z) allows: "
    "grey where the model is unsure. The most likely x takes each pixel's likeliest value: black or white "
    "under these likelihoods. A continuous Bernoulli's mean is pulled toward grey even where its λ is sure, "
    "so for it the most likely x is shown first."
)


def image_key(likelihood: str) -> str:
    return f"image_shown:{likelihood}"


def offers_mode(row: ListedCheckpoint) -> bool:
    """Whether the most likely x is offered: where it differs from the mean, and on grey images only. Taken per
    colour channel it pushes each one to 0 or 1, so a colour image would come out in pure primaries: noise."""
    return row.likelihood in DIFFERENT_MODE and row.image_shape[0] == 1


def image_choice(row: ListedCheckpoint) -> None:
    """Sidebar: whether decoded images show the mean or the most likely x, for likelihoods where they differ;
    remembered per likelihood (the continuous Bernoulli's mean is a washed-out grey: its mode is shown first)."""
    likelihood = row.likelihood
    if likelihood in DIFFERENT_MODE and not offers_mode(row):
        st.caption(
            "Decoded images show the mean E[x|z]: the most likely x, taken per colour channel, would turn each "
            "pixel into a pure primary colour."
        )
    if not offers_mode(row):
        return
    st.session_state.setdefault(image_key(likelihood), "mode" if likelihood == "continuous-bernoulli" else "mean")
    st.radio(
        "Decoded images show",
        IMAGES,
        format_func=IMAGE_TITLES.get,
        key=image_key(likelihood),
        persist_state="session",
        help=IMAGE_HELP,
    )


def image_shown() -> str:
    """ "mean" or "mode": what decoded images of the sidebar's model show (image_choice)."""
    row = chosen_row()
    if row is None or not offers_mode(row):
        return "mean"
    return st.session_state.get(image_key(row.likelihood), "mean")


def chosen_row() -> ListedCheckpoint | None:
    """The sidebar's checkpoint (its summary, no model loaded), or None when there is no usable one."""
    return next((r for r in checkpoints() if r.name == checkpoint_name() and r.error is None), None)


def selected_row(purpose: str) -> ListedCheckpoint:
    """The sidebar's checkpoint (its summary, no model loaded); stops the page when there is none."""
    row = chosen_row()
    if row is None:
        st.info(f"No model to {purpose}: pick or train a checkpoint (see the sidebar).")
        st.stop()
    return row


def selected_model(purpose: str) -> SelectedModel:
    """The sidebar's checkpoint, its model, metadata and map; stops the page when there is none."""
    row = selected_row(purpose)
    model, meta = load_model(row.path, row.mtime)
    return SelectedModel(row, model, meta, map_data(row.path, row.mtime))


def pick_latent(checkpoint: str, slot: str, z, label: str) -> None:
    """Remember a latent point picked on the Explore map as endpoint "A" or "B" for the Generate page."""
    st.session_state.setdefault(f"picked:{checkpoint}", {})[slot] = dict(z=[float(v) for v in z], label=label)
    st.session_state[PICK_NOTE] = f"{label[0].upper() + label[1:]} is now {slot} on the Generate page."


def picked_latents(checkpoint: str) -> dict:
    """{"A": {"z": [...], "label": ...}, "B": ...}: the points picked on Explore for this checkpoint."""
    return st.session_state.get(f"picked:{checkpoint}", {})


def pick_group(checkpoint: str, slot: str, indices, label: str) -> None:
    """Remember test images selected on the Explore map as group "A" or "B" of Generate's latent arithmetic."""
    st.session_state.setdefault(f"groups:{checkpoint}", {})[slot] = dict(indices=[int(i) for i in indices], label=label)
    st.session_state[PICK_NOTE] = f"Group {slot} on the Generate page: {label}."


def show_pick_note() -> None:
    """Say what the last pick did, as a toast from the run it caused: a callback of a button in a fragment must
    not draw anything itself (Streamlit warns that the element would go to the top of the app)."""
    note = st.session_state.pop(PICK_NOTE, None)
    if note:
        st.toast(note, icon=":material/check:")


def picked_groups(checkpoint: str) -> dict:
    """{"A": {"indices": [...], "label": ...}, "B": ...}: the groups picked on Explore for this checkpoint."""
    return st.session_state.get(f"groups:{checkpoint}", {})


def my_run_ids() -> list[str]:
    """The training runs this session started or opened (on Train, or as the collapse doctor's retrains)."""
    return list(st.session_state.get(SESSION_RUNS, []))


def add_session_run(run_id: str) -> None:
    st.session_state[SESSION_RUNS] = [*my_run_ids(), run_id]


def label_choice(where, text: str, key: str, class_names: list, help: str, **widget) -> int:
    """A conditional model's label: a class number, chosen by its name in a selectbox drawn in `where` (a column,
    or st; `widget`: more of the selectbox's options). One kept from another model's classes starts again at the
    first."""
    if st.session_state.get(key) not in range(len(class_names)):
        st.session_state[key] = 0
    return where.selectbox(
        text, range(len(class_names)), key=key, format_func=lambda k: str(class_names[k]), help=help, **widget
    )
