"""The run registry and the training process behind it (vae_core.runs), which the Train page drives."""

import math
import pickle
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from vae_core import BetaControl, CheckpointError, ModelChoice, RunSpec, TrainConfig, load_checkpoint
from vae_core.analysis.replay import REPLAY_IMAGES
from vae_core.model.checkpoint import read_resume_state
from vae_core.runs import child
from vae_core.runs import registry as runs_registry
from vae_core.runs.child import ChildMessage
from vae_core.runs.registry import RunRegistry
from vae_core.runs.snapshots import runs_dir
from vae_core.store.files import typed_folders


@pytest.fixture(scope="module")
def registry():
    return RunRegistry()


def new_run(registry, data, **config):
    spec = RunSpec(
        data=data.options, model=ModelChoice(arch="mlp", latent_dim=2, hidden=(32,)), train=TrainConfig(log_every=1, **config)
    )
    return registry.start(spec, data)


def wait(run, condition, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition(run.snapshot()):
        assert time.monotonic() < deadline, run.snapshot().status
        time.sleep(0.02)


def test_a_run_finishes_with_its_events_replay_and_trained_weights(registry, digits):
    run = new_run(registry, digits, epochs=2)
    before = {k: v.clone() for k, v in run.model.state_dict().items()}
    wait(run, lambda s: not s.live)
    snap = run.snapshot()
    assert snap.status == "finished" and snap.error is None
    assert [e["epoch"] for e in snap.epochs] == [1, 2]
    assert snap.steps[-1]["step"] == snap.total_steps == 2 * -(-len(digits.train_x) // 128)
    # one replay frame per epoch, of the same test images each time
    assert [f.epoch for f in snap.replay.frames] == [1, 2]
    assert all(f.xy.shape == (len(snap.replay.labels), 2) for f in snap.replay.frames)
    assert snap.replay.originals.shape == snap.replay.frames[-1].recons.shape == (REPLAY_IMAGES, 1, 8, 8)
    # the server's copy of the model holds what the child trained, not the initial weights
    assert any(not torch.equal(before[k], v) for k, v in run.model.state_dict().items())


def test_pause_holds_the_run_one_epoch_trains_exactly_one_more_and_resume_finishes(registry, digits):
    run = new_run(registry, digits, epochs=60)
    wait(run, lambda s: len(s.steps) > 2)
    run.pause_training()
    wait(run, lambda s: s.paused)
    time.sleep(0.3)  # a step under way when Pause came may still report
    held = len(run.snapshot().events)
    time.sleep(0.7)
    assert len(run.snapshot().events) == held and run.snapshot().status == "running"
    epochs_before = len(run.snapshot().epochs)
    run.train_one_epoch()
    wait(run, lambda s: len(s.epochs) == epochs_before + 1)
    wait(run, lambda s: s.paused)
    time.sleep(0.5)
    assert len(run.snapshot().epochs) == epochs_before + 1  # it paused again right after that epoch
    assert len(run.snapshot().replay.frames) == epochs_before + 1
    run.resume_training()
    wait(run, lambda s: not s.live, timeout=60)
    assert run.snapshot().status == "finished" and len(run.snapshot().epochs) == 60


def test_a_paused_run_can_be_stopped(registry, digits):
    run = new_run(registry, digits, epochs=1000)
    wait(run, lambda s: len(s.steps) > 2)
    run.pause_training()
    wait(run, lambda s: s.paused)
    run.request_stop()
    wait(run, lambda s: s.status == "stopped", timeout=5)


def test_stop_takes_effect_within_a_second(registry, digits):
    run = new_run(registry, digits, epochs=1000)
    wait(run, lambda s: len(s.events) > 5)
    t0 = time.monotonic()
    run.request_stop()
    wait(run, lambda s: s.status == "stopped")
    assert time.monotonic() - t0 < 1.0


def test_beta_change_reaches_the_running_loop_and_is_recorded(registry, digits):
    run = new_run(registry, digits, epochs=1000)
    wait(run, lambda s: len(s.events) > 3)
    run.set_beta(3.0)
    wait(run, lambda s: sum(e.get("beta") == 3.0 for e in s.steps) >= 3)  # a few steps trained at the new beta
    run.request_stop()
    wait(run, lambda s: not s.live)
    snap = run.snapshot()
    ((step, beta),) = snap.beta_changes
    assert beta == 3.0 and snap.beta == 3.0
    later = [e for e in snap.steps if e["step"] > step + 1]
    assert later and all(e["beta"] == 3.0 for e in later)
    with pytest.raises(ValueError):
        run.set_beta(float("nan"))


def test_two_runs_at_once_do_not_mix(digits):
    registry = RunRegistry(max_runs=2)  # both train at once, whatever the server's cap on this machine's cores
    a = new_run(registry, digits, epochs=1000, beta=1.0)
    b = new_run(registry, digits, epochs=1000, beta=4.0)
    wait(a, lambda s: len(s.events) > 5)
    wait(b, lambda s: len(s.events) > 5)
    a.request_stop(), b.request_stop()
    assert registry.get(a.id) is a and registry.get(b.id) is b and a.id != b.id
    assert {e["beta"] for e in a.snapshot().events} == {1.0}
    assert {e["beta"] for e in b.snapshot().events} == {4.0}


def test_a_saved_run_is_an_ordinary_checkpoint_with_its_history(registry, digits, tmp_path):
    run = new_run(registry, digits, epochs=1000)
    wait(run, lambda s: len(s.events) > 3)
    run.set_beta(2.0)
    wait(run, lambda s: bool(s.beta_changes))
    run.request_stop()
    wait(run, lambda s: not s.live)
    path = run.save(tmp_path / "run.pt")
    assert run.snapshot().saved_as == "run.pt"
    model, meta = load_checkpoint(path)  # weights_only: the history holds only plain values
    # beta stored once: the start in the train config, beside the one list of changes
    assert meta.train.beta == 1.0 and [b for _, b in meta.beta_changes] == [2.0] and meta.final_beta == 2.0
    assert meta.metrics["test_loss"] > 0 and not [e for e in meta.history if e["type"] == "beta_changes"]
    assert meta.data_options.name == "digits" and meta.class_names == digits.class_names
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, run.model.state_dict()[name])


def test_a_diverging_run_fails_with_the_reason_and_keeps_finite_weights(registry, digits):
    run = new_run(registry, digits, epochs=50, lr=1e3)
    wait(run, lambda s: not s.live)
    snap = run.snapshot()
    assert snap.status == "failed" and "diverged" in snap.error
    assert all(torch.isfinite(v).all() for v in run.model.state_dict().values())


def test_a_run_that_crashes_in_its_process_fails_with_the_reason(registry, digits):
    """An error inside the training process reaches the page as a message, not a silent death."""
    wrong_shape = replace(digits, test_x=digits.test_x[:, :, :4])  # test images 4x8, not 8x8: the first test fails
    run = new_run(registry, wrong_shape, epochs=1)
    wait(run, lambda s: s.status == "failed")
    assert run.snapshot().error.startswith("Training crashed (RuntimeError).")


def test_a_run_whose_process_cannot_start_fails_with_the_reason(digits, monkeypatch):
    def no_process(*args, **kwargs):
        raise OSError("no more processes")

    monkeypatch.setattr(runs_registry.PROCESSES, "Process", no_process)
    run = new_run(RunRegistry(), digits, epochs=1)
    wait(run, lambda s: s.status == "failed")
    assert run.snapshot().error == "Could not start the training process (OSError); the server's log has the details."


def test_only_saved_or_discarded_runs_make_room_and_an_unsaved_one_is_never_dropped(digits, monkeypatch, tmp_path):
    monkeypatch.setattr(runs_registry, "KEEP_FINISHED", 2)
    registry = RunRegistry()

    def finished():
        run = new_run(registry, digits, epochs=1)
        wait(run, lambda s: not s.live)
        return run

    unsaved, discarded, saved = finished(), finished(), finished()
    discarded.discard()
    saved.save(tmp_path / "kept.pt")
    for _ in range(4):  # many later runs finish; each start makes room
        finished().discard()
    assert registry.get(unsaved.id) is unsaved and unsaved.unsaved  # still here, still saveable
    assert registry.get(discarded.id) is None and registry.get(saved.id) is None  # oldest of the rest went first
    unsaved.save(tmp_path / "late.pt")
    assert (tmp_path / "late.pt").is_file()


def test_child_messages_survive_plain_pickling_with_their_tensors():
    weights = {"w": torch.arange(4.0)}
    message = pickle.loads(pickle.dumps(ChildMessage("end", event={"type": "end", "stopped": False}, weights=weights)))
    assert message.kind == "end" and torch.equal(message.weights["w"], weights["w"])


def test_beta_control_applies_each_value_at_once_and_records_one_change_per_settled_value():
    class Shared:
        value = 1.0

    now = [0.0]
    shared, clock = Shared(), lambda: now[0]
    watch = BetaControl(shared, clock)
    assert [watch() for _ in range(3)] == [1.0, 1.0, 1.0]
    for v in (1.5, 2.0, 2.5, 3.0):  # key presses on the slider, a tenth of a second apart
        shared.value, now[0] = v, now[0] + 0.1
        assert watch() == v  # applies at the very next step
    assert watch.changes == []  # not settled yet
    now[0] += 1.5
    watch()
    assert watch.changes == [(3, 3.0)]  # one change, marked where the burst began
    shared.value, now[0] = 5.0, now[0] + 0.1
    watch()
    shared.value, now[0] = 3.0, now[0] + 0.1  # and back before settling: nothing new to record
    watch()
    now[0] += 2
    watch()
    shared.value = 0.5
    watch()
    watch.flush()  # the run ended before this one settled: still recorded
    assert watch.changes == [(3, 3.0), (11, 0.5)]


def test_runs_past_the_servers_cap_queue_in_order_and_start_when_a_slot_frees(digits, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_MAX_RUNS", "3")
    assert runs_registry.max_concurrent_runs() == 3
    registry = RunRegistry(max_runs=1)
    first = new_run(registry, digits, epochs=1000)
    wait(first, lambda s: s.status == "running")
    second, third = new_run(registry, digits, epochs=1000), new_run(registry, digits, epochs=1000)
    time.sleep(0.5)
    assert second.snapshot().status == third.snapshot().status == "queued"
    assert registry.queue_position(second.id) == (1, 2) and registry.queue_position(third.id) == (2, 2)
    third.request_stop()  # given up while waiting: nothing trained, nothing to save
    wait(third, lambda s: s.status == "cancelled")
    assert not third.unsaved and registry.queue_position(second.id) == (1, 1)
    first.request_stop()
    wait(second, lambda s: s.status == "running")  # the freed slot goes to the one waiting
    second.request_stop()
    wait(second, lambda s: not s.live)


def test_training_threads_follow_the_setting_and_default_to_half(monkeypatch):
    monkeypatch.delenv("VAE_EXPLORER_TRAIN_THREADS", raising=False)
    assert child.train_threads(8) == 4 and child.train_threads(1) == 1
    monkeypatch.setenv("VAE_EXPLORER_TRAIN_THREADS", "3")
    assert child.train_threads(8) == 3
    monkeypatch.setenv("VAE_EXPLORER_TRAIN_THREADS", "many")  # not a number: the default, not a crashed run
    assert child.train_threads(8) == 4


def test_queued_runs_are_data_not_threads_and_start_strictly_in_order(digits):
    registry = RunRegistry(max_runs=1)
    first = new_run(registry, digits, epochs=1000)
    wait(first, lambda s: s.status == "running")
    threads = threading.active_count()
    queued = [new_run(registry, digits, epochs=1) for _ in range(12)]
    assert threading.active_count() == threads  # twelve waiting runs, not one thread more
    assert [registry.queue_position(j.id) for j in queued] == [(i + 1, 12) for i in range(12)]
    first.request_stop()
    for run in queued:
        wait(run, lambda s: not s.live, timeout=120)
    started = [run.started for run in queued]
    assert all(run.snapshot().status == "finished" for run in queued) and started == sorted(started)


def test_a_finished_run_saved_from_the_page_can_be_trained_further(registry, digits, tmp_path):
    from vae_core.model.checkpoint import read_resume_state

    run = new_run(registry, digits, epochs=2)
    wait(run, lambda s: not s.live)
    state = read_resume_state(run.save(tmp_path / "run.pt"))
    assert (state.epochs_done, len(state.optimizer["exp_avg"])) == (2, len(list(run.model.parameters())))
    stopped = new_run(registry, digits, epochs=1000)
    wait(stopped, lambda s: len(s.events) > 2)
    stopped.request_stop()
    wait(stopped, lambda s: not s.live)
    with pytest.raises(CheckpointError, match="saved without its optimizer state"):  # stopped mid-epoch: not exactly
        read_resume_state(stopped.save(tmp_path / "stopped.pt"))


def test_a_saved_model_trained_further_on_the_page_goes_on_as_if_its_run_had(registry, digits, tmp_path):
    from vae_core.model.checkpoint import read_resume_state

    straight = new_run(registry, digits, epochs=4)
    first = new_run(registry, digits, epochs=2)
    wait(straight, lambda s: not s.live)
    wait(first, lambda s: not s.live)
    path = first.save(tmp_path / "two.pt")
    model, meta = load_checkpoint(path)
    more = registry.continue_run(model, meta, read_resume_state(path), digits, 2)
    wait(more, lambda s: not s.live)
    snap = more.snapshot()
    assert snap.status == "finished" and [e["epoch"] for e in snap.epochs] == [1, 2, 3, 4]  # the curves go on
    assert [f.epoch for f in snap.replay.frames] == [1, 2, 3, 4]
    for name, value in straight.model.state_dict().items():  # the same weights as 4 epochs straight
        torch.testing.assert_close(more.model.state_dict()[name], value, rtol=0, atol=1e-6)
    again = load_checkpoint(more.save(tmp_path / "four.pt"))[1]
    assert again.train.epochs == 4 and read_resume_state(tmp_path / "four.pt").epochs_done == 4


def test_a_run_interrupted_by_a_restart_is_listed_and_resumes_to_an_uninterrupted_runs_weights(digits, monkeypatch, tmp_path):
    import shutil

    monkeypatch.setenv("VAE_EXPLORER_SNAPSHOT_S", "0")  # a snapshot at every epoch's end
    monkeypatch.setenv("VAE_EXPLORER_RUNS", str(tmp_path / "runs"))
    before = RunRegistry()
    straight = new_run(before, digits, epochs=6)
    wait(straight, lambda s: not s.live)
    straight.discard()  # its snapshot goes
    run = new_run(before, digits, epochs=6)
    wait(run, lambda s: len(s.epochs) >= 2)
    shutil.copytree(tmp_path / "runs", tmp_path / "after-a-crash")  # the disk as a killed server leaves it
    run.request_stop()
    wait(run, lambda s: not s.live)

    monkeypatch.setenv("VAE_EXPLORER_RUNS", str(tmp_path / "after-a-crash"))
    after = RunRegistry()  # the server starts again
    (found,) = after.restored()
    restored = after.get(found.run_id)  # read when opened
    assert (restored.id, restored.status) == (run.id, "interrupted") and restored.snapshot().epochs
    resumed = after.resume(restored)
    wait(resumed, lambda s: not s.live)
    snap = resumed.snapshot()
    assert snap.status == "finished" and [e["epoch"] for e in snap.epochs] == [1, 2, 3, 4, 5, 6]
    for name, value in straight.model.state_dict().items():  # as if it had never stopped
        torch.testing.assert_close(resumed.model.state_dict()[name], value, rtol=0, atol=1e-6)
    assert (tmp_path / "after-a-crash" / f"{run.id}.json").is_file()  # finished unsaved: still kept
    resumed.save(tmp_path / "resumed.pt")
    assert not list((tmp_path / "after-a-crash").glob(f"{run.id}.*"))  # saved: its snapshot is gone
    assert RunRegistry().restored() == []


def test_a_finished_unsaved_run_is_listed_after_a_restart_and_discarding_it_removes_it(digits, monkeypatch):
    run = new_run(RunRegistry(), digits, epochs=2)
    wait(run, lambda s: not s.live)
    registry = RunRegistry()
    (found,) = registry.restored()
    restored = registry.get(found.run_id)
    assert (restored.id, restored.status, restored.snapshot().saveable) == (run.id, "finished", True)
    restored.discard()
    assert registry.restored() == [] and RunRegistry().restored() == []


def finished_snapshot(digits) -> tuple[Path, dict]:
    """A finished, unsaved run's snapshot on disk (this test's runs folder): its checkpoint and payload."""
    run = new_run(RunRegistry(), digits, epochs=2)
    wait(run, lambda s: not s.live)
    (path,) = runs_dir().glob(f"{run.id}.pt")
    return path, torch.load(path, weights_only=True)


def test_a_snapshot_whose_data_the_guard_refuses_is_not_restored_and_its_folder_not_read(digits, tmp_path):
    path, payload = finished_snapshot(digits)
    outside = tmp_path / "server-folder"  # a folder on the server nobody named
    (outside / "a").mkdir(parents=True)
    payload["data_options"] = dict(payload["data_options"], name=str(outside))
    torch.save(payload, path)
    refused = []
    registry = RunRegistry(data_refusal=lambda options: refused.append(options.name) or "not named here")
    assert registry.get(path.stem) is None and refused == [str(outside)]
    assert registry.restored() == []  # tried once, then unlisted
    assert str(outside.resolve()) not in typed_folders()  # not loaded, so not "named by someone"


def test_a_snapshot_linked_from_elsewhere_or_past_its_own_epochs_is_not_restored(digits, tmp_path):
    path, payload = finished_snapshot(digits)
    assert [r.run_id for r in RunRegistry().restored()] == [path.stem]
    elsewhere = tmp_path / "elsewhere.pt"
    path.rename(elsewhere)
    path.symlink_to(elsewhere)
    assert RunRegistry().restored() == []
    path.unlink()
    payload["resume_state"]["epochs_done"] = 999  # "epoch 999 of 2"
    torch.save(payload, path)
    registry = RunRegistry()
    assert registry.get(path.stem) is None and registry.restored() == []


def test_a_garbage_optimizer_state_is_a_damaged_checkpoint_not_a_type_error(digits):
    path, payload = finished_snapshot(digits)
    payload["resume_state"]["optimizer"] = 5
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="its optimizer state is damaged"):
        read_resume_state(path)
    registry = RunRegistry()
    assert registry.get(path.stem) is None and registry.restored() == []


def test_the_first_epochs_end_leaves_a_snapshot_at_once_then_they_are_throttled(digits, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_SNAPSHOT_S", "3600")  # no snapshot that time alone would bring
    run = new_run(RunRegistry(), digits, epochs=50)
    # a message's event is recorded before its snapshot is written: with epoch 3 seen, epoch 2's snapshot (if it had
    # one) is on disk, so a run that wrote one each epoch fails here every time
    wait(run, lambda s: len(s.epochs) >= 3)
    state = read_resume_state(runs_dir() / f"{run.id}.pt")
    run.request_stop()
    wait(run, lambda s: not s.live)
    assert state.epochs_done == 1  # the first epoch's end, and not the second's: throttled from there on


def test_a_runs_owner_and_label_are_kept_in_its_snapshot_and_restored_with_it(digits, monkeypatch, tmp_path):
    monkeypatch.setenv("VAE_EXPLORER_RUNS", str(tmp_path / "runs"))
    owner = "0123456789abcdef0123456789abcdef"
    registry = RunRegistry()
    mine, other = (
        new_run(registry, digits, epochs=1),
        registry.start(
            RunSpec(
                data=digits.options, model=ModelChoice(arch="mlp", latent_dim=2, hidden=(32,)), train=TrainConfig(epochs=1)
            ),
            digits,
            owner=owner,
            label="retrain of x: free bits",
        ),
    )
    assert registry.owned_by(owner) == [other] and registry.owned_by("") == []
    for run in (mine, other):
        wait(run, lambda s: not s.live)
    after = RunRegistry()  # the server starts again
    assert {found.run_id: found.owner for found in after.restored()} == {mine.id: "", other.id: owner}
    assert after.get(other.id).owner == owner and after.get(other.id).snapshot().label == "retrain of x: free bits"
    labelled = {found.run_id: found.label for found in after.restored()}
    assert labelled == {mine.id: "", other.id: "retrain of x: free bits"}  # what it was for, after a restart too
    marker = tmp_path / "runs" / f"{other.id}.json"
    marker.write_text('{"status": "finished", "owner": "<script>"}')  # a marker's owner is hostile text
    assert {found.run_id: found.owner for found in RunRegistry().restored()}[other.id] == ""


def test_a_finished_runs_scores_come_from_its_own_process_and_the_page_computes_none(digits, monkeypatch):
    from vae_core.runs import registry as registry_module

    def on_the_server(*args, **kwargs):
        raise AssertionError("the server scored a run its child had scored")

    monkeypatch.setattr(registry_module, "evaluate", on_the_server)  # the child process keeps the real ones
    monkeypatch.setattr(registry_module, "final_iwae", on_the_server)
    run = new_run(RunRegistry(), digits, epochs=2)
    wait(run, lambda s: not s.live)
    assert run.snapshot().status == "finished"
    assert run.test_metrics()["test_loss"] > 0
    iwae = run.iwae_bound()
    assert iwae["iwae_images"] == len(digits.test_x) and iwae["iwae_k"] == 100  # digits are small: all of them
    assert math.isfinite(iwae["iwae_nll"])


def test_a_fresh_server_lists_the_runs_on_disk_from_their_markers_and_reads_one_only_when_it_is_opened(digits, monkeypatch):
    from vae_core.runs import registry as registry_module

    runs = [new_run(RunRegistry(), digits, epochs=e) for e in (1, 2)]
    for run in runs:
        wait(run, lambda s: not s.live)
    (runs_dir() / "not-a-run-id.json").write_text('{"status": "finished"}')  # a name the page would show: unlisted
    (runs_dir() / "not-a-run-id.pt").write_bytes(b"")
    read = []
    monkeypatch.setattr(registry_module, "load_data", lambda options: read.append(options.name) or digits)
    registry = RunRegistry()  # the server starts again
    listed = {found.run_id: found.summary for found in registry.restored()}
    assert read == []  # listed without a checkpoint or a dataset read
    assert set(listed) == {run.id for run in runs}
    one_epoch = listed[runs[0].id]
    assert (one_epoch.arch, one_epoch.latent_dim, one_epoch.dataset, one_epoch.epochs_done, one_epoch.epochs) == (
        "mlp",
        2,
        "digits",
        1,
        1,
    )
    opened = registry.get(runs[1].id)
    assert read == ["digits"] and opened.snapshot().epochs_done == 2  # read when opened, and only that one
    assert registry.get(runs[1].id) is opened and read == ["digits"]  # once
    assert {found.run_id for found in registry.restored()} == {run.id for run in runs}  # still listed, until saved


def test_a_markers_summary_is_hostile_text_checked_before_it_is_listed():
    from vae_core.runs.snapshots import Summary

    good = dict(arch="mlp", latent_dim=2, dataset="digits", epochs_done=1, epochs=3)
    assert Summary.from_fields(good) == Summary("mlp", 2, "digits", 1, 3)
    for bad in (None, [], "x", dict(good, epochs_done=9), dict(good, latent_dim="2"), dict(good, arch=["<b>"])):
        assert Summary.from_fields(bad) is None
