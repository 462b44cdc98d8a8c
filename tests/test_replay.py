"""Replays (vae_core/analysis/replay.py): frames per epoch, aligned maps, stored in checkpoints; the GIF (ui/replay.py)."""

import io
import tracemalloc
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import ROOT
from ui.replay import replay_gif
from vae_core import VAE, TrainConfig, VAEConfig, load_checkpoint, save_run, train
from vae_core.analysis.replay import (
    MAX_SAVED_FRAMES,
    ReplayError,
    ReplayRecorder,
    from_history,
    procrustes_align,
    thin,
    to_history,
)

SHIPPED = ROOT / "checkpoints" / "digits-2d.pt"


def test_procrustes_undoes_a_rotation_and_a_reflection():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(200, 2)).astype(np.float32)
    angle = 2.1
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.diag([1, -1])
    moved = (reference @ turn).astype(np.float32)
    assert np.abs(moved - reference).max() > 1  # the unaligned map jumps
    np.testing.assert_allclose(procrustes_align(moved, reference), reference, atol=1e-5)


def trained_replay(digits, latent_dim: int, epochs: int = 4, **config):
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=latent_dim, hidden=(64,)))
    recorder = ReplayRecorder(digits, latent_dim, points=300)
    history = []
    for event in train(model, digits, TrainConfig(epochs=epochs, log_every=5, **config)):
        if event["type"] == "epoch":
            history.append(event)
            recorder.record(model, event)
    return model, recorder.replay, history


def test_one_frame_per_epoch_of_the_same_test_images(digits):
    _, replay, history = trained_replay(digits, latent_dim=2)
    assert [f.epoch for f in replay.frames] == [1, 2, 3, 4]
    assert [f.kl_per_dim for f in replay.frames] == [e["kl_per_dim"] for e in history]
    assert all(f.xy.shape == (300, 2) for f in replay.frames)
    np.testing.assert_array_equal(replay.labels, digits.test_y[:300].numpy())
    assert replay.axis_names == ("z1", "z2")
    # the map moves between epochs (it is forming), and the reconstructions change
    assert not np.allclose(replay.frames[0].xy, replay.frames[-1].xy)
    assert not np.array_equal(replay.frames[0].recons, replay.frames[-1].recons)


def test_pca_frames_are_aligned_so_the_map_does_not_jump(digits):
    """Above 2-D each epoch's PCA is turned onto the last: consecutive frames sit closer than unaligned ones."""
    model, replay, _ = trained_replay(digits, latent_dim=8, epochs=6)
    assert replay.axis_names == ("aligned PC1", "aligned PC2")
    for before, after in zip(replay.frames, replay.frames[1:]):
        unturned = procrustes_align(after.xy, before.xy)  # re-aligning an aligned frame changes nothing
        np.testing.assert_allclose(unturned, after.xy, atol=1e-3)


def test_a_replay_survives_a_checkpoint_read_with_weights_only(digits, tmp_path):
    model, replay, history = trained_replay(digits, latent_dim=2, epochs=3)
    replay.beta_changes = [(20, 2.0)]
    path, _ = save_run(
        tmp_path / "r.pt",
        model,
        digits,
        TrainConfig(epochs=3),
        history + [to_history(replay)],
        beta_changes=replay.beta_changes,
    )
    _, meta = load_checkpoint(path)  # weights_only=True inside
    back = from_history(meta.history, meta.beta_changes)
    assert [f.epoch for f in back.frames] == [1, 2, 3]
    np.testing.assert_array_equal(back.frames[-1].xy, replay.frames[-1].xy)
    np.testing.assert_array_equal(back.originals, replay.originals)
    assert back.beta_changes == [(20, 2.0)]
    steps_per_epoch = back.frames[0].step
    assert back.beta_changed(1) == (steps_per_epoch <= 20 < 2 * steps_per_epoch)


def test_no_replay_in_an_old_history():
    assert from_history([{"type": "epoch", "epoch": 1}]) is None
    assert from_history(None) is None


def test_thinning_keeps_the_first_and_last_and_spaces_the_rest():
    kept = thin(list(range(300)), 120)
    assert len(kept) == 120 and kept[0] == 0 and kept[-1] == 299
    assert max(np.diff(kept)) <= 3
    assert thin([1, 2, 3], 120) == [1, 2, 3]


def test_beta_moving_by_schedule_is_marked(digits):
    _, replay, _ = trained_replay(digits, latent_dim=2, epochs=3, beta_schedule="linear", warmup_epochs=1)
    assert [replay.beta_changed(i) for i in range(3)] == [False, True, False]  # 0.92 -> 1.0 in epoch 2, then held


@pytest.mark.parametrize("latent_dim", [2, 8])
def test_the_gif_has_one_frame_per_epoch(digits, latent_dim):
    _, replay, _ = trained_replay(digits, latent_dim=latent_dim, epochs=3)
    gif = Image.open(io.BytesIO(replay_gif(replay)))
    assert gif.format == "GIF" and gif.n_frames == 3
    gif.seek(2)
    frame = np.asarray(gif.convert("RGB"))
    assert (frame != 255).any(axis=2).mean() > 0.02  # points and images drawn, not a blank page


def test_a_long_runs_gif_keeps_as_many_frames_as_a_saved_replay(digits):
    _, replay, _ = trained_replay(digits, latent_dim=2, epochs=2)
    replay.frames = [replace(replay.frames[i % 2], epoch=i + 1) for i in range(300)]  # as a 300-epoch live run
    assert Image.open(io.BytesIO(replay_gif(replay))).n_frames == MAX_SAVED_FRAMES


def test_a_stored_replay_of_huge_expanded_frames_is_refused_before_it_is_converted():
    """A stride-0 expanded tensor is a few bytes in the file and hundreds of MB once made an array: its size is
    read from its shape and refused before numpy ever sees it."""
    payload = torch.load(SHIPPED, weights_only=True)
    (entry,) = [h for h in payload["history"] if h.get("type") == "replay"]
    for frame in entry["frames"]:
        frame["recons"] = torch.zeros(1, dtype=torch.uint8).expand(8, 1, 8000, 8000)  # 512 MB each as an array
    tracemalloc.start()
    try:
        with pytest.raises(ReplayError, match="values as a frame's recons, more than"):
            from_history(payload["history"], image_shape=(1, 8, 8))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, peak
