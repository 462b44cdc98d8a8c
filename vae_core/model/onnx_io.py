"""VAEs as ONNX: a checkpoint written out as a model folder, and a model folder (from here or from anyone's code)
run as a model like a checkpoint's.

A model folder holds three files:

    encoder.onnx   input  x (N, C, H, W) float32 in [0, 1]      outputs mu, logvar (N, D)
    decoder.onnx   input  z (N, D) float32                     outputs param (N, C, H, W): the likelihood's raw
                                                                       parameter (logits, or the Gaussian's mean),
                                                                       mean (N, C, H, W): E[x|z] in [0, 1]
    model.json     {"format": "vae-latent-explorer-onnx", "version": 1, "image_shape": [C, H, W],
                    "latent_dim": D, "likelihood": "bernoulli" | "continuous-bernoulli" | "gaussian",
                    "likelihood_params": {"sigma": s} (gaussian only), and optionally "class_names",
                    "dataset", "data_options", "metrics" (test terms), "train" (the training config)}

The batch axis is dynamic. onnx and onnxruntime are an optional extra (`pip install '.[onnx]'`), imported only
here. A folder is data, but a hostile one can still hurt, so before a session is made it is refused, with one
line saying why, when: a file is over MAX_ONNX_BYTES; a graph refers to external data (a path on the server);
a graph uses an operator domain other than ONNX's own; its inputs and outputs are not the ones above, of the
shapes model.json gives; or the images it would make exceed the memory the app may take.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import cast

import torch
from torch import nn

from vae_core.config import IMPORTED, LIKELIHOODS, DataOptions, VAEConfig
from vae_core.model.likelihood import SIGMA_MIN, Gaussian, make_likelihood
from vae_core.model.vae import reparameterize
from vae_core.store.files import MODEL_FOLDER_FILES
from vae_core.store.machine import free_memory_bytes
from vae_core.store.meta import CheckpointMeta, MetadataError

FORMAT = "vae-latent-explorer-onnx"
VERSION = 1
FILES = MODEL_FOLDER_FILES
MAX_ONNX_BYTES = 256 * 2**20
MAX_JSON_BYTES = 2**20
MAX_LATENT = 4096
LARGEST_BATCH = 1024  # images the app decodes at once at most (a manifold grid, an IWAE batch), for the memory check
ALLOWED_DOMAINS = ("", "ai.onnx")
INSTALL = "ONNX needs the optional extra: pip install 'vae-latent-explorer[onnx]' (or pip install onnx onnxruntime)."
OPSET = 17


class OnnxModelError(ValueError):
    """A model folder that cannot be used; the message is one line saying why."""


def _modules():
    try:
        import onnx
        import onnxruntime
    except ImportError:
        raise OnnxModelError(INSTALL) from None
    return onnx, onnxruntime


# --- export -------------------------------------------------------------------------------------------------


class _Encoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.encode(x)


class _Decoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, z):
        param = self.model.decode(z)
        return param, self.model.likelihood.mean(param)


def export_onnx(model, meta: CheckpointMeta, folder) -> Path:
    """Write the model as a model folder (encoder.onnx, decoder.onnx, model.json); -> the folder."""
    if model.config.conditional:  # the folder format has no label input yet
        raise OnnxModelError(
            "A conditional VAE cannot be exported to ONNX yet: the model folder format has no label "
            "input. Export an unconditional model, or share the .pt checkpoint."
        )
    _modules()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model = model.cpu().eval()
    c, h, w = model.config.image_shape
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice: it needs no onnxscript
        torch.onnx.export(
            _Encoder(model),
            (torch.rand(2, c, h, w),),
            folder / "encoder.onnx",
            input_names=["x"],
            output_names=["mu", "logvar"],
            dynamic_axes={k: {0: "n"} for k in ("x", "mu", "logvar")},
            opset_version=OPSET,
            dynamo=False,
        )
        torch.onnx.export(
            _Decoder(model),
            (torch.zeros(2, model.config.latent_dim),),
            folder / "decoder.onnx",
            input_names=["z"],
            output_names=["param", "mean"],
            dynamic_axes={k: {0: "n"} for k in ("z", "param", "mean")},
            opset_version=OPSET,
            dynamo=False,
        )
    description = dict(
        format=FORMAT,
        version=VERSION,
        image_shape=[c, h, w],
        latent_dim=model.config.latent_dim,
        likelihood=model.config.likelihood,
        class_names=list(meta.class_names),
        dataset=meta.dataset,
        data_options=meta.data_options.to_dict(),
        metrics=dict(meta.metrics),
        train=None if meta.train is None else meta.train.to_dict(),
    )
    if model.config.likelihood == "gaussian":
        description["likelihood_params"] = dict(sigma=float(model.likelihood.sigma))
    (folder / "model.json").write_text(json.dumps(description, indent=1))
    return folder


# --- import -------------------------------------------------------------------------------------------------


class OnnxVAE(nn.Module):
    """A model folder run by onnxruntime behind the VAE's interface (encode, decode, decode_mean, decode_image,
    reparameterize, likelihood, config), so every view, the ELBO and the IWAE bound work on it. On the CPU."""

    def __init__(self, config: VAEConfig, encoder, decoder, sigma: float | None = None):
        super().__init__()
        self.config = config
        self._encoder, self._decoder = encoder, decoder
        self.likelihood = make_likelihood(config.likelihood)
        if sigma is not None:  # the Gaussian's sigma, as the folder gives it: raw = softplus⁻¹(sigma - SIGMA_MIN)
            with torch.no_grad():
                # a sigma comes with a Gaussian likelihood only (load_onnx_folder): the checker cannot know
                cast(Gaussian, self.likelihood).raw_sigma.fill_(math.log(math.expm1(max(sigma - SIGMA_MIN, 1e-6))))

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def _run(self, session, name: str, value: torch.Tensor) -> list[torch.Tensor]:
        array = value.detach().to("cpu", torch.float32).contiguous().numpy()
        return [torch.from_numpy(out) for out in session.run(None, {name: array})]

    # y: the labels a conditional VAE takes; an imported model is unconditional and ignores them
    def encode(self, x, y=None):
        mu, logvar = self._run(self._encoder, "x", x)
        return mu, logvar

    def reparameterize(self, mu, logvar, eps=None):

        return reparameterize(mu, logvar, eps)

    def decode(self, z, y=None):
        return self._run(self._decoder, "z", z)[0]

    def decode_mean(self, z, y=None):
        return self._run(self._decoder, "z", z)[1]

    def decode_image(self, z, shown: str = "mean", y=None):
        return self.decode_mean(z) if shown == "mean" else self.likelihood.image(self.decode(z), shown)

    def with_label(self, label: int):
        return self

    def forward(self, x, y=None):
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def load_onnx_folder(folder) -> tuple[OnnxVAE, CheckpointMeta]:
    """The model of a model folder and its metadata; OnnxModelError saying why a folder is refused."""
    folder = Path(folder)
    description = read_description(folder)
    onnx, ort = _modules()
    config = VAEConfig(
        image_shape=tuple(description["image_shape"]),
        latent_dim=int(description["latent_dim"]),
        arch=IMPORTED,
        likelihood=description["likelihood"],
    )
    check_memory(config)
    c, h, w = config.image_shape
    d = config.latent_dim
    sessions = []
    for name, inputs, outputs in (
        ("encoder.onnx", {"x": [c, h, w]}, {"mu": [d], "logvar": [d]}),
        ("decoder.onnx", {"z": [d]}, {"param": [c, h, w], "mean": [c, h, w]}),
    ):
        graph = check_graph(onnx, folder / name, inputs, outputs)
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, torch.get_num_threads())
        try:
            sessions.append(ort.InferenceSession(graph.SerializeToString(), options, providers=["CPUExecutionProvider"]))
        except Exception as err:
            raise OnnxModelError(f"{name}: onnxruntime cannot run it ({_first_line(err)}).") from None
    sigma = (description.get("likelihood_params") or {}).get("sigma") if config.likelihood == "gaussian" else None
    encoder, decoder = sessions
    model = OnnxVAE(config, encoder, decoder, sigma=None if sigma is None else float(sigma))
    probe(model)
    return model, _meta(folder, description, config)


def probe(model: OnnxVAE) -> None:
    """Run both graphs on one image: shapes a graph leaves open must come out as model.json says."""
    c, h, w = model.config.image_shape
    try:
        with torch.no_grad():
            mu, logvar = model.encode(torch.full((1, c, h, w), 0.5))
            param, mean = model._run(model._decoder, "z", torch.zeros(1, model.config.latent_dim))
    except Exception as err:
        raise OnnxModelError(f"it fails on one image ({_first_line(err)}).") from None
    d = model.config.latent_dim
    for name, value, shape in (
        ("mu", mu, (1, d)),
        ("logvar", logvar, (1, d)),
        ("param", param, (1, c, h, w)),
        ("mean", mean, (1, c, h, w)),
    ):
        if tuple(value.shape) != shape:
            raise OnnxModelError(f"its {name} for one image has shape {tuple(value.shape)}; model.json gives {shape}.")
        if not torch.isfinite(value).all():
            raise OnnxModelError(
                f"its {name} for one image is not finite (NaN or infinite): it cannot encode or decode anything."
            )


def read_description(folder: Path) -> dict:
    """model.json, checked: the format marker, the shapes and the likelihood."""
    for name in FILES:
        path = folder / name
        if not path.is_file():
            raise OnnxModelError(f"it lacks {name} (a model folder holds {', '.join(FILES)}).")
        limit = MAX_JSON_BYTES if name.endswith(".json") else MAX_ONNX_BYTES
        if path.stat().st_size > limit:
            raise OnnxModelError(f"{name} is {path.stat().st_size / 2**20:.0f} MB, over the limit of {limit / 2**20:.0f} MB.")
    try:
        description = json.loads((folder / "model.json").read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise OnnxModelError(f"model.json is not readable JSON ({_first_line(err)}).") from None
    if not isinstance(description, dict) or description.get("format") != FORMAT:
        raise OnnxModelError(f'model.json lacks the format marker "format": "{FORMAT}".')
    if description.get("version") != VERSION:
        raise OnnxModelError(f"model.json is format version {description.get('version')!r}; this app reads {VERSION}.")
    shape, d = description.get("image_shape"), description.get("latent_dim")
    if not (isinstance(shape, list) and len(shape) == 3 and all(isinstance(s, int) and s >= 1 for s in shape)):
        raise OnnxModelError(f"model.json's image_shape must be [C, H, W] of positive whole numbers, not {shape!r}.")
    if not (isinstance(d, int) and 1 <= d <= MAX_LATENT):
        raise OnnxModelError(f"model.json's latent_dim must be a whole number from 1 to {MAX_LATENT}, not {d!r}.")
    if description.get("likelihood") not in LIKELIHOODS:
        raise OnnxModelError(
            f"model.json's likelihood must be one of {', '.join(LIKELIHOODS)}, not {description.get('likelihood')!r}."
        )
    sigma = (description.get("likelihood_params") or {}).get("sigma", SIGMA_MIN + 0.09)
    if not (isinstance(sigma, (int, float)) and SIGMA_MIN < sigma < 1e6):
        raise OnnxModelError(f"model.json's likelihood_params.sigma must be a number above {SIGMA_MIN}, not {sigma!r}.")
    return description


def check_memory(config: VAEConfig) -> None:
    """The largest batch of images the app makes of this model must fit in the free memory, with room to spare."""

    c, h, w = config.image_shape
    needed = LARGEST_BATCH * c * h * w * 4 * 4  # float32, and a few copies (param, mean, shown, encoded input)
    if needed > free_memory_bytes() // 2:
        raise OnnxModelError(
            f"its images ({c}×{h}×{w}) would take {needed / 2**30:.1f} GB for a batch of "
            f"{LARGEST_BATCH}, more than this machine can spare."
        )


def check_graph(onnx, path: Path, inputs: dict, outputs: dict):
    """The graph of one .onnx file, loaded without its external data and checked (see the module docstring)."""
    try:
        graph_model = onnx.load(str(path), load_external_data=False)
    except Exception as err:
        raise OnnxModelError(f"{path.name} is not a valid ONNX model ({_first_line(err)}).") from None
    if any(_is_external(t) for t in _tensors(graph_model.graph)):  # before the checker, which would open them
        raise OnnxModelError(
            f"{path.name} refers to external data files, which could name any file on the server: "
            "export it with its weights inside (torch.onnx.export does by default)."
        )
    domains = {o.domain for o in graph_model.opset_import} | {n.domain for n in _nodes(graph_model.graph)}
    custom = sorted(d for d in domains if d not in ALLOWED_DOMAINS)
    if custom:
        raise OnnxModelError(
            f"{path.name} uses the custom operator domain {custom[0]!r}; only ONNX's own operators are run here."
        )
    try:
        onnx.checker.check_model(graph_model)
    except Exception as err:
        raise OnnxModelError(f"{path.name} is not a valid ONNX model ({_first_line(err)}).") from None
    _check_sizes(onnx, path.name, graph_model)
    _check_io(path.name, "input", graph_model.graph.input, inputs, {t.name for t in graph_model.graph.initializer})
    _check_io(path.name, "output", graph_model.graph.output, outputs)
    return graph_model


def _check_sizes(onnx, name: str, graph_model) -> None:
    """Every tensor whose size the graph fixes (shape inference, constants propagated; the batch counted as 1) must
    fit in the memory the app may take: a ConstantOfShape of a trillion floats is refused before it runs."""

    try:
        inferred = onnx.shape_inference.infer_shapes(graph_model, data_prop=True)
    except Exception:  # a graph shape inference cannot follow: the one-image probe still runs it, shapes checked
        return
    limit = free_memory_bytes() // 2
    for value in [*inferred.graph.value_info, *inferred.graph.output]:
        dims = value.type.tensor_type.shape.dim
        elements = math.prod(d.dim_value for d in dims if d.HasField("dim_value"))
        if dims and elements * 4 > limit:
            raise OnnxModelError(
                f"{name}'s tensor {value.name} would take {elements * 4 / 2**30:.0f} GB for one image, "
                "more than this machine can spare."
            )


def _check_io(name: str, kind: str, values, expected: dict, weights=frozenset()) -> None:
    found = {v.name: v for v in values if v.name not in weights}  # older exporters list weights among the inputs
    if sorted(found) != sorted(expected):
        raise OnnxModelError(
            f"{name}'s {kind}s are {', '.join(sorted(found)) or 'none'}; model.json's model needs "
            f"exactly {', '.join(expected)}."
        )
    for key, shape in expected.items():
        dims = found[key].type.tensor_type.shape.dim
        sizes = [d.dim_value if d.HasField("dim_value") else None for d in dims]
        if found[key].type.tensor_type.elem_type != 1:  # FLOAT
            raise OnnxModelError(f"{name}'s {kind} {key} must be float32.")
        if len(sizes) != 1 + len(shape) or any(s is not None and s != want for s, want in zip(sizes[1:], shape)):
            shown = "×".join("N" if s is None else str(s) for s in sizes)
            raise OnnxModelError(f"{name}'s {kind} {key} has shape {shown}; model.json gives N×{'×'.join(map(str, shape))}.")


def _nodes(graph):
    for node in graph.node:
        yield node
        for attribute in node.attribute:  # subgraphs (If, Loop) hold nodes too
            for sub in [attribute.g, *attribute.graphs]:
                yield from _nodes(sub)


def _tensors(graph):
    yield from graph.initializer
    for node in _nodes(graph):
        for attribute in node.attribute:
            yield attribute.t
            yield from attribute.tensors


def _is_external(tensor) -> bool:
    return tensor.data_location == 1 or len(tensor.external_data) > 0  # onnx.TensorProto.EXTERNAL


def _meta(folder: Path, description: dict, config: VAEConfig) -> CheckpointMeta:
    """model.json's description as a checkpoint's metadata record (its test metrics: the numeric ones only)."""
    dataset = str(description.get("dataset") or "")
    numeric = lambda v: isinstance(v, (int, float)) or (isinstance(v, list) and all(isinstance(x, (int, float)) for x in v))
    try:
        options = DataOptions.from_dict(description.get("data_options") or {"name": dataset})
        train = description.get("train")
        return CheckpointMeta.from_payload(
            dict(
                dataset=dataset or options.name,
                vae_config=config.to_dict(),
                train_config=train if isinstance(train, dict) else {},
                metrics={k: v for k, v in (description.get("metrics") or {}).items() if numeric(v)},
                class_names=[str(n) for n in description.get("class_names") or []],
                data_options=options.to_dict(),
            ),
            str(folder),
        )
    except (MetadataError, TypeError, ValueError) as err:
        raise OnnxModelError(f"model.json's data or training settings are not usable ({_first_line(err)}).") from None


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__
