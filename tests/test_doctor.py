"""The collapse doctor (vae_core/analysis/doctor.py, ui/doctor.py): collapsed dimensions found, the remedies as one-change
retrains that do treat the collapse, and the retrain at a click on Explore and Train with its comparison table."""

import time
from dataclasses import fields, replace

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT, shown
from test_app_train import train_page, wait_until_done
from vae_core import ModelChoice, RunSpec, TrainConfig, evaluate, load_checkpoint, train
from vae_core.analysis.doctor import collapsed_dimensions, comparison_row, original_spec, remedies
from vae_core.data.datasets import load_data
from vae_core.runs.sweep import train_one
from vae_core.training.build import build_model

APP = str(ROOT / "app.py")
# a 16-D MLP on the digits collapses about half its dimensions in 10 epochs (0.5 s on two cores)
COLLAPSING = RunSpec(model=ModelChoice(latent_dim=16), train=TrainConfig(epochs=10))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checkpoints")
    (folder / "digits-2d.pt").write_bytes((ROOT / "checkpoints" / "digits-2d.pt").read_bytes())
    assert train_one(COLLAPSING, str(folder / "collapsed.pt"))["status"] == "trained"
    return folder


@pytest.fixture
def checkpoints(folder, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(folder))
    return folder


def test_collapsed_dimensions_are_those_under_the_threshold():
    assert collapsed_dimensions([0.5, 0.009, 0.0, 0.01, 2.0]) == [1, 2]
    assert collapsed_dimensions([0.5, 0.2], threshold=0.3) == [1]


def test_each_remedy_is_one_change_to_the_original_run_and_a_change_to_nothing_is_left_out():
    original = TrainConfig(epochs=12, beta=2.0)
    found = {remedy.key: config for remedy, config in remedies(original)}
    assert set(found) == {"free_bits", "cyclical", "smaller_beta", "iwae"}
    changed = {
        key: {f.name for f in fields(TrainConfig) if getattr(c, f.name) != getattr(original, f.name)}
        for key, c in found.items()
    }
    assert changed == {
        "free_bits": {"free_bits"},
        "cyclical": {"beta_schedule", "warmup_epochs"},
        "smaller_beta": {"beta"},
        "iwae": {"objective"},
    }  # k: the default 5
    assert found["free_bits"].free_bits == 0.5 and found["smaller_beta"].beta == 0.5
    assert found["cyclical"].warmup_epochs == 3.0  # four cycles over the run's epochs
    already = replace(original, objective="iwae", iwae_k=5, beta_schedule="cyclical", warmup_epochs=3.0)
    assert {r.key for r, _ in remedies(already)} == {"free_bits", "smaller_beta"}
    assert dict((r.key, c) for r, c in remedies(replace(original, free_bits=0.5)))["free_bits"].free_bits == 1.0


def test_the_original_run_is_read_back_from_its_checkpoint(folder):
    model, meta = load_checkpoint(folder / "collapsed.pt")
    spec = original_spec(meta)
    assert spec.train == COLLAPSING.train and spec.model.latent_dim == 16 and spec.data.name == "digits"
    assert build_model(spec, load_data(spec.data)).config == model.config
    assert original_spec(meta, beta=3.0).train.beta == 3.0
    imported = replace(meta, train=None)
    with pytest.raises(ValueError, match="not trained here"):
        original_spec(imported)


def test_the_retrains_treat_the_collapse(digits):
    def collapsed(config):
        model = build_model(replace(COLLAPSING, train=config), digits)
        for _ in train(model, digits, config):
            pass
        return len(collapsed_dimensions(evaluate(model, digits.test_x)["kl_per_dim"]))

    before = collapsed(COLLAPSING.train)
    assert before >= 4, "the test model should collapse"
    found = {remedy.key: config for remedy, config in remedies(COLLAPSING.train)}
    assert collapsed(found["free_bits"]) < before and collapsed(found["smaller_beta"]) < before


