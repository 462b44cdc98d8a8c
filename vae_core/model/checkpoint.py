"""Checkpoints: plain dicts of tensors and primitives, written atomically, read with weights_only=True.

weights_only=True means loading a file can never run code from it; anything it cannot read
(a corrupt file, a pickle of arbitrary objects, another program's checkpoint) becomes a CheckpointError.
"""

from __future__ import annotations

import datetime as dt
import io
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from vae_core.config import DataOptions, InputError, TrainConfig
from vae_core.model.onnx_io import OnnxModelError, OnnxVAE, load_onnx_folder
from vae_core.model.vae import VAE
from vae_core.store.atomic import write_atomic
from vae_core.store.files import SUFFIX, ListedCheckpoint, checkpoint_files, remove_stale_temp_files, write_failure
from vae_core.store.meta import CheckpointMeta, MetadataError

FORMAT = "vae-latent-explorer"
VERSION = 1
RESUME_KEYS = ("epochs_done", "steps_done", "optimizer", "shuffle_rng", "torch_rng")


class CheckpointError(Exception):
    """A checkpoint could not be written or read; the message says which file and why."""


def safe_checkpoint_path(folder, name: str) -> Path:
    """folder/NAME.pt for a user-typed name, reduced to letters, digits, '.', '_' and '-' so it cannot
    leave the folder ("../x" becomes "x") or hide ("./.x" becomes "x")."""
    stem = name.strip()
    stem = stem[: -len(SUFFIX)] if stem.endswith(SUFFIX) else stem
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-_")[:64]
    if not stem:
        raise CheckpointError(f"{name!r} is not a usable checkpoint name: use letters, digits, '.', '_' or '-'.")
    return Path(folder) / f"{stem}{SUFFIX}"


