"""Generate: prior samples, interpolation, traversals, latent arithmetic and your own image (uploaded or drawn),
for the selected model."""

from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from ui import catalogue, session
from ui.export import png_bytes, points_csv
from ui.figures import overlay_map, path_trace, point_trace
from ui.images import crisp, grid, thumbnail
from ui.navigation import run_page
from vae_core import DatasetError, kl_per_dim
from vae_core.analysis.estimates import read_image
from vae_core.analysis.latent import (
    attribute_row,
    attribute_vector,
    decode_points,
    every_label,
    interpolate,
    prior_latents,
    samples_by_class,
    traversal_order,
    traverse,
)
from vae_core.data.datasets import DEFAULT_CONTENT_FRACTION, as_float, content_fraction, image_to_tensor
from vae_core.model.bounds import ImageTerms
from vae_core.store.meta import CheckpointMeta

PATH_COLORS = {"linear": "black", "slerp": "#d4007a"}
IWAE_K = 500
NEIGHBOURS = 8
ARITHMETIC_STEPS = 7
GROUP_SOURCES = {"explore": "groups picked on Explore", "classes": "two classes"}
OWN_SOURCES = {"upload": "Upload a file", "draw": "Draw one"}
CANVAS_SIDE = 280  # px
BRUSH = 24  # px: an eighth of a digit drawn across most of the canvas, about MNIST's stroke for its size
PRIOR_SEED = "gen_seed"  # the prior samples' seed input


def next_prior_seed() -> None:
    """Button callback: the next seed for new prior samples."""
    st.session_state[PRIOR_SEED] = st.session_state.get(PRIOR_SEED, 0) + 1


def downloads(images: torch.Tensor, nrow: int, csv: bytes, stem: str) -> None:
    """PNG of the grid (made only when clicked: torchvision is slow to import) and CSV of its latent points."""
    a, b = st.columns(2)
    a.download_button(
        "Grid as PNG",
        data=lambda: png_bytes(images, nrow),
        file_name=f"{stem}.png",
        mime="image/png",
        key=f"{stem}:png",
        icon=":material/download:",
        on_click="ignore",
    )
    b.download_button(
        "Latent points as CSV",
        data=csv,
        file_name=f"{stem}.csv",
        mime="text/csv",
        key=f"{stem}:csv",
        icon=":material/download:",
        on_click="ignore",
    )


def prior_section(model, name: str, names: list) -> None:
    st.caption(
        "Images decoded from z ~ N(0, T²·I): what the model makes from its prior alone. A low "
        "temperature T stays near the prior's centre; a high one reaches into its tails."
    )
    a, b, c, d = st.columns([1, 2, 2, 1], vertical_alignment="bottom")
    seed = a.number_input("Seed", 0, 2**31 - 1, key=PRIOR_SEED)
    temperature = b.slider("Temperature T", 0.1, 2.0, 1.0, 0.1, key="gen_temperature")
    side = c.slider("Grid side", 4, 16, 8, key="gen_grid")
    d.button("New samples", key="gen_new", on_click=next_prior_seed, icon=":material/casino:", width="stretch")
    if model.config.conditional:
        class_rows(model, names, name, side, temperature, int(seed))
        return
    z = prior_latents(side * side, model.config.latent_dim, temperature, int(seed))
    images = decode_points(model, z, session.image_shown())
    st.image(grid(images, nrow=side, width=560), caption=f"{side * side} samples · T = {temperature:g} · seed {seed}")
    downloads(images, side, points_csv(z, sample=range(len(z))), f"{name}-prior-T{temperature:g}-seed{seed}")


def class_rows(model, names: list, name: str, per_class: int, temperature: float, seed: int) -> None:
    """A conditional model's prior samples: one row per class, the same codes down each column."""
    images = samples_by_class(model, per_class, temperature, seed, session.image_shown())
    st.image(
        grid(images, nrow=per_class, width=min(720, 56 * per_class)),
        caption=f"One row per class, from the top: {', '.join(names)}. Each column is one code z ~ N(0, T²·I) "
        f"decoded under every label: one style, every class · T = {temperature:g} · seed {seed}",
    )
    z = prior_latents(per_class, model.config.latent_dim, temperature, seed)
    downloads(
        images,
        per_class,
        points_csv(
            np.tile(z, (len(names), 1)), sample=np.tile(range(per_class), len(names)), label=np.repeat(names, per_class)
        ),
        f"{name}-prior-by-class-T{temperature:g}-seed{seed}",
    )


