import pickle

import pytest
import torch

from vae_core import VAE, CheckpointError, TrainConfig, VAEConfig, list_checkpoints, load_checkpoint, save_checkpoint


def test_round_trip_keeps_weights_and_metadata(tmp_path, small_model):
    history = [{"type": "epoch", "epoch": 1, "test_loss": 30.5, "kl_per_dim": [0.1, 0.2, 0.3]}]
    path = save_checkpoint(
        tmp_path / "m.pt",
        small_model,
        dataset="digits",
        train_config=TrainConfig(beta=2.0),
        history=history,
        metrics={"test_loss": 30.5},
        class_names=list("0123456789"),
    )
    model, meta = load_checkpoint(path)
    assert not model.training and model.config == small_model.config
    for a, b in zip(model.state_dict().values(), small_model.state_dict().values()):
        assert torch.equal(a, b)
    assert meta.dataset == "digits" and meta.history == history and meta.train.beta == 2.0
    assert meta.image_shape == (1, 8, 8) and meta.path == str(path)
    # plain data only: the strict loader reads it
    assert isinstance(torch.load(path, weights_only=True), dict)


def test_no_silent_overwrite_and_no_temp_files_left(tmp_path, small_model):
    path = tmp_path / "m.pt"
    save_checkpoint(path, small_model, dataset="digits")
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match="already exists"):
        save_checkpoint(path, VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=3, hidden=(32,))), dataset="digits")
    assert path.read_bytes() == before
    save_checkpoint(path, small_model, dataset="other", overwrite=True)
    assert load_checkpoint(path)[1].dataset == "other"
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


class Boom:
    def __reduce__(self):
        return (print, ("arbitrary code ran",))


@pytest.mark.parametrize("case", ["truncated", "garbage", "pickle_object", "foreign", "mismatched", "version", "missing"])
def test_bad_checkpoints_raise_one_error_type(tmp_path, small_model, case, capfd):
    path = tmp_path / "bad.pt"
    good = save_checkpoint(tmp_path / "good.pt", small_model, dataset="digits")
    if case == "truncated":
        path.write_bytes(good.read_bytes()[:500])
    elif case == "garbage":
        path.write_bytes(b"hello, not a checkpoint")
    elif case == "pickle_object":
        path.write_bytes(pickle.dumps({"format": "vae-latent-explorer", "x": Boom()}))
    elif case == "foreign":
        torch.save({"state_dict": small_model.state_dict()}, path)
    elif case == "mismatched":
        payload = torch.load(good, weights_only=True)
        payload["vae_config"]["latent_dim"] = 7
        torch.save(payload, path)
    elif case == "version":
        payload = torch.load(good, weights_only=True)
        payload["version"] = 99
        torch.save(payload, path)
    if case != "missing":
        assert path.exists()
    with pytest.raises(CheckpointError, match="bad.pt"):
        load_checkpoint(path)
    assert "arbitrary code ran" not in capfd.readouterr().out


def test_list_checkpoints_skips_unreadable_with_reason(tmp_path, small_model):
    save_checkpoint(tmp_path / "a.pt", small_model, dataset="digits", metrics={"test_loss": 1.0})
    (tmp_path / "b.pt").write_bytes(b"junk")
    (tmp_path / "readme.txt").write_text("ignored")
    infos = list_checkpoints(tmp_path)
    assert [i.name for i in infos] == ["a", "b"]
    assert infos[0].ok and infos[0].meta.metrics["test_loss"] == 1.0
    assert not infos[1].ok and "b.pt" in infos[1].error
    assert list_checkpoints(tmp_path / "nope") == []


def test_save_run_stores_dataset_metrics_and_history(tmp_path, digits):
    from vae_core import save_run, train

    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=digits.image_shape, latent_dim=2, hidden=(32,)))
    config = TrainConfig(epochs=2, seed=0)
    history = [e for e in train(model, digits, config) if e["type"] in ("step", "epoch")]
    path, metrics = save_run(tmp_path / "run.pt", model, digits, config, history)
    loaded, meta = load_checkpoint(path)
    assert meta.metrics == metrics and metrics["epoch"] == 2
    # measured now at beta = 1 with the run's seed: the same as the last epoch's test values
    last = [e for e in history if e["type"] == "epoch"][-1]
    assert metrics["test_loss"] == pytest.approx(last["test_loss"], rel=1e-5)
    assert meta.data_options.name == "digits" and meta.class_names == digits.class_names
    assert meta.train == config and meta.beta_changes == () and len(meta.history) == len(history)
    with pytest.raises(CheckpointError, match="already exists"):
        save_run(path, model, digits, config, history)


