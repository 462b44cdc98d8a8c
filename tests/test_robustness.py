"""What a careless or hostile user might type or upload: clear messages, bounded memory, nothing lost."""

import io
import json
import os
import pickle
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from vae_core import (
    VAE,
    CheckpointError,
    DatasetError,
    NonFiniteLossError,
    TrainConfig,
    VAEConfig,
    list_checkpoints,
    load_checkpoint,
    load_dataset,
    save_checkpoint,
    train,
)
from vae_core.data.datasets import extract_image_zip

APP = str(ROOT / "app.py")


def cli(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "vae_core", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(folder))
    monkeypatch.setenv("VAE_EXPLORER_DATA", str(tmp_path / "data"))
    return folder


# 1. No traceback reaches the user


def test_huge_hidden_sizes_get_a_message_on_the_page_and_in_the_cli(app_env, tmp_path):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/train.py").run()
    at.text_input(key="train_hidden").set_value("100000,100000")
    at.button(key="train_start").click().run()
    assert not at.exception
    assert any("too large for this machine" in e.value for e in at.main.error)
    proc = cli("train", "--hidden", "100000,100000", "--out", str(tmp_path / "x.pt"))
    assert proc.returncode == 1 and "too large for this machine" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_zip_nested_1500_folders_deep_is_refused_and_leaves_nothing(app_env, tmp_path):
    png = io.BytesIO()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(png, format="PNG")
    deep = "/".join(["d"] * 1500)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in ("a.png", "b.png"):
            archive.writestr(f"{deep}/{name}", png.getvalue())
    with pytest.raises(DatasetError, match="nests folders more than"):
        extract_image_zip(io.BytesIO(buffer.getvalue()), tmp_path / "out")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="train_source").set_value("a zip of images (upload)").run()
    at.file_uploader(key="train_zip").upload("deep.zip", buffer.getvalue(), "application/zip").run()
    at.button(key="train_start").click().run()
    assert not at.exception and any("nests folders" in e.value for e in at.main.error)
    uploads = tmp_path / "data" / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())  # no half-unpacked folder left behind


def test_compare_shows_a_checkpoint_saved_without_a_train_config(app_env, small_model):
    from vae_core.training.loop import evaluate

    data = load_dataset("digits")
    save_checkpoint(app_env / "bare.pt", small_model, dataset="digits", metrics=evaluate(small_model, data.test_x))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert fig["data"][0]["text"] == ["bare"]


def test_an_unexpected_error_on_a_page_is_a_message_not_a_traceback(monkeypatch):
    import ui.explore.map

    def broken(*args, **kwargs):
        raise RuntimeError("the figure could not be drawn")

    monkeypatch.setattr(ui.explore.map, "map_figure", broken)  # the map section calls it at every run (its result is cached)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any(e.value.startswith("Something went wrong on this page (RuntimeError, reference ") for e in at.main.error)