def style_section(model, md, data, name: str) -> None:
    """A conditional model's code of one image, decoded under each label in turn: its style in every class."""
    st.caption(
        "A conditional VAE's code holds what the label does not: the style. Take the code of one image (a "
        "test image, encoded under its own label, or a point picked on Explore) and decode it under each "
        "label: the same style in every class. *Your own image* does the same for an upload or a drawing."
    )
    picked = valid_picks(name, model.config.latent_dim)
    left, _ = st.columns([1, 2])
    with left:
        chosen = choose_latent("Style from", "gen_style", "A", md, data, picked, 0)
    if chosen is None:
        st.info("This model's test images are not available here: pick a point on the Explore map with *Use as A*.")
        return
    style_row(model, md.class_names, chosen[0], f"the code of {chosen[1]}", f"{name}-style")


def style_row(model, names: list, z: np.ndarray, what: str, stem: str) -> None:
    """The code z (D,) decoded under every label of a conditional model, as one row with the class names."""
    images = every_label(model, z[None], session.image_shown())
    st.image(
        grid(images, nrow=len(names), width=min(720, 64 * len(names))),
        caption=f"One style, every class: {what} decoded under each label, from the left: {', '.join(names)}",
    )
    downloads(images, len(names), points_csv(np.repeat(z[None], len(names), 0), label=names), stem)


def choose_latent(label: str, key: str, slot: str, md, data, picked: dict, default_index: int, sources=("explore", "test")):
    """A latent point: Explore pick `slot`, a test image's mean or the origin. (z, description), or None."""
    names = {"explore": f"Explore pick {slot}", "test": "a test image", "origin": "the origin (z = 0)"}
    options = [s for s in sources if (s != "explore" or slot in picked) and (s != "test" or data is not None)]
    if not options:
        return None
    source = st.radio(label, options, format_func=names.get, key=f"{key}_source", horizontal=True)
    if source == "explore":
        st.caption(picked[slot]["label"])
        return np.asarray(picked[slot]["z"], np.float32), picked[slot]["label"]
    if source == "origin":
        return np.zeros(md.projection.latent_dim, np.float32), "the origin"
    i = int(st.number_input("Test image", 0, len(data.test_x) - 1, default_index, key=f"{key}_index"))
    st.image(crisp(data.test_x[i], width=84), caption=f"#{i}, label {md.label_name(md.labels[i])}")
    return md.mu[i], f"test image #{i}"


def valid_picks(name: str, latent_dim: int) -> dict:
    """Explore picks for this checkpoint that still fit its latent size (a file may have been replaced)."""
    return {slot: p for slot, p in session.picked_latents(name).items() if len(p["z"]) == latent_dim}


def interpolation_section(model, md, data, name: str) -> None:
    st.caption(
        "The decoded path between two latent points. Linear goes straight; spherical (slerp) keeps "
        "to the shell where a Gaussian prior's mass lies in many dimensions (White 2016). "
        "Pick endpoints here or with *Use as A/B* on the Explore page."
    )
    picked = valid_picks(name, model.config.latent_dim)
    left, right, options = st.columns(3)
    with left:
        a = choose_latent("A from", "gen_A", "A", md, data, picked, 0)
    with right:
        b = choose_latent("B from", "gen_B", "B", md, data, picked, first_other_label(md))
    if a is None or b is None:
        st.info(
            "This model's test images are not available here: pick two points on the Explore map with "
            "*Use as A* and *Use as B*."
        )
        return
    steps = options.slider("Steps", 3, 20, 10, key="gen_steps")
    paths = {method: interpolate(a[0], b[0], steps, method) for method in PATH_COLORS}
    z = np.concatenate(list(paths.values()))
    images = decode_points(model, z, session.image_shown())
    xy = md.projection.transform(z)
    grid_col, map_col = st.columns([3, 2])
    grid_col.image(
        grid(images, nrow=steps, width=max(640, 56 * steps)),
        caption=f"From A ({a[1]}) to B ({b[1]}). Top row: linear. Bottom row: spherical (slerp).",
    )
    ends = np.stack([xy[0], xy[steps - 1]])
    overlays = [
        path_trace(m, xy[i * steps : (i + 1) * steps], c, text=[f"t = {t:.2f}" for t in np.linspace(0, 1, steps)])
        for i, (m, c) in enumerate(PATH_COLORS.items())
    ]
    map_col.plotly_chart(
        overlay_map(md, overlays + [point_trace("A, B", ends, text=["A", "B"])]),
        key="gen_interp_map",
        config={"displaylogo": False},
    )
    with grid_col:
        t = np.tile(np.linspace(0, 1, steps), 2)
        downloads(images, steps, points_csv(z, xy, path=np.repeat(list(paths), steps), t=t), f"{name}-interpolation")


