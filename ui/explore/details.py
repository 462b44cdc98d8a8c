"""The model's details beside and under the map: how its codes fill the prior, and the collapse doctor."""

import numpy as np
import streamlit as st

from ui import catalogue
from vae_core.analysis.doctor import original_spec
from vae_core.config import InputError
from vae_core.stats.estimators import DEFINITIONS


def estimates_panel(row) -> None:
    """The split of the average KL: how the codes fill the prior (vae_core.stats.estimators)."""
    est = catalogue.posterior_estimates(row.path, row.mtime)
    if est is None:
        return
    with st.expander("How the codes fill the prior: I(x; z), total correlation, dimension-wise KL"):
        rows = [
            ("average KL", "avg_kl"),
            ("I(x; z)", "mutual_info"),
            ("KL(q(z) ‖ p(z))", "kl_aggregate"),
            ("total correlation", "total_correlation"),
            ("dimension-wise KL", "dimwise_kl"),
        ]
        st.markdown(
            "| term | nats | what it is |\n| --- | ---: | --- |\n"
            + "\n".join(f"| {label} | {getattr(est, key):.2f} | {DEFINITIONS[key].split(': ', 1)[1]} |" for label, key in rows)
        )
        st.caption(
            f"On {est.n_images:,} test images; q(z) is the mixture of their posteriors q(z|x). "
            "average KL = I(x; z) + KL(q(z) ‖ p(z)), and KL(q(z) ‖ p(z)) = total correlation + dimension-wise "
            f"KL (Hoffman & Johnson 2016; Chen et al. 2018). I(x; z) is at most log N = {np.log(est.n_images):.2f}."
        )


@st.cache_data(show_spinner="IWAE bound of the original…", max_entries=8)
def checkpoint_scores(path: str, mtime: int) -> tuple[dict, dict | None]:
    """The model's saved test metrics and its IWAE bound (as a finished run's, vae_core.model.bounds.final_iwae)."""
    from vae_core.model.bounds import final_iwae  # first paint: torch comes after the map

    model, meta = catalogue.load_model(path, mtime)
    data = catalogue.dataset_for(meta)[0]
    return dict(meta.metrics), None if data is None else final_iwae(model, data)


def doctor_section(row, md) -> None:
    """The collapse doctor (ui/doctor.py), when some of the model's dimensions have collapsed."""
    from ui.doctor import doctor_panel  # first paint: torch comes after the map
    from vae_core import DatasetError  # first paint: torch comes after the map

    meta = catalogue.load_model(row.path, row.mtime)[1]
    try:
        spec, why_not = original_spec(meta), ""
    except InputError as err:
        spec, why_not = None, str(err)

    def load_data():
        data, problem = catalogue.dataset_for(meta)
        if data is None:
            raise DatasetError(f"its data are not here, so it cannot be retrained: {problem}")
        return data

    doctor_panel(
        row.path,
        row.name,
        meta.metrics.get("kl_per_dim") or [],
        spec,
        load_data,
        lambda: checkpoint_scores(row.path, row.mtime),
        why_not,
    )
