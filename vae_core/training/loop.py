"""Training as a generator of metric events, so the CLI, the app's training process or a test can drive it.

Events are plain dicts (TypedDicts below, told apart by "type"), so a checkpoint can store them as its
history and still be read with torch.load(weights_only=True). A non-finite loss restores the last good
weights and raises NonFiniteLossError.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Literal, NotRequired, TypedDict

import numpy as np
import torch

from vae_core.analysis.scores import score_model
from vae_core.config import InputError, TrainConfig
from vae_core.data.datasets import Dataset, as_float
from vae_core.model.bounds import active_units, kl_per_dim, recon_per_image, training_terms
from vae_core.model.checkpoint import ResumeState
from vae_core.model.vae import VAE
from vae_core.stats.estimators import posterior_estimates
from vae_core.training.optim import Adam


class StartEvent(TypedDict):
    type: Literal["start"]
    total_steps: int
    steps_per_epoch: int
    device: str
    n_train: int
    n_test: int


class StepEvent(TypedDict):
    """Every `log_every` steps: means of the terms over the steps since the last one (nats per image)."""

    type: Literal["step"]
    step: int
    epoch: float  # fractional
    recon: float
    kl: float
    loss: float  # recon + beta * kl
    beta: float  # the KL weight in force at the last of these steps
    samples_per_s: float


class EvalTerms(TypedDict):
    """What evaluate() returns: the test set's terms at beta = 1."""

    test_recon: float
    test_kl: float
    test_loss: float
    kl_per_dim: list[float]
    active_units: int
    # the average KL split up (vae_core.stats.estimators), on the first ESTIMATE_IMAGES test images
    mutual_info: float
    kl_aggregate: float
    total_correlation: float
    dimwise_kl: float
    # data with known factors, every few epochs (disentanglement_epochs): vae_core.analysis.scores.score_model's scores
    # of the test set, and the seconds they took (not counted in samples_per_s); train() adds them
    disentanglement: NotRequired[dict]
    disentanglement_s: NotRequired[float]


class EpochEvent(EvalTerms):
    """After each epoch: the test set at beta = 1 (see evaluate)."""

    type: Literal["epoch"]
    epoch: int
    step: int
    beta: float
    elapsed_s: float


ESTIMATE_IMAGES = 256  # enough to follow the trend at a small cost: the estimates take O(n^2 D)


class DisentanglementTerms(TypedDict):
    disentanglement: dict
    disentanglement_s: float


class EndEvent(TypedDict):
    type: Literal["end"]
    stopped: bool
    steps: int
    epochs_done: int
    elapsed_s: float


TrainEvent = StartEvent | StepEvent | EpochEvent | EndEvent


class NonFiniteLossError(RuntimeError):
    """Training diverged: the loss became NaN or infinite, or exploded; the model holds the last good weights."""


BETA_SETTLE_S = 1.0  # a beta held this long is one change; the steps of a slider's drag in between are not


class BetaControl:
    """The base KL weight, changeable while a run trains: from another thread, or from another process when
    `value` is a multiprocessing Value("d") that both share. train() calls it once before every step; a new
    value applies at that step, and is recorded in `changes` as (steps done before it, new beta), where the
    curves mark it, once it has settled: a drag or a run of key presses on a slider is one change, not dozens."""

    def __init__(self, value, clock=time.monotonic):
        self.shared = value if hasattr(value, "value") else _Number(float(value))
        self.clock, self.steps, self.changes = clock, 0, []
        self.seen = self.recorded = self.shared.value
        self.burst_step, self.changed_at = None, 0.0

    def get(self) -> float:
        return self.shared.value

    def set(self, value: float) -> None:
        if not value >= 0:
            raise InputError(f"beta must be non-negative, got {value}")
        self.shared.value = float(value)

    def __call__(self) -> float:
        value = self.shared.value
        if value != self.seen:
            if self.burst_step is None:
                self.burst_step = self.steps
            self.seen, self.changed_at = value, self.clock()
        elif self.burst_step is not None and self.clock() - self.changed_at >= BETA_SETTLE_S:
            self.flush()
        self.steps += 1
        return value

    def flush(self) -> None:
        """Record the value the last burst of changes settled on (at the run's end: even if not settled yet)."""
        if self.burst_step is not None and self.seen != self.recorded:
            self.changes.append((self.burst_step, self.seen))
            self.recorded = self.seen
        self.burst_step = None

    def take_changes(self) -> list:
        """The changes recorded since the last call."""
        changes, self.changes = self.changes, []
        return changes


