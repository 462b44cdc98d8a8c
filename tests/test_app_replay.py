"""Explore replays a saved model's training from its checkpoint (the Train page's replay: test_app_train.py)."""

import io
import subprocess
import sys

import pytest
import torch
from PIL import Image
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from conftest import ROOT, scrubber
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
    return [s for s in at.select_slider if s.label == "Epoch of the replay"]


def test_explore_replays_a_saved_models_training(ckpt_dir, monkeypatch):
    at = explore(ckpt_dir, monkeypatch, "replayed")
    assert not at.exception and not replay_sliders(at)  # off until asked for: Explore's first paint does not pay
    at.toggle(key="explore_replay").set_value(True).run()
    assert not at.exception
    assert scrubber(at).value == 4 and any(m.value.startswith("**Epoch 4**") for m in at.markdown)
    scrubber(at).set_value(2).run()
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


def resend(at, state: WidgetState) -> None:
    """Run the app with the page's widget states plus a widget's state sent earlier, as a page does whose message
    left before it saw the server's last answer."""
    states = at._tree.get_widget_states()
    states.widgets.append(state)
    at._run(states)


def button(at, label: str):
    (found,) = [b for b in at.button if b.label == label]
    return found


def test_a_second_copy_of_a_pause_click_does_not_play_again(ckpt_dir, monkeypatch):
    """Streamlit's page can send one click twice (a fragment's timed rerun that fires between the click and the
    click's own message carries it too). By the second copy the page has redrawn with Play: the copy must not
    reach it. Before Play and Pause were two widgets, it did, and the replay played on."""
    at = explore(ckpt_dir, monkeypatch, "replayed")
    at.toggle(key="explore_replay").set_value(True).run()
    button(at, "Play").click().run()
    pause = button(at, "Pause")
    pause.click().run()
    assert button(at, "Play")
    resend(at, WidgetState(id=pause.id, trigger_value=True))
    assert not at.exception and button(at, "Play")  # still paused


def test_a_stale_scrubber_value_does_not_move_the_replay(ckpt_dir, monkeypatch):
    """A message the page sent before it saw the server move the scrubber carries the scrubber's older value. It
    must not read as a move by hand: it held the Train page's replay on an old frame under load."""
    at = explore(ckpt_dir, monkeypatch, "replayed")
    at.toggle(key="explore_replay").set_value(True).run()
    button(at, "Play").click().run()  # from the first epoch, a tick at each run
    stale = scrubber(at)._widget_state  # epoch 2, as a page sends it that has not seen the next ticks
    at.run().run()  # epochs 3 and 4, the last: playing stops there
    assert button(at, "Play") and scrubber(at).value == 4
    resend(at, stale)
    assert not at.exception and scrubber(at).value == 4
    assert any(m.value.startswith("**Epoch 4**") for m in at.markdown)
    scrubber(at).set_value(1).run()  # a move by hand still moves it
    assert any(m.value.startswith("**Epoch 1**") for m in at.markdown)
