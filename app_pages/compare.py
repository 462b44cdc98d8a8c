"""Compare: every saved checkpoint on a rate-distortion plane, so the effect of beta shows across runs."""
from pathlib import Path

import streamlit as st

from ui import state
from ui.figures import rate_distortion

st.title("Compare runs: rate against distortion")
st.caption("Each point is a checkpoint: its test KL (the rate, nats the code carries) against its test "
           "reconstruction term (the distortion). Raising β trades one for the other; β = 1 minimises their sum, "
           "the negative ELBO.")
rows = [r for r in state.checkpoints() if r["error"] is None and r.get("test_kl") is not None]
if not rows:
    st.info("No checkpoint with test metrics yet: train and save one on the Train page.")
    st.stop()
datasets = sorted({r["dataset"] for r in rows})
dataset = st.selectbox("Dataset", datasets, format_func=lambda d: Path(d).name, key="compare_dataset",
                       help="Runs on different data are not comparable, so one dataset at a time.")
shown = [r for r in rows if r["dataset"] == dataset]
st.plotly_chart(rate_distortion(shown), key="rate_distortion")
st.dataframe([{k: r[k] for k in ("name", "arch", "latent_dim", "beta", "test_kl", "test_recon", "test_loss")}
              for r in sorted(shown, key=lambda r: r["beta"])], hide_index=True)
