"""Cached loading of checkpoints, datasets and latent maps, the sidebar model picker, and every session-state
key the pages share, each behind a named accessor so no page reads or writes a raw key.

Models and datasets are cached as resources (one shared object); the maps as data. Every cache key carries
the checkpoint's mtime, so a file saved again under the same name is picked up.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ui.geometry import Selection
from vae_core import map_cache
from vae_core.files import CheckpointInfo, checkpoint_files, dataset_signature, sweep_stale_temp_files
from vae_core.maps import MapData

# Nothing here imports torch at import time: the sidebar's list and the Explore map come from each checkpoint's
# cache (vae_core.map_cache), so the start page draws its map before torch is loaded. Model, data and encoding
# are imported where they are needed.

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHECKPOINT = "digits-2d"
DATA_ROOT = os.environ.get("VAE_EXPLORER_DATA", "data")  # where MNIST-like datasets and uploads are kept

# Session-state keys. Widget keys ("checkpoint", "gen_seed") are also what their widgets are created with.
CHECKPOINT = "checkpoint"            # the sidebar's selectbox: the selected checkpoint's name
NEXT_CHECKPOINT = "_pick_checkpoint"  # preselected in the sidebar on the next run (its widget is drawn already)
PRIOR_SEED = "gen_seed"              # Generate's prior-sample seed input
DRAWN_LAYOUT = "_drawn_layout"      # (run, layout) the Train page was last drawn for whole: a change reruns it
SESSION_RUNS = "_runs"               # ids of the runs this session started, oldest first
SWEEP_RUNS = "_sweep"                # ids of the runs of the sweep this session started on Compare
EXPLORE_LINK = "_explore_link"       # the query parameters Explore last wrote (ui.links)
PROJECTION = "explore_proj"          # Explore's map projection control
TRAIN_FORM = ("train_source", "train_image_size", "train_channels", "train_arch", "train_latent_dim", "train_hidden",
              "train_test_share", "train_likelihood", "train_epochs", "train_batch", "train_lr", "train_seed", "train_beta",
              "train_schedule", "train_warmup", "train_device")  # the Train page's controls, kept across pages


@dataclass(frozen=True)
class CheckpointRow:
    """One checkpoint file as the sidebar and Compare list it; `error` says why an unusable one is unusable."""
    name: str
    path: str
    mtime: int
    error: str | None = None
    dataset: str = ""
    latent_dim: int = 0
    image_shape: tuple = ()      # (C, H, W) of its images
    arch: str = ""
    likelihood: str = "bernoulli"
    beta: float | None = None
    beta_path: tuple = ()        # (start, ..., end) when beta was changed during training, else ()
    seed: int | None = None
    group: str = ""              # the sub-folder a sweep wrote it to, "" for the folder itself
    test_loss: float | None = None
    test_recon: float | None = None
    test_kl: float | None = None

    @property
    def beta_text(self) -> str:
        """"1", or "1 → 4 → 0.1" for a run whose beta was changed while it trained."""
        if self.beta_path:
            return " → ".join(f"{b:g}" for b in self.beta_path)
        return "?" if self.beta is None else f"{self.beta:g}"

    def describe(self) -> str:
        beta = self.beta_text
        loss = "" if self.test_loss is None else f" · loss {self.test_loss:.1f}"
        return f"{self.name} · z={self.latent_dim} · β={beta}{loss}"  # short: the sidebar is narrow


@dataclass(frozen=True)
class SelectedModel:
    """The sidebar's checkpoint with its model, metadata and latent map of the test set."""
    row: CheckpointRow
    model: object            # vae_core.VAE
    meta: dict
    map: MapData


def _folder_signature(folder: Path) -> tuple:
    if not folder.is_dir():
        return ()
    return tuple((str(p.relative_to(folder)), p.stat().st_mtime_ns, p.stat().st_size)
                 for p in sorted([*folder.glob("*.pt"), *folder.glob("*/*.pt")]))


