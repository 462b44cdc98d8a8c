"""ONNX in and out: a checkpoint exported as a model folder runs in onnxruntime as it did in torch; a VAE written
elsewhere, exported with torch.onnx.export, is a model here; hostile folders are refused with one line each."""

import json
import shutil
import sys
import time

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from conftest import ROOT
from test_cli import cli
from vae_core import CheckpointError, TrainConfig, VAEConfig, load_checkpoint, load_dataset, save_run, train
from vae_core.data.datasets import load_data
from vae_core.model import onnx_io
from vae_core.model.vae import VAE
from vae_core.training.build import build_model


def trained(tmp_path, likelihood: str, arch: str = "mlp") -> str:
    data = load_dataset("digits")
    model = VAE(
        VAEConfig(
            image_shape=(1, 8, 8), latent_dim=3, hidden=(32,) if arch == "mlp" else (8, 16), arch=arch, likelihood=likelihood
        )
    )
    config = TrainConfig(epochs=1)
    history = [e for e in train(model, data, config) if e["type"] in ("step", "epoch")]
    path, _ = save_run(tmp_path / f"{likelihood}-{arch}.pt", model, data, config, history)
    return str(path)


@pytest.mark.parametrize("likelihood, arch", [("bernoulli", "conv"), ("continuous-bernoulli", "mlp"), ("gaussian", "mlp")])
def test_an_exported_checkpoint_runs_in_onnxruntime_as_in_torch(tmp_path, likelihood, arch):
    checkpoint = trained(tmp_path, likelihood, arch)
    cli("export", checkpoint, "--onnx", str(tmp_path / "model"))
    model, _ = load_checkpoint(checkpoint)
    imported, meta = load_checkpoint(tmp_path / "model")
    assert imported.config.arch == "onnx" and imported.config.likelihood == likelihood
    x, z = torch.rand(9, 1, 8, 8), torch.randn(9, 3)
    with torch.no_grad():
        for ours, theirs in zip(model.encode(x), imported.encode(x)):
            np.testing.assert_allclose(theirs, ours, atol=1e-4)
        np.testing.assert_allclose(imported.decode(z), model.decode(z), atol=1e-4)
        np.testing.assert_allclose(imported.decode_mean(z), model.decode_mean(z), atol=1e-4)
        np.testing.assert_allclose(imported.decode_image(z, "mode"), model.decode_image(z, "mode"), atol=1e-4)
        out = model.decode(z)
        assert float(imported.likelihood.nll(x, out).sum()) == pytest.approx(
            float(model.likelihood.nll(x, out).sum()), rel=1e-5
        )  # the Gaussian's sigma came along
    description = json.loads((tmp_path / "model" / "model.json").read_text())
    assert description["image_shape"] == [1, 8, 8] and description["latent_dim"] == 3
    assert meta.class_names == [str(d) for d in range(10)] and meta.data_options.name == "digits"
    # eval on the folder: the same ELBO and IWAE bound as on the checkpoint
    a, b = (json.loads(cli("eval", path, "--json", "--iwae-k", "10").stdout) for path in (checkpoint, str(tmp_path / "model")))
    for key in ("test_loss", "test_recon", "test_kl", "iwae_nll"):
        assert b[key] == pytest.approx(a[key], abs=1e-3)


def test_export_says_how_to_install_onnx_when_it_is_missing(tmp_path, monkeypatch, capsys):
    from vae_core.cli import main

    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx then fails, as where it is not installed
    assert main(["export", str(ROOT / "checkpoints" / "digits-2d.pt"), "--onnx", str(tmp_path / "m")]) == 1
    assert "pip install" in capsys.readouterr().err and not (tmp_path / "m" / "model.json").exists()


class OutsideVAE(nn.Module):
    """A VAE written the way anyone might, sharing nothing with vae_core."""

    def __init__(self, d=2):
        super().__init__()
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(64, 48), nn.Tanh(), nn.Linear(48, 2 * d))
        self.dec = nn.Sequential(nn.Linear(d, 48), nn.Tanh(), nn.Linear(48, 64))


class OutsideEncoder(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, x):
        mu, logvar = self.vae.enc(x).chunk(2, dim=1)
        return mu, logvar


