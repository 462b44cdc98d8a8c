"""Generate's drawing canvas through AppTest: a drawing takes the upload's way to the model and onto the map.

AppTest cannot move a mouse, but it can hand the page what the canvas component sends after a stroke: its state
under the canvas's key, with the drawing as a PNG data URL (as streamlit-drawable-canvas 0.13 sends it).
"""

import base64
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT
from test_app_generate import generate, traces
from vae_core import load_checkpoint, load_dataset
from vae_core.analysis.latent import encode_means
from vae_core.data.datasets import content_fraction, image_to_tensor
from vae_core.maps.projection import Projection

CANVAS = "gen_canvas:#000000"  # the canvas of a model that draws light on dark, as the shipped ones do
SIDE = 280


def stroke(columns=(120, 160), rows=(40, 240), side: int = SIDE) -> np.ndarray:
    """What the canvas holds after one stroke: an opaque black RGBA picture with a white bar drawn on it."""
    rgba = np.zeros((side, side, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[rows[0] : rows[1], columns[0] : columns[1], :3] = 255
    return rgba


def png(rgba: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    return buffer.getvalue()


def canvas_state(rgba: np.ndarray | None) -> dict:
    objects = [] if rgba is None else [{"type": "Path", "stroke": "#ffffff"}]
    data = None if rgba is None else "data:image/png;base64," + base64.b64encode(png(rgba)).decode()
    return {"drawing": {"raw": {"objects": objects, "background": "#000000"}, "data": data}, "backgroundFit": None}


def draw_tab(name: str = "digits-2d"):
    at = generate(name)
    at.radio(key="gen_own_source").set_value("draw").run()
    assert not at.exception
    return at


def metrics(at) -> dict:
    return {m.label: float(m.value.split()[0]) for m in at.metric}


def test_a_canvas_stroke_converts_to_a_light_on_dark_image_of_the_models_size(digits):
    """The conversion both paths share: an opaque canvas keeps its black paper (a transparent one would be
    composited onto white, and a white stroke would vanish), cropped to the stroke and framed like the data."""
    x = image_to_tensor(png(stroke()), digits.image_shape, content_fraction(digits.test_x))
    assert x.shape == (1, 8, 8)
    assert float(x.mean()) < 0.5 and float(x.max()) > 0.6  # light on dark, like the digits
    columns = x[0].mean(0)
    assert int(columns.argmax()) in (3, 4) and max(columns[:2].max(), columns[-2:].max()) < 0.05  # a bar in the middle
    transparent = stroke()
    transparent[..., 3] = np.where(transparent[..., 0] > 0, 255, 0)
    assert float(image_to_tensor(png(transparent), digits.image_shape).mean()) > 0.99  # white on white: why the paper


def test_an_empty_canvas_shows_a_hint_and_the_map_it_will_land_on():
    at = draw_tab()
    (canvas,) = [c for c in at.get("bidi_component") if not c.proto.component_name.startswith("vae_explorer_")]  # not ours
    spec = json.loads(canvas.proto.json)
    assert (spec["strokeColor"], spec["backgroundColor"]) == ("#ffffff", "#000000")  # the digits are light on dark
    assert spec["realtimeUpdateStreamlit"] and spec["returnImageData"]
    assert any("White on black" in c.value for c in at.caption)
    assert any(i.value.startswith("Draw on the canvas") for i in at.info)
    assert not at.error and not at.metric
    found = traces(at)
    assert "your image" not in found and {str(d) for d in range(10)} <= found.keys()


@pytest.mark.parametrize("name", ["digits-2d", "digits-16d"])
def test_a_drawing_is_scored_and_placed_on_the_map_exactly_as_the_same_upload(name, digits):
    at = draw_tab(name)
    at.session_state[CANVAS] = canvas_state(stroke())
    at.run()
    assert not at.exception and not at.error and not at.info
    assert next(c for c in at.checkbox if c.label == "Invert colours").value is False  # drawn in the model's colours
    drawn = metrics(at)
    assert drawn["Reconstruction"] > 0 and drawn["−ELBO"] == pytest.approx(drawn["Reconstruction"] + drawn["KL"], abs=0.11)
    model, _ = load_checkpoint(ROOT / "checkpoints" / f"{name}.pt")
    x = image_to_tensor(png(stroke()), model.config.image_shape, content_fraction(digits.test_x))
    expected = Projection(encode_means(model, load_dataset("digits").test_x)[0]).transform(encode_means(model, x[None])[0])
    np.testing.assert_allclose(traces(at)["your image"], expected, atol=1e-4)

    at.radio(key="gen_own_source").set_value("upload").run()
    at.file_uploader(key="gen_upload").upload("bar.png", png(stroke()), "image/png").run()
    assert metrics(at) == drawn  # one way to the model for both
    np.testing.assert_allclose(traces(at)["your image"], expected, atol=1e-4)


def test_a_second_stroke_moves_the_drawing_and_changes_its_terms():
    at = draw_tab()
    at.session_state[CANVAS] = canvas_state(stroke())
    at.run()
    first, first_xy = metrics(at), traces(at)["your image"]
    two_strokes = stroke()
    two_strokes[40:80, 40:240, :3] = 255  # a bar across the top: a 7 of sorts
    at.session_state[CANVAS] = canvas_state(two_strokes)
    at.run()
    assert not at.exception and metrics(at) != first
    assert np.abs(traces(at)["your image"] - first_xy).max() > 1e-3
    at.session_state[CANVAS] = canvas_state(None)  # the toolbar's reset: empty again
    at.run()
    assert any(i.value.startswith("Draw on the canvas") for i in at.info) and not at.metric


def test_the_canvas_module_is_imported_only_once_draw_is_chosen():
    code = f"""
import sys
sys.path.insert(0, {str(ROOT / "tests")!r})
from test_app_generate import generate
at = generate()
print("streamlit_drawable_canvas" in sys.modules)
at.radio(key="gen_own_source").set_value("draw").run()
print("streamlit_drawable_canvas" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.split() == ["False", "True"]
