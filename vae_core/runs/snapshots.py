"""Runs that survive the server: each unsaved run keeps a snapshot on disk, re-listed when the server starts.

A snapshot is an ordinary checkpoint file (vae_core.model.checkpoint) of the run as it stands, with the state to train
it on (`ResumeState`), under $VAE_EXPLORER_RUNS (by default `runs/` in the cache folder): `<run id>.pt`, and
beside it `<run id>.json` saying whether the run was training, finished or stopped, whose it is, and what the list of
runs shows of it (`Summary`): a server lists the runs it finds from these small files, and reads a checkpoint only
when its run is opened. A training run writes one at
the end of an epoch at most every SNAPSHOT_EVERY_S seconds of training, and at its end; each replaces the last,
written whole or not at all. Saving or discarding the run removes both files, so the folder holds one checkpoint-
sized file per unsaved run.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from vae_core.store.atomic import write_atomic
from vae_core.store.files import cache_dir

SNAPSHOT_EVERY_S = 30.0  # seconds of training between two snapshots: each costs a write of the model's size


def runs_dir() -> Path:
    return Path(os.environ.get("VAE_EXPLORER_RUNS", cache_dir() / "runs"))


def snapshot_every_s() -> float:
    """$VAE_EXPLORER_SNAPSHOT_S, else SNAPSHOT_EVERY_S."""
    try:
        return max(0.0, float(os.environ.get("VAE_EXPLORER_SNAPSHOT_S", "")))
    except ValueError:
        return SNAPSHOT_EVERY_S


@dataclass(frozen=True)
class Summary:
    """What a list of runs shows of one, kept in its marker so that listing reads no checkpoint."""

    arch: str
    latent_dim: int
    dataset: str  # its data's name (DataOptions.name): a built-in's, or an upload's folder
    epochs_done: int
    epochs: int

    @classmethod
    def from_fields(cls, fields) -> Summary | None:
        """The summary a marker holds, or None when it holds none or a malformed one (a marker is a file: hostile)."""
        try:
            summary = cls(**{name: fields[name] for name in cls.__dataclass_fields__})
        except (KeyError, TypeError):
            return None
        counts = (summary.latent_dim, summary.epochs_done, summary.epochs)
        if not all(isinstance(n, int) and 0 <= n < 10**7 for n in counts) or summary.epochs_done > summary.epochs:
            return None  # "epoch 999 of 10": not a run of ours
        return summary if all(isinstance(t, str) and len(t) < 4096 for t in (summary.arch, summary.dataset)) else None


@dataclass(frozen=True)
class Snapshot:
    run_id: str
    checkpoint: Path
    status: str  # "training" (interrupted when found at a start), "finished" or "stopped"
    owner: str = ""  # the browser that started the run (Run.owner), "" when not known
    label: str = ""  # what the run is for, in words (Run.label)
    summary: Summary | None = None  # None in a marker written before summaries were kept


RUN_ID = re.compile(r"[0-9a-f]{12}")  # what a run's id looks like (uuid4().hex[:12], vae_core.runs.registry)
OWNER_TOKEN = re.compile(r"[0-9a-f]{32}")  # what a browser's token looks like (ui/owner.py); anything else is no owner


def is_owner_token(text) -> bool:
    return isinstance(text, str) and OWNER_TOKEN.fullmatch(text) is not None


def write_snapshot(run_id: str, status: str, save, owner: str = "", label: str = "", summary: Summary | None = None) -> None:
    """`save(path)` writes the run's checkpoint to path (with overwrite); then its status beside it. A full or
    read-only disk costs only the snapshot: the run trains on."""
    folder = runs_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        save(folder / f"{run_id}.pt")
        fields = {"status": status, "owner": owner, "label": label, "summary": asdict(summary) if summary else None}
        write_atomic(folder / f"{run_id}.json", json.dumps(fields))
    except Exception:  # noqa: BLE001 (a snapshot must never end the run it protects)
        pass


def remove_snapshot(run_id: str) -> None:
    for name in (f"{run_id}.pt", f"{run_id}.json"):
        (runs_dir() / name).unlink(missing_ok=True)


def snapshots() -> list[Snapshot]:
    """The snapshots on disk, oldest first; a damaged marker is skipped (its checkpoint is checked when read)."""
    found = []
    folder = runs_dir()
    if not folder.is_dir():
        return []
    for marker in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime):
        checkpoint = marker.with_suffix(".pt")
        try:
            fields = json.loads(marker.read_text())
            status, owner, label = fields["status"], fields.get("owner", ""), fields.get("label", "")
            summary = Summary.from_fields(fields.get("summary"))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if any(p.is_symlink() for p in (marker, checkpoint)):  # a snapshot is written here, never linked from elsewhere
            continue
        if not RUN_ID.fullmatch(marker.stem):  # a name is shown on the page: only the ids this server makes
            continue
        if checkpoint.is_file() and status in ("training", "finished", "stopped"):
            owner = owner if is_owner_token(owner) else ""
            label = label[:200] if isinstance(label, str) else ""
            found.append(Snapshot(marker.stem, checkpoint, status, owner, label, summary))
    return found