class OutsideDecoder(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, z):
        logits = self.vae.dec(z).view(-1, 1, 8, 8)
        return logits, torch.sigmoid(logits)


def export_outside_vae(folder, d=2, seed=0):
    """What the README shows: torch.onnx.export of someone else's encoder and decoder, and a model.json."""
    torch.manual_seed(seed)
    vae = OutsideVAE(d).eval()
    folder.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        OutsideEncoder(vae),
        (torch.rand(1, 1, 8, 8),),
        folder / "encoder.onnx",
        input_names=["x"],
        output_names=["mu", "logvar"],
        dynamic_axes={"x": {0: "n"}, "mu": {0: "n"}, "logvar": {0: "n"}},
        dynamo=False,
    )
    torch.onnx.export(
        OutsideDecoder(vae),
        (torch.zeros(1, d),),
        folder / "decoder.onnx",
        input_names=["z"],
        output_names=["param", "mean"],
        dynamic_axes={"z": {0: "n"}, "param": {0: "n"}, "mean": {0: "n"}},
        dynamo=False,
    )
    (folder / "model.json").write_text(
        json.dumps(
            {
                "format": "vae-latent-explorer-onnx",
                "version": 1,
                "image_shape": [1, 8, 8],
                "latent_dim": d,
                "likelihood": "bernoulli",
                "dataset": "digits",
                "class_names": [str(i) for i in range(10)],
            }
        )
    )
    return vae


def test_a_vae_from_someone_elses_code_is_a_model_here(tmp_path):
    vae = export_outside_vae(tmp_path / "theirs")
    model, meta = load_checkpoint(tmp_path / "theirs")
    x = torch.rand(4, 1, 8, 8)
    np.testing.assert_allclose(model.encode(x)[0], vae.enc(x).chunk(2, dim=1)[0].detach(), atol=1e-5)
    assert meta.train is None and meta.history == [] and meta.dataset == "digits"
    result = json.loads(cli("eval", str(tmp_path / "theirs"), "--json").stdout)
    assert result["n_test"] == 359 and result["test_loss"] == pytest.approx(result["test_recon"] + result["test_kl"])


@pytest.fixture
def exported(tmp_path):
    folder = tmp_path / "model"
    export_outside_vae(folder)
    return folder


def refused(folder) -> str:
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(folder)
    return str(err.value)


def test_external_data_is_refused(exported):
    graph = onnx.load(str(exported / "encoder.onnx"))
    weight = graph.graph.initializer[0]
    weight.ClearField("raw_data")
    weight.data_location = onnx.TensorProto.EXTERNAL
    weight.external_data.add(key="location", value="../../../../etc/passwd")
    onnx.save(graph, str(exported / "encoder.onnx"))
    assert "refers to external data files" in refused(exported)


def test_a_custom_operator_domain_is_refused(exported):
    graph = onnx.load(str(exported / "decoder.onnx"))
    graph.graph.node[0].domain = "com.example.evil"
    graph.opset_import.add(domain="com.example.evil", version=1)
    onnx.save(graph, str(exported / "decoder.onnx"))
    assert "custom operator domain 'com.example.evil'" in refused(exported)


def test_a_file_over_the_size_limit_is_refused(exported, monkeypatch):
    monkeypatch.setattr(onnx_io, "MAX_ONNX_BYTES", 1000)
    assert "over the limit" in refused(exported)


def test_inputs_or_outputs_that_do_not_match_model_json_are_refused(exported):
    description = json.loads((exported / "model.json").read_text())
    (exported / "model.json").write_text(json.dumps(dict(description, latent_dim=3)))
    assert "decoder.onnx's input z has shape N×2; model.json gives N×3" in refused(exported)
    (exported / "model.json").write_text(json.dumps(description))
    graph = onnx.load(str(exported / "encoder.onnx"))
    graph.graph.output[0].name = "means"
    for node in graph.graph.node:  # and the node that makes it
        node.output[:] = ["means" if name == "mu" else name for name in node.output]
    onnx.save(graph, str(exported / "encoder.onnx"))
    assert "outputs are logvar, means; model.json's model needs exactly mu, logvar" in refused(exported)


