"""The Train and Compare pages through AppTest, and the background-run registry behind them."""

import json
import shutil
import time

import pytest
import torch
from streamlit.testing.v1 import AppTest

from conftest import ROOT, scrubber, shown
from test_app_explore import trace_length
from vae_core import load_checkpoint
from vae_core.analysis.replay import from_history
from vae_core.training.build import build_model

APP = str(ROOT / "app.py")


@pytest.fixture
def ckpt_dir(tmp_path, monkeypatch):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    shutil.copy(ROOT / "checkpoints" / "digits-2d.pt", folder)
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(folder))
    monkeypatch.setenv("VAE_EXPLORER_DATA", str(tmp_path / "data"))
    return folder


def train_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    return at.switch_page("pages/train.py").run()


def current_run_id(at: AppTest) -> str:
    """The run the page shows, from its URL (AppTest gives a query parameter as a list or a string)."""
    run = at.query_params["run"]
    return run[0] if isinstance(run, list) else run


def wait_until_done(at: AppTest, timeout: float = 60) -> AppTest:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        if any(f"Status: **{word}**" in m.value for m in at.markdown for word in ("finished", "stopped", "failed")):
            return at
        time.sleep(0.3)
    raise AssertionError("the run did not end in time")


def test_controls_have_sensible_defaults(ckpt_dir):
    at = train_page()
    assert not at.exception
    # before a run: the curves' empty axes (the browser loads its plotting code before Start, not after)
    (empty,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert {"recon", "KL"} <= {t["name"] for t in empty["data"]} and all(not t["x"] for t in empty["data"])
    assert at.selectbox(key="train_source").value == "digits"
    assert at.selectbox(key="train_source").options == [
        "digits",
        "mnist",
        "fashion-mnist",
        "sprites",
        "a zip of images (upload)",
    ]
    assert at.radio(key="train_arch").options == ["mlp", "conv"]
    assert at.number_input(key="train_beta").value == 1.0
    assert at.selectbox(key="train_schedule").options == ["constant", "linear", "cyclical"]
    at.selectbox(key="train_schedule").set_value("linear").run()
    assert at.number_input(key="train_warmup").value == 10.0
    at.selectbox(key="train_source").set_value("a zip of images (upload)").run()
    assert at.number_input(key="train_image_size").value == 28


def test_the_model_suggested_follows_the_datas_image_size(ckpt_dir):
    at = train_page()
    assert (at.radio(key="train_arch").value, at.number_input(key="train_latent_dim").value) == ("mlp", 2)  # 8x8
    at.selectbox(key="train_source").set_value("mnist").run()
    assert (at.radio(key="train_arch").value, at.number_input(key="train_latent_dim").value) == ("conv", 20)
    assert not at.warning  # no "default value also set through Session State" warning
    at.selectbox(key="train_source").set_value("a zip of images (upload)").run()
    at.number_input(key="train_image_size").set_value(8).run()
    assert (at.radio(key="train_arch").value, at.number_input(key="train_latent_dim").value) == ("mlp", 2)
    at.radio(key="train_arch").set_value("conv").run()  # the user's own choice stays
    assert at.radio(key="train_arch").value == "conv"


def test_a_latent_size_past_what_the_images_keep_in_use_is_said_beside_it(ckpt_dir):
    at = train_page()
    in_use = lambda: [c.value for c in at.caption if "dimensions in use" in c.value]  # noqa: E731
    assert in_use() == []  # digits: a 2-D code
    at.selectbox(key="train_source").set_value("mnist").run()
    assert in_use() == []  # 60,000 images keep about 24 in use: 20 is not too many
    at.selectbox(key="train_source").set_value("sprites").run()  # 2,500 drawn, 2,000 to train on
    (said,) = in_use()
    assert said.startswith("2,000 training images") and "about 16 dimensions" in said
    at.number_input(key="train_latent_dim").set_value(16).run()
    assert in_use() == []


def test_a_short_run_draws_curves_and_saves_a_checkpoint(ckpt_dir):
    at = train_page()
    at.number_input(key="train_epochs").set_value(3)
    at.number_input(key="train_latent_dim").set_value(3)
    at.button(key="train_start").click().run()
    run_id = current_run_id(at)
    at = wait_until_done(at)
    assert "Status: **finished**" in [m.value for m in at.markdown]
    curves = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {"recon", "KL", "β·KL", "test KL"} <= {t["name"] for t in curves["data"]}
    assert any("active units" in c.value for c in at.caption)
    # the formulas beside the curves, for this run's likelihood
    assert any("\\log \\hat x_i" in f.body for f in at.latex) and any("\\mu_j^2" in f.body for f in at.latex)
    # the replay: one frame per epoch, the newest shown; the KL heatmap has every epoch
    key = f"replay_{run_id}"
    assert scrubber(at).value == 3 and any(m.value.startswith("**Epoch 3**") for m in at.markdown)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    heatmap = next(c for c in charts if c["data"][0].get("type") == "heatmap")
    assert heatmap["data"][0]["x"] == [1, 2, 3] and len(heatmap["data"][0]["y"]) == 3  # 3 latent dimensions
    scrubber(at).set_value(1).run()
    assert any(m.value.startswith("**Epoch 1**") for m in at.markdown)
    at.button(key=f"{key}_play").click().run()  # plays on from epoch 1: the fragment moves the scrubber on
    assert at.button(key=f"{key}_pause").label == "Pause" and scrubber(at).value == 2
    at.run()  # the next tick reaches the last epoch, where playing stops
    assert at.button(key=f"{key}_play").label == "Play" and scrubber(at).value == 3
    # the KL term split up, one point per epoch
    split = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "I(x; z)" in c.proto.spec)
    assert [t["name"] for t in split["data"]] == ["I(x; z)", "total correlation", "dimension-wise KL"]
    assert all(trace_length(t["x"]) == 3 for t in split["data"])
    # the outcome beside Save: test terms and an IWAE bound, the same numbers the saved checkpoint gets
    shown = {m.label: float(m.value.split()[0]) for m in at.metric}
    assert {"test −ELBO", "reconstruction", "KL", "active units", "IWAE-100 NLL"} <= set(shown)
    assert shown["IWAE-100 NLL"] <= shown["test −ELBO"] + 0.5
    at.text_input(key=f"save_name_{run_id}").set_value("../../evil name").run()
    at.button(key=f"save_{run_id}").click().run()
    assert not at.exception
    new = ckpt_dir / "evil-name.pt"  # sanitised into the folder, never outside it
    assert sorted(p.name for p in ckpt_dir.glob("*.pt")) == ["digits-2d.pt", "evil-name.pt"]
    assert not list(ckpt_dir.parent.parent.glob("evil*"))
    model, meta = load_checkpoint(new)
    assert model.config.latent_dim == 3 and meta.metrics["test_loss"] == pytest.approx(shown["test −ELBO"], abs=0.01)
    assert [e["epoch"] for e in meta.history if e["type"] == "epoch"] == [1, 2, 3]
    assert [f.epoch for f in from_history(meta.history).frames] == [1, 2, 3]  # it replays from the checkpoint
    assert any("Saved as" in s.value for s in at.success)
    assert at.selectbox(key="checkpoint").value == "evil-name"  # at once selectable, and preselected


