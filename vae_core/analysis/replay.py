"""A run's replay: after each epoch, the latent map of a fixed subset of test images, a few reconstructions and
the KL per dimension, so the map can be watched forming, epoch by epoch, during training and after.

Above two latent dimensions each epoch's map is that epoch's PCA plane, turned (an orthogonal Procrustes fit) to
match the previous epoch's: PCA's axes may swap or flip from one epoch to the next, and unaligned the picture
would jump although the codes barely moved. A replay is stored in a checkpoint's history as plain tensors and
primitives (`to_history`), so `torch.load(weights_only=True)` still reads it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from vae_core.analysis.latent import decode_points, map_points
from vae_core.config import InputError
from vae_core.data.datasets import Dataset, as_float
from vae_core.maps.projection import Projection
from vae_core.maps.ranges import padded_range

REPLAY_POINTS = 500  # test images on the replayed map: enough to see the clusters, cheap to encode each epoch
REPLAY_IMAGES = 8  # reconstructions kept per epoch
MAX_IMAGE_VALUES = 3 * 512 * 512  # per image, when the model's image shape is not given: the largest images trained here
MAX_LATENT_DIMS = 4096
MAX_SAVED_FRAMES = 120  # a longer run keeps evenly spaced epochs (the first and last among them) in its checkpoint


@dataclass
class ReplayFrame:
    epoch: int
    step: int  # steps done at the end of this epoch (where the curves' beta marks are)
    beta: float  # the KL weight in force at the epoch's end
    xy: np.ndarray  # (K, 2) float32 map positions of the replay's test images
    recons: np.ndarray  # (REPLAY_IMAGES, C, H, W) uint8 decoded means of the first test images
    kl_per_dim: list[float]  # test KL of each latent dimension, nats


@dataclass
class Replay:
    labels: np.ndarray  # (K,) of the replay's test images
    class_names: list
    originals: np.ndarray  # (REPLAY_IMAGES, C, H, W) uint8: the images the reconstructions are of
    axis_names: tuple
    frames: list[ReplayFrame] = field(default_factory=list)
    beta_changes: list = field(default_factory=list)  # [(step, new beta)] made by hand (stored with the train config)

    def beta_changed(self, i: int) -> bool:
        """Whether beta moved during frame i's epoch (by hand or by a schedule)."""
        frame = self.frames[i]
        previous = self.frames[i - 1] if i > 0 else None
        by_hand = any((previous.step if previous else 0) <= step < frame.step for step, _ in self.beta_changes)
        return by_hand or (previous is not None and not np.isclose(previous.beta, frame.beta))

    def ranges(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """One x and one y range for every frame, so the axes stay still while the points move (from each frame's
        corners: every poll and Play tick asks, and copying all frames' points for it grows with the run)."""
        corners = np.concatenate([[f.xy.min(0), f.xy.max(0)] for f in self.frames])
        return padded_range(corners[:, 0]), padded_range(corners[:, 1])


def _to_uint8(images: torch.Tensor) -> np.ndarray:
    return (images.clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def procrustes_align(xy: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """xy turned (a rotation or reflection about the origin, no scaling) to lie as close as it can to reference,
    the same points at the previous epoch: R = U V^T from the SVD of xy^T reference (Schönemann 1966)."""
    u, _, vt = np.linalg.svd(xy.astype(np.float64).T @ reference.astype(np.float64))
    return (xy @ (u @ vt)).astype(np.float32)


def replay_axis_names(latent_dim: int) -> tuple[str, str]:
    """Above 2-D each frame is its own PCA plane turned onto the last one; up to 2-D, the latent axes themselves."""
    return ("aligned PC1", "aligned PC2") if latent_dim > 2 else Projection(latent_dim=latent_dim).axis_names


def new_replay(data: Dataset, latent_dim: int, points: int = REPLAY_POINTS, images: int = REPLAY_IMAGES) -> Replay:
    """A replay with no frames yet: which test images it follows, their labels, the originals."""
    x = data.test_x[: min(images, points)]
    return Replay(
        labels=data.test_y[:points].numpy(),
        class_names=list(data.class_names),
        originals=_to_uint8(as_float(x)),
        axis_names=replay_axis_names(latent_dim),
    )


class ReplayRecorder:
    """Takes one frame at the end of each epoch, on the first REPLAY_POINTS test images (the same every epoch)."""

    def __init__(self, data: Dataset, latent_dim: int, points: int = REPLAY_POINTS, images: int = REPLAY_IMAGES):
        self.x = as_float(data.test_x[:points])  # converted once, not at every epoch
        self.y = data.test_y[:points]  # what a conditional model encodes them under
        self.replay = new_replay(data, latent_dim, points, images)
        self.images = len(self.replay.originals)

    @torch.no_grad()
    def record(self, model, epoch_event: Mapping[str, Any]) -> ReplayFrame:
        was_training = model.training
        model.eval()
        mu, _, projection, xy = map_points(model, self.x, self.y)
        if projection.is_pca and self.replay.frames:  # centred on the mean, so the turn is about the map's middle
            xy = procrustes_align(xy, self.replay.frames[-1].xy)
        recons = _to_uint8(decode_points(model, mu[: self.images], y=self.y[: self.images]))
        model.train(was_training)
        frame = ReplayFrame(
            int(epoch_event["epoch"]),
            int(epoch_event["step"]),
            float(epoch_event["beta"]),
            xy,
            recons,
            [float(v) for v in epoch_event["kl_per_dim"]],
        )
        self.replay.frames.append(frame)
        return frame


def to_history(replay: Replay, max_frames: int = MAX_SAVED_FRAMES) -> dict:
    """The replay as a checkpoint history entry: tensors and primitives only."""
    frames = thin(replay.frames, max_frames)
    return dict(
        type="replay",
        labels=torch.as_tensor(replay.labels),
        class_names=list(replay.class_names),
        originals=torch.from_numpy(replay.originals),
        axis_names=list(replay.axis_names),
        frames=[
            dict(
                epoch=f.epoch,
                step=f.step,
                beta=f.beta,
                xy=torch.from_numpy(f.xy),
                recons=torch.from_numpy(f.recons),
                kl_per_dim=list(f.kl_per_dim),
            )
            for f in frames
        ],
    )


def thin(frames: list, max_frames: int) -> list:
    """At most max_frames of them, evenly spaced, the first and the last always kept."""
    if len(frames) <= max_frames:
        return list(frames)
    keep = np.unique(np.linspace(0, len(frames) - 1, max_frames).round().astype(int))
    return [frames[i] for i in keep]


class ReplayError(InputError):
    """A checkpoint's stored replay cannot be shown; the message says why."""


def from_history(history: list, beta_changes=(), image_shape=None) -> Replay | None:
    """The replay a checkpoint's history holds, or None (a model saved before replays, or by a sweep); its beta
    changes are the checkpoint's (CheckpointMeta.beta_changes). A ReplayError when what is stored is not a
    replay this app writes: malformed, larger than a replay is kept (frames, points, images), or of images
    other than the model's (`image_shape`, when given)."""
    entry = next((h for h in history or [] if isinstance(h, dict) and h.get("type") == "replay"), None)
    if entry is None or not entry.get("frames"):
        return None
    if not isinstance(entry["frames"], list) or len(entry["frames"]) > MAX_SAVED_FRAMES:
        raise ReplayError(f"its stored replay has more than the {MAX_SAVED_FRAMES} frames a replay keeps")
    if problem := _oversized(entry, image_shape):
        raise ReplayError(f"its stored replay {problem}")
    try:
        frames = [
            ReplayFrame(
                int(f["epoch"]),
                int(f["step"]),
                float(f["beta"]),
                np.asarray(f["xy"], np.float32),
                np.asarray(f["recons"], np.uint8),
                [float(v) for v in f["kl_per_dim"]],
            )
            for f in entry["frames"]
        ]
        replay = Replay(
            np.asarray(entry["labels"]),
            [str(n) for n in entry["class_names"]],
            np.asarray(entry["originals"], np.uint8),
            tuple(map(str, entry["axis_names"])),
            frames,
            [(int(s), float(b)) for s, b in beta_changes],
        )
    except (KeyError, TypeError, ValueError):
        raise ReplayError("its stored replay is malformed: a part of it is missing or of the wrong kind") from None
    if problem := _problem(replay, image_shape):
        raise ReplayError(f"its stored replay {problem}")
    return replay


def _elements(value) -> int:
    """How many numbers a stored array holds, read from its shape alone (a tensor's, or a nested list's lengths
    along its first items), never by converting it: a small file can describe a huge array (a tensor expanded
    with stride 0, a list that repeats one list)."""
    count = 1
    while (shape := getattr(value, "shape", None)) is None:
        if not isinstance(value, (list, tuple)) or not value:
            return count * (len(value) if isinstance(value, (list, tuple)) else 1)
        count, value = count * len(value), value[0]
    return count * math.prod(shape)


def _oversized(entry: dict, image_shape) -> str | None:
    """What in a stored replay is larger than any replay this app writes, judged before anything is converted."""
    # With room to spare: what exceeds a replay a little is refused later, with what exactly is wrong; this only
    # keeps a huge array from being made at all.
    points, images = 100 * REPLAY_POINTS, 2 * REPLAY_IMAGES * (math.prod(image_shape) if image_shape else MAX_IMAGE_VALUES)
    limits = {"labels": points, "originals": images}
    frame_limits = {"xy": 2 * points, "recons": images, "kl_per_dim": MAX_LATENT_DIMS}
    for key, limit in limits.items():
        if key in entry and _elements(entry[key]) > limit:
            return f"holds {_elements(entry[key]):,} values as its {key}, more than the {limit:,} a replay keeps"
    for frame in entry["frames"]:
        for key, limit in frame_limits.items():
            if isinstance(frame, dict) and key in frame and _elements(frame[key]) > limit:
                return f"holds {_elements(frame[key]):,} values as a frame's {key}, more than the {limit:,} a replay keeps"
    return None


def _problem(replay: Replay, image_shape) -> str | None:
    """What makes a replay other than one this app writes, or None."""
    points, originals = len(replay.labels), replay.originals
    if replay.labels.ndim != 1 or not 0 < points <= REPLAY_POINTS:
        return f"follows {points} points; a replay follows 1 to {REPLAY_POINTS}"
    if originals.ndim != 4 or len(originals) > REPLAY_IMAGES or (image_shape and originals.shape[1:] != tuple(image_shape)):
        return f"holds images of shape {originals.shape}, not up to {REPLAY_IMAGES} of the model's"
    for frame in replay.frames:
        if frame.xy.shape != (points, 2) or not np.isfinite(frame.xy).all():
            return f"places epoch {frame.epoch}'s points at {frame.xy.shape} finite or not, not ({points}, 2) finite"
        if frame.recons.shape != originals.shape:
            return (
                f"has reconstructions of shape {frame.recons.shape} at epoch {frame.epoch}, not "
                f"{originals.shape} like the images they are of"
            )
    return None