def test_shapes_that_would_take_more_memory_than_allowed_are_refused(exported):
    description = json.loads((exported / "model.json").read_text())
    (exported / "model.json").write_text(json.dumps(dict(description, image_shape=[3, 100_000, 100_000])))
    assert "more than this machine can spare" in refused(exported)


@pytest.mark.parametrize(
    "text, message",
    [
        ("not json", "not readable JSON"),
        ("{}", "format marker"),
        (
            '{"format": "vae-latent-explorer-onnx", "version": 1, "image_shape": '
            '[1, 8], "latent_dim": 2, "likelihood": "bernoulli"}',
            "image_shape",
        ),
        (
            '{"format": "vae-latent-explorer-onnx", "version": 1, "image_shape": '
            '[1, 8, 8], "latent_dim": 2, "likelihood": "gaussian", '
            '"likelihood_params": {"sigma": "wide"}}',
            "sigma must be a number",
        ),
    ],
)
def test_a_broken_model_json_is_refused(exported, text, message):
    (exported / "model.json").write_text(text)
    assert message in refused(exported)


def test_a_missing_file_is_refused(exported):
    (exported / "decoder.onnx").unlink()
    assert "lacks decoder.onnx" in refused(exported)


def test_the_app_lists_model_folders_marked_onnx_and_refused_ones_with_the_reason(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    shutil.copy(ROOT / "checkpoints" / "digits-2d.pt", folder)
    export_outside_vae(folder / "theirs")
    export_outside_vae(folder / "hostile")
    graph = onnx.load(str(folder / "hostile" / "decoder.onnx"))
    graph.graph.node[0].domain = "com.example.evil"
    onnx.save(graph, str(folder / "hostile" / "decoder.onnx"))
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(folder))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["checkpoint"] = "theirs"
    at.run()
    assert not at.exception and not at.main.error
    options = at.selectbox(key="checkpoint").options
    assert any(o.endswith("· ONNX · theirs") for o in options) and not any("hostile" in o for o in options)
    assert "onnx VAE" in " ".join(c.value for c in at.caption)
    assert any(
        "hostile" in e.value and "custom operator domain" in e.value
        for e in [*at.sidebar.error, *at.sidebar.warning, *at.sidebar.caption, *at.sidebar.markdown]
    )
    at.toggle(key="explore_replay").set_value(True).run()
    assert any("imported model (ONNX)" in i.value and "no replay" in i.value for i in at.info)
    for page in ("pages/generate.py", "pages/side_by_side.py", "pages/compare.py"):
        at.switch_page(page).run()
        assert not at.exception and not at.main.error, page
    at.switch_page("pages/train.py").run()
    assert any("imported model (ONNX)" in c.value.replace("\\", "") for c in at.caption)


def test_a_graph_whose_output_shape_is_left_open_is_still_checked_on_one_image(exported):
    """A decoder that says nothing of its output's size but makes 7x7 images where model.json says 8x8."""

    class Small(nn.Module):
        def forward(self, z):
            logits = z.sum(1, keepdim=True)[:, :, None, None].expand(-1, 1, 7, 7)
            return logits, torch.sigmoid(logits)

    torch.onnx.export(
        Small(),
        (torch.zeros(1, 2),),
        exported / "decoder.onnx",
        input_names=["z"],
        output_names=["param", "mean"],
        dynamic_axes={"z": {0: "n"}, "param": {0: "n", 2: "h", 3: "w"}, "mean": {0: "n", 2: "h", 3: "w"}},
        dynamo=False,
    )
    assert "its param for one image has shape (1, 1, 7, 7); model.json gives (1, 1, 8, 8)" in refused(exported)


def test_a_graph_that_would_allocate_a_huge_tensor_is_refused_before_it_runs(exported):
    graph = onnx.load(str(exported / "decoder.onnx"))
    graph.graph.initializer.append(onnx.helper.make_tensor("huge_shape", onnx.TensorProto.INT64, [2], [1_000_000, 1_000_000]))
    graph.graph.node.append(onnx.helper.make_node("ConstantOfShape", ["huge_shape"], ["huge"]))
    onnx.save(graph, str(exported / "decoder.onnx"))
    assert "decoder.onnx's tensor huge would take 3725 GB for one image" in refused(exported)


