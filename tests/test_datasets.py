import gzip
import os
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from vae_core import DatasetError, load_dataset
from vae_core.data.datasets import as_float


def write_idx(path, array: np.ndarray, gz: bool = False):
    """The IDX format MNIST ships in: magic (0, 0, type 0x08 = uint8, ndim), big-endian sizes, raw bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)


def make_idx_root(root, folder: str, n_train=12, n_test=5):
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("t10k", n_test)):
        write_idx(raw / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        write_idx(raw / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, (n,)))


def test_digits_is_a_fixed_split_in_unit_range(digits):
    assert digits.image_shape == (1, 8, 8)
    assert len(digits.train_x) + len(digits.test_x) == 1797
    assert digits.train_x.dtype == torch.float32
    assert 0 <= digits.train_x.min() and digits.train_x.max() <= 1 and digits.train_x.max() > 0.9
    assert digits.class_names == [str(i) for i in range(10)]
    again = load_dataset("digits")
    assert torch.equal(again.test_x, digits.test_x)
    assert not torch.equal(load_dataset("digits", split_seed=1).test_y, digits.test_y)


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_torchvision_loaders_read_idx_files(tmp_path, name, folder):
    make_idx_root(tmp_path, folder)
    data = load_dataset(name, root=str(tmp_path), download=False)
    assert data.train_x.shape == (12, 1, 28, 28) and data.test_x.shape == (5, 1, 28, 28)
    assert data.train_y.dtype == torch.int64 and len(data.class_names) == 10
    raw = np.frombuffer(open(tmp_path / folder / "raw" / "t10k-images-idx3-ubyte", "rb").read()[16:], np.uint8)
    assert data.test_x.dtype == torch.uint8  # held as the 8-bit source, a quarter of float32's memory
    torch.testing.assert_close(as_float(data.test_x).flatten(), torch.tensor(raw / 255.0, dtype=torch.float32))


def test_missing_mnist_without_network_says_where_to_put_files(tmp_path, monkeypatch):
    from torchvision import datasets

    def no_network(self):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: [Errno -3] name resolution failed")

    monkeypatch.setattr(datasets.MNIST, "download", no_network)
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist", root=str(tmp_path))
    message = str(err.value)
    assert str(tmp_path / "MNIST" / "raw") in message and "train-images-idx3-ubyte.gz" in message


def save_png(path, array, mode="L"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.astype(np.uint8), mode=mode).save(path)


def test_image_folder_with_classes_grayscale_and_resize(tmp_path):
    rng = np.random.default_rng(0)
    for cls in ("cats", "dogs"):
        for i in range(5):
            save_png(tmp_path / cls / f"{i}.png", rng.integers(0, 256, (40, 30)))
    (tmp_path / "notes.txt").write_text("not an image, ignored")
    data = load_dataset(str(tmp_path), image_size=16, test_fraction=0.2)
    assert data.image_shape == (1, 16, 16)
    assert len(data.train_x) == 8 and len(data.test_x) == 2
    assert data.class_names == ["cats", "dogs"]
    assert sorted(torch.cat([data.train_y, data.test_y]).tolist()) == [0] * 5 + [1] * 5


def test_image_folder_rgb_default_size(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(4):
        save_png(tmp_path / f"{i}.png", rng.integers(0, 256, (28, 28, 3)), mode="RGB")
    data = load_dataset(str(tmp_path))
    assert data.image_shape == (3, 28, 28)
    assert data.class_names == [tmp_path.name]


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="no image files"):
        load_dataset(str(tmp_path))


def test_unreadable_images_are_named(tmp_path):
    save_png(tmp_path / "good.png", np.zeros((8, 8)))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DatasetError, match="broken.png"):
        load_dataset(str(tmp_path))


def test_unknown_name_lists_choices():
    with pytest.raises(DatasetError, match="digits, mnist, fashion-mnist"):
        load_dataset("cifar-1000")


def make_zip(path, entries: dict, symlink: str | None = None):
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16  # S_IFLNK
            zf.writestr(info, "/etc/passwd")
    return path


def png_bytes(seed: int) -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (12, 12)).astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def test_zip_of_one_folder_with_classes_loads_with_labels(tmp_path):
    from vae_core.data.datasets import extract_image_zip

    entries = {f"set/{c}/{i}.png": png_bytes(i) for c in ("a", "b") for i in range(3)}
    entries["set/readme.txt"] = b"ignored"
    root = extract_image_zip(make_zip(tmp_path / "u.zip", entries), tmp_path / "out")
    data = load_dataset(str(root))
    assert data.class_names == ["a", "b"] and len(data.train_x) + len(data.test_x) == 6
    assert not (tmp_path / "out" / "set" / "readme.txt").exists()


@pytest.mark.parametrize("bad", ["../escape.png", "/abs.png", "a/../../escape.png"])
def test_zip_entries_outside_the_folder_are_refused(tmp_path, bad):
    from vae_core.data.datasets import extract_image_zip

    zip_path = make_zip(tmp_path / "u.zip", {"ok.png": png_bytes(0), bad: png_bytes(1)})
    (tmp_path / "out").mkdir()
    with pytest.raises(DatasetError, match="unsafe"):
        extract_image_zip(zip_path, tmp_path / "out")
    assert not (tmp_path / "escape.png").exists() and not (tmp_path / "abs.png").exists()


def test_zip_symlinks_bombs_and_junk_are_refused(tmp_path):
    from vae_core.data.datasets import extract_image_zip

    with pytest.raises(DatasetError, match="unsafe"):
        extract_image_zip(make_zip(tmp_path / "l.zip", {"a.png": png_bytes(0)}, symlink="link.png"), tmp_path / "o1")
    bomb = make_zip(tmp_path / "b.zip", {"big.png": b"\0" * 3_000_000})
    with pytest.raises(DatasetError, match="more than"):
        extract_image_zip(bomb, tmp_path / "o2", max_bytes=1_000_000)
    with pytest.raises(DatasetError, match="limit"):
        extract_image_zip(make_zip(tmp_path / "m.zip", {f"{i}.png": b"x" for i in range(5)}), tmp_path / "o3", max_files=4)
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match="not a readable zip"):
        extract_image_zip(tmp_path / "junk.zip", tmp_path / "o4")
    with pytest.raises(DatasetError, match="no image files"):
        extract_image_zip(make_zip(tmp_path / "t.zip", {"a.txt": b"x"}), tmp_path / "o5")


# One uploaded image -> the model's input.


def png(array: np.ndarray, mode: str | None = None) -> bytes:
    import io

    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_image_of_any_size_is_cropped_to_its_content_and_fits_the_model():
    from vae_core.data.datasets import image_to_tensor

    canvas = np.full((300, 500), 255, np.uint8)
    canvas[50:250, 300:340] = 0  # a dark bar far right of centre on white
    x = image_to_tensor(png(canvas), (1, 8, 8))
    assert x.shape == (1, 8, 8) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    columns = x[0].mean(0)
    assert columns[3:5].mean() < columns[0] - 0.3  # cropped and centred: the bar is in the middle,
    assert abs(columns[:4].mean() - columns[4:].mean()) < 0.05  # not right of centre as on the canvas
    rgb = image_to_tensor(png(np.stack([canvas] * 3, axis=-1)), (3, 28, 28))
    assert rgb.shape == (3, 28, 28)


def test_transparent_areas_become_white():
    from vae_core.data.datasets import image_to_tensor

    rgba = np.zeros((20, 20, 4), np.uint8)  # fully transparent black
    rgba[5:15, 5:15] = (0, 0, 0, 255)  # an opaque black square
    x = image_to_tensor(png(rgba, "RGBA"), (1, 10, 10))
    assert x[0, 0, 0] > 0.9 and x[0, 5, 5] < 0.05  # the corner pixel: white, but for an edge of the square


@pytest.mark.parametrize(
    "data, message",
    [
        (b"%PDF-1.4 not an image", "not an image"),
        (png(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8))[:2000], "damaged or incomplete"),
        (b"", "not an image"),
    ],
)
def test_unreadable_uploads_get_a_clear_message(data, message):
    from vae_core.data.datasets import image_to_tensor

    with pytest.raises(DatasetError, match=message):
        image_to_tensor(data, (1, 8, 8))


def test_a_huge_image_is_refused_before_decoding(monkeypatch):
    import vae_core.data.datasets as data

    monkeypatch.setattr(data, "MAX_IMAGE_PIXELS", 99)
    with pytest.raises(DatasetError, match="10x10 pixels; the limit"):
        data.image_to_tensor(png(np.zeros((10, 10), np.uint8)), (1, 8, 8))


def test_an_upload_is_framed_as_the_models_data_are():
    """MNIST puts each digit in a 20 px box inside 28 px, centred by mass; a drawing cropped edge to edge is
    not what such a model has seen."""
    from vae_core.data.datasets import content_fraction, image_to_tensor

    canvas = np.full((400, 600), 255, np.uint8)
    canvas[40:360, 420:470] = 0  # a tall bar, far right, on a large white canvas
    canvas[40:90, 300:470] = 0  # and a top stroke to its left: a 7
    x = 1 - image_to_tensor(png(canvas), (1, 28, 28), fill=20 / 28)[0]  # ink, as MNIST draws it
    rows, cols = np.nonzero(x.numpy() > 0.5)
    assert max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) in (19, 20, 21)
    mass = x.numpy() / x.sum().item()
    cy, cx = (mass.sum(1) * (np.arange(28) + 0.5)).sum(), (mass.sum(0) * (np.arange(28) + 0.5)).sum()
    assert abs(cy - 14) < 0.6 and abs(cx - 14) < 0.6  # centred by mass, not by its box
    mnist_like = torch.zeros(10, 1, 28, 28, dtype=torch.uint8)
    mnist_like[:, :, 4:24, 6:20] = 255  # 20 px tall in 28
    assert content_fraction(mnist_like) == pytest.approx(20 / 28)


def test_image_files_lists_what_sorted_rglob_lists_in_its_order(tmp_path):
    """One sorted walk gives the images of sorted(folder.rglob("*")) in the same order (the order of a dataset's
    images, which its cache and seeded split depend on): names that sort differently as paths than as strings,
    nested folders, upper-case suffixes, hidden files, a linked file (kept), a linked folder (not entered), a
    folder named like an image (not a file)."""
    from vae_core.store.files import IMAGE_SUFFIXES, image_files, image_paths

    folder = tmp_path / "imgs"
    for rel in ("a.png", "a b/1.png", "a-b/2.PNG", "a/b/3.png", "a/c.jpg", "a0/4.png", ".hidden.png"):
        save_png(folder / rel, np.zeros((4, 4)))
    (folder / "b").mkdir()
    (folder / "b" / "notes.txt").write_text("not an image")
    (folder / "dir.png").mkdir()
    save_png(tmp_path / "outside" / "5.png", np.zeros((4, 4)))
    (folder / "linked-folder").symlink_to(tmp_path / "outside")
    (folder / "b" / "linked.png").symlink_to(tmp_path / "outside" / "5.png")
    expected = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    assert image_files(folder) == expected
    assert image_paths(folder) == [str(p) for p in expected]  # what a cached load keeps
    assert folder / "b" / "linked.png" in expected and not any("linked-folder" in str(p) for p in expected)
    assert image_files(tmp_path / "missing") == []


def test_relative_files_say_what_per_file_relative_to_says_and_refuse_files_outside(tmp_path):
    """The folder loader and its cache check take each file's path below the folder and its class from one
    relative_to per directory: the same answers as relative_to on every file, and the same ValueError for a
    file outside the folder, a sibling whose name starts with the folder's among them."""
    from vae_core.store.files import image_files, relative_files

    folder = tmp_path / "imgs"
    for rel in ("top.png", "cats/1.png", "cats/2.png", "dogs/old/3.png", "dogs/4.png", "a b/é.png"):
        save_png(folder / rel, np.zeros((4, 4)))
    save_png(tmp_path / "elsewhere.png", np.zeros((4, 4)))
    (folder / "cats" / "link.png").symlink_to(tmp_path / "elsewhere.png")  # inside by its path, as relative_to says
    files = image_files(folder)
    per_file = [p.relative_to(folder) for p in files]
    assert relative_files(folder, files) == (
        [str(r) for r in per_file],
        [r.parts[0] if len(r.parts) > 1 else folder.name for r in per_file],
    )
    assert relative_files(folder, [str(p) for p in files]) == relative_files(folder, files)  # a cached load's strings
    save_png(tmp_path / "imgs2" / "5.png", np.zeros((4, 4)))
    for outside in (tmp_path / "imgs2" / "5.png", tmp_path / "elsewhere.png"):
        with pytest.raises(ValueError):
            relative_files(folder, files + [outside])


