"""Downloads: grids as PNG (torchvision's save_image) and latent points as CSV."""

import csv
import io

import numpy as np
import torch
from PIL import Image

from ui.export import png_bytes, points_csv


def test_png_is_torchvisions_grid_at_the_models_resolution():
    from torchvision.utils import make_grid

    images = torch.rand(6, 1, 8, 8)
    decoded = np.asarray(Image.open(io.BytesIO(png_bytes(images, nrow=3))))
    expected = make_grid(images, nrow=3, padding=2, pad_value=1.0).mul(255).add(0.5).clamp(0, 255).byte()
    assert decoded.shape == (2 * 10 + 2, 3 * 10 + 2, 3)
    np.testing.assert_array_equal(decoded, expected.permute(1, 2, 0).numpy())


def test_csv_has_one_row_per_point_with_named_columns():
    z = np.array([[0.5, -1.25], [2.0, 3.0]])
    rows = list(csv.reader(io.StringIO(points_csv(z, map_xy=z * 2, path=["linear", "a, b"], t=[0.0, 1.0]).decode())))
    assert rows[0] == ["path", "t", "z1", "z2", "map_x", "map_y"]
    assert rows[1] == ["linear", "0", "0.5", "-1.25", "1", "-2.5"]
    assert rows[2][0] == "a, b" and len(rows) == 3  # a comma inside a value is quoted, not a new column


def test_text_a_spreadsheet_would_run_as_a_formula_is_written_as_text():
    names = ['=HYPERLINK("http://evil.example","x")', "+1", "-1+1", "@SUM(A1)", "\tx", "\rx", "plain", "a=b"]
    rows = list(csv.DictReader(io.StringIO(points_csv(np.zeros((len(names), 2)), label=names).decode(), newline="")))
    assert [r["label"] for r in rows] == ["'" + n for n in names[:6]] + names[6:]
    assert [r["z1"] for r in rows] == ["0"] * len(names)  # numbers, negative ones included, stay numbers
    assert points_csv(np.array([[-1.5, 2.0]]), index=[-3]).decode().splitlines()[1] == "-3,-1.5,2"