def test_a_model_that_gives_nan_is_refused(exported):
    class Broken(nn.Module):
        def forward(self, z):
            logits = (z.sum(1) * float("nan"))[:, None, None, None].expand(-1, 1, 8, 8)
            return logits, torch.sigmoid(logits)

    torch.onnx.export(
        Broken(),
        (torch.zeros(1, 2),),
        exported / "decoder.onnx",
        input_names=["z"],
        output_names=["param", "mean"],
        dynamic_axes={k: {0: "n"} for k in ("z", "param", "mean")},
        dynamo=False,
    )
    assert "its param for one image is not finite" in refused(exported)


def test_the_disentanglement_metrics_of_an_imported_model_are_those_of_its_checkpoint(tmp_path):
    from vae_core import DataOptions, ModelChoice, RunSpec

    spec = RunSpec(DataOptions("sprites", image_size=16, sprites_n=200), ModelChoice(latent_dim=3), TrainConfig(epochs=1))
    data = load_data(spec.data)
    model = build_model(spec, data)
    history = [e for e in train(model, data, spec.train) if e["type"] in ("step", "epoch")]
    checkpoint, _ = save_run(tmp_path / "s.pt", model, data, spec.train, history)
    cli("export", str(checkpoint), "--onnx", str(tmp_path / "s-onnx"))
    ours, theirs = (json.loads(cli("metrics", str(p), "--json").stdout) for p in (checkpoint, tmp_path / "s-onnx"))
    for key in ("mig", "dci_disentanglement", "sap", "factorvae"):
        assert theirs[key] == pytest.approx(ours[key], abs=1e-3)


# --- hostile graphs, written with onnx.helper: each is refused before it runs, with the reason ---------------

H = onnx.helper


def constant(name, value, dtype=np.float32):
    return onnx.numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def write_decoder(folder, nodes, weights=()):
    """decoder.onnx for the 2-d, 1×8×8 model of `exported`: the nodes make h (N, 64) from z (N, 2); param is h
    reshaped to N×1×8×8 (a constant shape), mean its sigmoid. Opset 17, as the exporter writes."""
    rng = np.random.default_rng(0)
    graph = H.make_graph(
        [
            *nodes,
            H.make_node("Reshape", ["h", "image_shape"], ["param"]),
            H.make_node("Sigmoid", ["param"], ["mean"]),
        ],
        "decoder",
        [H.make_tensor_value_info("z", onnx.TensorProto.FLOAT, ["n", 2])],
        [H.make_tensor_value_info(k, onnx.TensorProto.FLOAT, ["n", 1, 8, 8]) for k in ("param", "mean")],
        [
            constant("W", rng.normal(size=(2, 64))),
            constant("image_shape", [-1, 1, 8, 8], np.int64),
            constant("one", 1.0),
            constant("zero", 0.0),
            *weights,
        ],
    )
    model = H.make_model(graph, opset_imports=[H.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "decoder.onnx"))


@pytest.fixture
def never_run(monkeypatch):
    """A folder refused by the static checks must not reach onnxruntime at all."""
    import onnxruntime

    def refuse(*args, **kwargs):
        pytest.fail("the hostile graph was given to onnxruntime")

    monkeypatch.setattr(onnxruntime, "InferenceSession", refuse)


def refusal(folder, seconds=20.0) -> str:
    """The reason load_onnx_folder refuses the folder, which it must give within seconds."""
    start = time.monotonic()
    with pytest.raises(onnx_io.OnnxModelError) as err:
        onnx_io.load_onnx_folder(folder)
    assert time.monotonic() - start < seconds
    return str(err.value)


def loop_body():
    """Loop's body: the loop-carried value passed on unchanged."""
    return H.make_graph(
        [H.make_node("Identity", ["cond"], ["cond_out"]), H.make_node("Identity", ["v"], ["v_out"])],
        "body",
        [
            H.make_tensor_value_info("i", onnx.TensorProto.INT64, []),
            H.make_tensor_value_info("cond", onnx.TensorProto.BOOL, []),
            H.make_tensor_value_info("v", onnx.TensorProto.FLOAT, None),
        ],
        [
            H.make_tensor_value_info("cond_out", onnx.TensorProto.BOOL, []),
            H.make_tensor_value_info("v_out", onnx.TensorProto.FLOAT, None),
        ],
    )