def first_other_label(md) -> int:
    """A default B that differs from A (test image 0) in label, so the default path is interesting."""
    others = np.flatnonzero(md.labels != md.labels[0]) if len(md.labels) else []
    return int(others[0]) if len(others) else 0


def kl_order(meta: CheckpointMeta, md, latent_dim: int) -> tuple[list[int], list[float] | None]:
    """Dimensions by their test KL (from the checkpoint, else from the map's encodings), highest first."""
    kl = meta.metrics.get("kl_per_dim")
    if kl is None and len(md.mu):
        kl = kl_per_dim(torch.from_numpy(md.mu), torch.from_numpy(md.logvar)).mean(0).tolist()
    if kl is None or len(kl) != latent_dim:
        return list(range(latent_dim)), None
    return traversal_order(kl), kl


@st.cache_data(show_spinner=False, max_entries=16)
def factor_of_each_dimension(path: str, mtime: int, _md) -> list[tuple[str, float]] | None:
    """Per latent dimension, the true factor it carries most of and its share of that factor's entropy (normalized
    mutual information on the test set, adjusted for chance), for data with known factors; else None."""
    if _md.factors is None or not len(_md.mu):
        return None
    from vae_core.stats.metrics import best_factors

    return [(_md.factor_names[k], share) for k, share in best_factors(_md.mu, _md.factors)]


CAPTURES = 0.1  # a share of a factor's entropy below this is not worth naming: noise in the estimate


def dimension_label(d: int, kl: list[float] | None, factors: list[tuple[str, float]] | None) -> str:
    """A traversal row's label: the dimension, its KL, and the factor it captures best, with how much of it."""
    text = f"**z{d + 1}**" + (f"  \nKL {kl[d]:.2f}" if kl is not None else "")
    if factors is not None:
        factor, share = factors[d]
        text += f"  \n{factor} **{share:.2f}**" if share >= CAPTURES else "  \nno one factor"
    return text


def traversal_section(model, md, data, meta: CheckpointMeta, row) -> None:
    name = row.name
    factors = factor_of_each_dimension(row.path, row.mtime, md)
    st.caption(
        "Each row sweeps one latent dimension from −r to r while the others stay at the chosen "
        "point. Rows are ordered by each dimension's KL on the test set: informative dimensions "
        "first, collapsed ones (KL ≈ 0, the decoder ignores them) last."
        + (
            " Under each dimension: the true factor it captures best, and how much of it (the share of the "
            "factor's entropy it carries beyond what chance shows on this many images: its normalized "
            "mutual information, adjusted for chance; 1 is all of it, 0 nothing)."
            if factors is not None
            else ""
        )
    )
    latent_dim = model.config.latent_dim
    picked = valid_picks(name, latent_dim)
    point_col, range_col, steps_col = st.columns(3)
    with point_col:
        chosen = choose_latent("Through", "gen_traverse", "A", md, data, picked, 0, sources=("test", "explore", "origin"))
    span = range_col.slider("Range r", 0.5, 5.0, 3.0, 0.5, key="gen_span", help="±2 covers 95% of the prior N(0, 1).")
    steps = steps_col.slider("Steps", 5, 15, 9, key="gen_traverse_steps")
    order, kl = kl_order(meta, md, latent_dim)
    rows = order
    if latent_dim > 2:
        rows = order[: range_col.slider("Dimensions shown", 1, latent_dim, min(latent_dim, 10), key="gen_dims")]
    z = traverse(chosen[0], rows, span, steps)
    images = decode_points(model, z, session.image_shown())
    for r, d in enumerate(rows):
        label_col, image_col = st.columns([1, 7], vertical_alignment="center")
        label_col.markdown(dimension_label(d, kl, factors))
        image_col.image(grid(images[r * steps : (r + 1) * steps], nrow=steps, width=620))
    st.caption(
        f"Through {chosen[1]}; columns from −{span:g} to {span:g}."
        + ("" if kl is not None else " No KL per dimension is known for this model: natural order.")
    )
    values = np.tile(np.linspace(-span, span, steps), len(rows))
    downloads(
        images, steps, points_csv(z, dimension=[f"z{d + 1}" for d in np.repeat(rows, steps)], value=values), f"{name}-traversal"
    )