@st.cache_data(show_spinner=False, max_entries=4)
def _scan(folder: str, signature: tuple) -> list[CheckpointRow]:
    """The folder's checkpoints and those one folder down (a sweep's: named "<sweep>/<run>", grouped)."""
    folder = Path(folder)
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    rows = []
    for sub in [folder, *subfolders]:
        group = "" if sub == folder else sub.name
        sweep_stale_temp_files(sub)
        for info in map(_summary, checkpoint_files(sub)):
            rows.append(_row(info, f"{group}/{info.name}" if group else info.name, group))
    return rows


def _summary(path: Path) -> CheckpointInfo:
    """A checkpoint's metadata for the lists: from its cache, else read from the file (torch) and cached."""
    summary = map_cache.read_summary(path)
    if summary is not None:
        return CheckpointInfo(path, summary)
    from vae_core import CheckpointError, load_checkpoint

    try:
        _, meta = load_checkpoint(path)
    except CheckpointError as err:
        return CheckpointInfo(path, None, str(err))
    map_cache.write(path, meta)
    return CheckpointInfo(path, meta)


def _row(info, name: str, group: str) -> CheckpointRow:
    mtime = info.path.stat().st_mtime_ns
    if not info.ok:
        return CheckpointRow(name, str(info.path), mtime, error=info.error)
    meta, metrics, train_config = info.meta, info.meta.get("metrics") or {}, info.meta.get("train_config") or {}
    return CheckpointRow(
        name, str(info.path), mtime, dataset=meta["dataset"], latent_dim=meta["vae_config"]["latent_dim"],
        image_shape=tuple(meta["vae_config"]["image_shape"]),
        arch=meta["vae_config"]["arch"], likelihood=meta["vae_config"].get("likelihood", "bernoulli"),
        beta=train_config.get("beta"), beta_path=_beta_path(train_config), seed=train_config.get("seed"), group=group,
        test_loss=metrics.get("test_loss"), test_recon=metrics.get("test_recon"), test_kl=metrics.get("test_kl"))


def _beta_path(train_config: dict) -> tuple:
    changes = train_config.get("beta_changes") or []
    return (train_config.get("beta_start"), *(beta for _, beta in changes)) if changes else ()


def uploads_dir() -> Path:
    """Where uploaded zips are unpacked."""
    return Path(DATA_ROOT) / "uploads"


def dataset_label(dataset: str) -> str:
    """A dataset as a person should read it: no server paths (see ui.uploads.display_name)."""
    from ui.uploads import display_name

    return display_name(dataset, uploads_dir())


def checkpoint_dir() -> Path:
    """Where checkpoints are listed and saved: checkpoints/ unless VAE_EXPLORER_CHECKPOINTS says otherwise."""
    return Path(os.environ.get("VAE_EXPLORER_CHECKPOINTS", ROOT / "checkpoints"))


def checkpoints() -> list[CheckpointRow]:
    """Every checkpoint file in the folder: usable ones with a summary, unusable ones with `error`."""
    folder = checkpoint_dir()
    return _scan(str(folder), _folder_signature(folder))


def checkpoint_name() -> str | None:
    """The name of the checkpoint selected in the sidebar."""
    return st.session_state.get(CHECKPOINT)


def pick_next_run(name: str) -> None:
    """Preselect a checkpoint in the sidebar from the next run on (its widget may already be drawn now)."""
    st.session_state[NEXT_CHECKPOINT] = name


def follow_model_link(usable: dict) -> None:
    """A new `?model=NAME` in the URL (a shared link, not the URL this session wrote) selects that model; a name
    that is not here is said on the page, and the sidebar's choice stays."""
    linked = st.query_params.get("model")
    if linked is None or linked == written_link().get("model"):
        return
    if linked in usable:
        st.session_state[CHECKPOINT] = linked
    else:
        st.warning(f"There is no usable model named “{linked}” here; showing "
                   f"{st.session_state.get(CHECKPOINT) or DEFAULT_CHECKPOINT} instead.", icon=":material/link_off:")
    remember_written_link({**written_link(), "model": linked})


def written_link() -> dict:
    """The Explore query parameters this session last wrote: a URL that differs is a link someone opened."""
    return st.session_state.get(EXPLORE_LINK, {})