def test_a_loop_with_a_huge_trip_count_is_refused_without_running(exported, never_run):
    """Case 1: Loop 10^13 times; it would hang the sidebar's probe and pin a core."""
    write_decoder(
        exported,
        [H.make_node("MatMul", ["z", "W"], ["lin"]), H.make_node("Loop", ["trips", "", "lin"], ["h"], body=loop_body())],
        [constant("trips", 10**13, np.int64)],
    )
    assert "control flow (Loop/Scan/If) is not accepted in an imported model" in refusal(exported)


def test_a_loop_whose_trip_count_comes_from_z_is_refused_without_running(exported, never_run):
    """Case 2: the trip count is |z| × 10^12, zero at the old probe's z = 0: it passed, then hung eval."""
    write_decoder(
        exported,
        [
            H.make_node("Abs", ["z"], ["abs"]),
            H.make_node("ReduceSum", ["abs"], ["total"], keepdims=0),
            H.make_node("Mul", ["total", "scale"], ["scaled"]),
            H.make_node("Cast", ["scaled"], ["trips"], to=onnx.TensorProto.INT64),
            H.make_node("MatMul", ["z", "W"], ["lin"]),
            H.make_node("Loop", ["trips", "", "lin"], ["h"], body=loop_body()),
        ],
        [constant("scale", 1e12)],
    )
    assert "control flow (Loop/Scan/If) is not accepted in an imported model" in refusal(exported)


def test_an_expand_whose_size_comes_from_z_is_refused_without_running(exported, never_run):
    """Case 3: Expand to max|z| × 5·10^8 floats (about 1.9 GB at |z| = 1, nothing at the old probe's z = 0)."""
    write_decoder(
        exported,
        [
            H.make_node("Abs", ["z"], ["abs"]),
            H.make_node("ReduceMax", ["abs"], ["largest"], keepdims=0),
            H.make_node("Mul", ["largest", "scale"], ["scaled"]),
            H.make_node("Cast", ["scaled"], ["count"], to=onnx.TensorProto.INT64),
            H.make_node("Reshape", ["count", "one_long"], ["count1"]),
            H.make_node("Concat", ["one_long", "count1"], ["size"], axis=0),
            H.make_node("Expand", ["one_by_one", "size"], ["big"]),
            H.make_node("ReduceSum", ["big"], ["sum"], keepdims=1),
            H.make_node("Mul", ["sum", "zero"], ["nothing"]),
            H.make_node("MatMul", ["z", "W"], ["lin"]),
            H.make_node("Add", ["lin", "nothing"], ["h"]),
        ],
        [constant("scale", 5e8), constant("one_long", [1], np.int64), constant("one_by_one", [[1.0]])],
    )
    reason = refusal(exported)
    assert "decoder.onnx" in reason and "Expand" in reason and "depends on the values of its input" in reason


def test_a_decoder_that_gives_nan_away_from_z_0_is_refused(exported):
    """Case 4: param = sqrt(1 - |z|²) W: finite at z = 0 (the old probe), NaN for |z| > 1."""
    write_decoder(
        exported,
        [
            H.make_node("Mul", ["z", "z"], ["squares"]),
            H.make_node("ReduceSum", ["squares", "axis1"], ["norm2"], keepdims=1),
            H.make_node("Sub", ["one", "norm2"], ["rest"]),
            H.make_node("Sqrt", ["rest"], ["root"]),
            H.make_node("MatMul", ["root", "W1"], ["h"]),
        ],
        [constant("axis1", [1], np.int64), constant("W1", np.ones((1, 64)))],
    )
    assert "gives NaN or infinite values for ordinary inputs" in refusal(exported)


def test_a_decoder_that_always_returns_batch_1_is_refused(exported):
    """Case 5: the decoder averages z over the batch: right for one image (the old probe), batch 1 for any batch."""
    write_decoder(
        exported,
        [H.make_node("ReduceMean", ["z"], ["average"], axes=[0], keepdims=1), H.make_node("MatMul", ["average", "W"], ["h"])],
    )
    assert "always returns batch 1" in refusal(exported)


