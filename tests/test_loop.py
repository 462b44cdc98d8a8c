import math
import threading

import pytest
import torch

from vae_core import VAE, BetaControl, NonFiniteLossError, TrainConfig, VAEConfig, train
from vae_core.training.loop import evaluate, schedule_factor


def run(model, data, config, **kw):
    return list(train(model, data, config, **kw))


def test_short_run_lowers_the_test_loss(digits):
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=8))
    before = evaluate(model, digits.test_x)["test_loss"]
    events = run(model, digits, TrainConfig(epochs=5))
    epochs = [e for e in events if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4, 5]
    assert epochs[-1]["test_loss"] < before - 10
    assert len(epochs[-1]["kl_per_dim"]) == 8
    assert {"mutual_info", "total_correlation", "dimwise_kl", "kl_aggregate"} <= epochs[-1].keys()
    steps = [e for e in events if e["type"] == "step"]
    assert steps and all(s["samples_per_s"] > 0 and s["loss"] > 0 for s in steps)
    assert events[0]["type"] == "start" and events[-1] == {**events[-1], "type": "end", "stopped": False}


def test_each_evaluation_splits_the_kl_term(digits):
    """On a model that encodes (the shipped 2-D one): I(x;z) + KL(q(z)||p(z)) is the KL term, on a subsample."""
    from conftest import ROOT
    from vae_core import load_checkpoint

    model, _ = load_checkpoint(ROOT / "checkpoints" / "digits-2d.pt")
    result = evaluate(model, digits.test_x)
    assert 1.0 < result["mutual_info"] <= math.log(256)
    assert result["kl_aggregate"] == pytest.approx(result["total_correlation"] + result["dimwise_kl"])
    assert result["mutual_info"] + result["kl_aggregate"] == pytest.approx(result["test_kl"], rel=0.15)


def test_runs_are_reproducible_with_a_seed(digits):
    losses = []
    for _ in range(2):
        torch.manual_seed(0)
        model = VAE(VAEConfig(image_shape=(1, 8, 8), hidden=(32,)))
        losses.append([e["loss"] for e in run(model, digits, TrainConfig(epochs=1, seed=3)) if e["type"] == "step"])
    assert losses[0] == losses[1]


def test_stop_event_ends_the_run_between_steps(digits, small_model):
    stop = threading.Event()
    events = []
    for event in train(small_model, digits, TrainConfig(epochs=50, log_every=1), stop=stop):
        events.append(event)
        if event["type"] == "step" and event["step"] == 3:
            stop.set()
    assert events[-1]["type"] == "end" and events[-1]["stopped"] and events[-1]["steps"] == 3


def test_beta_change_mid_run_reaches_the_loop(digits, small_model):
    control = BetaControl(1.0)
    seen = []
    for event in train(small_model, digits, TrainConfig(epochs=2, log_every=1), beta=control):
        if event["type"] == "step":
            seen.append(event["beta"])
            if event["step"] == 4:
                control.set(4.0)
    assert seen[:4] == [1.0] * 4 and set(seen[4:]) == {4.0}


def test_beta_schedules():
    assert schedule_factor("constant", 3.0, 10) == 1.0
    assert schedule_factor("linear", 0.0, 10) == 0.0
    assert schedule_factor("linear", 5.0, 10) == pytest.approx(0.5)
    assert schedule_factor("linear", 25.0, 10) == 1.0
    assert schedule_factor("cyclical", 2.5, 10) == pytest.approx(0.5)
    assert schedule_factor("cyclical", 7.0, 10) == 1.0
    assert schedule_factor("cyclical", 10.0, 10) == 0.0  # a new cycle starts again from 0


def test_linear_warmup_is_applied(digits, small_model):
    events = run(small_model, digits, TrainConfig(epochs=2, beta=2.0, beta_schedule="linear", warmup_epochs=2, log_every=1))
    betas = [e["beta"] for e in events if e["type"] == "step"]
    assert betas[0] == 0.0 and betas == sorted(betas) and 1.5 < betas[-1] < 2.0


def test_diverging_run_raises_and_keeps_finite_weights(digits, small_model):
    with pytest.raises(NonFiniteLossError, match="lower learning rate"):
        run(small_model, digits, TrainConfig(epochs=20, lr=1e6))
    assert all(torch.isfinite(p).all() for p in small_model.parameters())
    assert torch.isfinite(torch.tensor(evaluate(small_model, digits.test_x)["test_loss"]))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_weight_that_stops_being_finite_is_caught_though_the_loss_is_finite_and_the_last_good_ones_return(bad):
    from vae_core.training.loop import _Snapshot

    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,)))
    snapshot = _Snapshot(model)
    with torch.no_grad():
        next(model.parameters()).add_(1.0)  # training moved on: a good state, checked and kept at step 5
    snapshot.check(100.0, step=5)
    kept = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        list(model.parameters())[-1][0] = bad  # one weight of the last layer
    with pytest.raises(NonFiniteLossError, match="weights from step 5"):
        snapshot.check(99.0, step=6)
    for name, value in model.state_dict().items():
        assert torch.equal(value, kept[name]), name


def test_shape_mismatch_is_refused(digits):
    model = VAE(VAEConfig(image_shape=(1, 28, 28)))
    with pytest.raises(ValueError, match="expects images"):
        run(model, digits, TrainConfig(epochs=1))


def test_available_devices_end_with_the_cpu_and_auto_picks_the_first():
    from vae_core import available_devices
    from vae_core.training.loop import pick_device

    devices = available_devices()
    assert devices[-1] == "cpu" and len(set(devices)) == len(devices)
    assert pick_device("auto").type == devices[0]
    assert pick_device("cpu").type == "cpu"


def test_the_epoch_under_way_is_counted_as_people_count():
    from vae_core.training.loop import epoch_under_way

    assert [epoch_under_way(e, 30) for e in (0.0, 0.01, 12.4, 13.0, 29.99, 30.0)] == [1, 1, 13, 13, 30, 30]