def remember_written_link(params: dict) -> None:
    st.session_state[EXPLORE_LINK] = dict(params)


def checkpoint_picker() -> CheckpointRow | None:
    """Sidebar: pick a usable checkpoint (the default preselected), list unusable ones with their reason."""
    rows = checkpoints()
    usable = {r.name: r for r in rows if r.error is None}
    follow_model_link(usable)
    if st.session_state.get(NEXT_CHECKPOINT) in usable:
        st.session_state[CHECKPOINT] = st.session_state.pop(NEXT_CHECKPOINT)
    with st.sidebar:
        st.subheader("Model")
        if not usable:
            st.error(f"No usable checkpoint in `{checkpoint_dir()}`. Train one on the Train page, "
                     "or rebuild the shipped ones with `make checkpoints`.")
        else:
            if checkpoint_name() not in usable:
                st.session_state[CHECKPOINT] = DEFAULT_CHECKPOINT if DEFAULT_CHECKPOINT in usable else next(iter(usable))
            st.selectbox("Checkpoint", list(usable), key=CHECKPOINT, format_func=lambda n: usable[n].describe(),
                         help=f"Files in {checkpoint_dir()}")
        for row in rows:
            if row.error is not None:
                st.warning(f"**{row.name}** is unusable: {row.error}", icon=":material/warning:")
    return usable.get(checkpoint_name())


def selected_row(purpose: str) -> CheckpointRow:
    """The sidebar's checkpoint (its summary, no model loaded); stops the page when there is none."""
    row = next((r for r in checkpoints() if r.name == checkpoint_name() and r.error is None), None)
    if row is None:
        st.info(f"No model to {purpose}: pick or train a checkpoint (see the sidebar).")
        st.stop()
    return row


def selected_model(purpose: str) -> SelectedModel:
    """The sidebar's checkpoint, its model, metadata and map; stops the page when there is none."""
    row = selected_row(purpose)
    model, meta = load_model(row.path, row.mtime)
    return SelectedModel(row, model, meta, map_data(row.path, row.mtime))


def pick_latent(checkpoint: str, slot: str, z, label: str) -> None:
    """Remember a latent point picked on the Explore map as endpoint "A" or "B" for the Generate page."""
    st.session_state.setdefault(f"picked:{checkpoint}", {})[slot] = dict(z=[float(v) for v in z], label=label)
    st.toast(f"{label[0].upper() + label[1:]} is now {slot} on the Generate page.", icon=":material/check:")


def picked_latents(checkpoint: str) -> dict:
    """{"A": {"z": [...], "label": ...}, "B": ...}: the points picked on Explore for this checkpoint."""
    return st.session_state.get(f"picked:{checkpoint}", {})


def map_view(checkpoint: str, projection: str) -> str:
    """One map of one model: a selection belongs to it (a point of the UMAP map is not one of the PCA map)."""
    return checkpoint if projection == "pca" else f"{checkpoint}|{projection}"


def map_chart_key(checkpoint: str) -> str:
    """The Explore map's widget key: its selection event lives under it (one per checkpoint, and a new one
    after each clear_selection, which is how a chart's selection is emptied)."""
    clears = st.session_state.get(f"map-clears:{checkpoint}", 0)
    return f"map:{checkpoint}" + (f":{clears}" if clears else "")


def clear_selection(checkpoint: str) -> None:
    remember_selection(checkpoint, None)
    st.session_state[f"map-clears:{checkpoint}"] = st.session_state.get(f"map-clears:{checkpoint}", 0) + 1


def map_event(checkpoint: str):
    """The Explore map's last selection event, as Streamlit stored it (a mapping), or None."""
    return st.session_state.get(map_chart_key(checkpoint))


def last_selection(checkpoint: str) -> Selection | None:
    return st.session_state.get(f"map-last:{checkpoint}")


def remember_selection(checkpoint: str, selection: Selection | None) -> None:
    st.session_state[f"map-last:{checkpoint}"] = selection


def next_prior_seed() -> None:
    """Button callback on Generate: the next seed for new prior samples."""
    st.session_state[PRIOR_SEED] = st.session_state.get(PRIOR_SEED, 0) + 1


