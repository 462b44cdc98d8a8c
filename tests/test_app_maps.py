"""Explore's projections, the aggregate posterior, and shareable links, through AppTest."""

import base64

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from test_app_explore import APP, click_on, figure, image_captions, texts


def open_link(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    return at.run()


def data_traces(at) -> list:
    return [t for t in figure(at)["data"] if t.get("customdata") is not None]


@pytest.mark.parametrize("proj, axis", [("pca", "PC1"), ("umap", "UMAP 1"), ("tsne", "t-SNE 1")])
def test_each_projection_draws_its_map_and_a_linked_point(proj, axis):
    at = open_link(model="digits-16d", proj=proj, point="5")
    # no warning but the collapse doctor's (digits-16d has collapsed dimensions): the link was read whole
    assert not at.exception and [w.icon for w in at.warning] == [":material/healing:"]
    assert at.segmented_control(key="explore_proj").value == proj
    assert figure(at)["layout"]["xaxis"]["title"]["text"].startswith(axis)
    assert sum(len(t["customdata"]["bdata"]) > 0 for t in data_traces(at)) == 10
    assert "Test image #5" in texts(at)
    assert at.query_params["point"] == "5" and at.query_params["proj"] == proj


@pytest.mark.parametrize("proj", ["umap", "tsne"])
def test_a_free_click_on_a_nonlinear_map_decodes_through_the_inverse_and_says_how_far_to_trust_it(proj):
    at = open_link(model="digits-16d", proj=proj)
    x_range = figure(at)["layout"]["xaxis"]["range"]
    y_range = figure(at)["layout"]["yaxis"]["range"]
    x, y = x_range[1] - 0.01 * (x_range[1] - x_range[0]), y_range[1] - 0.01 * (y_range[1] - y_range[0])  # a corner
    click_on(at, f"digits-16d|{proj}", x, y)
    at.run()
    assert not at.exception
    assert f"**Decoded at** ({x:.2f}, {y:.2f})" in texts(at)
    assert "decoded image" in image_captions(at)
    assert any("Round trip here" in c.value for c in at.caption)
    assert float(at.query_params["x"]) == pytest.approx(x, rel=1e-3)
    at.toggle(key="explore_errors").set_value(True).run()
    assert any(t.get("name") == "round-trip error" for t in figure(at)["data"])


def test_the_aggregate_posterior_is_drawn_with_the_prior_and_estimated():
    at = open_link(model="digits-2d")
    at.toggle(key="explore_aggregate").set_value(True).run()
    assert not at.exception
    names = [t.get("name") for t in figure(at)["data"]]
    assert "q(z)" in names and "prior 1σ, 2σ" in names
    density = next(t for t in figure(at)["data"] if t.get("name") == "q(z)")
    assert density["type"] == "contour"
    table = next(m.value for m in at.markdown if m.value.startswith("| term |"))
    values = {row.split("|")[1].strip(): float(row.split("|")[2]) for row in table.splitlines()[2:]}
    assert values["average KL"] == pytest.approx(values["I(x; z)"] + values["KL(q(z) ‖ p(z))"], abs=0.15)
    assert 0 <= values["I(x; z)"] <= np.log(359) + 0.05


def test_a_bad_link_says_what_is_wrong_and_shows_the_default():
    at = open_link(model="nope", proj="isomap", point="99999")
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "no usable model named “nope”" in warnings and "no map projection “isomap”" in warnings
    assert "no test image #99999" in warnings
    assert at.selectbox(key="checkpoint").value == "digits-2d"
    assert dict(at.query_params) == {"model": "digits-2d", "proj": "pca"}
    assert any("Click anywhere" in i.value for i in at.info)


def test_a_bad_links_warnings_stay_while_its_page_shows_its_model():
    """The page reruns on its own once the browser holds the decoder; the address is by then the one this session
    wrote, and the warnings must still be there to be read. Another model leaves the link behind."""
    at = open_link(model="nope", point="99999")
    said = [w.value for w in at.warning]
    assert any("no usable model named “nope”" in w for w in said) and any("no test image #99999" in w for w in said)
    at.run()  # as the decoder's report reruns the page
    assert not at.exception and [w.value for w in at.warning] == said
    assert dict(at.query_params) == {"model": "digits-2d", "proj": "pca"}  # not a link followed again
    at.selectbox(key="checkpoint").set_value("digits-16d").run()
    assert not at.exception and not [w.value for w in at.warning if "nope" in w or "99999" in w]
    at.selectbox(key="checkpoint").set_value("digits-2d").run()
    assert not [w.value for w in at.warning if "nope" in w or "99999" in w]  # left behind for good


def test_a_2d_model_has_no_other_projection_to_link_to():
    at = open_link(model="digits-2d", proj="umap", x="0.5", y="-0.25")
    assert not at.exception
    assert "the map is the latent space itself" in " ".join(w.value for w in at.warning)
    assert "**Decoded at** (0.50, -0.25)" in texts(at)


def test_a_hole_in_the_aggregate_posterior_can_be_clicked_and_decoded():
    """Inside the prior's 2σ, the spot where q(z) is thinnest: a free click there decodes it."""
    at = open_link(model="digits-2d")
    at.toggle(key="explore_aggregate").set_value(True).run()
    density = next(t for t in figure(at)["data"] if t.get("name") == "q(z)")
    xs, ys, z = (plotly_array(density[key]) for key in ("x", "y", "z"))
    gx, gy = np.meshgrid(xs, ys)
    inside = gx**2 + gy**2 < 4  # the prior's 2σ circle (N(0, I) on the 2-D latent)
    row, col = np.unravel_index(np.where(inside, z, np.inf).argmin(), z.shape)
    assert z[row, col] < 0.05 * z.max()  # a real hole: almost no posterior mass there
    click_on(at, "digits-2d", xs[col], ys[row])
    at.run()
    assert not at.exception and f"**Decoded at** ({xs[col]:.2f}, {ys[row]:.2f})" in texts(at)
    assert "decoded image" in image_captions(at)


def plotly_array(values) -> np.ndarray:
    """An array as plotly sends it: {"dtype", "bdata"[, "shape"]} (base64), or lists."""
    if not isinstance(values, dict):
        return np.asarray(values)
    flat = np.frombuffer(base64.b64decode(values["bdata"]), values["dtype"])
    return flat.reshape([int(v) for v in str(values["shape"]).split(",")]) if "shape" in values else flat
