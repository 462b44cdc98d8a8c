"""Cached loading of checkpoints, datasets and encoded points, and the sidebar model picker.

Models and datasets are cached as resources (one shared object); the map's points as data. Every cache
key carries the checkpoint's mtime, so a file saved again under the same name is picked up.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from vae_core import DatasetError, list_checkpoints, load_checkpoint
from vae_core.data import load_from_options
from vae_core.latent import Projection, decode_points, map_points

from ui.geometry import padded_range

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHECKPOINT = "digits-2d"
DATA_ROOT = os.environ.get("VAE_EXPLORER_DATA", "data")  # where MNIST-like datasets and uploads are kept


def _folder_signature(folder: Path) -> tuple:
    if not folder.is_dir():
        return ()
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.glob("*.pt")))


@st.cache_data(show_spinner=False, max_entries=4)
def _scan(folder: str, signature: tuple) -> list[dict]:
    rows = []
    for info in list_checkpoints(folder):
        row = dict(name=info.name, path=str(info.path), mtime=info.path.stat().st_mtime_ns, error=info.error)
        if info.ok:
            meta = info.meta
            row.update(dataset=meta["dataset"], latent_dim=meta["vae_config"]["latent_dim"],
                       arch=meta["vae_config"]["arch"], beta=meta["train_config"].get("beta"),
                       test_loss=meta["metrics"].get("test_loss"), test_recon=meta["metrics"].get("test_recon"),
                       test_kl=meta["metrics"].get("test_kl"))
        rows.append(row)
    return rows


def checkpoint_dir() -> Path:
    """Where checkpoints are listed and saved: checkpoints/ unless VAE_EXPLORER_CHECKPOINTS says otherwise."""
    return Path(os.environ.get("VAE_EXPLORER_CHECKPOINTS", ROOT / "checkpoints"))


def checkpoints() -> list[dict]:
    """Every checkpoint file in the folder: usable ones with a summary, unusable ones with `error`."""
    folder = checkpoint_dir()
    return _scan(str(folder), _folder_signature(folder))


def describe(row: dict) -> str:
    beta = "?" if row.get("beta") is None else f"{row['beta']:g}"
    loss = "" if row.get("test_loss") is None else f" · loss {row['test_loss']:.1f}"
    return f"{row['name']} · {Path(row['dataset']).name} · z={row['latent_dim']} · β={beta}{loss}"


def pick_next_run(name: str) -> None:
    """Preselect a checkpoint in the sidebar from the next run on (its widget may already be drawn now)."""
    st.session_state["_pick_checkpoint"] = name


def checkpoint_picker() -> dict | None:
    """Sidebar: pick a usable checkpoint (the default preselected), list unusable ones with their reason."""
    rows = checkpoints()
    usable = {r["name"]: r for r in rows if r["error"] is None}
    if st.session_state.get("_pick_checkpoint") in usable:
        st.session_state["checkpoint"] = st.session_state.pop("_pick_checkpoint")
    with st.sidebar:
        st.subheader("Model")
        if not usable:
            st.error(f"No usable checkpoint in `{checkpoint_dir()}`. Train one on the Train page, "
                     "or rebuild the shipped ones with `make checkpoints`.")
        else:
            if st.session_state.get("checkpoint") not in usable:
                st.session_state["checkpoint"] = DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT in usable else next(iter(usable))
            st.selectbox("Checkpoint", list(usable), key="checkpoint", format_func=lambda n: describe(usable[n]),
                         help=f"Files in {checkpoint_dir()}")
        for row in rows:
            if row["error"] is not None:
                st.warning(f"**{row['name']}** is unusable: {row['error']}", icon=":material/warning:")
    return usable.get(st.session_state.get("checkpoint"))


def selected_checkpoint() -> dict | None:
    name = st.session_state.get("checkpoint")
    return next((r for r in checkpoints() if r["name"] == name and r["error"] is None), None)


def selected_model(purpose: str):
    """The sidebar's checkpoint row, its model, metadata and map data; stops the page when there is none."""
    row = selected_checkpoint()
    if row is None:
        st.info(f"No model to {purpose}: pick or train a checkpoint (see the sidebar).")
        st.stop()
    model, meta = load_model(row["path"], row["mtime"])
    return row, model, meta, map_data(row["path"], row["mtime"])


def pick_latent(checkpoint: str, slot: str, z, label: str) -> None:
    """Remember a latent point picked on the Explore map as endpoint "A" or "B" for the Generate page."""
    st.session_state.setdefault(f"picked:{checkpoint}", {})[slot] = dict(z=[float(v) for v in z], label=label)


def picked_latents(checkpoint: str) -> dict:
    """{"A": {"z": [...], "label": ...}, "B": ...}: the points picked on Explore for this checkpoint."""
    return st.session_state.get(f"picked:{checkpoint}", {})


@st.cache_resource
def job_registry():
    """One registry of background training runs per server, shared by all sessions."""
    from ui.jobs import JobRegistry

    return JobRegistry()


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def load_model(path: str, mtime: int):
    return load_checkpoint(path)


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=4)
def _load_data(options_json: str):
    return load_from_options(json.loads(options_json), download=False)  # never download silently


def dataset_for(meta: dict):
    """The checkpoint's dataset with its training split, or (None, reason) when it is not on this machine."""
    options = meta.get("data_options") or {"name": meta["dataset"]}
    try:
        return _load_data(json.dumps(options, sort_keys=True)), None
    except DatasetError as err:
        return None, str(err)


@dataclass
class MapData:
    xy: np.ndarray          # (N, 2) map positions of the test images (empty without data)
    mu: np.ndarray          # (N, D) posterior means
    logvar: np.ndarray      # (N, D)
    labels: np.ndarray      # (N,)
    class_names: list
    projection: Projection
    x_range: tuple
    y_range: tuple
    missing_data: str | None  # why no points are drawn

    def label_name(self, label: int) -> str:
        """A label's class name (its number when the dataset names no classes)."""
        label = int(label)
        return self.class_names[label] if label < len(self.class_names) else str(label)


@st.cache_data(show_spinner="Encoding the test set…", max_entries=8)
def map_data(path: str, mtime: int) -> MapData:
    model, meta = load_model(path, mtime)
    data, reason = dataset_for(meta)
    if data is not None:
        mu, logvar, projection, xy = map_points(model, data.test_x)
        return MapData(xy, mu, logvar, data.test_y.numpy(), data.class_names, projection,
                       padded_range(xy[:, 0]), padded_range(xy[:, 1]), None)
    # No data here: lay the map out from the model's own samples, encoded back (its aggregate posterior).
    prior = torch.randn(2000, model.config.latent_dim, generator=torch.Generator().manual_seed(0))
    mu, _, projection, own = map_points(model, decode_points(model, prior))
    d = mu.shape[1]
    return MapData(np.zeros((0, 2), np.float32), np.zeros((0, d), np.float32), np.zeros((0, d), np.float32),
                   np.zeros(0, np.int64), list(meta.get("class_names") or []), projection,
                   padded_range(own[:, 0]), padded_range(own[:, 1]), reason)
