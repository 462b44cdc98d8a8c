"""The runs this session can open: the one the page shows, this session's runs and those from before a restart."""

import streamlit as st

from ui import catalogue, session
from ui.text import plain
from vae_core.runs.snapshots import Snapshot

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
            saved = f" · saved as {plain(snap.saved_as)}" if snap.saved_as else ""
            what = described(snap.arch, snap.latent_dim, snap.dataset, snap.status)
            run_row(snap.id, snap.label, f"{what} · {done:.0%}{saved}", current)


def restored_runs(current: str | None, owner: str) -> None:
    """Runs this browser started that were found on disk when the server started: interrupted, or over and never
    saved. Another browser's are not listed (its run URLs are its own keys). Listed from their markers: a run's
    checkpoint and data are read when it is opened."""
    runs = [
        found
        for found in catalogue.run_registry().restored()
        if owner and found.owner == owner and found.run_id not in session.my_run_ids()  # else listed there
    ]
    if not runs:
        return
    with st.expander(
        f"Runs from before the server restarted ({len(runs)})", expanded=current is None, icon=":material/restore:"
    ):
        for found in runs:
            restored_row(found, current)


def restored_row(found: Snapshot, current: str | None) -> None:
    """One run from before the restart, as its marker describes it."""
    if (summary := found.summary) is None:  # a marker from before summaries (such runs are read at start, so rare)
        run_row(found.run_id, found.label, "", current)
        return
    status = "interrupted" if found.status == "training" else found.status
    what = described(summary.arch, summary.latent_dim, summary.dataset, status)
    run_row(found.run_id, found.label, f"{what} at epoch {summary.epochs_done} of {summary.epochs}", current)


def described(arch: str, latent_dim: int, dataset: str, status: str) -> str:
    return f"{plain(arch)}, z={latent_dim} on {plain(catalogue.dataset_label(dataset))} · **{STATUS[status]}**"


def run_row(run_id: str, label: str, what: str, current: str | None) -> None:
    """One run in a list: its id, what it is for, what it is and where it stands, and a way to open it."""
    a, b = st.columns([4, 1], vertical_alignment="center")
    a.markdown(f"`{run_id}` · {plain(label) + ' · ' if label else ''}{what}")
    b.button("Open", key=f"open_{run_id}", on_click=open_run, args=(run_id,), disabled=run_id == current, width="stretch")


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
    with st.spinner("Opening the run…"):  # one from before a restart is read from its snapshot now
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
