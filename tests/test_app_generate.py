"""The Generate page through Streamlit's AppTest: prior samples, interpolation, traversal, your own image."""

import base64
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT, shown
from test_app_explore import click_on, image_captions, map_positions
from vae_core import load_checkpoint
from vae_core.analysis.latent import encode_means
from vae_core.data.datasets import content_fraction, image_to_tensor
from vae_core.maps.projection import Projection

APP = str(ROOT / "app.py")
MODELS = ["digits-2d", "digits-16d"]


def generate(checkpoint: str = "digits-2d", at: AppTest | None = None) -> AppTest:
    if at is None:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["checkpoint"] = checkpoint
    at.switch_page("pages/generate.py").run()
    assert not at.exception
    return at


def traces(at) -> dict:
    """Every named trace of every chart on the page, its x and y decoded from plotly's base64 arrays."""
    found = {}
    for chart in at.get("plotly_chart"):
        for t in json.loads(chart.proto.spec)["data"]:
            found[t.get("name")] = np.stack([_values(t["x"]), _values(t["y"])], axis=1)
    return found


def _values(v) -> np.ndarray:
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).astype(np.float64)
    return np.asarray(v, dtype=np.float64)


def image_with_caption(at, start: str):
    return next(img for el in at.get("image") for img in el.proto.imgs if shown(img.caption).startswith(start))


def drawn_seven() -> bytes:
    """What a person uploads: a dark '7' drawn on a large white canvas, not the model's size or colours."""
    canvas = np.full((240, 320), 255, np.uint8)
    canvas[60:80, 110:210] = 0
    for r in range(80, 200):
        c = 210 - (r - 80) // 2
        canvas[r, c - 10 : c + 10] = 0
    buffer = io.BytesIO()
    Image.fromarray(canvas).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("name", MODELS)
def test_prior_samples_follow_seed_temperature_and_grid_size(name):
    at = generate(name)
    first = image_with_caption(at, "64 samples")
    assert first.caption == "64 samples · T = 1 · seed 0"
    at.button(key="gen_new").click().run()
    assert at.number_input(key="gen_seed").value == 1
    second = image_with_caption(at, "64 samples")
    assert second.caption.endswith("seed 1") and second.url != first.url  # new samples, new picture
    at.slider(key="gen_temperature").set_value(0.5)
    at.slider(key="gen_grid").set_value(4).run()
    assert image_with_caption(at, "16 samples").caption == "16 samples · T = 0.5 · seed 1"
    assert [b.label for b in at.get("download_button")][:2] == ["Grid as PNG", "Latent points as CSV"]


@pytest.mark.parametrize("name", MODELS)
def test_interpolation_draws_the_linear_and_spherical_paths_between_two_test_images(name):
    at = generate(name)
    xy = map_positions(name)
    b = at.number_input(key="gen_B_index").value
    found = traces(at)
    np.testing.assert_allclose(found["A, B"], xy[[0, b]], atol=1e-4)
    linear, slerp = found["linear"], found["slerp"]
    assert len(linear) == len(slerp) == 10
    for path in (linear, slerp):
        np.testing.assert_allclose(path[[0, -1]], xy[[0, b]], atol=1e-4)
    # the map is an affine image of the latent space: a straight latent path stays straight on it
    assert _off_line(linear) < 1e-4 and _off_line(slerp) > 1e-2
    assert "Top row: linear. Bottom row: spherical (slerp)." in " ".join(image_captions(at))
    at.slider(key="gen_steps").set_value(5).run()
    assert len(traces(at)["linear"]) == 5


def _off_line(path: np.ndarray) -> float:
    """Largest distance of a path's points from the straight line through its ends."""
    d, v = path[-1] - path[0], path - path[0]
    return float(np.abs(d[0] * v[:, 1] - d[1] * v[:, 0]).max() / np.linalg.norm(d))


def test_points_picked_on_explore_become_the_interpolation_endpoints():
    xy = map_positions("digits-2d")
    at = AppTest.from_file(APP, default_timeout=60)
    click_on(at, "digits-2d", *xy[17])
    at.run()
    at.button(key="pick_A").click().run()
    assert any("Test image #17 (label" in t.value and "is now A on the Generate page" in t.value for t in at.toast)
    click_on(at, "digits-2d", 2.5, -2.0)  # free space
    at.run()
    at.button(key="pick_B").click().run()
    at = generate(at=at)
    assert at.radio(key="gen_A_source").value == "explore" and at.radio(key="gen_B_source").value == "explore"
    np.testing.assert_allclose(traces(at)["A, B"], [xy[17], [2.5, -2.0]], atol=1e-4)
    assert "From A (test image #17 (label" in " ".join(image_captions(at))


