"""The run the page shows: its header and live controls, then saving, the live view and the per-epoch views."""

import streamlit as st

from ui import catalogue
from ui.navigation import guarded
from ui.replay import run_every
from ui.text import plain
from ui.train.diagnostics import diagnostics, replay_key
from ui.train.finished import final_metrics, resume_panel, run_doctor, save_panel
from ui.train.live import DRAWN_LAYOUT, formulas_panel, live_view, page_layout
from vae_core.runs.registry import RunSnapshot

POLL_S = 0.5  # curves and progress
DIAGNOSTICS_POLL_S = 2.0  # per-epoch views: slower, as redrawing them steals CPU from training
QUEUED_POLL_S = 3.0  # a queued run's page: only its place in line changes


def run_view(run, snap: RunSnapshot) -> None:
    run_header(run, snap)
    if snap.error:
        st.error(snap.error)
    if snap.status == "interrupted":
        resume_panel(run, snap)
    scores = doctor = None
    if snap.saveable:  # the outcome and saving first, above the fold (a diverged run keeps its last good weights)
        scores = st.container()  # filled last: Save and Discard show at once, the scores as they are computed
        save_panel(run, snap)
        doctor = st.container()
    st.session_state[DRAWN_LAYOUT] = (snap.id, page_layout(snap))
    if snap.status == "queued":  # nothing moves but the place in line: look now and then
        st.fragment(run_every=QUEUED_POLL_S)(guarded(live_view))(snap.id)
    elif snap.live:
        st.fragment(run_every=POLL_S)(guarded(live_view))(snap.id)
    else:
        live_view(snap.id)
    formulas_panel(snap.likelihood, snap.config)  # outside the polled fragment: drawn once, not twice a second
    idle = DIAGNOSTICS_POLL_S if snap.live else None  # a finished run's replay reruns only while playing
    st.fragment(run_every=run_every(replay_key(snap.id), idle))(guarded(diagnostics))(snap.id)
    if scores is not None:  # last: the whole page is drawn before the scoring takes its time
        with scores:
            final_metrics(run)
        with doctor:
            run_doctor(run, snap)


def run_header(run, snap: RunSnapshot) -> None:
    """The run's name and what it trains; while it is live, Stop and its β, which applies at the next step."""
    head, stop_col = st.columns([4, 1])
    head.subheader(f"Run `{snap.id}`")
    conditional = "conditional " if run.model.config.conditional else ""
    head.caption(
        f"{snap.arch} {conditional}VAE, {snap.latent_dim}-D latent, {snap.likelihood} likelihood, on "
        f"{plain(catalogue.dataset_label(snap.dataset))} "
        f"({snap.n_train} train / {snap.n_test} test images), device {snap.config.device}"
    )
    if snap.live and snap.status != "scoring":  # scoring: trained, nothing left to stop or weigh
        stop_col.button("Stop", key=f"stop_{snap.id}", on_click=run.request_stop, type="primary", width="stretch")
        scheduled = snap.config.beta_schedule != "constant"
        st.slider(
            "β base, live: applies at the next step" if scheduled else "β, live: applies at the next step",
            0.0,
            max(10.0, snap.beta),
            snap.beta,
            0.05,
            key=f"live_beta_{snap.id}",
            on_change=lambda: run.set_beta(st.session_state[f"live_beta_{snap.id}"]),
        )
        if scheduled and snap.steps:
            st.caption(
                f"In force now: **β = {snap.steps[-1]['beta']:.3g}**, the base times the {snap.config.beta_schedule} schedule."
            )
