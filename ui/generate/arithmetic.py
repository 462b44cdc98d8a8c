"""Latent arithmetic: the step between two groups' mean codes, added to a point with a chosen strength."""

import numpy as np
import streamlit as st

from ui import session
from ui.export import points_csv
from ui.figures import overlay_map, path_trace, point_trace
from ui.generate.downloads import downloads
from ui.generate.latent_choice import choose_latent, valid_picks
from ui.images import grid
from ui.text import plain
from vae_core.analysis.latent import attribute_row, attribute_vector

ARITHMETIC_STEPS = 7
GROUP_SOURCES = {"explore": "groups picked on Explore", "classes": "two classes"}


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
        caption=f"{plain(point[1])} + s·v for s from 0 to {strength:g}; v from A ({plain(label_a)}, {len(a)} images) "
        f"to B ({plain(label_b)}, {len(b)} images), ‖v‖ = {np.linalg.norm(vector):.2f}.",
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
