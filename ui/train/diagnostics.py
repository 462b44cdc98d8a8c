"""A run's per-epoch views: the replay of its map forming, the KL term split up, and disentanglement."""

import streamlit as st

from ui import catalogue
from ui.canvas_charts import disentanglement_data, live_or_figure, posterior_terms_data
from ui.figures import disentanglement_curves, posterior_terms
from ui.replay import NO_FRAMES, replay_panel
from vae_core.runs.registry import RunSnapshot
from vae_core.training.loop import ESTIMATE_IMAGES


def replay_key(run_id: str) -> str:
    return f"replay_{run_id}"


def diagnostics(run_id: str) -> None:
    """The replay of the epochs so far (the map forming), and the KL term split up per epoch."""
    snap = catalogue.run_registry().get(run_id).snapshot()
    st.markdown("**Replay: the latent map forming, epoch by epoch**")
    replay_panel(
        snap.replay,
        replay_key(run_id),
        live=snap.training,  # while training: on canvases (ui/canvas_charts.py)
        empty_note=NO_FRAMES if snap.live else "No epoch ended before the run did: nothing to replay.",
    )
    if not snap.epochs:
        return
    last = snap.epochs[-1]
    if "mutual_info" in last:
        st.markdown("**The average KL, split up**")
        st.caption(
            f"Per epoch, on {ESTIMATE_IMAGES} test images: I(x; z), what the code says about the image; the "
            "total correlation between its dimensions; the dimension-wise KL of each marginal to N(0, 1). "
            f"Together they make the KL term (last epoch: {last['mutual_info']:.2f} + "
            f"{last['total_correlation']:.2f} + {last['dimwise_kl']:.2f} ≈ {last['test_kl']:.2f} nats)."
        )
        live_or_figure(
            snap.training, "posterior_terms", lambda: posterior_terms_data(snap.epochs), lambda: posterior_terms(snap.epochs)
        )
    disentanglement_panel(snap)


def disentanglement_panel(snap: RunSnapshot) -> None:
    """On data with known factors: how far each factor is captured by one latent dimension, over the epochs."""
    measured = [e for e in snap.epochs if "disentanglement" in e]
    if not measured:
        return
    cost = sum(e["disentanglement_s"] for e in measured)
    training = max(snap.epochs[-1]["elapsed_s"] - cost, 1e-9)
    st.markdown("**Disentanglement: does one latent dimension hold one factor?**")
    st.caption(
        f"On the {snap.n_test:,} test images, after epochs {', '.join(str(e['epoch']) for e in measured)}: "
        "MIG (Chen et al. 2018), DCI (Eastwood & Williams 2018), SAP (Kumar et al. 2018) and the FactorVAE "
        "score (Kim & Mnih 2018, chance ≈ 1/factors); 1 is a code with one dimension per factor. Measuring "
        f"took {cost:.1f} s in all, beside {training:.1f} s of training and testing, and is left out of the "
        "samples/s above."
    )
    live_or_figure(
        snap.training, "disentanglement", lambda: disentanglement_data(snap.epochs), lambda: disentanglement_curves(snap.epochs)
    )
