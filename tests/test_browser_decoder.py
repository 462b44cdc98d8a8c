"""The decoder the Explore page runs in the browser (vae_core.model.onnx_io.browser_decoder), checked here in
onnxruntime on the server: the engine's own export (conditional models too, with the label as an input), cached in
the cache folder and never beside the checkpoint; an imported folder's checked decoder.onnx as it is; nothing over
the size limit. The browser's side is tests/test_browser_decode.py."""

import numpy as np
import onnxruntime as ort
import pytest
import torch

from conftest import ROOT
from test_onnx_io import trained
from vae_core import load_checkpoint, save_checkpoint
from vae_core.config import VAEConfig
from vae_core.model import onnx_io
from vae_core.model.vae import VAE
from vae_core.store.files import cache_dir


def run(data: bytes, **feeds) -> dict:
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {k: v.numpy() for k, v in feeds.items()})))


def test_a_checkpoints_decoder_is_exported_once_into_the_cache_folder(tmp_path):
    checkpoint = trained(tmp_path, "continuous-bernoulli")
    model, _ = load_checkpoint(checkpoint)
    data = onnx_io.browser_decoder(model, checkpoint)
    z = torch.randn(7, 3)
    out = run(data, z=z)
    with torch.no_grad():
        np.testing.assert_allclose(out["mean"], model.decode_mean(z), atol=1e-4)  # the image, as the server shows it
        np.testing.assert_allclose(out["param"], model.decode(z), atol=1e-4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["continuous-bernoulli-mlp.pt"]  # nothing beside it
    cached = list((cache_dir() / "browser-decoders").glob("*.onnx"))
    assert any(p.read_bytes() == data for p in cached)
    assert onnx_io.browser_decoder(model, checkpoint) == data  # from the cache the second time


def test_a_conditional_models_decoder_takes_the_label_as_a_one_hot_input(tmp_path):
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,), num_classes=4)).eval()
    path = tmp_path / "cond.pt"
    save_checkpoint(path, model, dataset="digits")
    data = onnx_io.browser_decoder(model, path)
    z = torch.randn(5, 2)
    for label in range(4):
        out = run(data, z=z, y=torch.eye(4)[[label] * 5])
        with torch.no_grad():
            np.testing.assert_allclose(out["mean"], model.decode_mean(z, label), atol=1e-5)


def test_an_imported_folder_is_sent_as_the_server_checked_it(tmp_path):
    checkpoint = trained(tmp_path, "bernoulli")
    onnx_io.export_onnx(*load_checkpoint(checkpoint), tmp_path / "folder")
    imported, _ = load_checkpoint(tmp_path / "folder")
    data = onnx_io.browser_decoder(imported, tmp_path / "folder")
    assert data == imported.decoder_onnx and len(data) > 0
    z = torch.randn(3, 3)
    np.testing.assert_allclose(run(data, z=z)["mean"], imported.decode_mean(z), atol=1e-6)


def test_a_decoder_over_the_limit_stays_on_the_server(monkeypatch):
    model, _ = load_checkpoint(ROOT / "checkpoints" / "digits-2d.pt")
    monkeypatch.setattr(onnx_io, "MAX_BROWSER_BYTES", 1000)
    with pytest.raises(onnx_io.OnnxModelError, match="over the .* a page is sent"):
        onnx_io.browser_decoder(model, ROOT / "checkpoints" / "digits-2d.pt")
