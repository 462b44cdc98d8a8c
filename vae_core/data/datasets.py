"""Datasets as whole in-memory tensors: images (N, C, H, W), labels (N,) int64.

Keeping everything in memory means training slices batches from one tensor, with no per-sample
transform or DataLoader in the loop. 8-bit sources (MNIST, image folders) stay uint8, a quarter of the
memory of float32 (MNIST: 47 MB instead of 188); `as_float` turns a batch into [0, 1] where it is used.
The digits (levels 0..16) are float32.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import os
import stat
import zipfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from vae_core.config import BUILTIN, DataOptions
from vae_core.data import sprites
from vae_core.store.atomic import atomic_path
from vae_core.store.files import (
    IMAGE_SUFFIXES,
    cache_dir,
    image_files,
    image_paths,
    listing_of,
    relative_files,
    remember_typed_folder,
)

DEFAULT_ROOT = "data"
MAX_FOLDER_SIDE = 64  # folders of large images are resized down to this by default


class DatasetError(Exception):
    """A dataset could not be loaded; the message says why and what to do."""


@dataclass
class Factors:
    """Ground-truth factors of a dataset's images (what made each image: its shape, its position, ...), for the
    disentanglement metrics (vae_core.stats.metrics) and for colouring maps."""

    names: list[str]
    train: np.ndarray  # (N_train, K) float64: each image's value of each factor
    test: np.ndarray  # (N_test, K)
    categories: dict = field(default_factory=dict)  # categorical factors: name -> the label of each code 0, 1, ...

    def is_categorical(self, name: str) -> bool:
        return name in self.categories


@dataclass
class Dataset:
    name: str
    train_x: torch.Tensor  # (N, C, H, W): uint8 (0..255) or float32 in [0, 1]; see as_float
    train_y: torch.Tensor  # (N,) int64
    test_x: torch.Tensor
    test_y: torch.Tensor
    class_names: list[str]
    options: DataOptions = field(default_factory=DataOptions)  # what names these images and this split
    test_names: list[str] = field(default_factory=list)  # file of each test image, for folders; else empty
    factors: Factors | None = None  # the images' true factors: sprites, or a folder's factors.csv; else None

    @property
    def image_shape(self) -> tuple[int, int, int]:
        _, c, h, w = self.train_x.shape
        return c, h, w

    @property
    def factor_names(self) -> list[str] | None:
        return None if self.factors is None else list(self.factors.names)


def as_float(images: torch.Tensor) -> torch.Tensor:
    """Images as float32 in [0, 1]: uint8 ones divided by 255, float ones as they are."""
    return images.float().div_(255.0) if images.dtype == torch.uint8 else images


def load_data(options: DataOptions, download: bool = False) -> Dataset:
    """The dataset these options name; a DatasetError says why it cannot be loaded."""
    return load_dataset(options.name, download=download, **{k: v for k, v in options.to_dict().items() if k != "name"})


def load_dataset(
    name_or_path: str = "digits",
    root: str = DEFAULT_ROOT,
    download: bool = True,
    image_size: int | None = None,
    channels: str = "auto",
    test_fraction: float = 0.2,
    split_seed: int = 0,
    sprites_n: int | None = None,
    background: str = "white",
) -> Dataset:
    """Load "digits", "mnist", "fashion-mnist", "sprites" or a folder of images.

    root: where torchvision keeps MNIST / Fashion-MNIST. image_size: the side of folder images or sprites.
    channels ("auto", "grayscale", "rgb"): only for folders. test_fraction, split_seed: the fixed split for
    sources that have none (split_seed also draws the sprites). sprites_n: how many sprites. background ("white",
    "black"): what transparent pixels of folder images are composited on.
    """
    key = str(name_or_path).lower()
    options = DataOptions(
        name=str(name_or_path),
        root=root,
        image_size=image_size,
        channels=channels,
        test_fraction=test_fraction,
        split_seed=split_seed,
        sprites_n=sprites_n,
        background=background,
    )
    if key == "digits":
        x, y, names = _digits()
        return _split(str(name_or_path), x, y, list(names), test_fraction, split_seed, options)
    if key == "sprites":
        return _sprites(options)
    if key in ("mnist", "fashion-mnist"):
        return _torchvision(key, root, download, options)
    if os.path.isdir(name_or_path):
        folder = Path(name_or_path).resolve()  # stored so, a checkpoint finds its data from any working folder
        remember_typed_folder(folder)  # named here by whoever loads it: the app may show its images
        options = replace(options, name=str(folder))
        x, y, names, files = _cached_folder(folder, image_size, channels, background)
        factors = read_factors_csv(folder, files)
        return _split(str(folder), x, y, names, test_fraction, split_seed, options, files, factors)
    if os.path.isabs(name_or_path) or os.sep in str(name_or_path):
        raise DatasetError(
            f"The image folder {name_or_path} does not exist: was it moved or deleted? Put it back "
            "there, or name where it is now with --data."
        )
    raise DatasetError(f"Unknown dataset {name_or_path!r}: use one of {', '.join(BUILTIN)} or a folder of images.")


def _split(name, x, y, class_names, test_fraction, seed, options, files=(), factors=None) -> Dataset:
    """factors: (names, (N, K) values, categories) of all N images, or None."""
    n = len(x)
    if n < 2:
        raise DatasetError(f"{name}: need at least 2 images to make a train/test split, found {n}.")
    if not 0 < test_fraction < 1:
        raise DatasetError(f"The test share must be between 0 and 1, not {test_fraction}.")
    n_test = min(n - 1, max(1, round(n * test_fraction)))
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    test, train = order[:n_test], order[n_test:]
    test_names = [files[i] for i in test.tolist()] if len(files) else []
    split_factors = None
    if factors is not None:
        names, values, categories = factors
        split_factors = Factors(list(names), values[train.numpy()], values[test.numpy()], dict(categories))
    return Dataset(name, x[train], y[train], x[test], y[test], class_names, options, test_names, split_factors)


def _sprites(options: DataOptions) -> Dataset:
    """The procedural sprites (vae_core.data.sprites): labelled by shape, with all five factors."""

    n = sprites.DEFAULT_N if options.sprites_n is None else int(options.sprites_n)
    size = options.image_size or sprites.DEFAULT_SIZE
    if not 2 <= n <= sprites.MAX_N:
        raise DatasetError(f"The number of sprites must be between 2 and {sprites.MAX_N:,}, not {n}.")
    if not 8 <= size <= 128:
        raise DatasetError(f"Sprites are drawn between 8 and 128 pixels wide, not {size}.")
    values = sprites.sample_factors(n, options.split_seed)
    x = torch.from_numpy(sprites.draw(values, size)).unsqueeze(1)  # (N, 1, H, W) uint8
    y = torch.from_numpy(values[:, 0].astype(np.int64))
    factors = (sprites.FACTOR_NAMES, values, sprites.factor_categories())
    return _split("sprites", x, y, list(sprites.SHAPES), options.test_fraction, options.split_seed, options, (), factors)


FACTORS_FILE = "factors.csv"
MAX_FACTORS = 64
FACTORS_ROW_BYTES = 2048  # the most a factors.csv may hold per image: its path and up to MAX_FACTORS numbers
# (64 written at full precision, -0.33333333333333331 each, take about 1.2 KB)
FACTORS_HEADER_BYTES = 64 * 1024  # and for its header: up to MAX_FACTORS names


def factors_csv_limit(n_images: int) -> int:
    """The largest factors.csv, in bytes, that `n_images` images can need: a row each, and the header."""
    return FACTORS_HEADER_BYTES + FACTORS_ROW_BYTES * n_images


def _check_factors_size(size: int, n_images: int) -> None:
    """A DatasetError when a factors.csv of `size` bytes is more than `n_images` images can need: checked from the
    file's own size (or a zip's record of it), before anything is read, so a 100 MB file costs nothing."""
    limit = factors_csv_limit(n_images)
    if size > limit:
        raise DatasetError(
            f"{FACTORS_FILE} is {_size_text(size)}, too large for {n_images:,} images: it may hold at most "
            f"{_size_text(limit)} ({FACTORS_ROW_BYTES:,} bytes a row, and the header). It was not read; keep "
            "one row for each image."
        )


def _size_text(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{max(1, round(n / 1e3))} KB"


def _bounded_lines(f, limit: int, n_images: int):
    """The lines of an open text file, refused (DatasetError) once they hold more than `limit` characters: for a file
    whose size says less than it holds (a /proc file says 0). Never reads more than limit + 1 characters."""
    left = limit
    while line := f.readline(left + 1):
        left -= len(line)
        if left < 0:
            raise DatasetError(
                f"{FACTORS_FILE} holds more than {_size_text(limit)}, too much for {n_images:,} images "
                f"({FACTORS_ROW_BYTES:,} bytes a row, and the header); keep one row for each image."
            )
        yield line


def read_factors_csv(folder: Path, files: list[str]):
    """A folder's own factors from its factors.csv: a `file` column (paths as below the folder, e.g. cats/1.png)
    and one column per factor. A column of numbers is a numeric factor, each of them finite; any other is
    categorical, its values coded 0, 1, ... in sorted order. -> (names, (N, K) values in the order of `files`,
    categories), or None when the folder has no such file. A DatasetError says what is wrong with one.

    The file is refused from its size alone when it is larger than the images can need (factors_csv_limit), and
    read a row at a time, keeping only the rows of these files, so its memory stays that of the factors."""

    path = Path(folder) / FACTORS_FILE
    if not path.is_file():
        return None
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            _check_factors_size(os.fstat(f.fileno()).st_size, len(files))  # the file opened is the file measured
            lines = _bounded_lines(f, factors_csv_limit(len(files)), len(files))
            names, by_file = _factor_rows(csv.reader(lines), set(files))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        why = "it is not UTF-8 text" if isinstance(err, UnicodeDecodeError) else "it is not a CSV file that can be read"
        raise DatasetError(f"{FACTORS_FILE} could not be read ({why}); save it as a UTF-8 CSV file.") from err
    missing = [f for f in files if f not in by_file]
    if missing:
        raise DatasetError(
            f"{FACTORS_FILE} has no row for {len(missing)} of the {len(files)} images (first: "
            f"{missing[0]}); give every image a row, its file as a path below the folder."
        )
    categories = {}
    values = np.empty((len(files), len(names)))
    for k, name in enumerate(names):
        cells = [by_file[f][1][name] for f in files]
        numbers = _numbers(cells)
        if numbers is None:
            categories[name] = sorted(set(cells))
            numbers = [categories[name].index(v) for v in cells]
        elif not np.isfinite(numbers).all():
            line, file, cell = min((by_file[f][0], f, c) for f, c, x in zip(files, cells, numbers) if not np.isfinite(x))
            raise DatasetError(
                f"{FACTORS_FILE}, line {line} ({file}), column {name}: {cell[:40]} is not a finite number. A column of "
                "numbers needs a finite number in every row (no inf, nan or values beyond ±1.8e308)."
            )
        values[:, k] = numbers
    return names, values, categories


def _factor_rows(reader, wanted: set[str]) -> tuple[list[str], dict]:
    """A factors.csv's rows, read one at a time -> (factor names, {file: (line, {name: cell})}) of the files
    wanted only (the last row of a file counts)."""
    first = next(reader, None)
    if not first or "file" not in first:
        raise DatasetError(f"{FACTORS_FILE} needs a header row with a column named file, then one column per factor.")
    header = [h.strip() for h in first]
    names = [h for h in header if h != "file"]
    if len(names) > MAX_FACTORS:
        raise DatasetError(
            f"{FACTORS_FILE} has {len(names):,} factor columns; the limit is {MAX_FACTORS}. Keep the factors to measure."
        )
    if not names or len(set(names)) != len(names) or not all(names):
        raise DatasetError(
            f"{FACTORS_FILE} needs between 1 and {MAX_FACTORS} named factor columns after file, each named once."
        )
    by_file = {}
    for row in reader:
        if len(row) != len(header):
            raise DatasetError(
                f"{FACTORS_FILE}, line {reader.line_num}: {len(row)} values where the header names {len(header)}."
            )
        record = dict(zip(header, (cell.strip() for cell in row)))
        file = record.pop("file").replace("\\", "/")
        if file in wanted:
            by_file[file] = (reader.line_num, record)
    return names, by_file


def _numbers(cells: list[str]) -> list[float] | None:
    """The cells as numbers (inf and nan among them, which the caller refuses), or None when any is not a number
    (the column is then categorical)."""
    try:
        return [float(c) for c in cells]
    except ValueError:
        return None


@functools.cache  # read once per process (sklearn parses its CSV each time); _split copies what it keeps
def _digits():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0  # pixel values are 0..16
    y = torch.tensor(bunch.target, dtype=torch.int64)
    return x, y, [str(c) for c in bunch.target_names]


def _torchvision(key: str, root: str, download: bool, options: DataOptions) -> Dataset:
    from torchvision import datasets

    cls = datasets.MNIST if key == "mnist" else datasets.FashionMNIST
    raw = Path(root) / cls.__name__ / "raw"
    try:
        train = cls(root, train=True, download=download)
        test = cls(root, train=False, download=download)
    except Exception as err:  # no network, a partial download, a corrupt file
        files = ", ".join(Path(url).name for url, _ in cls.resources)
        raise DatasetError(
            f"Could not load {key} ({type(err).__name__}: {err}). Without a network, put the raw files "
            f"({files}) into {raw}/ by hand and try again."
        ) from err
    return Dataset(
        key,
        train.data.unsqueeze(1),
        train.targets.long(),
        test.data.unsqueeze(1),
        test.targets.long(),
        list(train.classes),
        options,
    )  # (N, 28, 28) uint8 -> (N, 1, 28, 28)


def _cached_folder(folder: Path, image_size: int | None, channels: str, background: str):
    """_folder, decoded once: the tensors are kept in the cache, keyed by every file's path, size and mtime and
    by the options, so a changed folder is decoded again; a cache file that cannot be read is ignored."""

    paths = image_paths(folder)
    rel_files, classes = relative_files(folder, paths)
    listing = listing_of(paths, rel_files)
    key = hashlib.sha256(repr((str(folder), listing, image_size, channels, background)).encode()).hexdigest()[:24]
    path = cache_dir() / f"folder-{key}.pt"
    try:
        cached = torch.load(path, map_location="cpu", weights_only=True)
        if _holds_folder(cached, folder, paths, rel_files, classes, image_size, channels, background):
            return cached["x"], cached["y"], cached["class_names"], cached["files"]
    except Exception:  # not there yet, or damaged: decode the folder again
        pass
    x, y, names, rel_files = _folder(folder, image_size, channels, background, [Path(p) for p in paths])
    try:
        with atomic_path(path) as tmp:
            torch.save(dict(x=x, y=y, class_names=names, files=rel_files), tmp)
    except OSError:  # a read-only or full disk only costs the next load its speed; no half-written file stays
        pass
    return x, y, names, rel_files


def _holds_folder(
    cached: dict,
    folder: Path,
    paths: list[str],
    rel_files: list[str],
    classes: list[str],
    image_size: int | None,
    channels: str,
    background: str,
) -> bool:
    """Whether a decoded-folder cache holds these files' images as _folder makes them: one uint8 image per file,
    in their order, of the size and colour asked for (the first one decoded again to compare), with the labels
    and classes their folders give (rel_files and classes: relative_files of the paths). A cache that holds
    anything else (written by hand, or by a broken run) is decoded again."""
    x, y = cached["x"], cached["y"]
    if not (
        isinstance(x, torch.Tensor)
        and x.dtype == torch.uint8
        and x.ndim == 4
        and isinstance(y, torch.Tensor)
        and len(x) == len(paths) > 0
    ):
        return False
    first_file = Path(paths[0])
    ((first_size, first_mode, _),) = _read_headers(folder, [first_file])
    side = image_size or min(max(first_size), MAX_FOLDER_SIDE)
    colours = {"grayscale": (1,), "rgb": (3,)}.get(channels, (1, 3) if first_mode in GRAY_MODES else (3,))
    if x.shape[1] not in colours or x.shape[2:] != (side, side):
        return False
    first = _decode_small(first_file, "L" if x.shape[1] == 1 else "RGB", side, background)
    names = sorted(set(classes))
    index = {name: i for i, name in enumerate(names)}
    return (
        np.array_equal(x[0].permute(1, 2, 0).squeeze(-1).numpy(), first)
        and cached["class_names"] == names
        and cached["files"] == rel_files
        and y.tolist() == [index[c] for c in classes]
    )


MAX_IMAGE_PIXELS = 40_000_000  # one image larger than this is refused, not decoded
MAX_FOLDER_PIXELS = 4_000_000_000  # all images of a folder together, by their headers


def _folder(folder: Path, image_size: int | None, channels: str, background: str = "white", files: list[Path] | None = None):
    """Images directly in `folder` (one class) or in class sub-folders (labels by folder name).

    Every header is read first (size and mode, nothing decoded), so a pixel bomb is refused before it costs
    memory; then each image is decoded shrunk (JPEG's draft, others reduced by an integer factor on the
    way) and kept only at its final size, so memory stays near that of the final tensor.
    """
    files = image_files(folder) if files is None else files
    if not files:
        raise DatasetError(f"{folder}: no image files found (looked for {', '.join(sorted(IMAGE_SUFFIXES))}).")
    headers = _read_headers(folder, files)
    mode = _pick_mode(channels, [m for _, m, _ in headers])
    size = image_size or min(max(headers[0][0]), MAX_FOLDER_SIDE)
    rel_files, classes = relative_files(folder, files)
    class_names = sorted(set(classes))
    arrays = [_decode_small(path, mode, size, background) for path in files]
    x = torch.from_numpy(np.stack(arrays))  # uint8
    x = x.unsqueeze(1) if mode == "L" else x.permute(0, 3, 1, 2)  # -> (N, C, H, W)
    index = {name: i for i, name in enumerate(class_names)}
    y = torch.tensor([index[c] for c in classes], dtype=torch.int64)
    return x.contiguous(), y, class_names, rel_files


@dataclass
class FolderSummary:
    """What a folder of images holds, from the files' headers (nothing decoded): for a preview."""

    n_images: int
    per_class: dict  # class name -> number of images
    sizes: dict  # (width, height) -> number of images
    modes: dict  # PIL mode -> number of images
    samples: list  # a few image paths, spread over the classes
    factors: list = field(default_factory=list)  # the factor columns its factors.csv names, if it has one
    transparent: int = 0  # how many images have transparent pixels (composited on DataOptions.background)


