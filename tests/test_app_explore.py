"""The Explore page through Streamlit's AppTest: map, clicks on points and free space, regions, models."""

import base64
import json
import shutil

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT, shown
from vae_core import load_checkpoint, load_dataset
from vae_core.analysis.latent import encode_means
from vae_core.maps.projection import Projection

APP = str(ROOT / "app.py")


def start(**session) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in session.items():
        at.session_state[key] = value
    return at.run()


def selection(box=(), lasso=()) -> dict:
    return {"selection": {"points": [], "point_indices": [], "box": list(box), "lasso": list(lasso)}}


def map_positions(name: str) -> np.ndarray:
    model, _ = load_checkpoint(ROOT / "checkpoints" / f"{name}.pt")
    mu, _ = encode_means(model, load_dataset("digits").test_x)
    return Projection(mu).transform(mu)


def figure(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def selection_shapes(at) -> list[dict]:
    """The selection the page draws onto its map (ui/selection.py), as layout shapes."""
    (component,) = [c for c in at.get("bidi_component") if c.proto.component_name == "vae_explorer_selection"]
    return json.loads(component.proto.json)["shapes"]


def trace_length(values) -> int:
    """Plotly sends numpy arrays as {"dtype", "bdata"} (base64); plain lists otherwise."""
    if isinstance(values, dict):
        return len(np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]))
    return len(values)


def image_captions(at) -> list[str]:
    return [shown(img.caption) for el in at.get("image") for img in el.proto.imgs]  # as the page shows them


def click(view: str, x: float, y: float) -> dict:
    """Session state holding a click on the map of `view`, as the page's click listener leaves it (ui.selection)."""
    return {f"map-click:{view}": {"x": float(x), "y": float(y)}}


def click_on(at, view: str, x: float, y: float) -> None:
    """Leave a click on the map of `view` for the app's next run."""
    for key, value in click(view, x, y).items():
        at.session_state[key] = value


