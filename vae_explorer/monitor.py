"""Monitor: the Train page's live curves and replay for a training loop of your own, drawn in the notebook.

    monitor = Monitor(model, test_images)
    monitor                                        # show it (the cell's last line), then train
    for epoch in range(epochs):
        for step, x in ...:
            ...
            monitor.log(step, recon=recon, kl=kl, beta=beta)   # nats per image, as the app's curves
        monitor.epoch_end()                        # the test terms at beta = 1 and the map of the fixed test images
    monitor.save("my.pt")                          # a checkpoint the app opens, with the curves and the replay

The history is the engine's: step and epoch events (vae_core.training.loop), and the replay
(vae_core.analysis.replay), so a saved run reads in the app as one trained there.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import anywidget
import torch
import traitlets

from ui.figures import CURVES_JS_CONSTANTS
from vae_core.analysis.replay import REPLAY_POINTS, ReplayRecorder, to_history
from vae_core.config import DataOptions
from vae_core.data.datasets import Dataset
from vae_core.maps.projection import LABEL_COLORS
from vae_core.model.checkpoint import save_checkpoint
from vae_core.model.onnx_io import HISTORY_FILE, export_onnx
from vae_core.model.vae import VAE
from vae_core.store.meta import CheckpointMeta
from vae_core.training.loop import evaluate
from vae_explorer.data import as_images
from vae_explorer.models import engine_model
from vae_explorer.scripts import widget_script

CURVES_HEIGHT = 380  # px, as the Train page's
SEND_EVERY_S = 0.5  # the curves follow log() at most twice a second, as the Train page polls: a fast loop is not slowed
TEST_IMAGES = 2000  # the epoch's test terms are measured on at most these many of the given images
MAX_CURVE_ROWS = 4000  # step rows sent to the page: more would not show on a chart a few hundred pixels wide


class Monitor(anywidget.AnyWidget):
    """Monitor(model, data): data are fixed test images (as Explorer takes them); the replay maps the first 500."""

    _esm = widget_script(
        ("canvas.js", "charts.js", "live_curves.js"),
        "monitor.js",
        constants=dict(CURVES_JS_CONSTANTS, HEIGHT=CURVES_HEIGHT),
    )

    steps = traitlets.List().tag(sync=True)  # [step, recon, loss, KL, beta] rows (ui/live_curves.py's)
    epochs = traitlets.List().tag(sync=True)  # [step, test recon, test -ELBO, test KL] rows
    frame = traitlets.Dict().tag(sync=True)  # the last epoch's replay map, as charts.js's scatter takes it

    def __init__(self, model, data, *, labels=None, likelihood: str = "bernoulli", **kwargs):
        images = as_images(data, labels)
        self.model = engine_model(model, images.image_shape, likelihood)
        self.dataset = data if isinstance(data, Dataset) else _dataset(images)
        self.recorder = ReplayRecorder(self.dataset, self.model.config.latent_dim, points=REPLAY_POINTS)
        self.history: list[dict] = []
        self.epochs_done, self._sent = 0, 0.0
        super().__init__(**kwargs)

    def log(self, step: int, recon=None, kl=None, beta=1.0) -> None:
        """One training step's terms, nats per image (numbers or one-element tensors); loss = recon + beta * KL."""
        terms = dict(recon=recon, kl=kl, beta=beta)
        missing = [name for name, value in terms.items() if value is None]
        if missing:
            raise TypeError(f"Monitor.log needs recon, kl and beta (nats per image); {' and '.join(missing)} missing.")
        recon, kl, beta = (_number(name, value, step) for name, value in terms.items())
        self.history.append(
            dict(
                type="step",
                step=int(step),
                epoch=float(self.epochs_done),
                recon=recon,
                kl=kl,
                loss=recon + beta * kl,
                beta=beta,
                samples_per_s=0.0,
            )
        )
        if time.monotonic() - self._sent > SEND_EVERY_S:
            self._push()

    def epoch_end(self) -> dict:
        """The test terms at beta = 1 and the replay's frame of this epoch, drawn; -> the epoch event."""
        last = next((e for e in reversed(self.history) if e["type"] == "step"), None)
        epoch = self.epochs_done + 1
        x, y = self.dataset.test_x[:TEST_IMAGES], self.dataset.test_y[:TEST_IMAGES]
        event = dict(
            evaluate(self.model, x, y=y if self.model.config.conditional else None),
            type="epoch",
            epoch=epoch,
            step=last["step"] if last else 0,
            beta=last["beta"] if last else 1.0,
            elapsed_s=0.0,
        )
        if not math.isfinite(event["test_loss"]):
            raise ValueError(f"The model's test loss is NaN or infinite at epoch {epoch}: training diverged.")
        self.history.append(event)
        self.epochs_done = epoch
        self.recorder.record(self.model, event)
        self._push()
        return event

    def save(self, path, overwrite: bool = False) -> Path:
        """A checkpoint (.pt) of a vae_core VAE, with its curves and replay; for another model, an ONNX model folder
        at `path` (the onnx extra), with the history (curves and replay) beside its files in history.pt."""
        history = [*self.history, to_history(self.recorder.replay)] if self.recorder.replay.frames else list(self.history)
        options = dict(dataset=self.dataset.name, class_names=list(self.dataset.class_names), data_options=self.dataset.options)
        if isinstance(self.model, VAE):
            return save_checkpoint(path, self.model, history=history, overwrite=overwrite, **options)
        if Path(path).exists() and not overwrite:
            raise FileExistsError(f"{path} already exists; choose another name or pass overwrite=True.")
        module = getattr(self.model, "module", None)  # the user's own torch module (vae_explorer.models.ModuleVAE)
        if module is None:
            raise TypeError("Monitor.save writes vae_core VAEs and torch modules; this model is an imported ONNX model.")
        was_training = module.training  # the export puts the model in eval mode; the user's loop may go on training
        folder = export_onnx(self.model, CheckpointMeta(vae_config=self.model.config, train=None, **options), path)
        module.train(was_training)
        torch.save({"history": history}, folder / HISTORY_FILE)  # read back by the app with the folder (onnx_io)
        return folder

    def _push(self) -> None:
        """The curves' rows and the last replay frame to the page."""
        steps = [[e["step"], e["recon"], e["loss"], e["kl"], e["beta"]] for e in self.history if e["type"] == "step"]
        self.steps = _thinned(steps, MAX_CURVE_ROWS)
        self.epochs = [[e["step"], e["test_recon"], e["test_loss"], e["test_kl"]] for e in self.history if e["type"] == "epoch"]
        replay = self.recorder.replay
        if replay.frames:
            self.frame = _scatter(replay)
        self._sent = time.monotonic()