def describe_folder(folder, n_samples: int = 16) -> FolderSummary:

    folder = Path(folder)
    files = image_files(folder)
    if not files:
        raise DatasetError(f"{folder.name}: no image files found (looked for {', '.join(sorted(IMAGE_SUFFIXES))}).")
    headers = _read_headers(folder, files)
    classes = Counter(relative_files(folder, files)[1])
    step = max(1, len(files) // n_samples)
    return FolderSummary(
        len(files),
        dict(sorted(classes.items())),
        dict(Counter(size for size, _, _ in headers)),
        dict(Counter(mode for _, mode, _ in headers)),
        files[::step][:n_samples],
        _factor_columns(folder),
        sum(transparent for _, _, transparent in headers),
    )


def _factor_columns(folder: Path) -> list[str]:
    """The factor names in the header of a folder's factors.csv (its rows are checked when the folder loads)."""

    try:
        with open(folder / FACTORS_FILE, newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(_bounded_lines(f, FACTORS_HEADER_BYTES, 0)), [])  # the header only, bounded
    except (OSError, UnicodeDecodeError, csv.Error, DatasetError):
        return []
    return [h.strip() for h in header if h.strip() and h.strip() != "file"]


def decode_for_preview(paths, size: int = 32, background: str = "white") -> torch.Tensor:
    """A few images as (N, 3, size, size) float in [0, 1], for a preview grid: as training will see them."""
    arrays = [_decode_small(p, "RGB", size, background) for p in paths]
    return as_float(torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2))