def save_checkpoint(
    path,
    model: VAE,
    *,
    dataset: str,
    train_config: TrainConfig | None = None,
    beta_changes=(),
    history: list | None = None,
    metrics: dict | None = None,
    class_names: list | None = None,
    data_options: DataOptions | dict | None = None,
    overwrite: bool = False,
    resume_state: ResumeState | None = None,
) -> Path:
    """Write the checkpoint to `path` atomically (vae_core.store.atomic): a temp file in the same folder, then a rename.

    A reader never sees half a file, and with overwrite=False an existing file is never replaced. With a
    resume_state (the optimizer's state and the random generators' at the last epoch's end) it can be trained
    further (`train --resume`).
    """
    path = Path(path)
    if isinstance(data_options, dict):
        data_options = DataOptions.from_dict(data_options)
    meta = CheckpointMeta(
        dataset=str(dataset),
        vae_config=model.config,
        train=train_config,
        beta_changes=tuple(beta_changes),
        metrics=dict(metrics or {}),
        history=list(history or []),
        class_names=list(class_names or []),
        data_options=data_options or DataOptions(str(dataset)),
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    payload = dict(
        format=FORMAT,
        version=VERSION,
        **meta.to_payload(),
        model_state={k: v.detach().cpu() for k, v in model.state_dict().items()},
    )
    if resume_state is not None and resume_state.epochs_done:
        payload["resume_state"] = resume_state.to_payload()
    try:  # a full disk is an OSError from the write (torch.save to the file raises a RuntimeError): bytes first
        write_atomic(path, serialized(payload), fsync=True, overwrite=overwrite)
    except FileExistsError:
        raise CheckpointError(f"{path} already exists; choose another name or allow overwriting.") from None
    except OSError as err:  # a full disk, a read-only folder: the model is still in memory, to be saved elsewhere
        raise CheckpointError(write_failure(err, f"the checkpoint {path.name}", path.parent)) from err
    return path


def serialized(payload: dict) -> bytes:
    """The checkpoint file's bytes (a few MB at most: the models here are small)."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def read_resume_state(path) -> ResumeState:
    """What training a saved model further needs; a CheckpointError when the file was saved without it."""
    if Path(path).is_dir():
        raise CheckpointError(
            f"{path} is an imported model (ONNX): it has no training history or optimizer state "
            "here, so it cannot be trained further; it can be explored, sampled and compared."
        )
    payload = read_payload(path)
    stored = payload.get("resume_state")
    if not isinstance(stored, dict):
        raise CheckpointError(
            f"{path} was saved without its optimizer state (checkpoints saved before this version, "
            "and runs stopped before their last epoch, have none), so it cannot be trained "
            "further exactly: train a new model, or retrain this one to get a file that can."
        )
    try:
        state = ResumeState.from_payload(stored)
        if state.epochs_done:  # its moments must fit the model's parameters, or training would fail on its first step
            state.check_fits(_model_of(path, payload)[0])  # from the payload read above: the file is read once
    except InputError as err:
        raise CheckpointError(f"{path}: its optimizer state is damaged ({err}).") from err
    return state


def load_checkpoint(path, device: str | torch.device = "cpu") -> tuple[VAE | OnnxVAE, CheckpointMeta]:
    """-> (model in eval mode, its metadata). A model folder (encoder.onnx, decoder.onnx, model.json) is run by
    onnxruntime on the CPU (vae_core.model.onnx_io); a folder refused for safety is a CheckpointError with the reason."""
    if Path(path).is_dir():
        try:
            return load_onnx_folder(path)
        except OnnxModelError as err:
            raise CheckpointError(f"{path}: {err}") from None
    model, meta = _model_of(path, read_payload(path))
    return model.to(device).eval(), meta


def _model_of(path, payload: dict) -> tuple[VAE, CheckpointMeta]:
    """The checkpoint's model, on the CPU, and its metadata; a CheckpointError for weights that do not fit or are not
    finite."""
    meta = read_meta(path, payload)
    model = VAE(meta.vae_config)
    if problem := weights_problem(model.state_dict(), payload["model_state"]):
        raise CheckpointError(f"{path}: its weights do not match its stored model settings ({problem}).")
    model.load_state_dict(payload["model_state"])
    if not all(torch.isfinite(p).all() for p in model.state_dict().values() if p.is_floating_point()):
        raise CheckpointError(
            f"{path}: the model holds non-finite weights (NaN or infinite), so it cannot encode "
            "or decode anything; retrain it, or use a checkpoint saved before it diverged."
        )
    return model, meta


def read_meta(path, payload: dict) -> CheckpointMeta:
    """The checkpoint's metadata record, or a CheckpointError that names the file and what is wrong."""
    try:
        return CheckpointMeta.from_payload(payload, str(path))
    except MetadataError as err:
        raise CheckpointError(f"{path}: {err}.") from None


def read_payload(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file.")
    try:
        # mmap: tensors are read from the file as they are used, so a large history (a replay) costs memory
        # only for what is shown, and the file's pages are shared by every copy the caches hold
        payload = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as err:  # weights_only refused what the pickle asked to build
        raise CheckpointError(
            f"{path}: it holds Python objects that could run code when loaded, so it was refused "
            "(checkpoints of this app hold only tensors and plain values)."
        ) from err
    except Exception as err:  # truncated/corrupt zip, not a torch file: torch's own text names its internals
        raise CheckpointError(f"{path}: not a readable checkpoint (it is truncated, damaged or not a PyTorch file).") from err
    # compared only when of the right kind: a tensor compared with a string or int is a tensor, with no truth value
    if not isinstance(payload, dict) or not (isinstance(payload.get("format"), str) and payload["format"] == FORMAT):
        raise CheckpointError(f"{path}: not a checkpoint of this app (no '{FORMAT}' format marker).")
    version = payload.get("version")
    if not (type(version) is int and version == VERSION):
        said = f"{version!r:.20}" if type(version) in (int, str) else "unknown"
        raise CheckpointError(f"{path}: checkpoint format version {said}, this app reads version {VERSION}.")
    missing = {"model_state", "vae_config", "dataset"} - payload.keys()
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {', '.join(sorted(missing))}.")
    return payload


def list_checkpoints(folder) -> list[ListedCheckpoint]:
    """Every *.pt file in `folder`, sorted by name; unreadable ones carry the reason instead of meta."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    remove_stale_temp_files(folder)
    infos = []
    for path in checkpoint_files(folder):
        try:
            _, meta = load_checkpoint(path)
            infos.append(ListedCheckpoint(str(path), meta))
        except CheckpointError as err:
            infos.append(ListedCheckpoint(str(path), None, str(err)))
    return infos


def weights_problem(expected: dict, stored) -> str | None:
    """Why stored weights cannot be loaded into a model whose state dict is `expected`, in this app's words (the
    tensors missing, extra, or of another shape or kind: a few named), or None when they can."""
    if not isinstance(stored, dict):
        return "they are not a table of tensors"
    named = lambda names: ", ".join(repr(str(n)[:60]) for n in list(names)[:3]) + (" …" if len(names) > 3 else "")
    missing = [k for k in expected if k not in stored]
    extra = [k for k in stored if k not in expected]
    wrong = [
        k
        for k, v in expected.items()
        if k in stored
        and not (
            isinstance(stored[k], torch.Tensor)
            and stored[k].shape == v.shape
            and stored[k].is_floating_point() == v.is_floating_point()
        )
    ]
    parts = [
        f"{what} {named(names)}"
        for what, names in (("missing", missing), ("not of this model", extra), ("of another shape or kind", wrong))
        if names
    ]
    return "; ".join(parts) or None


@dataclass
class ResumeState:
    """Where a run stands at the end of an epoch, beside its weights: what training on needs to continue as if it
    had never stopped (with the same seed, on the CPU, the same weights to float rounding)."""

    epochs_done: int = 0
    steps_done: int = 0
    optimizer: dict | None = None  # Adam.state_dict()
    shuffle_rng: torch.Tensor | None = None  # the batch order's generator
    torch_rng: torch.Tensor | None = None  # torch's global generator: the reparameterisation noise

    def to_payload(self) -> dict:
        return dict(
            epochs_done=self.epochs_done,
            steps_done=self.steps_done,
            optimizer=self.optimizer,
            shuffle_rng=self.shuffle_rng,
            torch_rng=self.torch_rng,
        )

    @classmethod
    def from_payload(cls, payload: dict) -> ResumeState:
        """The stored state, checked for the shapes training on relies on; an InputError says what is wrong."""
        missing = [key for key in RESUME_KEYS if key not in payload]
        if missing:
            raise InputError(f"it lacks {', '.join(missing)}")
        if not all(type(payload[key]) is int for key in RESUME_KEYS[:2]):
            raise InputError("its epoch and step counts are not whole numbers")
        state = cls(
            int(payload["epochs_done"]),
            int(payload["steps_done"]),
            payload["optimizer"],
            payload["shuffle_rng"],
            payload["torch_rng"],
        )
        if state.epochs_done < 0 or state.steps_done < 0:
            raise InputError(f"it counts {state.epochs_done} epochs and {state.steps_done} steps done")
        if not state.epochs_done:  # nothing to go on from yet: the optimizer and generators start afresh
            return state
        optimizer = state.optimizer
        moments = [] if not isinstance(optimizer, dict) else [optimizer.get("exp_avg"), optimizer.get("exp_avg_sq")]
        if not (
            isinstance(optimizer, dict)
            and type(optimizer.get("steps")) is int
            and optimizer["steps"] >= 0  # a negative count makes the first update divide by zero
            and all(isinstance(m, list) and all(isinstance(x, torch.Tensor) for x in m) for m in moments)
        ):
            raise InputError("its optimizer state is not the steps and moment tensors training stores")
        if not all(isinstance(g, torch.Tensor) and g.dtype == torch.uint8 for g in (state.shuffle_rng, state.torch_rng)):
            raise InputError("its random generators' states are not the byte tensors training stores")
        return state

    def check_fits(self, model: torch.nn.Module) -> None:
        """An InputError unless the optimizer's moments have the shapes of `model`'s parameters, in order."""
        shapes = [tuple(p.shape) for p in model.parameters()]
        optimizer = self.optimizer or {}
        if any([tuple(t.shape) for t in optimizer.get(key, [])] != shapes for key in ("exp_avg", "exp_avg_sq")):
            raise InputError("its optimizer's moments are for parameters of other shapes than the model's")
