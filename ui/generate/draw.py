"""Draw one: a canvas in the model's colours, whose strokes become your image."""

import streamlit as st

from ui.generate.image_input import OwnImage, draws_light_on_dark

CANVAS_SIDE = 280  # px
BRUSH = 24  # px: an eighth of a digit drawn across most of the canvas, about MNIST's stroke for its size


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
        st.info(
            "Draw on the canvas, in the style of this model's images: the drawing lands on the map as soon as you "
            "lift the mouse.",
            icon=":material/draw:",
        )
        return None
    return OwnImage(canvas.image_bytes, "drawing", "your drawing", f"gen_invert:drawing:{paper}")
