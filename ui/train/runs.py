"""The runs this session can open: the one the page shows, this session's runs and those from before a restart."""

import streamlit as st

from ui import catalogue, session
from ui.text import plain
from vae_core.runs.registry import RunSnapshot

OPEN_RUN = "_open_run"  # the run the page showed last: shown again when the page is opened without one
STATUS = {
    "queued": "queued",
    "starting": "starting…",
    "running": "training",
    "scoring": "trained: measuring its test scores…",
    "paused": "paused",
    "finished": "finished",
    "stopped": "stopped",
    "failed": "failed",
    "cancelled": "cancelled before it started",
    "interrupted": "interrupted when the server stopped",
}


def session_runs(current: str | None, owner: str) -> None:
    """This session's runs on the server, and those this browser started in its other tabs (ui/owner.py), newest
    first, each with its status, progress and a way back to it."""
    registry = catalogue.run_registry()
    mine = session.my_run_ids()
    mine += [r.id for r in registry.owned_by(owner) if not r.restored and r.id not in mine]  # restored: listed apart
    runs = [(rid, registry.get(rid)) for rid in reversed(mine)]
    runs = [(rid, run.snapshot()) for rid, run in runs if run is not None]
    if not runs:
        return
    with st.expander(f"Your runs ({len(runs)})", expanded=current is None):
        for _, snap in runs:
            done = snap.steps[-1]["step"] / max(snap.total_steps, 1) if snap.steps else 0.0
            run_row(snap, f"· {done:.0%}" + (f" · saved as {plain(snap.saved_as)}" if snap.saved_as else ""), current)


def restored_runs(current: str | None, owner: str) -> None:
    """Runs this browser started that were found on disk when the server started: interrupted, or over and never
    saved. Another browser's are not listed (its run URLs are its own keys)."""
    runs = [
        run
        for run in catalogue.run_registry().restored()
        if owner and run.owner == owner and run.id not in session.my_run_ids()  # else listed there
    ]
    if not runs:
        return
    with st.expander(
        f"Runs from before the server restarted ({len(runs)})", expanded=current is None, icon=":material/restore:"
    ):
        for run in runs:
            snap = run.snapshot()
            run_row(snap, f"at epoch {snap.epochs_done} of {snap.config.epochs}", current)


def run_row(snap: RunSnapshot, where: str, current: str | None) -> None:
    """One run in a list: what it is, its state, where it stands, and a way to open it."""
    a, b = st.columns([4, 1], vertical_alignment="center")
    a.markdown(
        f"`{snap.id}` · {plain(snap.label) + ' · ' if snap.label else ''}{snap.arch}, z={snap.latent_dim} on "
        f"{plain(catalogue.dataset_label(snap.dataset))} · "
        f"**{STATUS[snap.status]}** {where}"
    )
    b.button("Open", key=f"open_{snap.id}", on_click=open_run, args=(snap.id,), disabled=snap.id == current, width="stretch")


def open_run(run_id: str) -> None:
    st.query_params["run"] = run_id


def current_run():
    """The run named in the URL; without one, the run this page showed last, or this session's latest live run:
    leaving the page loses nothing."""
    registry = catalogue.run_registry()
    if not st.query_params.get("run"):
        candidates = [st.session_state.get(OPEN_RUN), *reversed(session.my_run_ids())]
        shown = next(
            (
                rid
                for rid in candidates
                if (run := registry.get(rid)) and not run.discarded and (run.live or rid == candidates[0])
            ),
            None,
        )
        if shown:
            st.query_params["run"] = shown
    run = registry.get(st.query_params.get("run"))
    if st.query_params.get("run") and run is None:  # kept in the URL, so every rerun says it until a run is opened
        st.warning(
            "That run is no longer on this server: the server was restarted, or the run was saved or "
            "discarded and later cleared to make room (saved runs are in the sidebar). Start a new one."
        )
    st.session_state[OPEN_RUN] = run.id if run is not None else None
    if run is not None and run.id not in session.my_run_ids():  # opened by its address: listed with this session's runs
        session.add_session_run(run.id)
    return run