def test_traversal_rows_come_in_order_of_kl_and_follow_the_controls():
    at = generate("digits-16d")
    _, meta = load_checkpoint(ROOT / "checkpoints" / "digits-16d.pt")
    by_kl = np.argsort(-np.asarray(meta.metrics["kl_per_dim"]), kind="stable")
    assert row_labels(at) == [f"z{d + 1}" for d in by_kl[:10]]
    at.slider(key="gen_dims").set_value(3).run()
    assert row_labels(at) == [f"z{d + 1}" for d in by_kl[:3]]
    at.radio(key="gen_traverse_source").set_value("origin")
    at.slider(key="gen_span").set_value(2.0).run()
    assert any(c.value == "Through the origin; columns from −2 to 2." for c in at.caption)


def test_traversal_of_a_2d_model_has_one_row_per_dimension():
    at = generate("digits-2d")
    assert sorted(row_labels(at)) == ["z1", "z2"]
    assert not [s for s in at.slider if s.key == "gen_dims"]


def row_labels(at) -> list[str]:
    return [m.value.split("**")[1] for m in at.markdown if m.value.startswith("**z")]


@pytest.mark.parametrize("name", MODELS)
def test_an_uploaded_image_is_converted_placed_on_the_map_and_scored(name):
    at = generate(name)
    at.file_uploader(key="gen_upload").upload("seven.png", drawn_seven(), "image/png").run()
    assert not at.exception and not at.error
    invert = next(c for c in at.checkbox if c.label == "Invert colours")
    assert invert.value is True  # dark on white, unlike the model's light on dark: inverted for you
    metrics = {m.label: float(m.value.split()[0]) for m in at.metric}
    assert metrics["Reconstruction"] > 0 and metrics["KL"] > 0
    assert metrics["−ELBO"] == pytest.approx(metrics["Reconstruction"] + metrics["KL"], abs=0.11)
    assert -metrics["log p(x) ≥ (IWAE, k=500)"] <= metrics["−ELBO"] + 0.1  # the IWAE bound is the tighter one
    # where it lands: the projection of its posterior mean, as the page's own map projection places it
    model, _ = load_checkpoint(ROOT / "checkpoints" / f"{name}.pt")
    from vae_core import load_dataset

    digits = load_dataset("digits")
    projection = Projection(encode_means(model, digits.test_x)[0])
    x = 1 - image_to_tensor(drawn_seven(), model.config.image_shape, content_fraction(digits.test_x))
    expected = projection.transform(encode_means(model, x[None])[0])
    np.testing.assert_allclose(traces(at)["your image"], expected, atol=1e-4)
    assert {"as the model sees it", "reconstruction (z ~ q(z|x))", "decoded mean"} <= set(image_captions(at))
    assert any(c.startswith("Nearest test images") for c in image_captions(at))
    assert len(at.get("download_button")) == 10  # PNG and CSV for each of the five sections


def test_a_file_that_is_not_an_image_gets_a_clear_message():
    at = generate()
    at.file_uploader(key="gen_upload").upload("notes.png", b"these are my notes, not a picture", "image/png").run()
    assert not at.exception
    assert any("notes.png" in shown(e.value) and "not an image" in shown(e.value) for e in at.error)
    assert not at.metric and "your image" not in traces(at)


def test_a_model_whose_data_is_missing_still_generates(tmp_path, monkeypatch):
    from vae_core import VAE, VAEConfig, save_checkpoint

    torch.manual_seed(0)
    save_checkpoint(
        tmp_path / "mnist-model.pt",
        VAE(VAEConfig(image_shape=(1, 28, 28), latent_dim=4)),
        dataset="mnist",
        data_options={"name": "mnist", "root": str(tmp_path / "no-data")},
    )
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    at = generate("mnist-model")
    assert "not available here" in at.warning[0].value
    assert image_with_caption(at, "64 samples")
    assert any("pick two points on the Explore map" in i.value for i in at.info)
    assert at.radio(key="gen_traverse_source").options == ["the origin (z = 0)"]
    assert len(row_labels(at)) == 4
    at.file_uploader(key="gen_upload").upload("seven.png", drawn_seven(), "image/png").run()
    assert not at.exception and len(at.metric) == 4


def test_every_section_works_with_a_conv_model(tmp_path, monkeypatch):
    from vae_core import VAE, VAEConfig, load_dataset, save_checkpoint

    data = load_dataset("digits")
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=data.image_shape, latent_dim=3, arch="conv"))
    save_checkpoint(tmp_path / "conv.pt", model, dataset="digits", data_options=data.options)
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    at = generate("conv")
    assert image_with_caption(at, "64 samples")
    assert len(traces(at)["linear"]) == 10 and len(row_labels(at)) == 3
    at.file_uploader(key="gen_upload").upload("seven.png", drawn_seven(), "image/png").run()
    assert not at.exception and len(at.metric) == 4 and "your image" in traces(at)