def test_a_comparison_row_reads_a_run_s_metrics():
    row = comparison_row(
        "a",
        "free bits",
        dict(active_units=3, kl_per_dim=[1.0, 0.001, 0.5, 0.2], mutual_info=2.5, test_loss=30.0),
        dict(iwae_nll=29.0, iwae_k=100),
    )
    assert row == {
        "run": "a",
        "change": "free bits",
        "active units": "3 / 4",
        "collapsed": 1,
        "I(x; z)": 2.5,
        "test −ELBO": 30.0,
        "IWAE-100": 29.0,
    }
    assert comparison_row("b", "queued", {}, None)["IWAE-100"] is None


def doctor_tables(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("| run | change |")]


def retrain_done(at, timeout: float = 90) -> list[str]:
    """Rerun the page until the doctor's table has the retrain's figures; its rows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception
        tables = doctor_tables(at)
        if tables and tables[0].splitlines()[-1].count("…") == 0:
            return tables[0].splitlines()[2:]
        time.sleep(0.3)
    raise AssertionError(f"the retrain did not finish: {doctor_tables(at)}")


def test_explore_names_the_collapsed_dimensions_and_retrains_at_a_click(checkpoints):
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["checkpoint"] = "collapsed"
    at.run()
    assert not at.exception
    _, meta = load_checkpoint(checkpoints / "collapsed.pt")
    dims = collapsed_dimensions(meta.metrics["kl_per_dim"])
    (warning,) = [w.value for w in at.warning if "collapsed" in w.value]
    assert f"{len(dims)} of 16 latent dimensions" in warning and ", ".join(f"z{d + 1}" for d in dims) in warning
    assert not doctor_tables(at) and "_runs" not in at.session_state  # nothing retrained without a click
    (free_bits,) = [b for b in at.button if b.label == "Free bits (0.5 nats)"]
    free_bits.click().run()
    assert not at.exception
    assert len(at.session_state["_runs"]) == 1  # queued as an ordinary run: Train lists it
    original, retrain = retrain_done(at)
    assert original.startswith("| collapsed | the original |") and "free bits 0.5 nats per dimension" in retrain
    cells = [c.strip() for c in retrain.strip("|").split("|")]
    assert cells[2] == "16 / 16" and int(cells[3]) < len(dims)  # every dimension active again, fewer collapsed
    assert any("the two counts need not add up" in c.value for c in at.caption)  # active + collapsed != 16: said why
    assert [b for b in at.button if b.label == "Free bits (0.5 nats)"][0].disabled  # one retrain per remedy
    at.switch_page("pages/train.py").run()  # Train lists the retrain by what it is for, also after a restart
    rows = [shown(m.value) for m in at.markdown if "·" in m.value]
    assert any("retrain of collapsed: free bits 0.5 nats per dimension" in row for row in rows), rows


def test_explore_shows_no_doctor_for_a_model_without_collapse(checkpoints):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["checkpoint"] = "digits-2d"
    at.run()
    assert not at.exception and not [b for b in at.button if b.label.startswith("Free bits")]


def test_a_finished_run_on_train_gets_the_doctor(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    at = train_page()
    at.number_input(key="train_latent_dim").set_value(16)
    at.number_input(key="train_epochs").set_value(10)
    at.button(key="train_start").click().run()
    at = wait_until_done(at)
    at.run()
    assert not at.exception
    assert any("latent dimensions of **this run** have collapsed" in w.value for w in at.warning)
    (smaller,) = [b for b in at.button if b.label.startswith("Smaller β")]
    smaller.click().run()
    rows = retrain_done(at)
    assert "β 1 → 0.25" in rows[1]


def test_a_noted_click_is_started_by_the_next_run(checkpoints):
    """A remedy's button only notes the click (ui/doctor.py): a run stopped before it started the retrain leaves the
    click noted, and the next run starts it, once."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["checkpoint"] = "collapsed"
    at.run()
    path = str(checkpoints / "collapsed.pt")
    at.session_state["_doctor_clicked"] = {path: ["cyclical"]}  # as a stopped run leaves it
    at.run()
    assert not at.exception
    assert [key for key, _, _ in at.session_state["_doctor_runs"][path]] == ["cyclical"]
    assert at.session_state["_doctor_clicked"][path] == [] and len(at.session_state["_runs"]) == 1
    at.run()
    assert len(at.session_state["_runs"]) == 1  # started once
    assert [b for b in at.button if b.label == "Cyclical β"][0].disabled
