"""Compare: every saved checkpoint on a rate-distortion plane, so the effect of beta shows across runs."""
from pathlib import Path

import streamlit as st

from ui import state
from ui.figures import rate_distortion
from ui.navigation import leave_pages_folder_mode

COLUMNS = ("name", "arch", "latent_dim", "beta", "test_kl", "test_recon", "test_loss")


def main() -> None:
    st.title("Compare runs: rate against distortion")
    st.caption("Each point is a checkpoint: its test KL (the rate, nats the code carries) against its test "
               "reconstruction term (the distortion). Raising β trades one for the other; β = 1 minimises their "
               "sum, the negative ELBO.")
    rows = [r for r in state.checkpoints() if r.error is None and r.test_kl is not None]
    if not rows:
        st.info("No checkpoint with test metrics yet: train and save one on the Train page.")
        return
    datasets = sorted({r.dataset for r in rows})
    dataset = st.selectbox("Dataset", datasets, format_func=lambda d: Path(d).name, key="compare_dataset",
                           help="Runs on different data are not comparable, so one dataset at a time.")
    shown = sorted((r for r in rows if r.dataset == dataset), key=lambda r: (r.beta is None, r.beta or 0))
    st.plotly_chart(rate_distortion(shown), key="rate_distortion")
    st.dataframe([{k: getattr(r, k) for k in COLUMNS} for r in shown], hide_index=True)


leave_pages_folder_mode()
main()
