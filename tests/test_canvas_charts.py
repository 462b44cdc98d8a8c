"""What the canvas charts of a training run are sent: the same data as the Plotly figures they stand in for."""

import json

import numpy as np

from ui.canvas_charts import kl_bars_data, kl_heatmap_data, posterior_terms_data, small_map_data
from ui.figures import MARKED_EPOCHS, kl_heatmap, label_color, posterior_terms
from vae_core.analysis.replay import Replay, ReplayFrame


def replay(kl_rows, betas) -> Replay:
    frames = [
        ReplayFrame(
            epoch=i + 1,
            step=10 * (i + 1),
            beta=b,
            xy=np.zeros((3, 2), np.float32),
            recons=np.zeros((1, 1, 2, 2), np.uint8),
            kl_per_dim=kl,
        )
        for i, (kl, b) in enumerate(zip(kl_rows, betas))
    ]
    return Replay(
        labels=np.zeros(3, int),
        class_names=[],
        originals=np.zeros((1, 1, 2, 2), np.uint8),
        axis_names=("z1", "z2"),
        frames=frames,
    )


def test_the_map_groups_points_by_label_in_the_maps_colours():
    xy = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]])
    data = small_map_data(xy, np.array([7, 2, 7, 9]), ("z1", "z2"), [str(i) for i in range(10)], (-1, 7), (0, 8))
    assert data["names"] == ["2", "7", "9"] and data["colors"] == [label_color(2), label_color(7), label_color(9)]
    assert [data["names"][g] for g in data["groups"]] == ["7", "2", "7", "9"]
    assert data["x"] == [0.0, 2.0, 4.0, 6.0] and data["y_range"] == [0.0, 8.0]
    json.dumps(data)  # what the component is sent must be plain JSON


def test_collapsed_dimensions_are_grey_as_in_the_bar_figure():
    data = kl_bars_data([0.5, 0.001, 2.0])
    assert data["names"] == ["z1", "z2", "z3"] and data["colors"][1] == "#bbbbbb" != data["colors"][0]


def test_the_heatmap_has_the_figures_cells_beta_marks_and_outline():
    r = replay([[1.0, 0.0], [2.0, 0.1], [3.0, 0.2]], betas=[1.0, 1.0, 4.0])
    data, fig = kl_heatmap_data(r, current=1), kl_heatmap(r, current=1)
    assert np.allclose(data["z"], fig.data[0].z) and data["x"] == list(fig.data[0].x) == [1, 2, 3]
    dotted = [s.x0 for s in fig.layout.shapes if s.type == "line"]
    assert data["marks"] == dotted == [2.5]  # beta moved during epoch 3
    assert data["outline"] == 2 and data["names"] == ["z1", "z2"]


def test_the_kl_split_has_the_figures_lines_and_drops_markers_for_long_runs():
    epochs = [dict(epoch=e, mutual_info=1.0 + e, total_correlation=0.5, dimwise_kl=0.1 * e) for e in range(1, 6)]
    data, fig = posterior_terms_data(epochs), posterior_terms(epochs)
    assert [s["name"] for s in data["series"]] == [t.name for t in fig.data]
    assert all(np.allclose(s["y"], t.y) for s, t in zip(data["series"], fig.data)) and data["markers"]
    long = [dict(e, epoch=i + 1) for i, e in enumerate(epochs * (MARKED_EPOCHS // 5 + 1))]
    assert not posterior_terms_data(long)["markers"]