def test_an_unexpected_cli_error_is_one_line_with_a_nonzero_exit(monkeypatch, capsys):
    from vae_core import cli as cli_module

    def crash(args):
        raise RuntimeError("disk on fire\nmore detail")

    monkeypatch.setattr(cli_module, "cmd_eval", crash)
    monkeypatch.delenv("VAE_DEBUG", raising=False)
    assert cli_module.main(["eval", "x.pt"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: eval failed unexpectedly (RuntimeError); set VAE_DEBUG=1 for the details"


# 2. Pixel bombs: peak memory measured in a child process

PEAK = """
import resource, sys
sys.path.insert(0, {root!r})
from vae_core import load_dataset, DatasetError
from vae_core.data.datasets import extract_image_zip
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    folder = extract_image_zip({zip!r}, {out!r})
    data = load_dataset(str(folder), image_size=32)
    result = "loaded %d" % len(data.train_x)
except DatasetError as err:
    result = "refused: " + str(err)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024, result)
"""


def peak_mb_and_result(zip_path, out) -> tuple[int, str]:
    import vae_core.data.datasets  # noqa: F401  (the child imports the same; warm here so imports do not count)

    code = PEAK.format(root=str(ROOT), zip=str(zip_path), out=str(out))
    warm = "import torch, numpy, PIL.Image, sklearn"  # imported before the baseline is read
    proc = subprocess.run([sys.executable, "-c", warm + "\n" + code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    mb, result = proc.stdout.strip().split(" ", 1)
    return int(mb), result


def zip_of_images(path, n: int, side: int, mode: str = "RGB"):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(n):
            buffer = io.BytesIO()
            Image.new(mode, (side, side), (200, 30, 30) if mode == "RGB" else 128).save(buffer, format="PNG")
            archive.writestr(f"set/{i}.png", buffer.getvalue())
    return path


def test_a_pixel_bomb_zip_is_refused_from_its_headers(tmp_path):
    bomb = zip_of_images(tmp_path / "bomb.zip", 6, 8000)  # 64 megapixels each, a few KB compressed
    assert bomb.stat().st_size < 200_000
    mb, result = peak_mb_and_result(bomb, tmp_path / "out")
    assert result.startswith("refused") and "over the limit of 40 megapixels" in result
    assert mb < 100  # never decoded: 6 x 192 MB before


def test_large_images_are_decoded_one_at_a_time_and_shrunk(tmp_path):
    big = zip_of_images(tmp_path / "big.zip", 6, 5000)  # 25 megapixels each, allowed; 75 MB each decoded
    mb, result = peak_mb_and_result(big, tmp_path / "out")
    assert result == "loaded 5"
    assert mb < 250  # about one image at a time (holding all six took 450 MB and more)


# 4. A slow divergence


def test_a_loss_that_explodes_without_becoming_nan_stops_the_run(digits, tmp_path):
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=digits.image_shape))
    with pytest.raises(NonFiniteLossError, match="exploded to .* nats"):
        for _ in train(model, digits, TrainConfig(lr=0.05)):  # finite but absurd: a KL of 1e29
            pass
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())
    proc = cli("train", "--lr", "0.05", "--out", str(tmp_path / "d.pt"))
    assert proc.returncode == 1 and "diverged" in proc.stderr and not (tmp_path / "d.pt").exists()


# 6. Litter


def test_temp_files_of_interrupted_saves_are_swept_when_old(tmp_path, small_model):
    save_checkpoint(tmp_path / "a.pt", small_model, dataset="digits")
    old, fresh = tmp_path / ".a.pt.x1y2.tmp", tmp_path / ".b.pt.z3.tmp"
    for f in (old, fresh):
        f.write_bytes(b"half a checkpoint")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert [i.name for i in list_checkpoints(tmp_path)] == ["a"]
    assert not old.exists() and fresh.exists()  # a save may still be writing the fresh one


def test_an_upload_is_unpacked_once_and_unused_copies_are_swept(tmp_path):
    from ui.uploads import remove_unused_uploads, unpack_upload

    small = zip_of_images(tmp_path / "s.zip", 3, 8).read_bytes()
    other = zip_of_images(tmp_path / "o.zip", 4, 8, mode="L").read_bytes()
    root = tmp_path / "uploads"
    first, again, second = unpack_upload(small, root), unpack_upload(small, root), unpack_upload(other, root)
    assert first == again and first != second
    assert len([p for p in root.iterdir()]) == 2
    removed = remove_unused_uploads(root, in_use={str(first)})
    assert [p.name for p in removed] == [second.parent.name] and first.is_dir() and not second.exists()


# 7. Messages


class Anything:
    """Any class: unpickling it would import and call code."""


def test_a_checkpoint_holding_code_is_refused_in_plain_words(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": "vae-latent-explorer", "obj": Anything()}, path, pickle_module=pickle)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert "could run code" in str(err.value) and "weights_only" not in str(err.value)


def test_a_model_whose_folder_is_gone_says_the_folder_is_missing(tmp_path):
    folder = tmp_path / "imgs" / "a"
    folder.mkdir(parents=True)
    for i in range(4):
        Image.fromarray(np.full((8, 8), i * 40, np.uint8)).save(folder / f"{i}.png")
    out = tmp_path / "m.pt"
    assert cli("train", "--data", "imgs", "--epochs", "1", "--quiet", "--out", str(out), cwd=tmp_path).returncode == 0
    assert load_checkpoint(out)[1].data_options.name == str(tmp_path / "imgs")  # resolved, not relative
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert cli("eval", str(out), "--json", cwd=elsewhere).returncode == 0  # found from any folder
    (tmp_path / "imgs").rename(tmp_path / "moved")
    proc = cli("eval", str(out), cwd=elsewhere)
    assert proc.returncode == 1 and f"The image folder {tmp_path / 'imgs'} does not exist" in proc.stderr


def test_the_same_zip_unpacked_by_two_sessions_at_once_is_one_folder_for_both(tmp_path, monkeypatch):
    """The rename of the second unpacking onto the first's folder fails with ENOTEMPTY (not FileExistsError) on
    Linux: the second session takes the first's folder, with no error."""
    from ui.uploads import unpack_upload

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(6):  # two classes: the upload's folder is its images' root
            png = io.BytesIO()
            Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(png, format="PNG")
            archive.writestr(f"{'ab'[i % 2]}/{i}.png", png.getvalue())
    first = unpack_upload(buffer.getvalue(), tmp_path)
    real_is_dir, asked = Path.is_dir, []

    def not_there_when_first_asked(self):  # as if the other session renamed just after this one looked
        if self == first and not asked:
            asked.append(self)
            return False
        return real_is_dir(self)

    monkeypatch.setattr(Path, "is_dir", not_there_when_first_asked)
    assert unpack_upload(buffer.getvalue(), tmp_path) == first and asked  # the real rename met a non-empty folder
    assert sorted(p.name for p in tmp_path.iterdir() if real_is_dir(p)) == [first.name]  # nothing half-unpacked left