def _read_headers(folder: Path, files: list[Path]) -> list[tuple[tuple[int, int], str, bool]]:
    """(size, mode, whether it has transparency) of every image from its header; DatasetError naming the
    unreadable or oversized ones."""

    headers, bad, total = [], [], 0
    for path in files:
        try:
            with Image.open(path) as im:
                headers.append((im.size, im.mode, has_transparency(im.mode, im.info)))
                pixels = im.width * im.height
        except Exception as err:
            bad.append(f"{path.relative_to(folder)} ({type(err).__name__})")
            continue
        if pixels > MAX_IMAGE_PIXELS:
            bad.append(
                f"{path.relative_to(folder)} ({headers[-1][0][0]}x{headers[-1][0][1]} pixels, over the "
                f"limit of {MAX_IMAGE_PIXELS // 10**6} megapixels)"
            )
        total += pixels
    if bad:
        shown = "; ".join(bad[:10]) + (f"; and {len(bad) - 10} more" if len(bad) > 10 else "")
        raise DatasetError(
            f"{folder}: {len(bad)} of {len(files)} image files could not be used: {shown}. Remove or replace them."
        )
    if total > MAX_FOLDER_PIXELS:
        raise DatasetError(
            f"{folder}: the images hold {total / 1e9:.1f} billion pixels together, over the limit of "
            f"{MAX_FOLDER_PIXELS / 1e9:.0f} billion; use fewer or smaller images."
        )
    return headers


