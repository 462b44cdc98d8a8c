"""What moves while a run trains: its status, pause controls, progress and curves; the formulas under them."""

import streamlit as st

from ui import catalogue
from ui.figures import training_curves
from ui.formulas import elbo_formulas
from ui.live_curves import live_curves
from ui.train.runs import STATUS
from vae_core.config import TrainConfig
from vae_core.runs.registry import RunSnapshot
from vae_core.training.loop import epoch_under_way

DRAWN_LAYOUT = "_drawn_layout"  # (run, layout) the page was last drawn for whole: a change reruns it
FIRST_STEPS_WAIT_S = 2.0  # a run just started reports its first steps within about half a second


def page_layout(snap: RunSnapshot) -> str:
    """What the whole page is drawn for. Each is laid out differently (queued: polled slowly; training: charts on
    canvases; paused: Plotly's figures; scoring: no Stop or β; over: saving offered, no polling), so a change
    reruns the page."""
    if snap.status == "queued":
        return "queued"
    if not snap.live:
        return "over"
    if snap.status == "scoring":  # trained: nothing left to stop or weigh
        return "scoring"
    return "paused" if snap.paused else "training"  # a run still starting too: it is about to train


def live_view(run_id: str) -> None:
    """Everything that moves while training; polled by a fragment, so only this part reruns."""
    run = catalogue.run_registry().get(run_id)
    if run.status == "starting" or (run.status == "running" and not run.snapshot().steps):
        run.wait_for_first_steps(FIRST_STEPS_WAIT_S)
    snap = run.snapshot()
    if st.session_state.get(DRAWN_LAYOUT) != (run_id, page_layout(snap)):
        st.rerun(scope="app")  # it left the queue, paused, resumed or ended: redraw the page for that
    st.markdown(f"Status: **{STATUS['paused' if snap.paused else snap.status]}**")
    if snap.status == "running":  # polled with the status, so the buttons follow a pause that One epoch ends in
        pause_controls(run, snap)
    progress(snap)
    if not snap.steps and snap.live:
        st.info("Waiting for the first steps: the curves start here in a moment.", icon=":material/hourglass_top:")
    elif not snap.steps:
        st.info("The run ended before it reported its first steps: there are no curves to draw.")
    elif snap.training:  # a canvas sent only the new points (ui/live_curves.py)
        live_curves(snap.id, snap.events, snap.beta_changes)
    else:  # paused or over: the full figure, with hover and zoom
        st.plotly_chart(training_curves(snap.events, snap.beta_changes), key="curves")


def pause_controls(run, snap: RunSnapshot) -> None:
    """Pause and resume, or one epoch at a time: the run waits between steps, its process and weights kept."""
    a, b, _ = st.columns([1, 1, 3])
    if snap.paused:
        a.button("Resume", key=f"resume_{snap.id}", on_click=run.resume_training, icon=":material/play_arrow:", width="stretch")
    else:
        a.button("Pause", key=f"pause_{snap.id}", on_click=run.pause_training, icon=":material/pause:", width="stretch")
    b.button(
        "One epoch",
        key=f"epoch_{snap.id}",
        on_click=run.train_one_epoch,
        icon=":material/skip_next:",
        width="stretch",
        help="Train to the end of this epoch, show it, then pause again.",
    )


def progress(snap: RunSnapshot) -> None:
    if snap.status == "queued":
        registry = catalogue.run_registry()
        place, waiting = registry.queue_position(snap.id)
        st.progress(
            0.0,
            text=f"queued: {place} of {waiting} waiting · {registry.max_runs} "
            f"{'run trains' if registry.max_runs == 1 else 'runs train'} at a time on this server",
        )
        return
    if not snap.steps:
        st.progress(0.0, text="starting…" if snap.live else "no steps trained")
        return
    last, total, config = snap.steps[-1], max(snap.total_steps, 1), snap.config
    if snap.status == "scoring":
        st.progress(1.0, text="trained · measuring the test terms and an IWAE bound on a test sample…")
        return
    eta = (total - last["step"]) * config.batch_size / max(last["samples_per_s"], 1e-9)
    epoch = epoch_under_way(last["epoch"], config.epochs)
    text = (
        f"epoch {epoch}/{config.epochs} · step {last['step']}/{total} · "
        f"{last['samples_per_s']:,.0f} samples/s · β {last['beta']:.2f}" + (f" · ETA {eta:.0f} s" if snap.training else "")
    )  # paused, no time to arrival means anything
    st.progress(min(last["step"] / total, 1.0), text=text)


def formulas_panel(likelihood: str, config: TrainConfig) -> None:
    """The objective and its terms, as this run's likelihood and objective define them, under the panels they are
    drawn in."""
    f = elbo_formulas(likelihood, config.objective, config.iwae_k, config.free_bits, config.tc_weight)
    # one under the other, each the run column's full width: side by side, the longer ones ran off their halves
    st.caption(f"Left panel · grey: the loss minimised; blue: the reconstruction term ({likelihood}), at one z")
    for key in ("loss", "recon", "where"):
        st.latex(r"\scriptsize " + f[key])
    st.caption("Right panel · red: the KL term (Kingma & Welling 2014, App. B); pink: β·KL; purple: β")
    for key in ("kl", "sample"):
        st.latex(r"\scriptsize " + f[key])
