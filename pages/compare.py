"""Compare: every saved checkpoint on a rate-distortion plane, so the effect of beta shows across runs."""

import streamlit as st

from ui import state
from ui.figures import rate_distortion
from ui.navigation import run_page

COLUMNS = ("name", "arch", "latent_dim", "likelihood", "test_kl", "test_recon", "test_loss")


def main() -> None:
    st.title("Compare runs: rate against distortion")
    st.caption("Each point is a checkpoint: its test KL (the rate, nats the code carries) against its test "
               "reconstruction term (the distortion). Raising β trades one for the other; β = 1 minimises their "
               "sum, the negative ELBO.")
    rows = [r for r in state.checkpoints() if r.error is None and r.test_kl is not None]
    if not rows:
        st.info("No checkpoint with test metrics yet: train and save one on the Train page.")
        return
    groups = sorted({(r.dataset, r.likelihood) for r in rows})
    selected = next((r for r in rows if r.name == state.checkpoint_name()), None)
    default = groups.index((selected.dataset, selected.likelihood)) if selected else 0
    dataset, likelihood = st.selectbox(
        "Dataset and likelihood", groups, index=default, key="compare_group",
        format_func=lambda g: f"{state.dataset_label(g[0])} · {g[1]}",
        help="Losses are comparable only on the same data under the same likelihood: a Bernoulli loss in nats "
             "and a Gaussian one measure different things. So one plane per dataset and likelihood.")
    shown = sorted((r for r in rows if (r.dataset, r.likelihood) == (dataset, likelihood)),
                   key=lambda r: (r.beta is None, r.beta or 0))
    st.plotly_chart(rate_distortion(shown), key="rate_distortion")
    st.dataframe([{"name": r.name, "β": r.beta_text, **{k: getattr(r, k) for k in COLUMNS[1:]}} for r in shown],
                 hide_index=True)
    if any(r.beta_path for r in shown):
        st.caption("◆ β was changed while the run trained: its colour is the final β, the table gives the path.")


run_page(main)