def live_curves_sent(at) -> list[dict]:
    return [json.loads(c.proto.json) for c in at.get("bidi_component") if c.proto.component_name == "vae_explorer_live_curves"]


def canvas_charts(at) -> list[dict]:
    return [json.loads(c.proto.json) for c in at.get("bidi_component") if c.proto.component_name == "vae_explorer_canvas_chart"]


def test_a_live_run_is_drawn_on_canvases_sent_only_new_points_and_a_paused_one_by_plotly(ckpt_dir):
    at = train_page()
    at.number_input(key="train_epochs").set_value(1000)
    at.button(key="train_start").click().run()
    run_id = current_run_id(at)
    deadline = time.monotonic() + 30
    while not (sent := live_curves_sent(at)) or not sent[0]["steps"]:
        assert time.monotonic() < deadline, "no live curve points"
        time.sleep(0.3)
        at.run()
    (first,) = sent
    assert first["run"] == run_id and first["from_step"] == 0
    while not {"scatter", "bars", "heatmap", "lines"} <= {c["kind"] for c in canvas_charts(at)}:  # after an epoch
        assert time.monotonic() < deadline, "no live diagnostics"
        time.sleep(0.3)
        at.run()
    assert not at.get("plotly_chart")  # while it trains, nothing is drawn by Plotly
    (earlier,) = live_curves_sent(at)
    time.sleep(0.5)
    at.run()
    (second,) = live_curves_sent(at)
    assert second["from_step"] == earlier["from_step"] + len(earlier["steps"]) and second["steps"]  # new points only
    assert second["steps"][0][0] > earlier["steps"][-1][0]  # rows are [step, recon, loss, KL, beta]
    at.slider(key=f"live_beta_{run_id}").set_value(4.0).run()  # a rerun of the whole page: nothing sent twice
    (third,) = live_curves_sent(at)
    assert third["from_step"] == second["from_step"] + len(second["steps"])
    at.button(key=f"pause_{run_id}").click().run()
    time.sleep(0.3)
    at.run()
    assert "Status: **paused**" in [m.value for m in at.markdown] and not live_curves_sent(at) and not canvas_charts(at)
    assert "ETA" not in at.get("progress")[0].proto.text  # while paused it would only count up
    curves = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if '"recon"' in c.proto.spec)
    recon = next(t for t in curves["data"] if t["name"] == "recon")
    assert trace_length(recon["x"]) >= third["from_step"] + len(third["steps"])  # every point, not the new ones
    assert any(json.loads(c.proto.spec)["data"][0].get("type") == "heatmap" for c in at.get("plotly_chart"))
    at.button(key=f"stop_{run_id}").click().run()
    wait_until_done(at)


