"""Map geometry behind clicks and selections (ui/geometry.py): plain numpy, no Streamlit."""

import numpy as np
import pytest

from ui.geometry import (
    Selection,
    click_radius,
    click_selection,
    ellipse_paths,
    nearest_point,
    points_in_box,
    points_in_polygon,
    read_selection,
)

XY = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [1.0, -1.0], [5.0, 5.0]], dtype=np.float32)
RANGE = (-1.0, 6.0)


def event(points=(), box=(), lasso=()) -> dict:
    return {"selection": {"points": list(points), "point_indices": [], "box": list(box), "lasso": list(lasso)}}


def test_a_click_next_to_a_point_selects_that_point():
    radius = click_radius(RANGE, RANGE)
    assert radius == pytest.approx(0.015 * 7)
    sel = click_selection(XY, 1.0 + radius / 2, 1.0, RANGE, RANGE)
    assert sel == Selection("point", x=1.0, y=1.0, index=1)  # snapped to the point's own position


def test_a_click_on_empty_map_is_a_free_location():
    sel = click_selection(XY, 3.0, 3.0, RANGE, RANGE)
    assert sel == Selection("free", x=3.0, y=3.0)
    assert nearest_point(XY, 3.0, 3.0, radius=0.1) is None
    assert nearest_point(XY[:0], 0.0, 0.0, radius=10) is None  # a map without data points


def test_nothing_selected_gives_none():
    assert read_selection(None, XY) is None
    assert read_selection(event(), XY) is None
    assert read_selection({"selection": {}}, XY) is None
    # the points of an event without a box or lasso are no selection: clicks come from ui.selection
    assert read_selection(event(points=[{"x": 1.0, "y": 1.0}]), XY) is None


def test_box_selection_takes_the_points_inside_whichever_way_it_was_dragged():
    inside = points_in_box(XY, [2.5, -0.5], [1.5, -1.5])  # dragged right to left, top to bottom
    assert inside.tolist() == [0, 1, 2, 3]
    sel = read_selection(event(box=[{"x": [4, 6], "y": [4, 6]}]), XY)
    assert sel.kind == "region" and sel.indices.tolist() == [4]


def test_lasso_selection_uses_the_polygon_not_its_bounding_box():
    xs, ys = [0.5, 2.5, 2.5], [1.0, 1.5, -0.5]  # a triangle
    corner = np.array([[0.7, -0.3], [1.0, 1.0]])  # inside its bounding box, outside it; and inside it
    assert points_in_box(corner, [0.5, 2.5], [-0.5, 1.5]).tolist() == [0, 1]
    assert points_in_polygon(corner, xs, ys).tolist() == [1]
    assert points_in_polygon(XY, xs, ys).tolist() == [1, 2]
    sel = read_selection(event(lasso=[{"x": xs, "y": ys}]), XY)
    assert sel.kind == "region" and sel.indices.tolist() == [1, 2]


def test_the_last_of_several_boxes_counts():
    sel = read_selection(event(box=[{"x": [4, 6], "y": [4, 6]}, {"x": [-0.5, 0.5], "y": [-0.5, 0.5]}]), XY)
    assert sel.indices.tolist() == [0]


def test_ellipse_paths_trace_one_sigma_contours():
    centers = np.array([[1.0, 2.0], [0.0, 0.0]])
    covs = np.array([[[4.0, 0.0], [0.0, 1.0]], [[1.0, 0.9], [0.9, 1.0]]])
    xs, ys = ellipse_paths(centers, covs, n=50)
    assert xs.count(None) == ys.count(None) == 2  # one polyline per ellipse, separated for a single trace
    first = np.array([xs[:50], ys[:50]], dtype=float).T
    # every point of the first ellipse satisfies (p - c)^T Sigma^-1 (p - c) = 1
    d = first - centers[0]
    assert np.allclose(np.einsum("ni,ij,nj->n", d, np.linalg.inv(covs[0]), d), 1.0)
    assert np.ptp(first[:, 0]) == pytest.approx(4.0, rel=0.01) and np.ptp(first[:, 1]) == pytest.approx(2.0, rel=0.01)
    second = np.array([xs[51:101], ys[51:101]], dtype=float).T
    d = second - centers[1]
    assert np.allclose(np.einsum("ni,ij,nj->n", d, np.linalg.inv(covs[1]), d), 1.0)
