"""A run that is over, or was interrupted: saving or discarding it, resuming it, its test scores, the doctor."""

import streamlit as st

from ui import catalogue, session
from ui.doctor import doctor_panel
from ui.formulas import negative_loss_note
from ui.text import plain
from vae_core import CheckpointError
from vae_core.analysis.doctor import spec_of
from vae_core.model.checkpoint import safe_checkpoint_path
from vae_core.runs.registry import RunSnapshot


def save_panel(run, snap: RunSnapshot) -> None:
    if snap.saved_as:
        st.success(f"Saved as {plain(snap.saved_as)}. It is selected in the sidebar: open Explore to click its map.")
        st.page_link("pages/explore.py", label="Explore the new model", icon=":material/map:")
        return
    name = st.text_input("Checkpoint name", default_name(run, snap), key=f"save_name_{snap.id}", max_chars=64)
    try:
        path, problem = safe_checkpoint_path(catalogue.checkpoint_dir(), name), None
    except CheckpointError as err:  # a name with nothing usable in it
        path, problem = None, err
    overwrite = (
        path is not None
        and path.exists()
        and st.checkbox(
            f"Replace the saved {plain(path.stem)}", key=f"save_overwrite_{snap.id}", help="A checkpoint of that name exists."
        )
    )
    save_col, discard_col = st.columns(2)
    if discard_col.button(
        "Discard this run",
        key=f"discard_{snap.id}",
        width="stretch",
        help="Unsaved runs stay on the server until saved or discarded.",
    ):
        run.discard()
        del st.query_params["run"]
        st.rerun()
    if save_col.button("Save checkpoint", key=f"save_{snap.id}", type="primary", width="stretch"):
        if path is None:
            st.error(plain(problem))
            return
        try:
            path = run.save(path, overwrite=overwrite)
        except CheckpointError as err:
            kept = " The run is kept here: save it again once there is room." if isinstance(err.__cause__, OSError) else ""
            st.error(plain(catalogue.shown_reason(err, path, path.stem)) + kept)
            return
        session.pick_next_run(path.stem)
        st.rerun()


def default_name(run, snap: RunSnapshot) -> str:
    """What tells runs apart (data, model, likelihood, objective, β), made unique in the checkpoints folder by a
    short suffix, so a second run of the same settings is not refused for the first one's name."""
    likelihood = {"bernoulli": "", "continuous-bernoulli": "-cb", "gaussian": "-gauss"}[snap.likelihood]
    objective = "" if run.config.objective == "elbo" else f"-{run.config.objective}"
    beta = "beta-varied" if snap.beta_changes else f"beta{snap.beta:g}"  # not the last value of a changed beta
    conditional = "-cond" if run.model.config.conditional else ""
    model = f"{snap.arch}{conditional}-z{snap.latent_dim}{likelihood}{objective}"
    base = f"{catalogue.dataset_short_name(snap.dataset)}-{model}-{beta}"
    taken = lambda name: safe_checkpoint_path(catalogue.checkpoint_dir(), name).exists()  # noqa: E731
    return next(name for name in (base, *(f"{base}-{i}" for i in range(2, 1000))) if not taken(name))


def resume_panel(run, snap: RunSnapshot) -> None:
    """A run the server was training when it stopped: it goes on from its last snapshot, or is saved as it is."""
    done = snap.epochs_done
    st.info(
        f"The server stopped while this run trained. It was kept at the end of epoch {done} of "
        f"{snap.config.epochs}: resume it from there, or save or discard it as it is.",
        icon=":material/restore:",
    )
    if st.button(f"Resume from epoch {done}", key=f"resume_run_{snap.id}", type="primary", width="stretch"):
        catalogue.run_registry().resume(run)  # under the same id: the page, opened on it, follows it
        st.rerun()


def final_metrics(run) -> None:
    """The test terms, then the IWAE bound (the slow part), each shown as soon as it is computed."""
    cols = st.columns(5)
    with cols[0], st.spinner("Scoring…"):
        m = run.test_metrics()
    cols[0].metric("test −ELBO", nats(m["test_loss"]), help="nats per image, β = 1")
    cols[1].metric("reconstruction", nats(m["test_recon"]))
    cols[2].metric("KL", nats(m["test_kl"]))
    cols[3].metric("active units", f"{m['active_units']} / {len(m['kl_per_dim'])}")
    with cols[4], st.spinner("IWAE bound…"):
        iw = run.iwae_bound()
    cols[4].metric(
        f"IWAE-{iw['iwae_k']} NLL",
        nats(iw["iwae_nll"]),
        help=f"Importance-weighted bound on −log p(x), on {iw['iwae_images']:,} test images",
    )
    n_test = len(run.data.test_x)
    sample = f"on all {n_test:,}" if iw["iwae_images"] == n_test else f"on the first {iw['iwae_images']:,} of {n_test:,}"
    st.caption(
        f"Measured on the test images, β = 1: the terms on all {n_test:,}, the IWAE bound ({iw['iwae_k']} samples "
        f"each) {sample}." + (f" {note}" if (note := negative_loss_note(run.model.config.likelihood)) else "")
    )


def nats(value: float) -> str:
    """A loss for a metric box: two decimals, one from 1,000 on (a 3,072-pixel colour image's loss is in the
    thousands), so it fits its fifth of the column."""
    return f"{value:.1f}" if abs(value) >= 1000 else f"{value:.2f}"


def run_doctor(run, snap: RunSnapshot) -> None:
    """The collapse doctor (ui/doctor.py) for a finished run, when some of its dimensions have collapsed."""
    spec = spec_of(run.model.config, run.config, run.data.options, snap.beta)
    doctor_panel(
        snap.id,
        "this run",
        run.test_metrics()["kl_per_dim"],
        spec,
        lambda: run.data,
        lambda: (run.test_metrics(), run.iwae_bound()),
    )