def _decode_small(path: Path, mode: str, size: int, background: str = "white") -> np.ndarray:
    """One image decoded straight to (size, size) in `mode`, as uint8, never held at full size for long."""

    with Image.open(path) as im:
        im.draft(mode, (size, size))  # JPEG: the decoder itself scales down by up to 8
        im = flattened(_eight_bit(im), mode, background)  # palette and 1-bit images too, which reduce() does not take
        factor = min(im.width, im.height) // (2 * size)
        if factor > 1:
            im = im.reduce(factor)  # cheap box shrink, still at least twice the target: resize below smooths
        return np.asarray(im.resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8)


def has_transparency(mode: str, info: dict) -> bool:
    """Whether an image of this PIL mode and info (both known from its header) has transparent pixels."""
    return mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in info


def flattened(im, mode: str, background: str):
    """`im` in `mode`, its transparent pixels composited on `background` first: a plain convert() would drop the
    alpha and show whatever colour hides under transparent pixels (icons often keep bright ones there)."""
    if has_transparency(im.mode, im.info):
        im = Image.alpha_composite(Image.new("RGBA", im.size, background), im.convert("RGBA"))
    return im.convert(mode)


def _eight_bit(im):
    """A 16-bit grey image scaled to 8 bits: PIL's convert("L") clips every level above 255, so it would come out
    white. (32-bit "I" images holding 8-bit levels are left as they are.)"""

    if not im.mode.startswith("I"):
        return im
    levels = np.asarray(im, dtype=np.float64)
    if im.mode.startswith("I;16") or levels.max(initial=0) > 255:
        levels = levels / 257.0
    return Image.fromarray(levels.clip(0, 255).round().astype(np.uint8), "L")


GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}  # PIL modes of grey images


def _pick_mode(channels: str, modes: list[str]) -> str:
    if channels in ("grayscale", "gray", "L"):
        return "L"
    if channels in ("rgb", "RGB"):
        return "RGB"
    if channels != "auto":
        raise DatasetError(f"channels must be 'auto', 'grayscale' or 'rgb', got {channels!r}.")
    return "L" if all(m in GRAY_MODES for m in modes) else "RGB"


MAX_ZIP_FILES = 20_000
MAX_ZIP_BYTES = 500 * 2**20  # uncompressed
MAX_ZIP_DEPTH = 32  # folders in an entry's path: a class folder or two is normal, hundreds only an attack


def extract_image_zip(source, dest, max_files: int = MAX_ZIP_FILES, max_bytes: int = MAX_ZIP_BYTES) -> Path:
    """Unpack the image files of a zip (path or file object), and its factors.csv, into `dest`; return the folder
    to load.

    Safe against hostile archives: only image files are written, never outside `dest` (no absolute
    paths, no "..", no symlinks), and file count and actual uncompressed bytes are bounded, so a zip
    bomb stops at the limit instead of filling the disk.
    """

    dest = Path(dest).resolve()
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as err:
        raise DatasetError("The upload is not a readable zip archive (it is damaged, incomplete or not a zip).") from err
    with archive:
        members = [
            m
            for m in archive.infolist()
            if not m.is_dir()
            and (PurePosixPath(m.filename).suffix.lower() in IMAGE_SUFFIXES or PurePosixPath(m.filename).name == FACTORS_FILE)
            and "__MACOSX" not in PurePosixPath(m.filename).parts
        ]
        if all(PurePosixPath(m.filename).name == FACTORS_FILE for m in members):
            raise DatasetError(f"The zip holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))}).")
        if len(members) > max_files:
            raise DatasetError(f"The zip holds {len(members)} images; the limit is {max_files}.")
        n_images = sum(PurePosixPath(m.filename).name != FACTORS_FILE for m in members)
        for m in members:  # by the zip's record of its size, before anything is unpacked (zipfile reads no more)
            if PurePosixPath(m.filename).name == FACTORS_FILE:
                _check_factors_size(m.file_size, n_images)
        written = 0
        for m in members:
            parts = PurePosixPath(m.filename.replace("\\", "/")).parts
            if len(parts) > MAX_ZIP_DEPTH:
                raise DatasetError(
                    f"The zip nests folders more than {MAX_ZIP_DEPTH} deep ({m.filename[:80]!r}…); "
                    "put the images at most a few folders down."
                )
            if m.filename.startswith("/") or ".." in parts or stat.S_ISLNK(m.external_attr >> 16):
                raise DatasetError(f"The zip contains an unsafe entry: {m.filename!r}. Nothing was used from it.")
            target = dest.joinpath(*parts)
            if not target.resolve().is_relative_to(dest):
                raise DatasetError(f"The zip contains an unsafe entry: {m.filename!r}. Nothing was used from it.")
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                out = open(target, "wb")
            except OSError:  # c.png beside c.png/d.png: one name, a file and a folder
                raise DatasetError(
                    f"The zip holds {m.filename!r} where another entry needs a folder or file of "
                    "the same name; rename one of them."
                ) from None
            with archive.open(m) as src, out:
                while chunk := src.read(1 << 20):
                    written += len(chunk)
                    if written > max_bytes:
                        raise DatasetError(f"The zip unpacks to more than {max_bytes // 2**20} MB; use a smaller one.")
                    out.write(chunk)
    return image_root(dest)