@pytest.mark.parametrize(
    "name, target", [("model.json", "/etc/passwd"), ("encoder.onnx", "outside"), ("decoder.onnx", "inside")]
)
def test_a_model_file_that_is_a_symlink_is_refused(tmp_path, exported, never_run, name, target):
    """Case 6: a link, to a file outside the folder (/etc/passwd, or a valid graph elsewhere) or even inside it."""
    if target == "outside":
        target = str(tmp_path / name)
        shutil.move(exported / name, target)
    elif target == "inside":
        shutil.move(exported / name, exported / f"real-{name}")
        target = f"real-{name}"
    (exported / name).unlink(missing_ok=True)
    (exported / name).symlink_to(target)
    assert f"{name} is a symbolic link" in refusal(exported)


def test_a_reshape_of_z_by_its_shape_is_accepted_and_by_its_values_refused(exported):
    """The taint analysis tells Shape -> Gather -> Concat -> Reshape (a Flatten or a view: the exporter's own
    pattern) from a shape read off z's values."""
    write_decoder(
        exported,
        [
            H.make_node("MatMul", ["z", "W"], ["lin"]),
            H.make_node("Shape", ["lin"], ["lin_shape"]),
            H.make_node("Gather", ["lin_shape", "zero_long"], ["batch"], axis=0),
            H.make_node("Unsqueeze", ["batch", "zero_long1"], ["batch1"]),
            H.make_node("Concat", ["batch1", "minus_one"], ["flat"], axis=0),
            H.make_node("Reshape", ["lin", "flat"], ["h"]),
        ],
        [
            constant("zero_long", 0, np.int64),
            constant("zero_long1", [0], np.int64),
            constant("minus_one", [-1], np.int64),
        ],
    )
    model, _ = onnx_io.load_onnx_folder(exported)
    assert tuple(model.decode(torch.randn(5, 2)).shape) == (5, 1, 8, 8)
    write_decoder(
        exported,
        [
            H.make_node("MatMul", ["z", "W"], ["lin"]),
            H.make_node("ReduceMax", ["z"], ["largest"], keepdims=0),
            H.make_node("Cast", ["largest"], ["batch"], to=onnx.TensorProto.INT64),
            H.make_node("Unsqueeze", ["batch", "zero_long1"], ["batch1"]),
            H.make_node("Concat", ["batch1", "minus_one"], ["flat"], axis=0),
            H.make_node("Reshape", ["lin", "flat"], ["h"]),
        ],
        [constant("zero_long1", [0], np.int64), constant("minus_one", [-1], np.int64)],
    )
    assert "Reshape" in refusal(exported) and "depends on the values of its input" in refusal(exported)


@pytest.mark.parametrize(
    "arch, image_shape, likelihood",
    [
        ("mlp", (1, 8, 8), "continuous-bernoulli"),
        ("conv", (1, 8, 8), "continuous-bernoulli"),
        ("conv", (1, 8, 8), "bernoulli"),
        ("conv", (3, 12, 10), "gaussian"),
    ],
)
def test_the_engines_own_export_passes_the_new_checks(tmp_path, arch, image_shape, likelihood):
    """export_onnx of an (untrained) VAE, MLP and conv, is accepted and runs as in torch: its Flatten, chunk and
    Unflatten are shape-derived (Shape -> Gather -> ... -> Reshape / Slice), not value-derived."""
    _, meta = load_checkpoint(ROOT / "checkpoints" / "digits-2d.pt")
    torch.manual_seed(0)
    hidden = (32,) if arch == "mlp" else (8, 16)
    model = VAE(VAEConfig(image_shape=image_shape, latent_dim=3, hidden=hidden, arch=arch, likelihood=likelihood)).eval()
    onnx_io.export_onnx(model, meta, tmp_path / "ours")
    imported, _ = onnx_io.load_onnx_folder(tmp_path / "ours")
    x, z = torch.rand(6, *image_shape), 3 * torch.randn(6, 3)
    with torch.no_grad():
        np.testing.assert_allclose(imported.encode(x)[0], model.encode(x)[0], atol=1e-4)
        np.testing.assert_allclose(imported.decode_mean(z), model.decode_mean(z), atol=1e-4)


