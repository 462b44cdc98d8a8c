"""Generate's latent arithmetic through AppTest: an attribute vector between two classes or two Explore groups."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, shown
from test_app_explore import selection, start
from test_app_generate import generate, image_with_caption, traces
from vae_core import load_checkpoint, load_dataset
from vae_core.analysis.latent import decode_points, encode_means
from vae_core.data.images import to_grid_image

STEPS = 7


@pytest.fixture(scope="module")
def digits_2d():
    """The shipped 2-D model and its test codes: its map is the latent space itself, so positions are codes."""
    model, _ = load_checkpoint(ROOT / "checkpoints" / "digits-2d.pt")
    data = load_dataset("digits")
    return model, encode_means(model, data.test_x)[0], data.test_y.numpy()


def row_image(at) -> tuple[str, np.ndarray]:
    """The arithmetic row's caption and its picture as pixels."""
    img = image_with_caption(at, "test image #")
    return shown(img.caption), np.asarray(Image.open(io.BytesIO(base64.b64decode(img.url.split(",", 1)[1]))).convert("RGB"))


def expected_row(model, z: np.ndarray, v: np.ndarray, strength: float) -> tuple[np.ndarray, np.ndarray]:
    points = z + np.linspace(0, strength, STEPS, dtype=np.float32)[:, None] * v
    return points, to_grid_image(decode_points(model, points), nrow=STEPS, padding=1, scale=10)  # 640 px: scale 10


def test_two_classes_give_a_row_from_the_point_along_the_difference_of_their_means(digits_2d):
    model, mu, labels = digits_2d
    at = generate()
    assert at.radio(key="gen_arith_groups").options == ["two classes"]  # nothing picked on Explore yet
    a, b = at.selectbox(key="gen_arith_class_A").value, at.selectbox(key="gen_arith_class_B").value
    assert (a, b) == (0, 1)
    start_index = at.number_input(key="gen_arith_index").value
    assert labels[start_index] == 0  # the point starts in group A
    v = mu[labels == 1].mean(0) - mu[labels == 0].mean(0)
    points, pixels = expected_row(model, mu[start_index], v, 1.0)
    found = traces(at)
    np.testing.assert_allclose(found["z + s·v"], points, atol=1e-4)
    np.testing.assert_allclose(found["start, end"], points[[0, -1]], atol=1e-4)
    np.testing.assert_allclose(found["group means"], [mu[labels == 0].mean(0), mu[labels == 1].mean(0)], atol=1e-4)
    caption, shown = row_image(at)
    assert shown.shape == pixels.shape == (100, 640, 3)  # one row of seven 8x8 images
    assert np.abs(shown.astype(int) - pixels).max() <= 1
    assert f"test image #{start_index} + s·v for s from 0 to 1" in caption and "B (class 1, 31 images)" in caption

    at.slider(key="gen_arith_strength").set_value(2.0).run()
    points2, pixels2 = expected_row(model, mu[start_index], v, 2.0)
    np.testing.assert_allclose(traces(at)["z + s·v"], points2, atol=1e-4)
    caption2, shown2 = row_image(at)
    assert np.abs(shown2.astype(int) - pixels2).max() <= 1 and np.abs(shown2.astype(int) - shown).max() > 50
    np.testing.assert_array_equal(shown2[:, :91], shown[:, :91])  # the first image is the point at any strength

    at.selectbox(key="gen_arith_class_B").set_value(7).run()
    v7 = mu[labels == 7].mean(0) - mu[labels == 0].mean(0)
    np.testing.assert_allclose(traces(at)["z + s·v"][-1], mu[start_index] + 2 * v7, atol=1e-4)
    assert "B (class 7," in row_image(at)[0]


def test_groups_selected_on_explore_become_groups_a_and_b(digits_2d):
    _, mu, _ = digits_2d
    y = np.sort(mu[:, 1])
    middle = float(y[len(y) // 2 - 1] + y[len(y) // 2]) / 2  # between two points: none lies on both boxes' edge
    upper, lower = {"x": [-10.0, 10.0], "y": [middle, 10.0]}, {"x": [-10.0, 10.0], "y": [-10.0, middle]}
    at = start(**{"map:digits-2d": selection(box=[upper])})
    at.button(key="group_A").click().run()
    assert any(
        t.value.startswith("Group A on the Generate page: ") and "points selected on Explore" in t.value for t in at.toast
    )
    at.session_state["map:digits-2d"] = selection(box=[lower])
    at.run()
    at.button(key="group_B").click().run()
    at = generate(at=at)
    assert at.radio(key="gen_arith_groups").value == "explore"
    in_upper, in_lower = mu[:, 1] > middle, mu[:, 1] < middle
    np.testing.assert_allclose(traces(at)["group means"], [mu[in_upper].mean(0), mu[in_lower].mean(0)], atol=1e-4)
    path = traces(at)["z + s·v"]
    np.testing.assert_allclose(path[-1] - path[0], mu[in_lower].mean(0) - mu[in_upper].mean(0), atol=1e-4)
    assert f"A ({in_upper.sum()} points selected on Explore (mostly" in row_image(at)[0]


def test_one_group_picked_on_explore_is_not_enough(digits_2d):
    at = start(**{"map:digits-2d": selection(box=[{"x": [-10.0, 10.0], "y": [0.0, 10.0]}])})
    at.button(key="group_A").click().run()
    at = generate(at=at)
    assert at.radio(key="gen_arith_groups").options == ["two classes"]
    assert any("Group A is picked on Explore" in c.value for c in at.caption)