@pytest.mark.parametrize("name", ["digits", "sprites"])
def test_save_run_takes_the_last_epochs_measurements_as_measuring_again_gives_them(tmp_path, name):
    """The CLI hands save_run the last epoch's event of a run that ended with it, instead of a test pass and
    scores again: they are exactly what measuring the same weights with the same seed gives, the
    disentanglement scores of data with known factors among them."""
    from vae_core import load_dataset, save_run, train

    data = load_dataset(name, sprites_n=300, image_size=16) if name == "sprites" else load_dataset(name)
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_shape=data.image_shape, latent_dim=3, hidden=(32,)))
    config = TrainConfig(epochs=1, seed=0)
    history = [e for e in train(model, data, config) if e["type"] in ("step", "epoch")]
    _, measured_again = save_run(tmp_path / "again.pt", model, data, config, history)
    _, taken = save_run(tmp_path / "taken.pt", model, data, config, history, measured=history[-1])
    assert taken == measured_again
    assert ("mig" in taken) == (name == "sprites")


def test_metadata_is_one_typed_record_and_older_files_read_the_same(tmp_path, small_model):
    """On disk: the train config with beta at its start and one list of changes. A file the Train page saved
    before that (beta its last value, beta_start its first) and one without data options read the same."""
    path = save_checkpoint(
        tmp_path / "new.pt",
        small_model,
        dataset="digits",
        train_config=TrainConfig(beta=1.0),
        beta_changes=[(40, 4.0), (900, 0.1)],
    )
    payload = torch.load(path, weights_only=True)
    assert payload["train_config"]["beta"] == 1.0 and payload["train_config"]["beta_changes"] == [[40, 4.0], [900, 0.1]]
    assert "beta_start" not in payload["train_config"]
    meta = load_checkpoint(path)[1]
    assert meta.train.beta == 1.0 and meta.final_beta == 0.1 and meta.beta_path == (1.0, 4.0, 0.1)
    old = dict(payload, train_config=dict(payload["train_config"], beta=0.1, beta_start=1.0))
    del old["data_options"]
    torch.save(old, tmp_path / "old.pt")
    old_meta = load_checkpoint(tmp_path / "old.pt")[1]
    assert (old_meta.train, old_meta.beta_changes) == (meta.train, meta.beta_changes)
    assert old_meta.data_options.name == "digits"


@pytest.mark.parametrize(
    "key, value, reason",
    [
        ("metrics", "a string", "its metrics is a str, not a dict"),
        ("train_config", {"epochs": "many"}, "training settings"),
        ("history", {"type": "epoch"}, "its history is a dict"),
    ],
)
def test_metadata_of_the_wrong_kind_is_one_clear_error(tmp_path, small_model, key, value, reason):
    payload = torch.load(save_checkpoint(tmp_path / "m.pt", small_model, dataset="digits"), weights_only=True)
    torch.save(dict(payload, **{key: value}), tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match=reason):
        load_checkpoint(tmp_path / "bad.pt")


def test_a_conditional_model_whose_class_names_do_not_match_its_labels_is_refused(tmp_path):
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(16,), num_classes=3))
    save_checkpoint(tmp_path / "ok.pt", model, dataset="digits", class_names=["a", "b", "c"])
    save_checkpoint(tmp_path / "bad.pt", model, dataset="digits", class_names=["a", "b"])
    assert load_checkpoint(tmp_path / "ok.pt")[1].class_names == ["a", "b", "c"]
    with pytest.raises(CheckpointError, match="conditioned on 3 labels but names 2 classes"):
        load_checkpoint(tmp_path / "bad.pt")


@pytest.mark.parametrize("beta", [float("nan"), float("inf")])
def test_a_beta_that_is_not_a_finite_number_is_refused(beta):
    with pytest.raises(ValueError, match="beta non-negative, all finite numbers"):
        TrainConfig(beta=beta)


def test_a_model_whose_beta_is_unknown_says_so_in_words_not_a_question_mark():
    from vae_core.config import VAEConfig
    from vae_core.store.files import ListedCheckpoint
    from vae_core.store.meta import CheckpointMeta

    meta = CheckpointMeta.from_payload(dict(dataset="digits", vae_config=VAEConfig().to_dict()), "imported")
    row = ListedCheckpoint("imported", meta)
    assert row.beta is None and row.beta_text == "unknown"
    assert row.describe() == "z=2 · imported" and "?" not in row.describe()