def test_a_diverging_run_ends_with_a_clear_message_and_its_last_good_weights_can_be_saved(ckpt_dir):
    at = train_page()
    at.number_input(key="train_lr").set_value(1e3)
    at.number_input(key="train_epochs").set_value(20)
    at.button(key="train_start").click().run()
    at = wait_until_done(at)
    assert "Status: **failed**" in [m.value for m in at.markdown]
    assert any("diverged" in e.value and "were kept" in e.value and "lower learning rate" in e.value for e in at.error)
    assert not any("Waiting for the first steps" in i.value for i in at.info)  # it is over, not about to start
    assert sorted(p.name for p in ckpt_dir.glob("*.pt")) == ["digits-2d.pt"]  # nothing saved unasked
    (save,) = [b for b in at.button if b.key and b.key.startswith("save_")]  # what the message says was kept
    save.click().run()
    (saved,) = [p for p in ckpt_dir.glob("*.pt") if p.name != "digits-2d.pt"]
    model, _ = load_checkpoint(saved)
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())


def test_an_unusable_upload_gets_a_clear_message(ckpt_dir):
    at = train_page()
    at.selectbox(key="train_source").set_value("a zip of images (upload)").run()
    at.button(key="train_start").click().run()
    assert any("Choose a zip file" in e.value for e in at.error)
    assert "run" not in at.query_params


def test_the_compare_page_plots_rate_against_distortion(ckpt_dir):
    shutil.copy(ROOT / "checkpoints" / "digits-16d.pt", ckpt_dir)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert fig["data"][0]["text"] == ["digits-16d", "digits-2d"]  # points labelled by name
    assert fig["layout"]["xaxis"]["title"]["text"].startswith("rate")


def test_compare_shows_the_beta_path_of_a_run_whose_beta_changed(ckpt_dir):
    from vae_core import save_checkpoint
    from vae_core.training.loop import evaluate

    model, meta = load_checkpoint(ROOT / "checkpoints" / "digits-2d.pt")
    save_checkpoint(
        ckpt_dir / "varied.pt",
        model,
        dataset="digits",
        train_config=meta.train,
        beta_changes=[(40, 4.0), (900, 0.1)],
        metrics=evaluate(model, load_dataset_digits().test_x),
        data_options=meta.data_options,
    )
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert any("varied" in o and "β=1 → 4 → 0.1" in o for o in at.selectbox(key="checkpoint").options)
    at.switch_page("pages/compare.py").run()
    table = at.dataframe[0].value
    assert table.set_index("name").loc["varied", "β"] == "1 → 4 → 0.1"
    assert table.set_index("name").loc["digits-2d", "β"] == "1"
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    symbols = dict(zip([c[0] for c in fig["data"][0]["customdata"]], fig["data"][0]["marker"]["symbol"]))
    assert symbols == {"varied": "diamond", "digits-2d": "circle"}


def load_dataset_digits():
    from vae_core import load_dataset

    return load_dataset("digits")


