"""The procedural sprites and datasets that bring their own factors (a folder's factors.csv)."""

import numpy as np
import pytest
import torch

from test_datasets import make_zip, png_bytes, save_png
from vae_core import DatasetError, load_dataset
from vae_core.data import sprites
from vae_core.data.datasets import describe_folder, extract_image_zip


def test_sprites_are_drawn_the_same_from_the_same_seed_and_differently_from_another():
    a, b = load_dataset("sprites", sprites_n=50), load_dataset("sprites", sprites_n=50)
    c = load_dataset("sprites", sprites_n=50, split_seed=1)
    assert torch.equal(a.train_x, b.train_x) and np.array_equal(a.factors.train, b.factors.train)
    assert not torch.equal(a.train_x, c.train_x)


def test_sprites_carry_their_five_factors_in_step_with_the_images():
    data = load_dataset("sprites", sprites_n=200)
    assert data.image_shape == (1, 64, 64) and data.train_x.dtype == torch.uint8
    assert data.factor_names == ["shape", "scale", "orientation", "pos_x", "pos_y"]
    assert data.class_names == ["square", "ellipse", "heart"] and data.factors.categories == {"shape": data.class_names}
    assert data.factors.train.shape == (160, 5) and data.factors.test.shape == (40, 5)
    # each test image is what its own factors draw, and its label is its shape
    assert np.array_equal(data.test_x[:, 0].numpy(), sprites.draw(data.factors.test))
    assert data.test_y.tolist() == data.factors.test[:, 0].astype(int).tolist()
    values = dict(zip(data.factor_names, data.factors.train.T))
    assert set(values["scale"]) <= set(sprites.SCALES) and set(values["orientation"]) <= set(sprites.ORIENTATIONS)


def test_each_factor_changes_the_picture_as_it_says():
    centre = np.array([[1, 1.0, 0, 0.5, 0.5]])
    moved = lambda **change: sprites.draw(np.array([[*(change.get(n, v) for n, v in zip(sprites.FACTOR_NAMES, centre[0]))]]))[0]
    ink = lambda image: image.astype(float) / 255
    base = ink(moved())
    cols, rows = np.arange(64), np.arange(64)[:, None]
    centroid = lambda im: ((im * cols).sum() / im.sum(), (im * rows).sum() / im.sum())
    assert ink(moved(scale=0.5)).sum() == pytest.approx(base.sum() / 4, rel=0.1)  # half the size, a quarter the area
    assert centroid(ink(moved(pos_x=1.0)))[0] > centroid(base)[0] + 10  # right
    assert centroid(ink(moved(pos_y=1.0)))[1] < centroid(base)[1] - 10  # up, as y grows
    assert ink(moved(orientation=90.0)).sum() == pytest.approx(base.sum(), rel=0.02)  # turned, not resized
    assert not np.array_equal(moved(orientation=90.0), moved())
    assert len({round(ink(moved(shape=s)).sum()) for s in range(3)}) == 3  # three different shapes


def test_sprites_at_a_smaller_size_and_a_bad_count_or_size():
    assert load_dataset("sprites", sprites_n=20, image_size=32).image_shape == (1, 32, 32)
    with pytest.raises(DatasetError, match="number of sprites"):
        load_dataset("sprites", sprites_n=1)
    with pytest.raises(DatasetError, match="between 8 and 128"):
        load_dataset("sprites", sprites_n=20, image_size=4)


def test_datasets_without_factors_say_so():
    assert load_dataset("digits").factors is None and load_dataset("digits").factor_names is None


def image_folder(root, n=6):
    for i in range(n):
        save_png(root / ("a" if i % 2 else "b") / f"{i}.png", np.full((8, 8), 40 * i, np.uint8))
    return root


def test_a_folders_factors_csv_gives_numeric_and_categorical_factors(tmp_path):
    folder = image_folder(tmp_path / "set")
    lines = ["file,brightness,mood"] + [
        f"{'a' if i % 2 else 'b'}/{i}.png,{40 * i},{'sad' if i < 3 else 'glad'}" for i in range(6)
    ]
    (folder / "factors.csv").write_text("\n".join(lines))
    assert describe_folder(folder).factors == ["brightness", "mood"]  # what the upload's preview names
    data = load_dataset(str(folder), test_fraction=0.5)
    assert data.factor_names == ["brightness", "mood"] and data.factors.categories == {"mood": ["glad", "sad"]}
    for x, (brightness, mood) in zip(data.test_x, data.factors.test):
        assert int(x.max()) == brightness and ["glad", "sad"][int(mood)] == ("sad" if brightness < 120 else "glad")


@pytest.mark.parametrize(
    "text, message",
    [
        ("name,b\na/1.png,1", "column named file"),
        ("file,b\na/1.png,1\n", "no row for 5 of the 6 images"),
        ("file\n" + "\n".join(f"x/{i}.png" for i in range(6)), "named factor columns"),
        ("file,b\na/1.png,1,2", "line 2: 3 values"),
    ],
)
def test_a_broken_factors_csv_says_what_is_wrong(tmp_path, text, message):
    folder = image_folder(tmp_path / "set")
    (folder / "factors.csv").write_text(text)
    with pytest.raises(DatasetError, match=message):
        load_dataset(str(folder))


def test_a_zip_brings_its_factors_csv_along(tmp_path):
    rows = "\n".join(f"c/{i}.png,{i}" for i in range(3))
    source = make_zip(
        tmp_path / "up.zip",
        {**{f"set/c/{i}.png": png_bytes(i) for i in range(3)}, "set/factors.csv": f"file,size\n{rows}".encode()},
    )
    folder = extract_image_zip(source, tmp_path / "out")
    assert sorted(
        load_dataset(str(folder), test_fraction=0.34).factors.train[:, 0].tolist()
        + load_dataset(str(folder), test_fraction=0.34).factors.test[:, 0].tolist()
    ) == [0, 1, 2]