def live_beta_key(run_id: str) -> str:
    """The Train page's live beta slider for a run."""
    return f"live_beta_{run_id}"


def live_beta(run_id: str) -> float:
    return st.session_state[live_beta_key(run_id)]


def session_runs() -> list[str]:
    return list(st.session_state.get(SESSION_RUNS, []))


def add_session_run(run_id: str) -> None:
    st.session_state[SESSION_RUNS] = [*session_runs(), run_id]


def sweep_runs() -> list[str]:
    return list(st.session_state.get(SWEEP_RUNS, []))


def add_sweep_run(run_id: str) -> None:
    st.session_state[SWEEP_RUNS] = [*sweep_runs(), run_id]


def clear_sweep_runs() -> None:
    st.session_state[SWEEP_RUNS] = []


def init_train_form(defaults: dict) -> None:
    """Give each Train control its starting value once per session."""
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)


def keep_train_form() -> None:
    """Streamlit forgets a widget's value when a run does not draw it, so the Train form would be blank after a
    visit to another page. Written back as plain session state, on every page, the values stay."""
    for key in TRAIN_FORM:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def drawn_layout() -> tuple | None:
    return st.session_state.get(DRAWN_LAYOUT)


def set_drawn_layout(run_id: str, layout: str) -> None:
    st.session_state[DRAWN_LAYOUT] = (run_id, layout)


def warm_up_training() -> None:
    """Start the process that trains runs (it imports torch, in its own process) if it is not running yet, so a
    first Start is quick. Torch-free here: app.py calls it before any page has imported torch."""
    from ui.processes import start_training_processes

    start_training_processes()


@st.cache_resource
def job_registry():
    """One registry of background training runs per server, shared by all sessions."""
    from ui.jobs import JobRegistry

    return JobRegistry()


_PREFETCH: dict = {}  # dataset name -> Future of its Dataset, loaded in the background (prefetch_dataset)
_PREFETCH_LOCK = threading.Lock()


def prefetch_dataset(name: str) -> None:
    """Start loading a built-in dataset (digits, or MNIST-like data already on disk) in the background, once per
    server, so Start does not wait for it (digits: 1.1 s on a fresh server, most of it importing scikit-learn)."""
    from concurrent.futures import ThreadPoolExecutor

    from vae_core import load_dataset

    with _PREFETCH_LOCK:
        if name not in _PREFETCH:
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch")
            _PREFETCH[name] = pool.submit(load_dataset, name, root=DATA_ROOT, download=False)  # never download here
            pool.shutdown(wait=False)


def prefetched_dataset(name: str):
    """The dataset prefetch_dataset loaded (waiting for it if it is still loading), or None if it failed."""
    future = _PREFETCH.get(name)
    if future is None:
        return None
    try:
        return future.result()
    except Exception:  # not on disk (it would need a download), or broken: the caller loads it the usual way
        with _PREFETCH_LOCK:
            _PREFETCH.pop(name, None)  # try again next time: the files may have arrived
        return None


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def load_model(path: str, mtime: int):
    from vae_core import load_checkpoint

    return load_checkpoint(path)


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=4)
def _load_data(options_json: str):
    from vae_core.data import load_from_options

    return load_from_options(json.loads(options_json), download=False)  # never download silently


def dataset_for(meta: dict):
    """The checkpoint's dataset with its training split, or (None, reason) when it is not on this machine."""
    from vae_core import DatasetError

    options = _data_options(meta)
    try:
        return _load_data(json.dumps(options, sort_keys=True)), None
    except DatasetError as err:
        return None, str(err)


