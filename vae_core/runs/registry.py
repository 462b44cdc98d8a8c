"""The server side of the runs: a registry of training runs, each trained in a child process (vae_core.runs.child)
that never touches the server's state. Torch and the training code are shared with the CLI; nothing here
imports the app.

A run trains in its own process, not in a thread of the server: a thread shares the server's GIL and torch's
thread pools with every page rerun, which stalled it. A receiver thread per run records what the child sends
under a lock. A caller keeps only the run id, reads a run through `Run.snapshot()`, and controls it with
`request_stop()`, `set_beta()` and the pause methods, so a run survives page reruns and reloads.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from vae_core.analysis.replay import Replay, ReplayError, ReplayFrame, from_history, new_replay, to_history
from vae_core.config import DataOptions, RunSpec, TrainConfig
from vae_core.data.datasets import Dataset, load_data
from vae_core.model.bounds import final_iwae
from vae_core.model.checkpoint import CheckpointError, ResumeState, load_checkpoint, read_resume_state, save_checkpoint
from vae_core.model.vae import VAE
from vae_core.runs.child import ChildMessage, train_in_child
from vae_core.runs.processes import PROCESSES, start_training_processes
from vae_core.runs.snapshots import Snapshot, Summary, remove_snapshot, snapshot_every_s, snapshots, write_snapshot
from vae_core.training.build import build_model
from vae_core.training.loop import BetaControl, EvalTerms, PauseControl, TrainEvent, evaluate
from vae_core.training.save import save_run

LOG = logging.getLogger("vae_explorer")

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

KEEP_FINISHED = 8  # saved or discarded runs kept per server before the oldest are dropped; unsaved ones stay

Status = Literal["queued", "starting", "running", "scoring", "finished", "stopped", "failed", "cancelled", "interrupted"]
LIVE = ("queued", "starting", "running", "scoring")  # scoring: trained, its child measures the final scores


def max_concurrent_runs() -> int:
    """How many runs train at once on this server; the rest queue. $VAE_EXPLORER_MAX_RUNS, else half the cores
    (each run's torch takes several threads, and the pages need some CPU too)."""
    try:
        return max(1, int(os.environ.get("VAE_EXPLORER_MAX_RUNS", "")))
    except ValueError:
        return max(1, (os.cpu_count() or 2) // 2)


@dataclass(frozen=True)
class RunSnapshot:
    """A consistent copy of everything the Train page shows of a run."""

    id: str
    status: Status
    error: str | None
    events: list  # TrainEvents after "start": steps and epochs
    beta_changes: list  # (steps done before it, new beta) made by the user during the run
    total_steps: int
    replay: Replay  # the map, reconstructions and KL per dimension of each epoch so far
    paused: bool
    saveable: bool  # over, with weights worth keeping: finished, stopped, or diverged (its last good ones)
    saved_as: str | None
    beta: float  # the base beta now
    config: TrainConfig
    arch: str
    latent_dim: int
    likelihood: str
    dataset: str
    n_train: int
    n_test: int
    label: str = ""  # Run.label

    @property
    def live(self) -> bool:
        return self.status in LIVE

    @property
    def training(self) -> bool:
        """Running and not paused: its numbers move."""
        return self.status == "running" and not self.paused

    @property
    def steps(self) -> list:
        return [e for e in self.events if e["type"] == "step"]

    @property
    def epochs(self) -> list:
        return [e for e in self.events if e["type"] == "epoch"]

    @property
    def history(self) -> list:
        """What a checkpoint keeps of the run: its events and its replay."""
        return self.events + [to_history(self.replay)]

    @property
    def epochs_done(self) -> int:
        return self.epochs[-1]["epoch"] if self.epochs else 0


@dataclass
class Run:
    id: str
    model: VAE
    data: Dataset
    config: TrainConfig
    beta: BetaControl  # the base beta, held in a multiprocessing Value that the child reads
    stop: Event = field(default_factory=lambda: PROCESSES.Event())
    status: Status = "queued"
    error: str | None = None
    events: list = field(default_factory=list)
    beta_changes: list = field(default_factory=list)
    total_steps: int = 0
    replay: Replay | None = None
    pause: PauseControl = field(default_factory=lambda: PauseControl(PROCESSES.Event(), PROCESSES.Event()))
    saved_as: str | None = None
    kept_weights: bool = False  # the child sent weights to keep (at the end, or the last good ones when it diverged)
    resume_state: ResumeState | None = None  # a finished run's: saved beside the weights, to train it further
    discarded: bool = False
    save_to: Path | None = None  # where a finished run saves itself (a sweep started on the Compare page)
    created: float = field(default_factory=time.time)
    started: float | None = None  # when it left the queue
    _withdraw: Callable[[Run], None] | None = None  # the registry's: takes a queued run out of the line
    _start_state: ResumeState | None = None  # a saved model trained further: where its training goes on from
    found: Snapshot | None = None  # the snapshot it was restored from, found on disk when the server started
    owner: str = ""  # the browser that started it (a token the page keeps in its local storage); "" when not known
    label: str = ""  # what it is for, in words, where that is more than its settings say (a doctor's retrain)
    _lifeline: object = None  # the server's end of the pipe whose closing ends the child
    _final: EvalTerms | None = None
    _final_iwae: dict | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _news: threading.Event = field(default_factory=threading.Event)  # set at the first step event or the end

    @property
    def live(self) -> bool:
        return self.status in LIVE

    @property
    def restored(self) -> bool:
        return self.found is not None

    def set_beta(self, value: float) -> None:
        """Applies at the child's next step, which reports the step so the curves can mark it."""
        self.beta.set(value)

    def request_stop(self) -> None:
        """The child ends the run after its current step and sends the weights it has; a queued run is taken out
        of the line (nothing was trained, nothing to save)."""
        self.stop.set()
        if self.status == "queued" and self._withdraw is not None:
            self._withdraw(self)

    def pause_training(self) -> None:
        """The child waits before its next step until resumed (or stopped)."""
        self.pause.pause()

    def resume_training(self) -> None:
        self.pause.resume()

    def train_one_epoch(self) -> None:
        """Train to the end of the epoch under way (or the next one), evaluate it, then pause."""
        self.pause.step_epoch()

    def snapshot(self) -> RunSnapshot:
        vc = self.model.config
        with self._lock:
            changes = list(self.beta_changes)
            assert self.replay is not None  # every maker of a Run gives it one
            replay = replace(self.replay, frames=list(self.replay.frames), beta_changes=changes)
            return RunSnapshot(
                self.id,
                self.status,
                self.error,
                list(self.events),
                changes,
                self.total_steps,
                replay,
                self.pause.is_paused and self.live,
                self.saveable,
                self.saved_as,
                self.beta.get(),
                self.config,
                vc.arch,
                vc.latent_dim,
                vc.likelihood,
                self.data.name,
                len(self.data.train_x),
                len(self.data.test_x),
                self.label,
            )

    @property
    def saveable(self) -> bool:
        """Over, with weights worth keeping: finished, stopped, or failed after its child sent the last good ones
        (a run that diverged)."""
        return self.status in ("finished", "stopped", "interrupted") or (self.status == "failed" and self.kept_weights)

    @property
    def unsaved(self) -> bool:
        """A saveable run whose weights exist only here: never dropped to make room."""
        return self.saveable and not self.saved_as and not self.discarded

    def discard(self) -> None:
        """The user does not want this run: it may now be dropped like a saved one, and its snapshot goes."""
        self.discarded = True
        remove_snapshot(self.id)

    def test_metrics(self) -> EvalTerms:
        """The finished model's test terms (beta = 1) and active units; computed once."""
        if self._final is None:  # outside the lock: snapshots must not wait for the scoring
            self._final = evaluate(self.model, self.data.test_x, seed=self.config.seed, y=self.data.test_y)
        return self._final

    def iwae_bound(self) -> dict:
        """An IWAE bound on a test subsample: the slow part of the scoring, so asked for on its own; computed once."""
        if self._final_iwae is None:
            self._final_iwae = final_iwae(self.model, self.data)
        return self._final_iwae

    def save(self, path: Path, overwrite: bool = False) -> Path:
        """Save the finished or stopped run as a checkpoint (see vae_core.save_run); an existing file of that name
        is replaced only with overwrite."""
        snap = self.snapshot()
        path, _ = save_run(
            path,
            self.model,
            self.data,
            self.config,
            snap.history,
            beta_changes=snap.beta_changes,
            overwrite=overwrite,
            resume_state=self.resume_state,
        )
        with self._lock:
            self.saved_as = path.name
        remove_snapshot(self.id)
        return path

    def write_snapshot(self, status: str, weights: dict, state: ResumeState | None) -> None:
        """The run as it stands, on disk (vae_core.runs.snapshots): re-listed if the server stops before it is
        saved or discarded."""
        model = VAE(self.model.config)
        model.load_state_dict(weights)
        snap = self.snapshot()
        write_snapshot(
            self.id,
            status,
            lambda path: save_checkpoint(
                path,
                model,
                dataset=self.data.name,
                train_config=self.config,
                beta_changes=snap.beta_changes,
                history=snap.history,
                class_names=self.data.class_names,
                data_options=self.data.options,
                overwrite=True,
                resume_state=state,
            ),
            owner=self.owner,
            label=self.label,
            summary=Summary(
                snap.arch,
                snap.latent_dim,
                snap.dataset,
                state.epochs_done if state is not None else snap.epochs_done,
                self.config.epochs,
            ),
        )

    def leave_queue(self) -> None:
        with self._lock:
            self.status, self.started = "starting", time.time()

    def receive(self, on_end: Callable[[Run], None]) -> None:
        """The receiver thread of a run that left the queue: train in a child process, then free its slot."""
        try:
            self._train()
        finally:
            on_end(self)

    def _train(self) -> None:
        """Start the child, record what it sends, notice when it dies."""
        messages = PROCESSES.Queue()
        # The child holds the only read end of this pipe, the server its only write end: when the server ends
        # in any way (a kill -9 included) the child reads end-of-file and exits, so no run outlives it.
        lifeline, self._lifeline = PROCESSES.Pipe(duplex=False)
        # The data go plainly pickled, copied through the pipe: torch's own pickler would move the tensors
        # into shared memory, which Docker caps at 64 MB by default.
        try:
            assert self.replay is not None  # every maker of a Run gives it one
            child = PROCESSES.Process(
                target=train_in_child,
                daemon=True,
                name=f"train-{self.id}",
                args=(
                    self.model.config,
                    self.model.state_dict(),
                    pickle.dumps(self.data),
                    self.config,
                    messages,
                    self.stop,
                    self.beta,
                    lifeline,
                    self.pause,
                    self._start_state.to_payload() if self._start_state else None,
                    self.replay.frames[-1] if self.replay.frames else None,
                    snapshot_every_s(),
                ),
            )
            child.start()
        except Exception as err:  # no process could be started: say so instead of "starting" for ever
            LOG.exception("could not start a training process")
            self._finish(
                "failed", f"Could not start the training process ({type(err).__name__}); the server's log has the details."
            )
            return
        while True:
            try:
                message: ChildMessage = pickle.loads(messages.get(timeout=0.5))
            except queue.Empty:
                if not child.is_alive():
                    self._finish("failed", f"The training process ended unexpectedly (exit code {child.exitcode}).")
                    return
                continue
            if self._receive(message):
                child.join(timeout=5)
                return

    def _receive(self, message: ChildMessage) -> bool:
        """Record one message; True when it was the last one."""
        if message.kind == "event":
            assert message.event is not None  # an "event" message carries one
            self._record(message.event, message.frame)
            if message.snapshot is not None:
                self.write_snapshot(
                    "training", message.snapshot["weights"], ResumeState.from_payload(message.snapshot["resume"])
                )
            return False
        if message.kind == "beta":
            assert message.beta_changes is not None  # a "beta" message carries them
            with self._lock:
                self.beta_changes += message.beta_changes
            return False
        if message.kind == "scoring":  # trained: the child measures the final scores before it ends
            with self._lock:
                self.status = "scoring"
            return False
        if message.scores is not None:
            self._final, self._final_iwae = message.scores["test"], message.scores["iwae"]
        if message.weights is not None:  # before the status changes, so the page can only offer to save them
            self.model.load_state_dict(message.weights)
            self.kept_weights = True
        if message.resume is not None:
            self.resume_state = ResumeState.from_payload(message.resume)
        if message.kind == "end":
            end = message.event
            assert end is not None and end["type"] == "end"  # an "end" message carries the run's EndEvent
            if self.save_to is None:  # over, unsaved: kept on disk until saved or discarded
                assert message.weights is not None  # and the weights it ended with
                self.write_snapshot("stopped" if end["stopped"] else "finished", message.weights, self.resume_state)
            if self.save_to is not None and not end["stopped"]:  # a sweep's run saves itself, then ends
                try:
                    self.save(self.save_to)
                except Exception as err:  # a name taken, a full disk: the run fails with the reason, never silently
                    LOG.exception("a finished run could not be saved")
                    why = err if isinstance(err, CheckpointError) else f"{type(err).__name__}, see the server's log"
                    self._finish("failed", f"Trained, but it could not be saved as {self.save_to.name}: {why}")
                    return True
            self._record(end)
        else:
            self._finish("failed", message.error)
        return True

    def _record(self, event: TrainEvent, frame: ReplayFrame | None = None) -> None:
        kind = event["type"]
        with self._lock:
            if event["type"] == "start":
                self.status, self.total_steps = "running", event["total_steps"]
            elif event["type"] == "end":
                self.status = "stopped" if event["stopped"] else "finished"
            else:
                self.events.append(event)
            if frame is not None:
                assert self.replay is not None  # every maker of a Run gives it one
                self.replay.frames.append(frame)
        if kind in ("step", "end"):
            self._news.set()

    def _finish(self, status: Status, error: str | None) -> None:
        with self._lock:
            self.status, self.error = status, error
        self._news.set()

    def wait_for_first_steps(self, timeout: float) -> None:
        """Until the run has reported steps (or ended), at most `timeout` seconds: a page that has just started it
        draws the first curve points at once instead of a poll later."""
        self._news.wait(timeout)


def restore_run(found: Snapshot, data_refusal: Callable[[DataOptions], str | None]) -> Run | None:
    """The run a snapshot on disk holds (vae_core.runs.snapshots), as it was when the server stopped: one that was
    training is "interrupted" and can be resumed; a finished or stopped one can be saved or discarded. None for a
    snapshot whose data are gone, whose data `data_refusal` gives a reason not to read (the app's guard on the
    folders a checkpoint names), that contradicts itself, or that cannot be read: it stays on disk."""
    try:
        model, meta = load_checkpoint(found.checkpoint)
        state = read_resume_state(found.checkpoint) if found.status != "stopped" else None
        if not isinstance(model, VAE) or meta.train is None or data_refusal(meta.data_options):
            return None
        if state is not None and state.epochs_done > meta.train.epochs:  # "epoch 999 of 10": not a run of ours
            return None
        data = load_data(meta.data_options)
    except Exception:  # noqa: BLE001 (an unreadable snapshot is one run not listed, never a failing page)
        return None
    run = run_from_checkpoint(
        found.run_id,
        model,
        meta,
        data,
        meta.train,
        status="interrupted" if found.status == "training" else found.status,
        kept_weights=True,
        resume_state=state,
        found=found,
        owner=found.owner,
        label=found.label,
    )
    run.total_steps = -(-len(data.train_x) // meta.train.batch_size) * meta.train.epochs
    return run


def run_from_checkpoint(run_id: str, model: VAE, meta, data: Dataset, config: TrainConfig, **fields) -> Run:
    """A run made of a saved model (its weights copied) and its CheckpointMeta: its events, β changes and replay
    as saved, its β where it ended; `fields` set the rest of the Run."""
    try:
        saved = from_history(meta.history, meta.beta_changes, meta.image_shape)
    except ReplayError:  # a damaged one: the replay starts here
        saved = None
    replay = new_replay(data, model.config.latent_dim)
    replay.frames = list(saved.frames) if saved is not None else []
    run = Run(
        run_id,
        VAE(model.config),
        data,
        config,
        BetaControl(PROCESSES.Value("d", meta.final_beta)),
        events=[e for e in meta.history if e.get("type") in ("step", "epoch")],
        beta_changes=list(meta.beta_changes),
        replay=replay,
        **fields,
    )
    run.model.load_state_dict(model.state_dict())
    return run


class RunRegistry:
    """All runs on this server, by id. Each browser session keeps its own run id, so runs never mix."""

    def __init__(self, max_runs: int | None = None, data_refusal: Callable[[DataOptions], str | None] | None = None):
        """data_refusal(options): why the runs restored from disk may not read the data they name, or None."""
        self._runs: dict[str, Run] = {}
        self._queue: deque[Run] = deque()  # waiting runs, first come first served: data, no thread each
        self._training = 0  # runs that left the queue and have not ended
        self._lock = threading.Lock()
        self.max_runs = max_runs or max_concurrent_runs()
        start_training_processes()  # if the server has not yet: torch imports there before the first run needs it
        # the runs on disk from before a restart, listed from their markers and read only when opened: thirty of
        # them read at once held a fresh server's first page for seconds
        self._unopened: dict[str, Snapshot] = {found.run_id: found for found in snapshots()}
        self._data_refusal = data_refusal or (lambda options: None)
        self._opening = threading.Lock()  # one snapshot read at a time: two tabs opening one run get the same run
        for run_id in [rid for rid, found in self._unopened.items() if found.summary is None]:
            self.get(run_id)  # a marker from before summaries: read now, as it says too little to list (or keep) its data

    def owned_by(self, owner: str) -> list[Run]:
        """The runs one browser started (Run.owner), oldest first: none for an unknown owner."""
        with self._lock:
            return sorted((r for r in self._runs.values() if owner and r.owner == owner), key=lambda r: r.created)

    def restored(self) -> list[Snapshot]:
        """The runs found on disk when the server started that are still neither saved, discarded nor resumed,
        as their markers describe them (`get` opens one)."""
        with self._lock:
            opened = [r.found for r in self._runs.values() if r.found and not r.saved_as and not r.discarded]
            return [*self._unopened.values(), *opened]

    def resume(self, run: Run) -> Run:
        """Train an interrupted run on to its last epoch, from its snapshot, under the same id."""
        assert run.found is not None  # only a restored run is resumed
        model, meta = load_checkpoint(run.found.checkpoint)
        state = read_resume_state(run.found.checkpoint)
        assert isinstance(model, VAE) and meta.train is not None  # a snapshot is a .pt file saved with its TrainConfig
        more = meta.train.epochs - state.epochs_done
        resumed = self.continue_run(model, meta, state, run.data, more, run_id=run.id, owner=run.owner)
        resumed.label = run.label
        return resumed

    def start(self, spec: RunSpec, data: Dataset, save_to: Path | None = None, owner: str = "", label: str = "") -> Run:
        """Queue the run `spec` describes, on `data` (the dataset its options name, already loaded); it trains as
        soon as every run queued before it has started and a slot is free."""
        model = build_model(spec, data)
        run = Run(
            uuid.uuid4().hex[:12],
            model,
            data,
            spec.train,
            BetaControl(PROCESSES.Value("d", spec.train.beta)),
            replay=new_replay(data, model.config.latent_dim),
            save_to=save_to,
            owner=owner,
            label=label,
            _withdraw=self._withdraw,
        )
        return self._queue_run(run)

    def continue_run(
        self,
        model: VAE,
        meta,
        resume: ResumeState,
        data: Dataset,
        more_epochs: int,
        run_id: str | None = None,
        owner: str = "",
    ) -> Run:
        """Queue a saved model (its weights and CheckpointMeta, and the state it was saved with) to train
        `more_epochs` more epochs on `data`, its own dataset: its curves, β changes and replay go on from where
        they ended, at the β it ended with."""
        config = replace(meta.train, epochs=resume.epochs_done + more_epochs)
        return self._queue_run(
            run_from_checkpoint(
                run_id or uuid.uuid4().hex[:12],
                model,
                meta,
                data,
                config,
                owner=owner,
                _withdraw=self._withdraw,
                _start_state=resume,
            )
        )

    def _queue_run(self, run: Run) -> Run:
        with self._lock:
            self._forget_old()
            self._runs[run.id] = run
            self._queue.append(run)
        self._start_queued()
        return run

    def _start_queued(self) -> None:
        """Start the runs at the head of the queue while slots are free, each with its receiver thread."""
        with self._lock:
            leaving = []
            while self._queue and self._training < self.max_runs:
                leaving.append(self._queue.popleft())
                self._training += 1
        for run in leaving:
            run.leave_queue()
            threading.Thread(target=run.receive, args=(self._ended,), name=f"receive-{run.id}", daemon=True).start()

    def _ended(self, run: Run) -> None:
        with self._lock:
            self._training -= 1
        self._start_queued()

    def _withdraw(self, run: Run) -> None:
        with self._lock:
            if run not in self._queue:  # it has just left the line: its child sees the stop and ends at once
                return
            self._queue.remove(run)
        run._finish("cancelled", None)

    def queue_position(self, run_id: str) -> tuple[int, int]:
        """(1-based place, number queued) of a queued run; (0, n) for any other."""
        with self._lock:
            ids = [j.id for j in self._queue]
        return (ids.index(run_id) + 1 if run_id in ids else 0), len(ids)

    def datasets(self) -> set[str]:
        """The datasets of every run on this server, live or kept, opened or not."""
        with self._lock:
            unopened = {found.summary.dataset for found in self._unopened.values() if found.summary}
            return {run.data.name for run in self._runs.values()} | unopened

    def get(self, run_id: str | None) -> Run | None:
        """The run of that id; one found on disk is read now, the first time it is asked for (None if it cannot be)."""
        with self._lock:
            if not run_id or run_id in self._runs or run_id not in self._unopened:
                return self._runs.get(run_id) if run_id else None
        with self._opening:
            with self._lock:
                found = self._unopened.get(run_id)
            if found is None:  # another tab opened it meanwhile
                return self.get(run_id)
            run = restore_run(found, self._data_refusal)
            with self._lock:
                del self._unopened[run_id]
                if run is not None:
                    self._runs[run_id] = run
            return run

    def _forget_old(self) -> None:
        """Make room: drop the oldest runs that are over and whose weights are saved, discarded or failed.
        A run that finished unsaved stays until its session saves or discards it, or the server stops."""
        done = sorted((j for j in self._runs.values() if not j.live and not j.unsaved), key=lambda j: j.created)
        for run in done[: max(0, len(done) - KEEP_FINISHED + 1)]:
            del self._runs[run.id]