def _thinned(rows: list, limit: int) -> list:
    """At most about `limit` rows, evenly strided, the last kept: a long run's curves stay a small message."""
    stride = max(1, -(-len(rows) // limit))
    return rows if stride == 1 else [*rows[:-1:stride], rows[-1]]


def _number(name: str, value, step) -> float:
    number = float(value.detach().reshape(-1)[0]) if isinstance(value, torch.Tensor) and value.numel() == 1 else value
    if not isinstance(number, (int, float)):
        raise TypeError(f"Monitor.log's {name} must be a number or a one-element tensor; got {type(value).__name__}.")
    if not math.isfinite(number):
        raise ValueError(f"Monitor.log got {name} = {number} at step {step}: training diverged.")
    return float(number)


def _dataset(images) -> Dataset:
    """Images given as a tensor or a torchvision dataset, as the engine's Dataset: they are the test split."""
    # named "notebook": the app finds no such data, so it opens the model with its replay and a map without points
    options = DataOptions("notebook")
    return Dataset("notebook", images.x, images.labels, images.x, images.labels, list(images.class_names), options)


def _scatter(replay) -> dict:
    """The replay's last frame as charts.js's scatter draws it, on axes that hold every frame so far."""
    frame, (x_range, y_range) = replay.frames[-1], replay.ranges()
    labels = [int(v) for v in replay.labels]
    present = sorted(set(labels))
    names = [replay.class_names[k] if k < len(replay.class_names) else str(k) for k in present]
    return dict(
        kind="scatter",
        height=320,
        epoch=frame.epoch,
        x=[float(v) for v in frame.xy[:, 0]],
        y=[float(v) for v in frame.xy[:, 1]],
        groups=[present.index(k) for k in labels],
        names=names,
        colors=[LABEL_COLORS[k % len(LABEL_COLORS)] for k in present],
        x_range=list(x_range),
        y_range=list(y_range),
        x_title=replay.axis_names[0],
        y_title=replay.axis_names[1],
    )