class _Number:
    """A beta held in this process only (a float's assignment is atomic: no lock needed)."""

    def __init__(self, value: float):
        self.value = value


class PauseControl:
    """Pause, resume, or train one more epoch and pause again, from another thread or process: `paused` and
    `one_epoch` are threading or multiprocessing Events. train() waits before a step while paused, and turns
    `one_epoch` into a pause once the epoch under way has been evaluated."""

    def __init__(self, paused=None, one_epoch=None):
        self.paused = paused if paused is not None else threading.Event()
        self.one_epoch = one_epoch if one_epoch is not None else threading.Event()

    def pause(self) -> None:
        self.one_epoch.clear()
        self.paused.set()

    def resume(self) -> None:
        self.one_epoch.clear()
        self.paused.clear()

    def step_epoch(self) -> None:
        """Run until the end of the next epoch (the one under way, if paused mid-epoch), then pause."""
        self.one_epoch.set()
        self.paused.clear()

    @property
    def is_paused(self) -> bool:
        return self.paused.is_set()

    def wait(self, stop: threading.Event | None, poll_s: float = 0.05) -> float:
        """Block while paused (a stop ends the wait); the seconds waited, which the throughput must not count."""
        t0 = time.perf_counter()
        while self.paused.is_set() and not (stop is not None and stop.is_set()):
            time.sleep(poll_s)
        return time.perf_counter() - t0

    def epoch_ended(self) -> None:
        if self.one_epoch.is_set():
            self.one_epoch.clear()
            self.paused.set()


def schedule_factor(schedule: str, epoch: float, warmup_epochs: float) -> float:
    """Multiplier in [0, 1] on the base beta at a (fractional) epoch."""
    if schedule == "linear":
        return min(1.0, epoch / warmup_epochs)
    if schedule == "cyclical":  # ramp over the first half of each cycle, then hold
        return min(1.0, 2.0 * (epoch % warmup_epochs) / warmup_epochs)
    return 1.0


def available_devices() -> list[str]:
    """The devices torch can train on here, the fastest first: "cuda", "mps", then always "cpu"."""
    found = ["cuda"] if torch.cuda.is_available() else []
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        found.append("mps")
    return found + ["cpu"]