def texts(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_start_page_draws_the_map_of_the_default_model():
    at = start()
    assert not at.exception
    assert at.selectbox(key="checkpoint").value == "digits-2d"
    fig = figure(at)
    data_traces = [t for t in fig["data"] if t.get("customdata") is not None]
    assert [t["name"] for t in data_traces] == [str(i) for i in range(10)]
    assert sum(trace_length(t["x"]) for t in data_traces) == 359  # every test image
    assert fig["layout"]["xaxis"]["title"]["text"] == "z1"
    assert any("manifold" in c for c in image_captions(at))
    assert "Click anywhere" in " ".join(i.value for i in at.info)


def test_click_on_a_data_point_shows_image_reconstruction_and_mean():
    xy = map_positions("digits-2d")
    x, y = xy[17] + 0.001  # a hair off the point still counts as that point
    at = start(**click("digits-2d", x, y))
    assert not at.exception
    assert "Test image #17" in texts(at)
    assert {"original", "reconstruction (z ~ q(z|x))", "decoded mean"} <= set(image_captions(at))
    # the page marks the clicked point: a ring on the point itself, not where the click landed
    (mark,) = selection_shapes(at)
    # (approx: the map comes from the checkpoint's cache, encoded on another CPU, off by float32 rounding)
    assert (mark["xanchor"], mark["yanchor"]) == pytest.approx((float(xy[17, 0]), float(xy[17, 1])), abs=1e-5)
    assert not [t for t in figure(at)["data"] if t.get("name") == "selection"]  # not in the figure: it stays the same


def test_click_on_empty_space_decodes_that_location():
    xy = map_positions("digits-2d")
    x, y = float(xy[:, 0].max()) + 0.1, float(xy[:, 1].max()) + 0.1  # beyond every point
    at = start(**click("digits-2d", x, y))
    assert not at.exception
    assert f"**Decoded at** ({x:.2f}, {y:.2f})" in texts(at)
    assert "decoded image" in image_captions(at)


def test_box_selection_shows_a_grid_of_the_selected_points():
    xy = map_positions("digits-2d")
    # the lower edge halfway between the two middle points, never on one: the app's map comes from the checkpoint's
    # cache, encoded on another CPU, and float32 rounding must not move a point across the edge
    y = np.sort(xy[:, 1])
    middle = len(y) // 2
    edge = float(y[middle - 1] + y[middle]) / 2
    assert y[middle] - y[middle - 1] > 2e-3  # both points 1e-3 or more from the edge: far beyond that rounding (1e-5)
    box = {"x": [-10.0, 10.0], "y": [edge, 10.0]}
    assert (np.abs(xy) < 10).all()  # every point inside the box's other three edges
    at = start(**{"map:digits-2d": selection(box=[box])})
    inside = int((xy[:, 1] > edge).sum())
    assert inside == len(y) - middle
    assert f"{inside} points selected" in texts(at)


def test_switching_to_the_16d_model_uses_pca():
    at = start()
    at.selectbox(key="checkpoint").set_value("digits-16d").run()
    assert not at.exception
    assert figure(at)["layout"]["xaxis"]["title"]["text"].startswith("PC1")
    xy = map_positions("digits-16d")
    at = start(checkpoint="digits-16d", **click("digits-16d", *xy[3]))
    assert "Test image #3" in texts(at)


def test_a_broken_checkpoint_is_listed_as_unusable(tmp_path, monkeypatch):
    shutil.copy(ROOT / "checkpoints" / "digits-2d.pt", tmp_path)
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    at = start()
    assert not at.exception
    assert any("broken" in w.value and "unusable" in w.value for w in at.sidebar.warning)
    loss = load_checkpoint(ROOT / "checkpoints" / "digits-2d.pt")[1].metrics["test_loss"]
    assert at.selectbox(key="checkpoint").options == [f"z=2 · β=1 · loss {loss:.1f} · digits-2d"]
    assert figure(at)["data"]


def test_a_long_model_name_is_shown_whole_and_its_figures_first(tmp_path, monkeypatch):
    name = "kuzushiji-conv-z20-cb-beta-varied-seed-12345"
    shutil.copy(ROOT / "checkpoints" / "digits-16d.pt", tmp_path / f"{name}.pt")
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    at = start(checkpoint=name)
    (option,) = at.selectbox(key="checkpoint").options
    assert option.startswith("z=16 · β=1 · loss ") and option.endswith(name)  # a narrow picker cuts the end off
    assert at.sidebar.caption[0].value.replace("\\", "").startswith(f"**{name}**: mlp, z=16, β 1, bernoulli")


def test_a_model_whose_data_is_missing_still_decodes(tmp_path, monkeypatch):
    """A model trained on MNIST, on a machine without MNIST: manifold and free clicks, and the reason."""
    import torch

    from vae_core import VAE, VAEConfig, save_checkpoint

    torch.manual_seed(0)
    save_checkpoint(
        tmp_path / "mnist-model.pt",
        VAE(VAEConfig(image_shape=(1, 28, 28), latent_dim=4)),
        dataset="mnist",
        data_options={"name": "mnist", "root": str(tmp_path / "no-data")},
    )
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    at = start(**click("mnist-model", 0.1, 0.2))
    assert not at.exception
    assert "No data points drawn" in at.warning[0].value and "MNIST" in at.warning[0].value
    assert "**Decoded at** (0.10, 0.20)" in texts(at)
    assert any("manifold" in c for c in image_captions(at))


def test_a_box_selection_is_drawn_by_the_server_and_can_be_cleared():
    """The points keep their colours inside a box, and the drawn outline and the panel always agree."""
    box = {"x": [-0.5, 0.5], "y": [-0.5, 0.5]}
    at = start(**{"map:digits-2d": selection(box=[box])})
    fig = figure(at)
    assert all("color" not in t.get("selected", {}).get("marker", {}) for t in fig["data"])  # colours kept
    (outline,) = selection_shapes(at)
    assert outline["path"] == "M-0.5,-0.5L0.5,-0.5L0.5,0.5L-0.5,0.5L-0.5,-0.5Z" and outline["line"]["dash"] == "dash"
    assert "points selected" in texts(at)
    at.button(key="explore_clear").click().run()
    assert "points selected" not in texts(at) and selection_shapes(at) == []
    assert any("Click anywhere" in i.value for i in at.info)


def test_a_click_is_marked_where_it_landed():
    at = start(**click("digits-2d", 2.5, -2.0))
    (mark,) = selection_shapes(at)
    assert (mark["xanchor"], mark["yanchor"], mark["type"], mark["xsizemode"]) == (2.5, -2.0, "circle", "pixel")


def test_each_label_has_one_readable_colour_on_every_map():
    from ui.figures import LABEL_COLORS, small_map

    explore = {t["name"]: t["marker"]["color"] for t in figure(start())["data"] if t.get("customdata") is not None}
    xy, labels = np.zeros((20, 2)), np.arange(20) % 10
    train = {t.name: t.marker.color for t in small_map(xy, labels, ("z1", "z2"), [str(i) for i in range(10)]).data}
    assert explore == train and len(set(explore.values())) == 10
    for color in LABEL_COLORS:  # none pale on white: relative luminance well below white's
        r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
        assert 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.75


def test_a_continuous_bernoulli_model_shows_its_most_likely_images_and_says_so(tmp_path, monkeypatch):
    import torch

    from vae_core import VAE, VAEConfig, save_checkpoint

    torch.manual_seed(0)
    save_checkpoint(
        tmp_path / "cb.pt",
        VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, likelihood="continuous-bernoulli")),
        dataset="digits",
        data_options={"name": "digits"},
        metrics={"test_loss": -40.0},
    )
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    at = start(**click("cb", 0.1, 0.2))
    assert not at.exception
    choice = at.sidebar.radio(key="image_shown:continuous-bernoulli")
    assert choice.value == "mode"  # its mean is a washed-out grey: the most likely x first
    caption = " ".join(c.value for c in at.caption)
    assert "Decoded images show the most likely x" in caption and "below zero" in caption  # and why its loss is < 0
    decoded = next(el for el in at.get("image") if el.proto.imgs[0].caption == "decoded image").proto.imgs[0].url
    choice.set_value("mean").run()
    assert "Decoded images show the mean E[x|z]" in " ".join(c.value for c in at.caption)
    again = next(el for el in at.get("image") if el.proto.imgs[0].caption == "decoded image").proto.imgs[0].url
    assert again != decoded  # another picture of the same point