def arithmetic_section(model, md, data, name: str) -> None:
    st.caption(
        "Latent arithmetic: v = mean(μ of group B) − mean(μ of group A) is the step from A's average code to "
        "B's. Added to a point with strength s, it moves that point's image from A towards B (s = 1 is the "
        "whole step; a negative s goes the other way). Groups are two classes, or two selections made on the "
        "Explore map with *Use as group A/B*."
    )
    if not len(md.mu):
        st.info("This model's test images are not available here, and the groups are made of their codes.")
        return
    groups_col, point_col, strength_col = st.columns(3)
    with groups_col:
        (a, label_a), (b, label_b) = choose_groups(md, name)
    with point_col:
        point = choose_latent(
            "Applied to",
            "gen_arith",
            "A",
            md,
            data,
            valid_picks(name, model.config.latent_dim),
            int(a[0]),
            sources=("test", "explore"),
        )
    strength = strength_col.slider(
        "Strength s",
        -3.0,
        3.0,
        1.0,
        0.25,
        key="gen_arith_strength",
        help="The row goes from the point (s = 0) to the point + s·v.",
    )
    vector = attribute_vector(md.mu, a, b)
    strengths, z, images = attribute_row(model, point[0], vector, strength, ARITHMETIC_STEPS, session.image_shown())
    grid_col, map_col = st.columns([3, 2])
    grid_col.image(
        grid(images, nrow=ARITHMETIC_STEPS, width=640),
        caption=f"{point[1]} + s·v for s from 0 to {strength:g}; v from A ({label_a}, {len(a)} images) to "
        f"B ({label_b}, {len(b)} images), ‖v‖ = {np.linalg.norm(vector):.2f}.",
    )
    xy = md.projection.transform(z)
    map_col.plotly_chart(
        overlay_map(md, arithmetic_overlays(md, xy, strengths, a, b)), key="gen_arith_map", config={"displaylogo": False}
    )
    with grid_col:
        downloads(images, ARITHMETIC_STEPS, points_csv(z, xy, strength=strengths), f"{name}-arithmetic")


def choose_groups(md, name: str) -> list[tuple[np.ndarray, str]]:
    """Groups A and B as (test image indices, description): two classes, or the groups picked on Explore (never
    empty: Explore offers no empty selection). A group that no longer fits the test set (the file was replaced) is
    dropped."""
    picked = {slot: g for slot, g in session.picked_groups(name).items() if max(g["indices"], default=len(md.mu)) < len(md.mu)}
    options = (["explore"] if {"A", "B"} <= picked.keys() else []) + ["classes"]
    source = st.radio("Groups from", options, format_func=GROUP_SOURCES.get, key="gen_arith_groups", horizontal=True)
    if source == "explore":
        return [(np.asarray(picked[slot]["indices"]), picked[slot]["label"]) for slot in "AB"]
    if picked:
        st.caption(f"Group {next(iter(picked))} is picked on Explore; pick the other one there too to use them.")
    labels = [int(v) for v in np.unique(md.labels)]
    a_col, b_col = st.columns(2)
    class_a = a_col.selectbox("Group A", labels, 0, format_func=md.label_name, key="gen_arith_class_A")
    class_b = b_col.selectbox("Group B", labels, min(1, len(labels) - 1), format_func=md.label_name, key="gen_arith_class_B")
    return [(np.flatnonzero(md.labels == c), f"class {md.label_name(c)}") for c in (class_a, class_b)]