def test_leaving_the_train_page_loses_neither_the_form_nor_the_run(ckpt_dir):
    at = train_page()
    at.number_input(key="train_epochs").set_value(700)
    at.selectbox(key="train_likelihood").set_value("gaussian")
    at.number_input(key="train_latent_dim").set_value(3).run()
    at.switch_page("pages/explore.py").run()
    at.switch_page("pages/train.py").run()
    assert at.number_input(key="train_epochs").value == 700  # the form kept its values
    assert at.selectbox(key="train_likelihood").value == "gaussian"
    at.button(key="train_start").click().run()
    run_id = current_run_id(at)
    at.switch_page("pages/explore.py").run()
    at.query_params.clear()  # what the sidebar link does: no ?run= in the URL
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert any(f"Run `{run_id}`" in h.value for h in at.subheader)  # the live run is shown again
    assert any(run_id in m.value and ("training" in m.value or "starting" in m.value) for m in at.markdown)  # listed
    at.button(key=f"stop_{run_id}").click().run()
    wait_until_done(at)


def test_compare_draws_a_sweep_as_a_curve_of_medians_over_seeds(ckpt_dir):
    from vae_core import ModelChoice, RunSpec, TrainConfig
    from vae_core.runs.sweep import sweep

    spec = RunSpec(model=ModelChoice(hidden=(32,)), train=TrainConfig(epochs=2))
    rows = sweep(spec, [0.5, 4.0], [0, 1, 2], ckpt_dir / "sweep", workers=2)
    assert [r["status"] for r in rows] == ["trained"] * 6
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert any(o.endswith(" · sweep/beta4-seed2") for o in at.selectbox(key="checkpoint").options)  # listed too
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    (curve,) = [t for t in fig["data"] if t["name"] == "sweep: median over seeds"]
    for beta, x, y, up in zip((0.5, 4.0), curve["x"], curve["y"], curve["error_x"]["array"]):
        runs = [r for r in rows if r["beta"] == beta]
        assert x == pytest.approx(sorted(r["test_kl"] for r in runs)[1], rel=1e-5)  # the median of three seeds
        assert y == pytest.approx(sorted(r["test_recon"] for r in runs)[1], rel=1e-5)
        assert up == pytest.approx(max(r["test_kl"] for r in runs) - x, abs=1e-6)  # the spread up to the highest


def test_a_sweep_started_on_compare_queues_its_runs_saves_each_and_draws_the_curve(ckpt_dir):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/compare.py").run()
    at.text_input(key="sweep_betas").set_value("0.5,4")
    at.text_input(key="sweep_seeds").set_value("0")
    at.number_input(key="sweep_epochs").set_value(2)
    at.text_input(key="sweep_name").set_value("ui sweep")
    at.button(key="sweep_start").click().run()
    assert not at.exception and not at.main.error
    assert any("sweep: " in p.proto.text for p in at.get("progress"))  # visible progress
    deadline = time.monotonic() + 120
    while len(list((ckpt_dir / "ui-sweep").glob("*.pt"))) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.5)
        at.run()
    while not any("The sweep is done: 2 of 2 runs saved" in m.value for m in at.success):  # it says it is over
        assert time.monotonic() < deadline
        time.sleep(0.5)
        at.run()
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert any(t["name"] == "ui-sweep: median over seeds" for t in fig["data"])
    assert sorted(p.name for p in (ckpt_dir / "ui-sweep").glob("*.pt")) == ["beta0.5-seed0.pt", "beta4-seed0.pt"]


def test_save_and_discard_show_before_the_scores_are_computed(ckpt_dir, monkeypatch):
    """The scoring (above all the IWAE bound) takes its time after Stop: it must not hold back Save."""
    from vae_core.runs import registry

    def never(self):
        raise RuntimeError("the IWAE bound is still being computed")

    monkeypatch.setattr(registry.Run, "iwae_bound", never)
    at = train_page()
    at.number_input(key="train_epochs").set_value(2)
    at.button(key="train_start").click().run()
    at = wait_until_done(at)
    assert [b for b in at.button if b.key and b.key.startswith("save_")]
    assert [b for b in at.button if b.key and b.key.startswith("discard_")]
    assert any(m.label == "test −ELBO" for m in at.metric)  # what was computed is shown


def test_points_that_collapsed_alike_on_the_rate_distortion_plane_are_named_once():
    from types import SimpleNamespace

    from ui.figures import point_labels

    row = lambda name, kl, recon, group="": SimpleNamespace(name=name, test_kl=kl, test_recon=recon, group=group)  # noqa: E731
    rows = [row("a", 0.0, 50.0), row("b", 0.001, 50.01), row("c", 10.0, 20.0), row("sweep-run", 5.0, 30.0, "sweep")]
    assert point_labels(rows) == ["a", "", "c", ""]  # b sits on a (both collapsed): hover names it