def pick_device(name: str = "auto") -> torch.device:
    """ "auto" -> the fastest available device; any other name as it is."""
    return torch.device(available_devices()[0] if name == "auto" else name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@torch.no_grad()
def evaluate(model: VAE, x: torch.Tensor, batch_size: int = 1000, seed: int = 0, y=None) -> EvalTerms:
    """Test-set terms at beta = 1 with fixed noise, so epochs are comparable. y: the images' labels, which a
    conditional model needs (its terms are then those of log p(x|y))."""
    was_training = model.training
    model.eval()
    gen = torch.Generator(device=model.device).manual_seed(seed)
    recon, kl_dims, mus, logvars = [], [], [], []
    for i in range(0, len(x), batch_size):
        xb = as_float(x[i : i + batch_size].to(model.device, non_blocking=True))
        yb = None if y is None else y[i : i + batch_size]
        mu, logvar = model.encode(xb, yb)
        eps = torch.randn(mu.shape, generator=gen, device=mu.device)
        recon.append(recon_per_image(xb, model.decode(model.reparameterize(mu, logvar, eps), yb), model.likelihood))
        kl_dims.append(kl_per_dim(mu, logvar))
        mus.append(mu)
        logvars.append(logvar)
    model.train(was_training)
    recon_t, kl_t, mu_t = torch.cat(recon), torch.cat(kl_dims), torch.cat(mus)
    test_recon, test_kl = recon_t.mean().item(), kl_t.sum(1).mean().item()
    subset = slice(0, ESTIMATE_IMAGES)
    estimates = posterior_estimates(mu_t[subset].cpu().numpy(), torch.cat(logvars)[subset].cpu().numpy(), seed=seed)
    return dict(
        test_recon=test_recon,
        test_kl=test_kl,
        test_loss=test_recon + test_kl,
        kl_per_dim=kl_t.mean(0).tolist(),
        active_units=active_units(mu_t),
        mutual_info=estimates.mutual_info,
        kl_aggregate=estimates.kl_aggregate,
        total_correlation=estimates.total_correlation,
        dimwise_kl=estimates.dimwise_kl,
    )


def train(
    model: VAE,
    data: Dataset,
    config: TrainConfig,
    stop: threading.Event | None = None,
    beta: BetaControl | Callable[[], float] | None = None,
    pause: PauseControl | None = None,
    resume: ResumeState | None = None,
) -> Iterator[TrainEvent]:
    """Train `model` in place on data.train_x, yielding metric events (see the module docstring).

    stop: set it to end the run after the current step. beta: a BetaControl (or any callable
    returning a float) read before every step; defaults to config.beta. pause: waited on before every step.
    resume: where a run stood after resume.epochs_done epochs, to train on from there up to config.epochs; it
    is kept up to date at the end of each epoch, so a fresh ResumeState() passed in is what to save beside the
    weights to train further later.
    """
    if tuple(data.image_shape) != tuple(model.config.image_shape):
        raise InputError(f"model expects images {model.config.image_shape}, data has {data.image_shape}")
    read_beta = beta if beta is not None else (lambda: config.beta)
    device = pick_device(config.device)
    seed_everything(config.seed)
    model.to(device).train()
    x_train = data.train_x.to(device)
    y_train = data.train_y.to(device) if model.config.conditional else None
    n = len(x_train)
    steps_per_epoch = math.ceil(n / config.batch_size)
    opt = Adam(model.parameters(), lr=config.lr)  # torch.optim.Adam's update, without its import of torch._dynamo
    shuffle = torch.Generator(device=device).manual_seed(config.seed)
    start_epoch, step = 0, 0
    if resume is not None and resume.epochs_done:
        if resume.optimizer is None or resume.shuffle_rng is None or resume.torch_rng is None:
            raise TypeError("the resume state has no optimizer or random generator state to go on from")
        opt.load_state_dict(resume.optimizer)
        shuffle.set_state(resume.shuffle_rng)
        torch.set_rng_state(resume.torch_rng)
        start_epoch, step = resume.epochs_done, resume.steps_done
    good = _Snapshot(model)
    yield StartEvent(
        type="start",
        total_steps=steps_per_epoch * config.epochs,
        steps_per_epoch=steps_per_epoch,
        device=str(device),
        n_train=n,
        n_test=len(data.test_x),
    )
    t_start = time.perf_counter()
    window = _Window()
    for epoch in range(start_epoch, config.epochs):
        order = torch.randperm(n, generator=shuffle, device=device)
        for i in range(0, n, config.batch_size):
            if pause is not None:
                window.t0 += pause.wait(stop)
            if stop is not None and stop.is_set():
                yield _end(True, step, epoch, t_start)
                return
            b = read_beta() * schedule_factor(config.beta_schedule, step / steps_per_epoch, config.warmup_epochs)
            batch = order[i : i + config.batch_size]
            # index_select, not x_train[batch]: the same rows, gathered 5x faster on the CPU (about 1% of the
            # recipe-sized MLP's step, BENCHMARKS.md section 1)
            xb = as_float(x_train.index_select(0, batch))
            terms = training_terms(model, xb, b, config, None if y_train is None else y_train.index_select(0, batch))
            if good.best == math.inf:  # the first loss: what an explosion is measured against from the start
                good.best = float(terms.loss.detach())
            opt.zero_grad(set_to_none=True)
            terms.loss.backward()
            opt.step()
            step += 1
            window.add(terms, b, len(xb))
            if step % config.log_every == 0 or i + config.batch_size >= n:
                event = window.flush(step, step / steps_per_epoch)
                good.check(event["loss"], step)
                yield event
        result = evaluate(model, data.test_x, seed=config.seed, y=data.test_y)
        good.check(result["test_loss"], step)
        if data.factors is not None and epoch + 1 in disentanglement_epochs(config.epochs):
            result.update(_disentanglement(model, data, config.seed))
        if resume is not None:  # up to date when the epoch's event is seen, for a consumer that saves on it
            resume.epochs_done, resume.steps_done, resume.optimizer = epoch + 1, step, opt.state_dict()
            resume.shuffle_rng, resume.torch_rng = shuffle.get_state(), torch.get_rng_state()
        yield EpochEvent(type="epoch", epoch=epoch + 1, step=step, beta=b, elapsed_s=time.perf_counter() - t_start, **result)
        window.t0 = time.perf_counter()  # samples/s counts training steps, not evaluation or what the consumer did
        if pause is not None:
            pause.epoch_ended()
    yield _end(False, step, config.epochs, t_start)


METRIC_POINTS = 10  # times in a run the disentanglement metrics are measured: each costs about 0.7 s on sprites


def disentanglement_epochs(epochs: int) -> set[int]:
    """The epochs (counted from 1) after which a run on data with known factors measures its metrics: about
    METRIC_POINTS of them, evenly spaced, and always the last."""
    every = max(1, epochs // METRIC_POINTS)
    return {*range(every, epochs + 1, every), epochs}


def _disentanglement(model: VAE, data: Dataset, seed: int) -> DisentanglementTerms:

    t0 = time.perf_counter()
    scores = score_model(model, data, seed=seed)
    return dict(disentanglement=scores, disentanglement_s=time.perf_counter() - t0)


def _end(stopped: bool, step: int, epochs_done: int, t_start: float) -> EndEvent:
    return EndEvent(type="end", stopped=stopped, steps=step, epochs_done=epochs_done, elapsed_s=time.perf_counter() - t_start)


class _Window:
    """Sums of the loss terms since the last step event; read back (one GPU sync) only when logged."""

    def __init__(self):
        self._reset()

    def _reset(self):
        self.recon = self.kl = self.loss = 0.0
        self.batches = self.samples = 0
        self.t0 = time.perf_counter()

    def add(self, terms, beta: float, batch: int):
        self.recon = self.recon + terms.recon.detach()
        self.kl = self.kl + terms.kl.detach()
        self.loss = self.loss + terms.loss.detach()
        self.beta, self.batches, self.samples = beta, self.batches + 1, self.samples + batch

    def flush(self, step: int, epoch: float) -> StepEvent:
        k = self.batches
        event = StepEvent(
            type="step",
            step=step,
            epoch=epoch,
            recon=float(self.recon) / k,
            kl=float(self.kl) / k,
            loss=float(self.loss) / k,
            beta=self.beta,
            samples_per_s=self.samples / max(time.perf_counter() - self.t0, 1e-9),
        )
        self._reset()
        return event


def epoch_under_way(epoch: float, epochs: int) -> int:
    """The epoch a step's fractional `epoch` belongs to, counted from 1 as people count: 12.4 is in epoch 13,
    and 13.0, the last step of epoch 13, still is (a run paused after One epoch is at 13 of N, not 14)."""
    return min(max(math.ceil(epoch), 1), epochs)


EXPLOSION = 1000  # a loss this many times the image's scale above the best so far means training diverged


class _Snapshot:
    """The last weights known to be good, restored when training diverges: when the loss or a weight stops
    being finite, or when the loss explodes without doing so (a KL of 1e29 is finite but no model). An
    explosion is a loss more than EXPLOSION x max(|best loss|, pixels per image) above the best so far:
    about one nat per pixel is an ordinary loss, so no honest step comes near that."""

    def __init__(self, model: VAE):
        self.model, self.step, self.best = model, 0, math.inf
        self.scale = math.prod(model.config.image_shape)
        self.saved = [t.detach().clone() for t in model.state_dict().values()]

    @torch.no_grad()
    def check(self, loss: float, step: int) -> None:
        # every weight is finite when the largest and the smallest are (max propagates NaN); two fused passes
        # instead of a check per tensor, and a copy into the same buffers instead of a deep copy of the state:
        # the two cost 2% of a run of the recipe's MLP
        weights: list[torch.Tensor] = list(self.model.parameters())
        extremes = torch.stack(torch._foreach_max(weights) + torch._foreach_max(torch._foreach_neg(weights)))
        finite = math.isfinite(loss) and bool(extremes.isfinite().all())
        exploded = finite and loss > self.best + EXPLOSION * max(abs(self.best), self.scale)
        current = list(self.model.state_dict().values())  # the model's own tensors, detached
        if finite and not exploded:
            self.best = min(self.best, loss)
            torch._foreach_copy_(self.saved, current)  # into the same buffers
            self.step = step
            return
        torch._foreach_copy_(current, self.saved)
        what = f"became {loss}" if not finite else f"exploded to {loss:.3g} nats (best so far {self.best:.4g})"
        raise NonFiniteLossError(
            f"The loss {what} at step {step}: training diverged and was stopped. The weights from step "
            f"{self.step}, the last good ones, were kept. Try a lower learning rate or beta."
        )