def image_root(folder: Path) -> Path:
    """A zip of one folder ("set/cats/1.png") should load as that folder, so its sub-folders are classes."""
    while len(entries := list(folder.iterdir())) == 1 and entries[0].is_dir():
        folder = entries[0]
    return folder


DEFAULT_CONTENT_FRACTION = 1 / 1.2  # a tenth of the frame free on each side, when the model's data are not here
SUPERSAMPLE = 8


def content_fraction(images: torch.Tensor, sample: int = 500) -> float:
    """How much of the frame a dataset's subjects fill: the median, over images, of the longer side of the
    box around what differs from the border, over the image's side. MNIST draws digits in a 20 px box
    inside 28 px (0.71); the 8x8 digits fill theirs."""
    fractions = []
    for image in as_float(images[:sample]).numpy():  # (C, H, W) each
        a = image.transpose(1, 2, 0) * 255
        left, top, right, bottom = _content_box(a, np.median(_border_pixels(a), axis=0))
        fractions.append(max(right - left, bottom - top) / max(a.shape[:2]))
    return float(np.median(fractions)) if fractions else DEFAULT_CONTENT_FRACTION


def image_to_tensor(
    data: bytes, image_shape, fill: float = DEFAULT_CONTENT_FRACTION, background: str = "white"
) -> torch.Tensor:
    """One image file's bytes -> (C, H, W) float32 in [0, 1], in the model's shape and colour.

    Any size: the image is cropped to its content, scaled with antialiasing so that content's longer side
    fills `fill` of the frame (pass the model's data's `content_fraction`), and placed on its own border
    colour with its centre of mass at the centre, as MNIST places its digits. Transparent areas are composited
    on `background`: pass the model's data's (DataOptions.background), so the file reaches the model as training's did.
    Raises DatasetError with a plain message for anything that is not a readable image.
    """

    channels, height, width = image_shape
    im: Image.Image  # the file as opened, then each step's new image
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_IMAGE_PIXELS:
                raise DatasetError(
                    f"The image is {im.width}x{im.height} pixels; the limit is {MAX_IMAGE_PIXELS // 10**6} megapixels."
                )
            im.load()
            im = ImageOps.exif_transpose(im)
    except UnidentifiedImageError as err:
        raise DatasetError("This file is not an image that can be read (use PNG or JPEG).") from err
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise DatasetError("The image could not be read: it is damaged or incomplete.") from err
    im = flattened(im, "L" if channels == 1 else "RGB", background)
    a = np.asarray(im, dtype=np.float32).reshape(im.height, im.width, -1)
    border = np.median(_border_pixels(a), axis=0)
    im = im.crop(_content_box(a, border))
    fill = min(fill, DEFAULT_CONTENT_FRACTION)  # data that fill their frame (the 8x8 digits): a drawing
    # scaled edge to edge loses its border strokes to the resize and scored 5 nats worse on digits-2d
    # laid out at SUPERSAMPLE times the model's resolution, so the centre of mass lands within a fraction of
    # a pixel of the centre, then averaged down
    w, h = width * SUPERSAMPLE, height * SUPERSAMPLE
    scale = fill * max(w, h) / max(im.size)
    im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.Resampling.LANCZOS)
    ink = np.abs(np.asarray(im, dtype=np.float32).reshape(im.height, im.width, -1) - border).max(axis=2)
    rows, cols = np.indices(ink.shape)
    mass = max(float(ink.sum()), 1e-6)
    cy, cx = float((rows * ink).sum()) / mass + 0.5, float((cols * ink).sum()) / mass + 0.5  # centre of mass
    left = min(max(round(w / 2 - cx), 0), max(w - im.width, 0))
    top = min(max(round(h / 2 - cy), 0), max(h - im.height, 0))
    canvas = Image.new(im.mode, (w, h), int(border[0]) if im.mode == "L" else tuple(int(v) for v in border))
    canvas.paste(im, (left, top))
    x = torch.from_numpy(np.asarray(canvas.resize((width, height), Image.Resampling.BOX), dtype=np.float32) / 255.0)
    return x.unsqueeze(0) if channels == 1 else x.permute(2, 0, 1).contiguous()


def _content_box(a: np.ndarray, border: np.ndarray, threshold: float = 64.0) -> tuple[int, int, int, int]:
    """Bounding box (left, top, right, bottom) of the pixels that differ from the border colour.

    A drawing in the middle of a large canvas is cropped to the drawing, as datasets like MNIST and
    digits centre and scale their subjects; an image with no distinct content is kept whole.
    """
    rows, cols = np.nonzero(np.abs(a - border).max(axis=2) > threshold)
    if len(rows) == 0:
        return 0, 0, a.shape[1], a.shape[0]
    return int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1


def _border_pixels(a: np.ndarray) -> np.ndarray:
    """The outermost ring of an (H, W) or (H, W, C) array as rows of channel values."""
    a = a.reshape(a.shape[0], a.shape[1], -1)
    return np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