def test_a_decoded_folder_is_cached_and_decoded_again_only_when_it_changes(tmp_path, monkeypatch):
    from vae_core.data import datasets as data_module

    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "imgs"
    for i in range(6):
        save_png(folder / "a" / f"{i}.png", np.full((12, 12), i * 40))
    first = load_dataset(str(folder), image_size=8)
    decoded = []
    real = data_module._decode_small
    monkeypatch.setattr(data_module, "_decode_small", lambda *a: decoded.append(a) or real(*a))
    again = load_dataset(str(folder), image_size=8)
    # from the cache: only its first image decoded again, to check the cache holds this folder
    assert [a[0].name for a in decoded] == ["0.png"]
    assert torch.equal(again.test_x, first.test_x) and again.test_names == first.test_names
    decoded.clear()
    save_png(folder / "a" / "0.png", np.full((12, 12), 255))  # a file changed: decoded again
    os.utime(folder / "a" / "0.png", ns=(10**18, 10**18))
    changed = load_dataset(str(folder), image_size=8)
    assert len(decoded) == 6 and not torch.equal(
        torch.cat([changed.train_x, changed.test_x]).sort(0)[0], torch.cat([first.train_x, first.test_x]).sort(0)[0]
    )
    for cache in (tmp_path / "cache").glob("*.pt"):
        cache.write_bytes(b"damaged")  # a broken cache file is ignored and rebuilt
    assert torch.equal(load_dataset(str(folder), image_size=8).test_x, changed.test_x)