def arithmetic_overlays(md, xy: np.ndarray, strengths: np.ndarray, a: np.ndarray, b: np.ndarray) -> list[dict]:
    """The row's points on the map (xy), its two ends marked, and the two group means the vector joins."""
    means = md.projection.transform(np.stack([md.mu[a].mean(0), md.mu[b].mean(0)]))
    # a point often starts next to its group's mean: labels on either side, the stars over the diamonds
    return [
        path_trace("z + s·v", xy, "black", text=[f"s = {s:g}" for s in strengths]),
        {
            **point_trace("group means", means, color="#d4007a", symbol="diamond", text=["mean A", "mean B"]),
            "textposition": "middle right",
        },
        {**point_trace("start, end", xy[[0, -1]], text=["", f"s = {strengths[-1]:g}"]), "textposition": "middle left"},
    ]


# The page reruns on every widget in every tab: an upload is decoded, converted and scored once, not
# on each rerun (IWAE_K decodes, and a large JPEG can take a while to decode).
@st.cache_data(show_spinner=False, max_entries=16)
def model_input(data: bytes, image_shape: tuple, fill: float) -> torch.Tensor:
    return image_to_tensor(data, image_shape, fill)


@st.cache_data(show_spinner=False, max_entries=8)
def data_fill(path: str, mtime: int) -> float:
    """How much of the frame the model's images fill, so an upload is framed as they are."""
    _, meta = catalogue.load_model(path, mtime)
    data, _ = catalogue.dataset_for(meta)
    return content_fraction(data.test_x) if data is not None else DEFAULT_CONTENT_FRACTION


@st.cache_data(show_spinner="Encoding your image…", max_entries=16)
def upload_terms(
    path: str, mtime: int, data: bytes, invert: bool, label: int | None
) -> tuple[torch.Tensor, ImageTerms, torch.Tensor]:
    """The image as the model sees it, its ELBO terms (the reconstruction term averaged over IWAE_K samples of
    q(z|x), so it does not jump with one lucky sample), and two decodings: one sample of q(z|x) and the mean.
    label: what a conditional model reads the image as."""
    model = catalogue.load_model(path, mtime)[0].with_label(label)
    x = model_input(data, model.config.image_shape, data_fill(path, mtime))
    x = 1 - x if invert else x
    read = read_image(model, x, samples=IWAE_K)
    return x, read.terms, (read.reconstruction, read.mean)


@st.cache_data(show_spinner=False, max_entries=16)
def upload_preview(data: bytes) -> str:
    return thumbnail(data)


@st.cache_data(show_spinner=False, max_entries=8)
def draws_light_on_dark(path: str, mtime: int) -> bool:
    """Whether the model's images are mostly dark, as MNIST and digits are: its test images tell, and where
    they are not here, its own samples (which a barely trained model may draw too dark)."""
    model, meta = catalogue.load_model(path, mtime)
    data, _ = catalogue.dataset_for(meta)
    images = (
        data.test_x[:1000]
        if data is not None
        else decode_points(model.with_label(0), prior_latents(64, model.config.latent_dim))
    )
    return float(as_float(images).mean()) < 0.5


@dataclass(frozen=True)
class OwnImage:
    """An image to place on the map, uploaded or drawn: both take the same way to the model (show_own_image)."""

    data: bytes  # the file's bytes: PNG, JPEG, ... (the canvas sends a PNG)
    name: str  # in messages and the CSV
    caption: str  # under its preview
    invert_key: str  # the invert checkbox: one per upload, one for all the strokes of a drawing


