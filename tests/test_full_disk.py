"""A full or read-only disk (issue 28, point 3): saving a checkpoint, a map cache or an upload says so in one
message, leaves no partial file, keeps an older file whole, and a run stays in memory to be saved elsewhere.

Where the machine allows it (root, and mount permitted) the full disk is a real 64 KiB tmpfs; everywhere the
same cases also run with the write failing as a full disk fails it (ENOSPC from fsync or write)."""

import errno
import os
import shutil
import subprocess

import numpy as np
import pytest
import torch

from conftest import ROOT
from vae_core import VAE, CheckpointError, VAEConfig, load_checkpoint
from vae_core.model.checkpoint import save_checkpoint

FULL = OSError(errno.ENOSPC, "No space left on device")


def small_model() -> VAE:
    torch.manual_seed(0)
    return VAE(VAEConfig(image_shape=(1, 28, 28), latent_dim=8))  # its checkpoint is far above 64 KiB


@pytest.fixture(params=["tmpfs", "failing writes"])
def full_folder(request, tmp_path, monkeypatch):
    """A folder on a disk with almost no room left: a real tmpfs, or one whose file writes fail with ENOSPC."""
    folder = tmp_path / "full"
    folder.mkdir()
    if request.param == "tmpfs":
        mounted = (
            os.geteuid() == 0
            and shutil.which("mount") is not None
            and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True).returncode
            == 0
        )
        if not mounted:
            pytest.skip("this machine does not allow mounting a tmpfs; the failing-writes case covers it")
        yield folder
        subprocess.run(["umount", str(folder)], check=False)
        return

    def fsync(fd):
        raise FULL

    monkeypatch.setattr("vae_core.store.atomic.os.fsync", fsync)
    yield folder


def test_a_checkpoint_onto_a_full_disk_is_one_message_and_no_partial_file(full_folder):
    with pytest.raises(CheckpointError, match="Could not write the checkpoint model.pt to .*: the disk is full"):
        save_checkpoint(full_folder / "model.pt", small_model(), dataset="digits")
    assert os.listdir(full_folder) == []  # no half-written file, no temp file


def test_an_older_checkpoint_stays_whole_when_a_new_one_cannot_be_written(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "model.pt", small_model(), dataset="digits")
    before = path.read_bytes()

    def fsync(fd):
        raise FULL

    monkeypatch.setattr("vae_core.store.atomic.os.fsync", fsync)
    torch.manual_seed(1)
    with pytest.raises(CheckpointError, match="the disk is full"):
        save_checkpoint(path, VAE(VAEConfig(image_shape=(1, 28, 28), latent_dim=8)), dataset="digits", overwrite=True)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["model.pt"]


def test_a_read_only_folder_is_said_as_such(tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("vae_core.store.atomic.open", read_only, raising=False)
    with pytest.raises(CheckpointError, match="the folder is read-only or not writable here"):
        save_checkpoint(tmp_path / "model.pt", small_model(), dataset="digits")
    assert os.listdir(tmp_path) == []


def test_a_map_cache_that_cannot_be_written_leaves_no_partial_file(tmp_path, monkeypatch):
    from vae_core.model.checkpoint import read_meta, read_payload
    from vae_core.store import map_cache

    checkpoint = save_checkpoint(tmp_path / "model.pt", small_model(), dataset="digits")
    real_savez = np.savez

    def savez_then_full(file, **arrays):  # half the file written, then the disk is full
        real_savez(file, **arrays)
        with open(file, "r+b") as f:
            f.truncate(100)
        raise FULL

    monkeypatch.setattr(map_cache.np, "savez", savez_then_full)
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    map_cache.write(checkpoint, read_meta(checkpoint, read_payload(checkpoint)))  # a cache only saves time: no error
    left = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert left == ["model.pt"], left


def test_an_upload_onto_a_full_disk_is_one_message_and_leaves_nothing(full_folder, monkeypatch):
    import zipfile
    from io import BytesIO

    from PIL import Image

    from ui.uploads import unpack_upload
    from vae_core.data.datasets import DatasetError

    if not os.path.ismount(full_folder):  # the failing-writes case: the unpacked images' writes fail
        import vae_core.data.datasets

        class FullFile:  # opens, and fails its first write as a full disk does
            def __init__(self, path, mode):
                self.file = open(path, mode)

            def write(self, data):
                raise FULL

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.file.close()

        def full_open(path, mode="r"):
            return FullFile(path, mode)

        monkeypatch.setattr(vae_core.data.datasets, "open", full_open, raising=False)
    buffer = BytesIO()
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for i in range(40):  # noise does not compress: 40 x 9 KB PNGs fill 64 KiB
            png = BytesIO()
            Image.fromarray(rng.integers(0, 256, (96, 96), dtype=np.uint8)).save(png, format="PNG")
            archive.writestr(f"a/{i}.png", png.getvalue())
    with pytest.raises(DatasetError, match="Could not write the unpacked zip to .*: the disk is full"):
        unpack_upload(buffer.getvalue(), full_folder, "noise.zip")
    assert os.listdir(full_folder) == []  # not even the half-unpacked folder


def test_a_run_that_cannot_be_saved_stays_to_be_saved_elsewhere(tmp_path, monkeypatch):
    from test_app_train import current_run_id, train_page, wait_until_done

    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path / "checkpoints"))
    at = train_page()
    at.number_input(key="train_epochs").set_value(2)
    at.button(key="train_start").click().run()
    run_id = current_run_id(at)
    at = wait_until_done(at)

    def fsync(fd):
        raise FULL

    with monkeypatch.context() as full:
        full.setattr("vae_core.store.atomic.os.fsync", fsync)
        at.button(key=f"save_{run_id}").click().run()
    (message,) = [e.value for e in at.main.error]  # one message, no traceback
    assert "the disk is full" in message and "The run is kept here" in message and not at.exception
    assert not list((tmp_path / "checkpoints").glob("*"))
    at.text_input(key=f"save_name_{run_id}").set_value("kept")  # the run is still here: save it again
    at.button(key=f"save_{run_id}").click().run()
    assert (tmp_path / "checkpoints" / "kept.pt").is_file() and not at.main.error


def test_an_onnx_export_onto_a_full_disk_is_one_message_and_leaves_no_part_of_the_folder(tmp_path, monkeypatch):
    pytest.importorskip("onnx")
    from vae_core.model import onnx_io

    model, meta = load_checkpoint(ROOT / "checkpoints" / "digits-2d.pt")
    written = []

    def full_after_the_first_file(path, data, **kwargs):  # encoder.onnx lands whole, then the disk is full
        if written:
            raise FULL
        written.append(real_write(path, data, **kwargs))
        return written[-1]

    real_write = onnx_io.write_atomic
    monkeypatch.setattr(onnx_io, "write_atomic", full_after_the_first_file)
    with pytest.raises(onnx_io.OnnxModelError, match="Could not write the model folder exported .*: the disk is full"):
        onnx_io.export_onnx(model, meta, tmp_path / "exported")
    assert written and not any((tmp_path / "exported").iterdir())  # the encoder written first is gone again
    monkeypatch.setattr(onnx_io, "write_atomic", real_write)
    onnx_io.export_onnx(model, meta, tmp_path / "exported")  # a retry needs no --force
    assert sorted(p.name for p in (tmp_path / "exported").iterdir()) == ["decoder.onnx", "encoder.onnx", "model.json"]
