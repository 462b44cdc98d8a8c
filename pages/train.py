"""Train: a VAE in a background process, with live ELBO curves and the KL weight (beta) in hand."""

import streamlit as st

from ui import catalogue
from ui.figures import training_curves
from ui.navigation import run_page
from ui.owner import browser_owner
from ui.train.data import UPLOAD, dataset_controls
from ui.train.form import form_defaults, model_controls, training_controls
from ui.train.run import run_view
from ui.train.runs import current_run, restored_runs, session_runs
from ui.train.start import continue_controls, start_run


def main() -> None:
    st.title("Train a VAE")
    for key, value in form_defaults().items():  # once per session; the widgets keep them across pages
        st.session_state.setdefault(key, value)
    if st.session_state["train_source"] not in (UPLOAD, "sprites"):  # loaded while the user looks at the form, not after Start
        catalogue.prefetch_dataset(st.session_state["train_source"])
    owner = browser_owner()
    run = current_run()
    snap = run.snapshot() if run is not None else None
    session_runs(snap.id if snap else None, owner)
    restored_runs(snap.id if snap else None, owner)
    controls, view = st.columns([1.4, 3], gap="large")
    with controls:
        st.markdown("**New run**")
        choice = dataset_controls()
        model_opts = model_controls(choice)
        train_opts = training_controls()
        if st.button(
            "Start training", type="primary", key="train_start", width="stretch", disabled=snap is not None and snap.live
        ):
            start_run(choice, model_opts, train_opts, owner)
        continue_controls(busy=snap is not None and snap.live)
    with view:
        if run is None:
            st.info(
                "Choose a dataset and settings, then **Start training**. The curves of the reconstruction and KL "
                "terms appear here and move live; change β while it runs to see what the KL weight does."
            )
            # their empty axes: the browser also loads Plotly's code now, while the form is read, not when the
            # first run is paused or ends (while it trains, its charts are canvases)
            st.plotly_chart(training_curves([], []), key="curves_empty")
        else:
            run_view(run, snap)


run_page(main)
