"""Hover to decode on the Explore map: the grid node for a map position, the sprite of decodes, the page's part."""

import base64
import io
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from ui import catalogue
from ui.hover import hover_grid
from vae_core.analysis.hover import grid_size
from vae_core.analysis.latent import decode_points, grid_node, grid_points

CHECKPOINT = ROOT / "checkpoints" / "digits-16d.pt"


def sprite_pixels(url: str) -> np.ndarray:
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url[len(prefix) :]))))


def test_grid_node_is_the_nearest_node_of_grid_points():
    x_range, y_range, n = (-2.0, 3.0), (-1.0, 1.5), 7
    nodes = grid_points(x_range, y_range, n)
    steps = np.array([5.0, 2.5]) / (n - 1)
    for x, y in np.random.default_rng(0).uniform((-2.0, -1.0), (3.0, 1.5), size=(200, 2)):
        row, column = grid_node(x, y, x_range, y_range, n)
        assert row * n + column == np.argmin((((nodes - (x, y)) / steps) ** 2).sum(axis=1))  # in steps of the grid
    assert grid_node(3.0, 1.5, x_range, y_range, n) == (0, n - 1)  # top right: row 0 is the highest y
    assert grid_node(-2.0 - 0.4, -1.0, x_range, y_range, n) == (n - 1, 0)  # within half a step outside: the edge
    assert grid_node(-2.0 - 0.5, 0.0, x_range, y_range, n) is None  # beyond it: no tile
    assert grid_node(0.0, 1.5 + 0.25, x_range, y_range, n) is None


def test_grid_size_keeps_the_sprite_small():
    assert grid_size((1, 8, 8)) == 32 and grid_size((1, 28, 28)) == 32
    assert grid_size((3, 64, 64)) == 16 and grid_size((3, 256, 256)) == 8


def test_the_tile_for_a_map_position_is_the_decode_at_its_grid_node():
    """The sprite's tile (row, column) = grid_node(x, y) is the model's decode at that node, through the map's
    own inverse (PCA here: a 16-D model)."""
    mtime = CHECKPOINT.stat().st_mtime_ns
    md = catalogue.map_data(str(CHECKPOINT), mtime)
    grid = hover_grid(str(CHECKPOINT), mtime, "pca", "mean", None, md)
    n, (h, w) = grid["n"], grid["tile"]
    pixels = sprite_pixels(grid["sprite"])
    assert pixels.shape == (n * h, n * w) and grid["x_range"] == list(md.x_range)
    model, _ = catalogue.load_model(str(CHECKPOINT), mtime)
    nodes = grid_points(md.x_range, md.y_range, n)
    for x, y in ((0.1, 0.2), (md.x_range[0] + 0.01, md.y_range[1] - 0.01), (1.3, -0.7)):
        row, column = grid_node(x, y, md.x_range, md.y_range, n)
        tile = pixels[row * h : (row + 1) * h, column * w : (column + 1) * w] / 255.0
        expected = decode_points(model, md.projection.inverse(nodes[row * n + column][None]))[0, 0].numpy()
        np.testing.assert_allclose(tile, expected, atol=1 / 255 + 1e-6)
        for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):  # a neighbour's tile (off by one) would not do
            r, c = np.clip(row + dr, 0, n - 1), np.clip(column + dc, 0, n - 1)
            if (r, c) != (row, column):
                other = decode_points(model, md.projection.inverse(nodes[r * n + c][None]))[0, 0].numpy()
                assert np.abs(tile - other).max() > 2 / 255


def hover_components(at) -> list[dict]:
    return [json.loads(c.proto.json) for c in at.get("bidi_component") if c.proto.component_name == "vae_explorer_hover"]


def test_the_page_sends_the_sprite_only_with_hover_preview_on():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert at.toggle(key="explore_hover").value is True  # on by default: it costs the first paint nothing
    (grid,) = hover_components(at)
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert grid["x_range"] == figure["layout"]["xaxis"]["range"] and grid["y_range"] == figure["layout"]["yaxis"]["range"]
    assert sprite_pixels(grid["sprite"]).shape == (32 * 8, 32 * 8) and grid["tile"] == [8, 8]
    at.toggle(key="explore_hover").set_value(False).run()
    assert hover_components(at) == []


def test_the_map_is_sent_before_the_sprite_is_built(tmp_path):
    """In a fresh interpreter with hover on: torch is not loaded when the map is sent, and the sprite comes after."""
    code = """
import sys
import streamlit as st
from streamlit.testing.v1 import AppTest
import ui.hover
events = []
send, build = st.plotly_chart, ui.hover.hover_grid
st.plotly_chart = lambda *a, **k: (events.append(("map", "torch" in sys.modules)), send(*a, **k))[1]
ui.hover.hover_grid = lambda *a, **k: (events.append(("sprite", "torch" in sys.modules)), build(*a, **k))[1]
at = AppTest.from_file(sys.argv[1], default_timeout=60)
at.session_state["explore_hover"] = True
at.run()
assert not at.exception, at.exception
print(events)
"""
    env = {**os.environ, "VAE_EXPLORER_CACHE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "app.py")], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().split("\n")[-1] == str([("map", False), ("sprite", True)])