def test_the_plain_pytorch_export_passes_the_new_checks(exported):
    """The README's plain-PyTorch snippet (nn.Flatten, chunk, view(-1, 1, 8, 8)): accepted by the new checks."""
    model, _ = onnx_io.load_onnx_folder(exported)
    assert tuple(model.decode(torch.randn(7, 2)).shape) == (7, 1, 8, 8)
    assert tuple(model.encode(torch.rand(7, 1, 8, 8))[0].shape) == (7, 2)


def test_a_probe_that_runs_too_long_is_stopped(exported, monkeypatch):
    """The second line of defence: the probe's runs end at PROBE_SECONDS (onnxruntime's terminate flag). The graph,
    2000 layers of 1024 units, takes about a second uncut; with PROBE_SECONDS = 0 it is stopped at once."""
    monkeypatch.setattr(onnx_io, "PROBE_SECONDS", 0.0)
    rng = np.random.default_rng(0)
    layers = 2000
    nodes = [H.make_node("MatMul", ["z", "W_in"], ["h0"])]
    for i in range(layers):
        nodes += [H.make_node("MatMul", [f"h{i}", "W_sq"], [f"m{i}"]), H.make_node("Tanh", [f"m{i}"], [f"h{i + 1}"])]
    nodes.append(H.make_node("MatMul", [f"h{layers}", "W_out"], ["h"]))
    weights = [
        constant("W_in", rng.normal(size=(2, 1024))),
        constant("W_sq", rng.normal(size=(1024, 1024)) / 32),
        constant("W_out", rng.normal(size=(1024, 64)) / 32),
    ]
    write_decoder(exported, nodes, weights)
    assert "takes over 0 s for one image" in refusal(exported)


def test_an_exported_model_of_an_upload_names_the_zip_for_people_and_keeps_the_folder_for_the_app(tmp_path):
    from PIL import Image

    from vae_core.config import DataOptions

    upload = tmp_path / "uploads" / "upload-0123456789abcdef"  # as the app unpacks a zip (ui/uploads.py)
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (upload / label).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(upload / label / f"{i}.png")
    (upload.parent / "upload-0123456789abcdef.name").write_text("icons.zip")
    data = load_data(DataOptions(str(upload), image_size=8))
    model = VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(8,)))
    path, _ = save_run(tmp_path / "m.pt", model, data, TrainConfig(epochs=1), [])
    cli("export", str(path), "--onnx", str(tmp_path / "model"))
    description = json.loads((tmp_path / "model" / "model.json").read_text())
    assert description["dataset"] == "icons.zip (uploaded)"  # not the server's upload folder
    assert description["data_options"]["name"] == str(upload)  # which this server reads the images from
    assert load_checkpoint(tmp_path / "model")[1].dataset == str(upload)


def test_a_folders_history_is_read_with_it_and_one_not_to_trust_costs_only_the_curves(tmp_path):
    checkpoint = trained(tmp_path, "bernoulli")
    folder = tmp_path / "model"
    cli("export", checkpoint, "--onnx", str(folder))
    assert load_checkpoint(folder)[1].history == []  # none beside it
    history = [{"type": "step", "step": 1, "loss": 2.0}, {"type": "epoch", "epoch": 1, "step": 1}]
    torch.save({"history": history}, folder / onnx_io.HISTORY_FILE)
    assert load_checkpoint(folder)[1].history == history
    outside = tmp_path / "elsewhere.pt"
    for hostile in (b"not a torch file", {"history": "not a list"}, {"history": [1, 2]}, ["no", "dict"]):
        if isinstance(hostile, bytes):
            (folder / onnx_io.HISTORY_FILE).write_bytes(hostile)
        else:
            torch.save(hostile, folder / onnx_io.HISTORY_FILE)
        assert load_checkpoint(folder)[1].history == []
    torch.save({"history": history}, outside)
    (folder / onnx_io.HISTORY_FILE).unlink()
    (folder / onnx_io.HISTORY_FILE).symlink_to(outside)  # a link to a file elsewhere on the server: not read
    assert load_checkpoint(folder)[1].history == []