def test_a_saved_model_can_be_trained_further_on_the_page(ckpt_dir):
    from vae_core import TrainConfig, load_dataset, train
    from vae_core.config import ModelChoice, RunSpec
    from vae_core.model.checkpoint import ResumeState
    from vae_core.training.save import save_run

    data = load_dataset("digits")
    spec = RunSpec(data=data.options, model=ModelChoice(latent_dim=2), train=TrainConfig(epochs=2, device="cpu"))
    model, state = build_model(spec, data), ResumeState()
    history = [e for e in train(model, data, spec.train, resume=state) if e["type"] in ("step", "epoch")]
    save_run(ckpt_dir / "two.pt", model, data, spec.train, history, resume_state=state)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["checkpoint"] = "digits-2d"
    at.run().switch_page("pages/train.py").run()
    assert any("saved without its optimizer state" in c.value for c in at.caption)  # the shipped one: no state
    at.session_state["checkpoint"] = "two"
    at.run()
    assert any("2 epochs so far" in c.value for c in at.caption)
    at.number_input(key="continue_epochs").set_value(2)
    at.button(key="continue_start").click().run()
    at = wait_until_done(at)
    assert "Status: **finished**" in [m.value for m in at.markdown] and not at.exception
    assert any("epoch 4/4" in p.proto.text for p in at.get("progress"))  # the run went on from epoch 2 to 4


def test_a_second_run_of_the_same_settings_gets_its_own_name_and_replacing_is_a_choice(ckpt_dir):
    at = train_page()
    at.number_input(key="train_epochs").set_value(1)
    at.selectbox(key="train_objective").set_value("iwae")
    names = []
    for _ in range(2):
        at.button(key="train_start").click().run()
        run_id = current_run_id(at)
        at = wait_until_done(at)
        names.append(at.text_input(key=f"save_name_{run_id}").value)
        if len(names) == 1:
            at.button(key=f"save_{run_id}").click().run()
    first, second = names
    assert "-iwae-" in first and second == f"{first}-2"  # the objective is in the name, and a suffix tells them apart
    at.text_input(key=f"save_name_{run_id}").set_value(first).run()
    at.button(key=f"save_{run_id}").click().run()
    (error,) = [shown(e.value) for e in at.main.error]
    assert error == f"{first} already exists; choose another name or allow overwriting." and str(ckpt_dir) not in error
    at.checkbox(key=f"save_overwrite_{run_id}").check().run()
    at.button(key=f"save_{run_id}").click().run()
    assert not at.exception and any("Saved as" in s.value for s in at.success)


def test_an_upload_of_mid_tone_images_says_what_bernoulli_means_for_them(ckpt_dir, monkeypatch, tmp_path):
    import io
    import zipfile

    import numpy as np
    from PIL import Image

    monkeypatch.setenv("VAE_EXPLORER_DATA", str(tmp_path / "data"))
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(12):  # grey noise between 60 and 200: every pixel a mid-tone
            image = io.BytesIO()
            Image.fromarray(rng.integers(60, 200, (8, 8), dtype=np.uint8)).save(image, format="PNG")
            archive.writestr(f"photos/{i}.png", image.getvalue())
    at = train_page()
    at.selectbox(key="train_source").set_value("a zip of images (upload)").run()
    at.file_uploader(key="train_zip").upload("photos.zip", buffer.getvalue(), "application/zip").run()
    said = lambda: [c.value for c in at.caption if "mid-tones" in c.value]  # noqa: E731
    (caption,) = said()
    assert caption.startswith("100% of the sample's pixel values are mid-tones")
    at.selectbox(key="train_likelihood").set_value("gaussian").run()
    assert said() == []  # said only of the likelihood it is true of


def test_the_share_of_mid_tones_tells_flat_images_from_photographs():
    import numpy as np

    from vae_core import load_dataset
    from vae_core.data.images import mid_tone_share

    assert mid_tone_share(np.zeros((2, 1, 4, 4))) == 0.0 and mid_tone_share(np.full((2, 3, 4, 4), 0.5)) == 1.0
    assert mid_tone_share(np.array([0.05, 0.1, 0.5, 0.9, 0.95]).reshape(1, 1, 1, 5)) == 0.2  # bounds excluded
    assert mid_tone_share(load_dataset("digits").train_x[:200]) < 0.5  # digits: mostly black or white