def own_image_section(model, md, data, meta: CheckpointMeta, row) -> None:
    c, h, w = model.config.image_shape
    st.caption(
        f"Upload an image of any size or draw one: it is converted to the model's {h}×{w} "
        f"{'grey' if c == 1 else 'colour'} input, encoded, placed on the map and reconstructed."
    )
    source = st.radio(
        "Your image",
        list(OWN_SOURCES),
        format_func=OWN_SOURCES.get,
        key="gen_own_source",
        horizontal=True,
        label_visibility="collapsed",
    )
    map_col = None
    if source == "upload":
        image = uploaded_image()
    else:  # beside the canvas, so a stroke and where it lands are seen together
        canvas_col, map_col = st.columns([1, 2], gap="medium")
        with canvas_col:
            image = drawn_image(row)
    if image is not None:
        show_own_image(model, md, data, meta, row, image, map_col)
    elif map_col is not None:
        own_image_map(md, map_col)


def uploaded_image() -> OwnImage | None:
    upload = st.file_uploader(
        "An image (PNG, JPEG, BMP, GIF or WebP)", type=["png", "jpg", "jpeg", "bmp", "gif", "webp"], key="gen_upload"
    )
    if upload is None:
        return None
    return OwnImage(upload.getvalue(), upload.name, f"uploaded: {upload.name}", f"gen_invert:{upload.file_id}")


def drawn_image(row) -> OwnImage | None:
    """A canvas in the model's colours; what is drawn on it, as a PNG, or None while it is empty."""
    from streamlit_drawable_canvas import st_canvas  # registers its component on import: only once Draw is chosen

    light = draws_light_on_dark(row.path, row.mtime)
    ink, paper = ("#ffffff", "#000000") if light else ("#000000", "#ffffff")
    st.space(20)  # the canvas's toolbar shows above it on hover: room for it, not over the choice above
    canvas = st_canvas(
        stroke_width=BRUSH,
        stroke_color=ink,
        background_color=paper,
        update_streamlit=True,
        height=CANVAS_SIDE,
        width=CANVAS_SIDE,
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"gen_canvas:{paper}",
    )
    st.caption(
        f"{'White on black' if light else 'Black on white'}, as this model's images are drawn, so nothing "
        "needs inverting. Each stroke is sent when you lift the mouse; hover for the toolbar: undo, or the bin "
        "to start again."
    )
    if canvas.image_bytes is None or not (canvas.json_data or {}).get("objects"):
        st.info("Draw a digit on the canvas: it lands on the map as soon as you lift the mouse.", icon=":material/draw:")
        return None
    return OwnImage(canvas.image_bytes, "drawing", "your drawing", f"gen_invert:drawing:{paper}")


def show_own_image(model, md, data, meta: CheckpointMeta, row, image: OwnImage, map_col=None) -> None:
    """Convert, offer to invert, score, reconstruct and place on the map: the same for an upload and a drawing.
    The map goes in `map_col` when one is given, else beside the nearest test images."""
    invert = invert_choice(model, row, image)
    if invert is None:
        return
    label = getattr(model, "label", None)  # a conditional model's, chosen at the top of the page
    x, terms, (reconstruction, mean) = upload_terms(row.path, row.mtime, image.data, invert, label)
    cols = st.columns(4)
    for col, img, caption in zip(
        cols, (x, reconstruction, mean), ("as the model sees it", "reconstruction (z ~ q(z|x))", "decoded mean")
    ):
        col.image(crisp(img), caption=caption, width="stretch")
    cols[3].image(upload_preview(image.data), caption=image.caption, width="stretch")
    show_terms(terms, meta)
    xy = md.projection.transform(terms.mu[None])
    if map_col is None:
        map_col, near_col = st.columns([3, 2])
    else:  # the map is up beside the canvas: the neighbours keep the width they have beside the map
        near_col = st.columns([2, 3])[0]
    own_image_map(md, map_col, xy)
    if len(md.mu):
        near = np.argsort(((md.mu - terms.mu) ** 2).sum(1))[:NEIGHBOURS]
        labels = ", ".join(md.label_name(md.labels[i]) for i in near)
        near_col.image(grid(data.test_x[near], nrow=4, width=360), caption=f"Nearest test images in latent space: {labels}")
    with near_col:
        images = torch.stack([x, reconstruction, mean])
        downloads(
            images,
            3,
            points_csv(terms.mu[None], xy, image=[image.name], **{f"sigma{d + 1}": [s] for d, s in enumerate(terms.sigma)}),
            f"{row.name}-your-image",
        )
    if label is not None:
        style_row(
            model,
            md.class_names,
            terms.mu,
            f"the code of {image.name}, read as {md.label_name(label)},",
            f"{row.name}-your-image-style",
        )


