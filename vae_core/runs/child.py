"""The child side of a run: the process that trains. It rebuilds the model, trains it with the engine's `train()`,
and sends every event (with a replay frame after each epoch) back to the registry (vae_core.runs.registry) as a
`ChildMessage`. It ends when its run ends, or at once when the server that started it goes away.
"""

from __future__ import annotations

import os
import pickle
import threading
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch

from vae_core.analysis.replay import ReplayFrame, ReplayRecorder
from vae_core.config import TrainConfig
from vae_core.model.bounds import final_iwae
from vae_core.model.checkpoint import ResumeState
from vae_core.model.vae import VAE
from vae_core.runs.snapshots import SNAPSHOT_EVERY_S
from vae_core.training.loop import BetaControl, NonFiniteLossError, PauseControl, TrainEvent, evaluate, train

if TYPE_CHECKING:
    from vae_core.data.datasets import Dataset


@dataclass(frozen=True)
class ChildMessage:
    """What the training process sends the server (plainly pickled, see `send`)."""

    kind: Literal["event", "beta", "scoring", "end", "failed"]
    event: TrainEvent | None = None  # event, end
    frame: ReplayFrame | None = None  # event, after an epoch: the replay's new frame
    beta_changes: list | None = None  # beta: [(steps done before it, new beta), ...]
    error: str | None = None  # failed
    weights: dict | None = None  # end, failed: the final (or last finite) weights
    snapshot: dict | None = None  # event, after an epoch now and then: weights and ResumeState
    resume: dict | None = None  # end of a finished run: what training it further needs (ResumeState)
    scores: dict | None = None  # end: the final test terms and IWAE bound (final_scores), None if they failed


def train_threads(torch_default: int) -> int:
    """torch threads per training process: $VAE_EXPLORER_TRAIN_THREADS, else half of what torch would take. The
    server and the browser drawing the live page need the rest, and torch's threads wait for each other at
    every op, so one descheduled thread stalls them all (BENCHMARKS.md, section 8)."""
    try:
        return max(1, int(os.environ.get("VAE_EXPLORER_TRAIN_THREADS", "")))
    except ValueError:
        return max(1, torch_default // 2)


def train_in_child(
    vae_config,
    state: dict,
    data: bytes,
    config: TrainConfig,
    messages,
    stop,
    beta: BetaControl,
    lifeline,
    pause: PauseControl,
    start_state: dict | None = None,
    last_frame: ReplayFrame | None = None,
    snapshot_s: float = SNAPSHOT_EVERY_S,
) -> None:
    """The child process: rebuild the model, train, send every event (and a replay frame each epoch). A saved
    model trained further goes on from `start_state` (a ResumeState), its replay from its `last_frame`. After an
    epoch, at most every `snapshot_s` seconds, it sends its weights and state with the epoch's event, for the
    server to keep on disk (vae_core.runs.snapshots)."""
    threading.Thread(target=_exit_with_server, args=(lifeline,), daemon=True).start()
    torch.set_num_threads(train_threads(torch.get_num_threads()))
    model = VAE(vae_config)
    model.load_state_dict(state)
    dataset: Dataset = pickle.loads(data)
    replay = ReplayRecorder(dataset, vae_config.latent_dim)
    if last_frame is not None:  # the next map is turned to match it, as if the run had gone on
        replay.replay.frames.append(last_frame)
    resume = ResumeState.from_payload(start_state) if start_state else ResumeState()
    last_snapshot = None  # the first epoch's end writes one at once: a run killed early still leaves a trace
    try:
        for event in train(model, dataset, config, stop=stop, beta=beta, pause=pause, resume=resume):
            if event["type"] == "end":
                beta.flush()  # the last value counts even if it had no time to settle
            if changes := beta.take_changes():
                send(messages, ChildMessage("beta", beta_changes=changes))
            if event["type"] == "end":
                # a run stopped mid-epoch has weights past its last epoch's state: it cannot go on exactly from there
                finished = None if event["stopped"] else resume.to_payload()
                send(messages, ChildMessage("scoring"))
                scores = final_scores(model.cpu(), dataset, config.seed)
                send(messages, ChildMessage("end", event=event, weights=model.state_dict(), resume=finished, scores=scores))
            else:
                frame = replay.record(model, event) if event["type"] == "epoch" else None
                snapshot = None
                if frame is not None and (last_snapshot is None or time.monotonic() - last_snapshot >= snapshot_s):
                    last_snapshot = time.monotonic()
                    snapshot = dict(
                        weights={k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, resume=resume.to_payload()
                    )
                send(messages, ChildMessage("event", event=event, frame=frame, snapshot=snapshot))
    except NonFiniteLossError as err:  # the model holds the last good weights: send them too
        send(messages, ChildMessage("failed", error=str(err), weights=model.cpu().state_dict()))
    except Exception as err:  # a crash must reach the page as a message, not vanish with the process
        traceback.print_exc()  # the details go to the server's log (the child's stderr is the server's)
        send(messages, ChildMessage("failed", error=crash_message(err)))


def final_scores(model: VAE, data: Dataset, seed: int) -> dict | None:
    """The trained model's test terms (β = 1) and IWAE bound, measured here, before the run reports its end: the
    page then shows them at once, instead of greying for the seconds they take. None when they fail: the page
    measures them itself then, and the weights are kept either way."""
    try:
        return dict(test=evaluate(model, data.test_x, seed=seed, y=data.test_y), iwae=final_iwae(model, data))
    except Exception:  # noqa: BLE001 (a failed score must not lose the trained weights)
        traceback.print_exc()
        return None


def crash_message(err: Exception) -> str:
    """What the page says of a crashed run: what kind of failure, never its text (it names internals and can quote
    what a file holds); running out of memory said as such, with what to try."""
    if isinstance(err, torch.OutOfMemoryError):
        return "Training ran out of memory on its device: try a smaller batch size or a smaller model."
    return f"Training crashed ({type(err).__name__}). Nothing saved was lost; the server's log has the details."


def send(messages, message: ChildMessage) -> None:
    """Pickled here, with plain pickle: the queue's own pickler would pass tensors as shared memory
    handles that die with this process, so the final weights could be lost when it exits."""
    messages.put(pickle.dumps(message))


def _exit_with_server(lifeline) -> None:
    """Block until the server's end of the lifeline closes (nothing is ever sent on it), then end at once."""
    try:
        lifeline.recv()
    except (EOFError, OSError):
        pass
    os._exit(1)
