"""Side by side: two models read the same test image and decode the same z, so their ELBO terms and what their
codes mean compare directly, on one screen."""

import numpy as np
import streamlit as st

from ui import catalogue, session
from ui.images import crisp, grid
from ui.navigation import run_page
from ui.text import plain
from vae_core import CheckpointError
from vae_core.analysis.estimates import read_image
from vae_core.analysis.latent import decode_with_each, prior_latents
from vae_core.maps.projection import label_name
from vae_core.store.meta import CheckpointMeta

SAMPLES = 500  # draws of q(z|x) behind each reconstruction term: one draw would jump from image to image
PRIOR_ROW = 8  # prior samples in each same-z row
Z_SOURCES = {"prior": "prior samples", "posterior": "A's posterior mean of the test image"}
# the page's controls: model A, model B, the test image both read, where the shared z comes from
SIDE_A, SIDE_B, SIDE_INDEX, SIDE_Z = "sbs_a", "sbs_b", "sbs_index", "sbs_z_source"


def keep_choice(key: str, options, default) -> None:
    """Start a control at `default`, and move it there when its value is no longer offered (a checkpoint was
    removed, or another model A no longer fits B)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


def random_test_index(n: int) -> None:
    """Button callback: a random test image of n, never the one shown, so that a click always shows another."""
    current = st.session_state.get(SIDE_INDEX, 0)
    st.session_state[SIDE_INDEX] = int((current + np.random.default_rng().integers(1, n)) % n)


def pick_models(usable: list) -> tuple:
    """Model A (the sidebar's to start with) and model B among the checkpoints that take A's images; B is None
    when none does."""
    by_name = {r.name: r for r in usable}
    sidebar = session.checkpoint_name()
    keep_choice(SIDE_A, by_name, sidebar if sidebar in by_name else usable[0].name)
    a_col, b_col = st.columns(2)
    a = by_name[a_col.selectbox("Model A", list(by_name), key=SIDE_A, format_func=lambda n: by_name[n].describe())]
    fits = {r.name: r for r in catalogue.partners(usable, a)}
    if not fits:
        c, h, w = a.image_shape
        b_col.info(
            f"No other checkpoint takes A's {h}×{w} {'grey' if c == 1 else 'colour'} images: train one on "
            "the same data on the Train page."
        )
        return a, None
    keep_choice(SIDE_B, fits, next(iter(fits)))
    b = fits[
        b_col.selectbox(
            "Model B",
            list(fits),
            key=SIDE_B,
            format_func=lambda n: fits[n].describe(),
            help="The checkpoints whose images have A's shape; those on A's dataset first.",
        )
    ]
    return a, b


def load(row):
    """(model, meta), or None with the reason on the page when the file cannot be read now (changed since listed)."""
    try:
        return catalogue.load_model(row.path, row.mtime)
    except CheckpointError as err:
        st.error(
            f"**{plain(row.name)}** is unusable: {plain(catalogue.shown_reason(err, row.path, row.name))}",
            icon=":material/warning:",
        )
        return None


@st.cache_data(show_spinner="Reading the image…", max_entries=64)
def reading(model: tuple, data_of: tuple, index: int):
    """One model's terms and decodings of test image `index` of checkpoint `data_of`'s data; each (path, mtime).
    Cached per model, not per pair: picking another B does not read the image with A again. The noise seed is the
    same for every model (read_image), so the two readings differ only by the models."""
    data, _ = catalogue.dataset_for(catalogue.load_model(*data_of)[1])
    label = int(data.test_y[index])  # what a conditional model reads it as: its own label
    return read_image(catalogue.load_model(*model)[0].with_label(label), data.test_x[index], samples=SAMPLES)


def image_index(n: int) -> int:
    keep_choice(SIDE_INDEX, range(n), 0)
    pick, roll, _ = st.columns([2, 1, 4], vertical_alignment="bottom")
    index = pick.number_input(f"Test image (0 to {n - 1})", 0, n - 1, step=1, key=SIDE_INDEX)
    roll.button(
        "Random",
        key="sbs_random",
        icon=":material/casino:",
        on_click=random_test_index,
        args=(n,),
        disabled=n < 2,
        width="stretch",
    )
    return int(index)


def show_decodings(slot: str, row, reading) -> None:
    with st.container(border=True):
        st.markdown(f"**{slot} · {plain(row.name)}** · {row.latent_dim}-D code · β = {row.beta_text}")
        left, right = st.columns(2)
        left.image(crisp(reading.reconstruction), caption=f"{slot}: reconstruction", width="stretch")
        right.image(crisp(reading.mean), caption=f"{slot}: decoded mean", width="stretch")


def terms_table(a, b, reading_a, reading_b) -> None:
    """Both models' ELBO terms in one table, with their difference, so the comparison reads along a row."""
    lines = [f"| nats per image | A · {plain(a.name)} | B · {plain(b.name)} | B − A |", "| --- | ---: | ---: | ---: |"]
    for label, key in (("−ELBO", "loss"), ("reconstruction", "recon"), ("KL", "kl")):
        va, vb = getattr(reading_a.terms, key), getattr(reading_b.terms, key)
        lines.append(f"| {label} | {va:.2f} | {vb:.2f} | {vb - va:+.2f} |")
    st.markdown("\n".join(lines))


def image_section(a, b, meta_a: CheckpointMeta, meta_b: CheckpointMeta):
    """The same test image through both models; returns A's posterior mean of it and the image's label, or (None, 0)
    without a shared image."""
    st.subheader("The same test image through both")
    if not catalogue.same_data(meta_a, meta_b):
        da, db = plain(catalogue.dataset_label(a.dataset)), plain(catalogue.dataset_label(b.dataset))
        what = f"A was trained on {da}, B on {db}" if da != db else f"A and B were trained on different splits of {da}"
        st.warning(
            f"{what}: they share no test image, so their terms on one would not compare. Pick a B trained on "
            "A's data to see this part; the same z below goes through both all the same.",
            icon=":material/info:",
        )
        return None, 0
    data, reason = catalogue.dataset_for(meta_a)
    if data is None:
        st.warning(f"The models' dataset is not on this machine, so there is no test image to read. {plain(reason)}")
        return None, 0
    index = image_index(len(data.test_x))
    reading_a, reading_b = (reading(row, (a.path, a.mtime), index) for row in ((a.path, a.mtime), (b.path, b.mtime)))
    label = int(data.test_y[index])
    name = label_name(data.class_names, label)
    original, a_col, b_col = st.columns([1, 2, 2])
    original.image(crisp(data.test_x[index]), caption=f"original · #{index} · label {plain(name)}", width="stretch")
    with a_col:
        show_decodings("A", a, reading_a)
    with b_col:
        show_decodings("B", b, reading_b)
    terms_table(a, b, reading_a, reading_b)
    apart = (
        ""
        if a.likelihood == b.likelihood
        else f" A's likelihood is {a.likelihood} and B's {b.likelihood}: their losses measure different things."
    )
    if a.bound != b.bound:
        apart += (
            f" A's −ELBO bounds {a.bound} and B's {b.bound}: a conditional model is given the label, so its "
            "loss leaves out what the label tells and is not the same quantity."
        )
    elif a.num_classes:
        apart += " Both are conditional: each −ELBO bounds −log p(x|y), the image given its label."
    st.caption(
        f"At β = 1: reconstruction = E[−log p(x|z)] over {SAMPLES} draws z ~ q(z|x) (the same noise for both; "
        "the reconstruction shown decodes the first), KL = KL(q(z|x) ‖ N(0, I)), −ELBO = their sum. Lower "
        "−ELBO: the model explains the image better." + apart
    )
    return reading_a.terms.mu, label


def same_z(mu_a, latent_dim: int) -> tuple[np.ndarray, str]:
    """The z both models decode, (N, D), and what it is."""
    sources = ["prior"] if mu_a is None else list(Z_SOURCES)
    keep_choice(SIDE_Z, sources, "prior")
    source_col, seed_col, _ = st.columns([3, 1, 2], vertical_alignment="bottom")
    source = source_col.radio("z from", sources, format_func=Z_SOURCES.get, key=SIDE_Z, horizontal=True)
    if source == "posterior":
        return mu_a[None], Z_SOURCES["posterior"]
    seed = int(seed_col.number_input("Seed", 0, 2**31 - 1, 0, key="sbs_seed"))
    return prior_latents(PRIOR_ROW, latent_dim, seed=seed), f"{PRIOR_ROW} prior samples (seed {seed})"


def same_z_section(a, b, model_a, model_b, mu_a, label: int) -> None:
    """label: what a conditional model decodes the z under (the test image's above, else the first)."""
    st.subheader("The same z through both")
    da, db = model_a.config.latent_dim, model_b.config.latent_dim
    if da != db:
        st.info(
            f"A has a {da}-D code, B {db}-D: the same z cannot go through both. Pick a B with a {da}-D code "
            "to decode one z with both.",
            icon=":material/block:",
        )
        return
    z, what = same_z(mu_a, da)
    width = min(720, max(168, 90 * len(z)))  # one image as large as those above; a row of 8 still fits the page
    models = [model.with_label(label) for model in (model_a, model_b)]
    for slot, row, images in zip("AB", (a, b), decode_with_each(models, z)):
        under = f", decoded under the label {label}" if row.num_classes else ""  # an unconditional model has none
        st.image(grid(images, nrow=len(z), width=width), caption=f"{what} through {slot} · {plain(row.name)}{under}")
    st.caption(
        "Two VAEs trained apart owe each other nothing: the prior is the same, but which image a z stands "
        "for is each model's own, so the rows agree only where their codes happen to line up."
    )


def main() -> None:
    st.title("Two models side by side")
    st.caption(
        "The same test image through two checkpoints, with each one's ELBO terms; and, where their codes "
        "have one size, the same z decoded by both."
    )
    rows = catalogue.checkpoints()
    usable = [r for r in rows if r.error is None]
    unusable = [r.name for r in rows if r.error is not None]
    if unusable:
        st.caption(f"Not offered, unusable (the sidebar says why): {plain(', '.join(unusable))}.")
    if len(usable) < 2:
        st.info(
            f"Side by side needs two usable checkpoints; `{catalogue.checkpoint_dir()}` has {len(usable)}. Train a "
            "second one on the Train page and save it: it is offered here.",
            icon=":material/info:",
        )
        st.page_link("pages/train.py", label="Train a model", icon=":material/model_training:")
        return
    a, b = pick_models(usable)
    if b is None or (loaded_a := load(a)) is None or (loaded_b := load(b)) is None:
        return
    (model_a, meta_a), (model_b, meta_b) = loaded_a, loaded_b
    mu_a, label = image_section(a, b, meta_a, meta_b)
    same_z_section(a, b, model_a, model_b, mu_a, label)


run_page(main)
