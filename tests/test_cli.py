import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import ROOT
from vae_core import load_checkpoint
from vae_core.analysis.replay import from_history


def cli(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "vae_core", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_train_then_eval_on_digits(tmp_path):
    out = tmp_path / "m.pt"
    cli("train", "--data", "digits", "--epochs", "3", "--latent-dim", "4", "--hidden", "64", "--out", str(out))
    result = json.loads(cli("eval", str(out), "--json", "--iwae-k", "20").stdout)
    assert result["dataset"] == "digits" and result["n_test"] == 359
    assert abs(result["test_loss"] - (result["test_recon"] + result["test_kl"])) < 1e-6
    assert 0 < result["test_loss"] < 45
    assert 0 <= result["active_units"] <= 4
    assert result["iwae_nll"] < result["test_loss"] + 0.5
    # the checkpoint replays its training: one frame per epoch, PCA maps aligned (4-D latent)
    replay = from_history(load_checkpoint(out)[1].history)
    assert [f.epoch for f in replay.frames] == [1, 2, 3] and replay.axis_names == ("aligned PC1", "aligned PC2")
    # no silent overwrite
    again = cli("train", "--epochs", "1", "--out", str(out), check=False)
    assert again.returncode == 1 and "--force" in again.stderr


def test_train_on_an_image_folder(tmp_path):
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(10):
            Image.fromarray(rng.integers(0, 256, (28, 28)).astype(np.uint8)).save(tmp_path / "imgs" / cls / f"{i}.png")
    out = tmp_path / "f.pt"
    cli("train", "--data", str(tmp_path / "imgs"), "--epochs", "2", "--out", str(out), "--quiet")
    result = json.loads(cli("eval", str(out), "--json").stdout)
    assert result["n_test"] == 4 and result["test_loss"] > 0
    assert result["likelihood"] == "bernoulli"
    assert result["bits_per_dim"] == pytest.approx(result["test_loss"] / (784 * np.log(2)))
    model, _ = load_checkpoint(out)  # 28x28 images: the defaults suggest a conv net with 20 latent dimensions
    assert (model.config.arch, model.config.latent_dim) == ("conv", 20)


def test_bad_inputs_give_clear_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = cli("train", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "x.pt"), check=False)
    assert proc.returncode == 1 and "no image files" in proc.stderr and "Traceback" not in proc.stderr
    (tmp_path / "junk.pt").write_bytes(b"junk")
    proc = cli("eval", str(tmp_path / "junk.pt"), check=False)
    assert proc.returncode == 1 and "not a readable checkpoint" in proc.stderr
    proc = cli("train", "--hidden", "64,x", "--out", str(tmp_path / "h.pt"), check=False)
    assert proc.returncode == 2 and "Hidden sizes must be comma-separated" in proc.stderr
    proc = cli("train", "--lr", "1e6", "--epochs", "20", "--out", str(tmp_path / "d.pt"), check=False)
    assert proc.returncode == 1 and "diverged" in proc.stderr and not (tmp_path / "d.pt").exists()


def test_a_saved_model_trains_further_as_if_its_run_had_gone_on(tmp_path):
    """train --resume: 2 epochs, then 2 more from the file, equal an uninterrupted 4 (same seed, on the CPU)."""
    common = ("--data", "digits", "--latent-dim", "2", "--device", "cpu", "--quiet")
    cli("train", *common, "--epochs", "4", "--out", str(tmp_path / "four.pt"))
    cli("train", *common, "--epochs", "2", "--out", str(tmp_path / "two.pt"))
    result = cli(
        "train",
        "--resume",
        str(tmp_path / "two.pt"),
        "--epochs",
        "2",
        "--device",
        "cpu",
        "--quiet",
        "--out",
        str(tmp_path / "two-plus-two.pt"),
    )
    assert "after 4 epochs in all" in result.stderr
    straight, _ = load_checkpoint(tmp_path / "four.pt")
    resumed, meta = load_checkpoint(tmp_path / "two-plus-two.pt")
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name
    assert [e["epoch"] for e in meta.history if e["type"] == "epoch"] == [1, 2, 3, 4]  # the history goes on
    assert [f.epoch for f in from_history(meta.history, meta.beta_changes, meta.image_shape).frames] == [1, 2, 3, 4]
    assert meta.train.epochs == 4 and meta.metrics["epoch"] == 4


def test_a_checkpoint_without_optimizer_state_is_refused_for_training_further(tmp_path):
    result = cli(
        "train",
        "--resume",
        str(ROOT / "checkpoints" / "digits-2d.pt"),
        "--epochs",
        "2",
        "--quiet",
        "--out",
        str(tmp_path / "more.pt"),
        check=False,
    )
    assert result.returncode != 0 and "saved without its optimizer state" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "more.pt").exists()


def test_train_on_sprites_and_measure_disentanglement(tmp_path):
    out = tmp_path / "s.pt"
    cli("train", "--data", "sprites", "--sprites-n", "300", "--image-size", "16", "--epochs", "2", "--out", str(out))
    meta = load_checkpoint(out)[1]
    assert meta.data_options.sprites_n == 300 and meta.data_options.image_size == 16
    assert meta.image_shape == (1, 16, 16) and meta.class_names == ["square", "ellipse", "heart"]
    epochs = [e for e in meta.history if e.get("type") == "epoch"]
    assert all("mig" in e["disentanglement"] and e["disentanglement_s"] > 0 for e in epochs)  # 2 epochs: both measured
    result = json.loads(cli("metrics", str(out), "--json").stdout)
    assert result["n_images"] == 60
    for name in ("mig", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap", "factorvae"):
        assert 0 <= result[name] <= 1
        assert result[name] == pytest.approx(meta.metrics[name])  # what the save measured, the same way
    assert [f["name"] for f in result["factors"]] == ["shape", "scale", "orientation", "pos_x", "pos_y"]
    assert all(0 <= f["best_dimension"] < meta.vae_config.latent_dim for f in result["factors"])
    text = cli("metrics", str(out)).stdout
    assert "MIG" in text and "FactorVAE score" in text and "pos_x: z" in text


def test_metrics_on_data_without_factors_says_what_to_use(tmp_path):
    proc = cli("metrics", str(ROOT / "checkpoints" / "digits-2d.pt"), check=False)
    assert proc.returncode == 1 and "no known factors" in proc.stderr and "factors.csv" in proc.stderr