@st.cache_data(show_spinner="Encoding the test set…", max_entries=8)
def map_data(path: str, mtime: int) -> MapData:
    """The map of the checkpoint's test set: from its cache when checkpoint and data are unchanged (no torch, no
    model, no data read), else encoded and cached for the next start."""
    summary = map_cache.read_summary(Path(path))
    signature = dataset_signature(_data_options(summary)) if summary else None
    cached = map_cache.read_map(Path(path), signature) if signature else None
    if cached is not None:
        return cached
    from vae_core.latent import build_map, build_map_without_data

    model, meta = load_model(path, mtime)
    data, reason = dataset_for(meta)
    if data is None:
        return build_map_without_data(model, meta.get("class_names") or [], reason)
    md = build_map(model, data.test_x, data.test_y, data.class_names)
    map_cache.write(Path(path), meta, md, dataset_signature(_data_options(meta)))
    return md


def _data_options(meta: dict) -> dict:
    """What names a checkpoint's data and split; not whether it may be downloaded, which changes neither."""
    options = dict(meta.get("data_options") or {"name": meta["dataset"]})
    options.pop("download", None)
    return options


_NONLINEAR: dict = {}  # (path, mtime, kind) -> MapData: in memory for this server; on disk in the cache too


def nonlinear_map(row: CheckpointRow, md: MapData, kind: str, progress) -> MapData:
    """The test set's map by UMAP or t-SNE (vae_core.nonlinear): fitted once per model, then read from disk.
    `progress(message, fraction)` is called while a fit runs."""
    from dataclasses import replace

    from vae_core.files import cache_dir
    from vae_core.nonlinear import cached_fit

    key = (row.path, row.mtime, kind)
    if key not in _NONLINEAR:
        projection = cached_fit(md.mu, kind, cache_dir() / "maps", progress=progress)
        _NONLINEAR[key] = replace(md, xy=projection.xy, projection=projection, x_range=projection.error_x,
                                  y_range=projection.error_y)
    return _NONLINEAR[key]


@st.cache_data(show_spinner="Estimating how the codes fill the prior…", max_entries=16)
def posterior_estimates(path: str, mtime: int, max_images: int = 2000):
    """The split of the model's average KL on (up to max_images of) its test set (vae_core.estimators)."""
    from vae_core.estimators import posterior_estimates as estimate

    md = map_data(path, mtime)
    return None if len(md.mu) == 0 else estimate(md.mu[:max_images], md.logvar[:max_images])


# The Side by side page's controls: model A, model B, the test image both read, where the shared z comes from.
SIDE_A, SIDE_B, SIDE_INDEX, SIDE_Z = "sbs_a", "sbs_b", "sbs_index", "sbs_z_source"


def partners(rows: list[CheckpointRow], a: CheckpointRow) -> list[CheckpointRow]:
    """The usable checkpoints other than A that take A's images (the same shape): those trained on A's dataset
    first, so that the first, the default B, shares A's test images when any does."""
    fits = [r for r in rows if r.error is None and r.name != a.name and r.image_shape == a.image_shape]
    return sorted(fits, key=lambda r: r.dataset != a.dataset)


def same_data(meta_a: dict, meta_b: dict) -> bool:
    """Whether two checkpoints were trained on the same data with the same split, so that a test image of one is
    a test image of the other."""
    return _data_options(meta_a) == _data_options(meta_b)


def keep_choice(key: str, options, default) -> None:
    """Start a control at `default`, and move it there when its value is no longer offered (a checkpoint was
    removed, or another model A no longer fits B)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


def random_test_index(n: int) -> None:
    """Button callback: a random test image of n, never the one shown, so that a click always shows another."""
    import numpy as np

    current = st.session_state.get(SIDE_INDEX, 0)
    st.session_state[SIDE_INDEX] = int((current + np.random.default_rng().integers(1, n)) % n)


def pick_group(checkpoint: str, slot: str, indices, label: str) -> None:
    """Remember test images selected on the Explore map as group "A" or "B" of Generate's latent arithmetic."""
    st.session_state.setdefault(f"groups:{checkpoint}", {})[slot] = dict(indices=[int(i) for i in indices], label=label)
    st.toast(f"Group {slot} on the Generate page: {label}.", icon=":material/check:")


def picked_groups(checkpoint: str) -> dict:
    """{"A": {"indices": [...], "label": ...}, "B": ...}: the groups picked on Explore for this checkpoint."""
    return st.session_state.get(f"groups:{checkpoint}", {})
