"""Explore replays a saved model's training from its checkpoint (the Train page's replay: test_app_train.py)."""

import io
import subprocess
import sys

import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from vae_core import VAE, TrainConfig, VAEConfig, load_dataset, save_run

APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def ckpt_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checkpoints")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "vae_core",
            "train",
            "--data",
            "digits",
            "--epochs",
            "4",
            "--latent-dim",
            "2",
            "--hidden",
            "64",
            "--quiet",
            "--out",
            str(folder / "replayed.pt"),
        ],
        cwd=ROOT,
        check=True,
    )
    torch.manual_seed(0)  # and one saved without a replay, as models were before replays were kept
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,)))
    save_run(folder / "old.pt", model, load_dataset("digits"), TrainConfig(epochs=1), [])
    return folder


def explore(ckpt_dir, monkeypatch, name: str) -> AppTest:
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(ckpt_dir))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox(key="checkpoint").set_value(name).run()
    return at


def replay_sliders(at) -> list:
    return [s for s in at.select_slider if s.key.endswith("_epoch")]


def test_explore_replays_a_saved_models_training(ckpt_dir, monkeypatch):
    at = explore(ckpt_dir, monkeypatch, "replayed")
    assert not at.exception and not replay_sliders(at)  # off until asked for: Explore's first paint does not pay
    at.toggle(key="explore_replay").set_value(True).run()
    assert not at.exception
    key = "explore_replay_replayed"
    assert at.select_slider(key=f"{key}_epoch").value == 4 and any(m.value.startswith("**Epoch 4**") for m in at.markdown)
    at.select_slider(key=f"{key}_epoch").set_value(2).run()
    assert any(m.value.startswith("**Epoch 2**") for m in at.markdown)
    assert "GIF" in [b.proto.label for b in at.get("download_button")]  # beside the page's HTML download


def test_the_replay_gif_downloads_with_every_epoch(ckpt_dir):
    from ui.replay import replay_gif
    from vae_core import load_checkpoint
    from vae_core.analysis.replay import from_history

    replay = from_history(load_checkpoint(ckpt_dir / "replayed.pt")[1].history)
    assert Image.open(io.BytesIO(replay_gif(replay))).n_frames == 4


def test_a_model_saved_without_a_replay_says_so(ckpt_dir, monkeypatch):
    at = explore(ckpt_dir, monkeypatch, "old")
    at.toggle(key="explore_replay").set_value(True).run()
    assert not at.exception and not replay_sliders(at)
    assert any("saved without a replay" in c.value for c in at.caption)


def test_play_and_pause_do_what_they_say_when_streamlit_delivers_a_click_twice(monkeypatch):
    """Under load Streamlit can run a button's callback twice for one click (the click's run asks for an app rerun,
    which ran it again): Pause must still pause, and Play restart from the first epoch only once."""
    import ui.replay as replay

    state: dict = {}
    monkeypatch.setattr(replay.st, "session_state", state)
    key, n = "replay", 10
    playing, frame = replay._playing_key(key), replay._frame_key(key)
    state[frame] = n  # paused on the last epoch, as the replay opens
    for _ in range(2):  # Play
        replay._set_playing(key, n, True)
    assert state[playing] is True and state[frame] == 1
    state[frame] = 5  # it played on to the fifth epoch
    for _ in range(2):  # Pause
        replay._set_playing(key, n, False)
    assert state[playing] is False and state[frame] == 5
    replay._set_playing(key, n, True)  # Play again from where it stopped
    assert state[playing] is True and state[frame] == 5