def invert_choice(model, row, image: OwnImage) -> bool | None:
    """Whether to invert the image, preselected when it is light on dark and the model's are not, or the other
    way round; None (and a message) when the file is not an image."""
    try:
        with st.spinner("Reading your image…"):  # the first time, the model's data are loaded to frame it alike
            fill = data_fill(row.path, row.mtime)
            image_dark = float(model_input(image.data, model.config.image_shape, fill).mean()) < 0.5
    except DatasetError as err:
        st.error(f"**{image.name}**: {err}")
        return None
    model_dark = draws_light_on_dark(row.path, row.mtime)
    return st.checkbox(
        "Invert colours",
        value=model_dark != image_dark,
        key=image.invert_key,
        help=f"This model draws {'light on dark' if model_dark else 'dark on light'}; "
        "inverting is preselected when your image is the other way round.",
    )


def own_image_map(md, where, xy: np.ndarray | None = None) -> None:
    """The map with your image on it; before there is one, the map it will land on."""
    overlays = [] if xy is None else [point_trace("your image", xy, text=["your image"])]
    where.plotly_chart(overlay_map(md, overlays), key="gen_upload_map", config={"displaylogo": False})


def show_terms(terms: ImageTerms, meta: CheckpointMeta) -> None:
    test = meta.metrics
    a, b, c, d = st.columns(4)
    a.metric("Reconstruction", f"{terms.recon:.1f} nats", help=f"E[−log p(x|z)] over {IWAE_K} samples z ~ q(z|x)")
    b.metric("KL", f"{terms.kl:.2f} nats", help="KL(q(z|x) ‖ N(0, I)): the information z carries about x")
    delta = None if test.get("test_loss") is None else f"{terms.loss - test['test_loss']:+.1f} vs test mean"
    c.metric(
        "−ELBO",
        f"{terms.loss:.1f} nats",
        delta=delta,
        delta_color="inverse",
        help="Reconstruction + KL. Far above the test mean: the image is unlike the training data.",
    )
    d.metric(
        f"log p(x) ≥ (IWAE, k={IWAE_K})",
        f"{terms.log_px:.1f} nats",
        help="A tighter lower bound on the log-likelihood than the ELBO (Burda et al. 2015)",
    )


def label_choice(md) -> int:
    """The label a conditional model's views decode (and your image is read) under."""
    return session.label_choice(
        st.columns([1, 2])[0],
        "Label",
        "gen_label",
        md.class_names,
        help="A conditional VAE decodes a code together with a label. Interpolation, "
        "traversals, arithmetic and your own image use this one; the prior samples and "
        "One style, every class show every label at once.",
    )


def main() -> None:
    sel = session.selected_model("generate from")
    row, model, meta, md = sel.row, sel.model, sel.meta, sel.map
    data = catalogue.dataset_for(meta)[0] if not md.missing_data else None
    st.title("Generate")
    st.caption(
        f"**{row.name}**: {row.arch} VAE ({row.likelihood} likelihood) on {catalogue.dataset_label(row.dataset)}, "
        f"{model.config.latent_dim}-D latent space" + (", conditional on the label." if row.num_classes else ".")
    )
    if md.missing_data:
        st.warning(f"This model's dataset is not available here, so test images are not offered. {md.missing_data}")
    tabs = ["Prior samples", "Interpolation", "Traversal", "Latent arithmetic", "Your own image"]
    if model.config.conditional:
        model = model.with_label(label_choice(md))
        tabs.append("One style, every class")
    prior_tab, interp_tab, traverse_tab, arithmetic_tab, upload_tab, *style_tab = st.tabs(tabs)
    with prior_tab:
        prior_section(model, row.name, md.class_names)
    with interp_tab:
        interpolation_section(model, md, data, row.name)
    with traverse_tab:
        traversal_section(model, md, data, meta, row)
    with arithmetic_tab:
        arithmetic_section(model, md, data, row.name)
    with upload_tab:
        own_image_section(model, md, data, meta, row)
    for tab in style_tab:
        with tab:
            style_section(model, md, data, row.name)


run_page(main)
