"""Starting a run: the form's data loaded and its run started, or the sidebar's model trained further."""

from pathlib import Path

import streamlit as st

from ui import catalogue, session
from ui.owner import OWNER
from ui.text import plain
from ui.train.data import UPLOAD
from ui.uploads import held_uploads, hold_upload, remove_unused_uploads
from vae_core import CheckpointError, DatasetError
from vae_core.config import DataOptions, InputError, ModelChoice, RunSpec, TrainConfig, parse_hidden
from vae_core.data.datasets import load_data
from vae_core.model.checkpoint import read_resume_state


def load_training_data(choice: dict):
    if choice["source"] == "sprites":
        options = DataOptions("sprites", image_size=int(choice["image_size"]), sprites_n=int(choice["sprites_n"]))
        return load_data(options)
    if choice["source"] != UPLOAD:
        options = DataOptions(choice["source"], root=catalogue.data_root())
        return catalogue.prefetched_dataset(choice["source"]) or load_data(options, download=True)
    if choice["upload"] is None:
        raise DatasetError("Choose a zip file to upload first.")
    root = Path(choice["upload"].folder)  # kept: Explore reads it later
    hold_upload(root)
    data = load_data(
        DataOptions(
            str(root),
            image_size=int(choice["image_size"]),
            channels=choice["channels"],
            test_fraction=float(choice["test_share"]),
            background=choice["background"],
        )
    )
    in_use = (
        {r.dataset for r in catalogue.checkpoints() if r.error is None}
        | catalogue.run_registry().datasets()
        | held_uploads()
        | {data.name}
    )
    remove_unused_uploads(catalogue.uploads_dir(), in_use)
    return data


def run_spec(data_options: DataOptions, model_opts: dict, train_opts: dict) -> RunSpec:
    """The run the form describes, on the data it loaded."""
    return RunSpec(
        data=data_options,
        model=ModelChoice(**dict(model_opts, hidden=parse_hidden(model_opts["hidden"]))),
        train=TrainConfig(**train_opts),
    )


def start_run(choice: dict, model_opts: dict, train_opts: dict, owner: str = "") -> None:
    try:
        with st.spinner("Loading the dataset…"):
            data = load_training_data(choice)
        spec = run_spec(data.options, model_opts, train_opts)
        run = catalogue.run_registry().start(spec, data, owner=owner)
    except (DatasetError, InputError) as err:  # said for people; another error's text is not shown
        st.error(plain(catalogue.shown_reason(err)))
        return
    session.add_session_run(run.id)
    st.query_params["run"] = run.id  # a reload re-attaches to this run
    st.rerun()


@st.cache_data(show_spinner=False, max_entries=32)
def resume_state_or_reason(path: str, mtime: int):
    """(ResumeState, None) when the checkpoint can be trained further, else (None, why not)."""
    try:
        return read_resume_state(path), None
    except CheckpointError as err:
        return None, str(err)


def continue_controls(busy: bool) -> None:
    """Train the sidebar's model further: its curves, β and replay go on where its run ended."""
    row = session.chosen_row()
    if row is None:
        return
    with st.expander(f"Continue training {plain(row.name)}", icon=":material/fast_forward:"):
        state, reason = resume_state_or_reason(row.path, row.mtime)
        if state is None:
            st.caption(plain(catalogue.shown_reason(reason, row.path, row.name)))
            return
        st.caption(
            f"The sidebar's model, {state.epochs_done} epochs so far: it trains on from there on its own data "
            "and settings, as if its run had gone on (pick another model in the sidebar to continue that one)."
        )
        more = st.number_input("More epochs", 1, 1000, 10, key="continue_epochs")
        if st.button("Continue training", key="continue_start", disabled=busy, width="stretch"):
            continue_run(row, state, int(more))


def continue_run(row, state, more: int) -> None:
    model, meta = catalogue.load_model(row.path, row.mtime)
    data, problem = catalogue.dataset_for(meta)
    if data is None:
        st.error(f"Its data are not here, so it cannot train further: {plain(problem)}")
        return
    run = catalogue.run_registry().continue_run(model, meta, state, data, more, owner=st.session_state.get(OWNER, ""))
    session.add_session_run(run.id)
    st.query_params["run"] = run.id
    st.rerun()
