"""Background training runs for the app: a thread per run, owned by a registry, never calling Streamlit.

The page keeps only the run id (in the URL), reads snapshots of the run's metrics under a lock, and
controls it through a stop Event and a BetaControl, so the run survives reruns and page reloads.
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import numpy as np
import torch

from vae_core import VAE, BetaControl, Dataset, NonFiniteLossError, TrainConfig, train
from vae_core.latent import decode_points, map_points

MAP_POINTS = 1000   # test points in the live latent map
RECON_IMAGES = 8    # originals shown beside their reconstructions
KEEP_FINISHED = 8   # finished runs kept per server before the oldest are dropped


@dataclass
class Diagnostics:
    """What the page draws besides the curves, refreshed each epoch."""
    epoch: int
    xy: np.ndarray            # (K, 2) latent map of test means
    labels: np.ndarray        # (K,)
    axis_names: tuple
    originals: torch.Tensor   # (RECON_IMAGES, C, H, W)
    recons: torch.Tensor


@dataclass
class Job:
    id: str
    model: VAE
    data: Dataset
    config: TrainConfig
    beta: BetaControl
    stop: threading.Event = field(default_factory=threading.Event)
    status: str = "starting"  # starting | running | finished | stopped | failed
    error: str | None = None
    events: list = field(default_factory=list)
    beta_changes: list = field(default_factory=list)  # (step, new beta) made by the user during the run
    total_steps: int = 0
    diagnostics: Diagnostics | None = None
    saved_as: str | None = None
    created: float = field(default_factory=time.time)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def live(self) -> bool:
        return self.status in ("starting", "running")

    def set_beta(self, value: float) -> None:
        """Applies at the next step; recorded so the curves can mark it."""
        self.beta.set(value)
        with self._lock:
            step = self.events[-1]["step"] if self.events else 0
            self.beta_changes.append((step, float(value)))

    def snapshot(self) -> dict:
        """A consistent copy of everything the page draws."""
        with self._lock:
            return dict(status=self.status, error=self.error, events=list(self.events),
                        beta_changes=list(self.beta_changes), total_steps=self.total_steps,
                        diagnostics=self.diagnostics, saved_as=self.saved_as)

    def run(self) -> None:
        """The thread body: consume the training generator, record events, catch every failure."""
        try:
            for event in train(self.model, self.data, self.config, stop=self.stop, beta=self.beta):
                self._record(event)
        except NonFiniteLossError as err:
            self._finish("failed", str(err))
        except Exception as err:  # a crash must reach the page as a message, not kill the server quietly
            self._finish("failed", f"Training crashed: {type(err).__name__}: {err}")

    def _record(self, event: dict) -> None:
        kind = event["type"]
        diagnostics = self._diagnose(event["epoch"]) if kind == "epoch" else None
        with self._lock:
            if kind == "start":
                self.status, self.total_steps = "running", event["total_steps"]
            elif kind == "end":
                self.status = "stopped" if event["stopped"] else "finished"
            else:
                self.events.append(event)
            if diagnostics is not None:
                self.diagnostics = diagnostics

    def _finish(self, status: str, error: str | None) -> None:
        with self._lock:
            self.status, self.error = status, error

    @torch.no_grad()
    def _diagnose(self, epoch: int) -> Diagnostics:
        was_training = self.model.training
        self.model.eval()
        x, y = self.data.test_x[:MAP_POINTS], self.data.test_y[:MAP_POINTS]
        mu, _, projection, xy = map_points(self.model, x)
        originals = x[:RECON_IMAGES]
        recons = decode_points(self.model, mu[:RECON_IMAGES])
        self.model.train(was_training)
        return Diagnostics(epoch, xy, y.numpy(), projection.axis_names, originals, recons)


class JobRegistry:
    """All runs on this server, by id. Each browser session keeps its own run id, so runs never mix."""

    def __init__(self):
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, model: VAE, data: Dataset, config: TrainConfig) -> Job:
        job = Job(uuid.uuid4().hex[:12], model, data, config, BetaControl(config.beta))
        with self._lock:
            self._forget_old()
            self._jobs[job.id] = job
        threading.Thread(target=job.run, name=f"train-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id) if job_id else None

    def _forget_old(self) -> None:
        done = sorted((j for j in self._jobs.values() if not j.live), key=lambda j: j.created)
        for job in done[:max(0, len(done) - KEEP_FINISHED + 1)]:
            del self._jobs[job.id]
