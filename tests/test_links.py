"""Parsing and writing Explore links."""

import numpy as np

from ui.geometry import Selection
from ui.links import link_params, read_projection, read_selection_params
from ui.text import WORD_JOINER, plain

XY = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])


def test_a_point_link_selects_that_test_image_at_its_place():
    sel, problem = read_selection_params({"point": "2"}, XY)
    assert problem is None and (sel.kind, sel.index, sel.x, sel.y) == ("point", 2, 4.0, 5.0)


def test_a_free_point_link_selects_that_spot():
    sel, problem = read_selection_params({"x": "-1.5", "y": "2e-1"}, XY)
    assert problem is None and (sel.kind, sel.x, sel.y) == ("free", -1.5, 0.2)


def test_bad_values_are_named_and_select_nothing():
    for params, words in [
        ({"point": "7"}, "no test image #7"),
        ({"point": "five"}, "not a test image number"),
        ({"x": "1"}, "not a point"),
        ({"x": "nan", "y": "0"}, "finite"),
    ]:
        sel, problem = read_selection_params(params, XY)
        assert sel is None and words in problem
    assert read_projection({"proj": "isomap"}) == (
        None,
        "There is no map projection “isomap”: choose pca, umap or tsne. Showing PCA.",
    )
    assert read_projection({"proj": "UMAP"}) == ("umap", None) and read_projection({}) == (None, None)


def test_written_params_read_back_to_the_same_view():
    for sel in (Selection("point", x=2.0, y=3.0, index=1), Selection("free", x=0.25, y=-3.5), None):
        params = link_params("digits-16d", "tsne", sel)
        back, problem = read_selection_params(params, XY)
        assert problem is None and params["model"] == "digits-16d" and read_projection(params) == ("tsne", None)
        assert back == sel if sel is None else (back.kind, back.x, back.y, back.index) == (sel.kind, sel.x, sel.y, sel.index)


def test_a_free_point_beyond_the_map_is_moved_onto_its_edge_and_said_so():
    sel, problem = read_selection_params({"x": "1e308", "y": "-2"}, XY, (-3.0, 3.0), (-1.0, 1.0))
    assert (sel.kind, sel.x, sel.y) == ("free", 3.0, -1.0) and "outside this map" in problem
    sel, problem = read_selection_params({"x": "0.5", "y": "0.5"}, XY, (-3.0, 3.0), (-1.0, 1.0))
    assert (sel.x, sel.y, problem) == (0.5, 0.5, None)


def test_url_text_is_escaped_for_markdown_and_no_address_stays_whole():
    shown = plain("![t](http://evil.example/t.png) [l](www.evil.example) :red[x] $y$")
    for sign in "![]():$":
        assert f"\\{sign}" in shown  # escaped: shown as it is
    assert "http://" not in shown.replace("\\", "") and "www." not in shown.replace("\\", "")  # no autolink
    original = "![t](http://evil.example/t.png) [l](www.evil.example) :red[x] $y$"
    assert shown.replace("\\", "").replace(WORD_JOINER, "") == original
