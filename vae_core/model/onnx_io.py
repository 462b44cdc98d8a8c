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
line saying why, when: one of its files is a symbolic link (or resolves outside the folder); a file is over
MAX_ONNX_BYTES; a graph refers to external data (a path on the server); a graph uses an operator domain other
than ONNX's own; it holds control flow (Loop, Scan, If: its running time could have no bound); a tensor's size
depends on the values of the graph's input rather than only on its shape (_value_sized: its memory could have
no bound, whatever a probe sees); its inputs and outputs are not the ones above, of the shapes model.json gives;
or the images it would make exceed the memory the app may take. Only then do the graphs run, in a probe bounded
in time (PROBE_SECONDS): one image, then a batch of ordinary inputs, whose outputs must be finite and of
the input's batch.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
import threading
import warnings
from pathlib import Path
from typing import cast

import torch
from torch import nn

from vae_core.config import IMPORTED, LIKELIHOODS, DataOptions, InputError, VAEConfig, setting_problem
from vae_core.model.likelihood import SIGMA_MIN, Gaussian, make_likelihood
from vae_core.model.vae import reparameterize
from vae_core.store.atomic import write_atomic
from vae_core.store.files import HISTORY_FILE, MODEL_FOLDER_FILES, cache_dir, dataset_title, write_failure
from vae_core.store.machine import free_memory_bytes
from vae_core.store.map_cache import file_sha256
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
PROBE_SECONDS = 30.0  # the probe's runs are stopped after this (onnxruntime's terminate flag): a second line of defence
CONTROL_FLOW = ("Loop", "Scan", "If", "SequenceMap")
# The inputs, by position, that give the shape (or the number of elements) of an operator's output: a graph whose
# tensor sizes follow from its input's values could take any memory for some input, whatever a probe sees.
SHAPE_INPUTS: dict[str, tuple[int, ...]] = {
    "Expand": (1,),
    "Reshape": (1,),
    "Tile": (1,),
    "ConstantOfShape": (0,),
    "Resize": (1, 2, 3),  # roi (scales in opset 10), scales, sizes
    "Upsample": (1,),
    "Range": (0, 1, 2),
    "Pad": (1, 3),  # pads, axes
    "OneHot": (1,),
    "TopK": (1,),
    "Slice": (1, 2, 3, 4),
    "Split": (1,),
    "Squeeze": (1,),
    "Unsqueeze": (1,),
    **{f"Reduce{r}": (1,) for r in ("L1", "L2", "LogSum", "LogSumExp", "Max", "Mean", "Min", "Prod", "Sum", "SumSquare")},
    # sizes that follow from the data itself
    "NonZero": (0,),
    "Unique": (0,),
    "Compress": (1,),
    "NonMaxSuppression": (0, 1, 2, 3, 4),
    "StringSplit": (0,),
    "StringNormalizer": (0,),
    # image, signal and sequence operators with a size among their inputs
    "CenterCropPad": (1,),
    "Col2Im": (1, 2),
    "AffineGrid": (1,),
    "MaxUnpool": (2,),
    "DFT": (1, 2),
    "STFT": (1, 3),
    "MelWeightMatrix": (0, 1, 2),
    "HannWindow": (0,),
    "HammingWindow": (0,),
    "BlackmanWindow": (0,),
    "ImageDecoder": (0,),
    "SplitToSequence": (1,),
    "SequenceAt": (1,),
    "SequenceErase": (1,),
    "SequenceInsert": (2,),
}


class OnnxModelError(InputError):
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


class _LabelledDecoder(nn.Module):
    """A conditional VAE's decoder with its label as an input: y (N, num_classes), the one-hot the model's own
    decode appends to z (VAE.one_hot), so the page can choose the label."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, z, y):
        param = self.model.decoder(torch.cat([z, y], dim=1)).view(-1, *self.model.config.image_shape)
        return param, self.model.likelihood.mean(param)


def export_decoder(model) -> bytes:
    """The decoder alone as ONNX bytes: input z (N, D), and y (N, num_classes) one-hot for a conditional model;
    outputs param and mean (the model folder's decoder.onnx, which the browser runs too)."""
    _modules()
    model = model.cpu().eval()
    d, k = model.config.latent_dim, model.config.num_classes
    module, args, inputs = (
        (_LabelledDecoder(model), (torch.zeros(2, d), torch.eye(k)[[0, k - 1]]), ["z", "y"])
        if model.config.conditional
        else (_Decoder(model), (torch.zeros(2, d),), ["z"])
    )
    with tempfile.TemporaryDirectory(prefix="vae-onnx-") as scratch, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice: it needs no onnxscript
        path = Path(scratch, "decoder.onnx")
        torch.onnx.export(
            module,
            args,
            path,
            input_names=inputs,
            output_names=["param", "mean"],
            dynamic_axes={k: {0: "n"} for k in (*inputs, "param", "mean")},
            opset_version=OPSET,
            dynamo=False,
        )
        return path.read_bytes()


def export_onnx(model, meta: CheckpointMeta, folder) -> Path:
    """Write the model as a model folder (encoder.onnx, decoder.onnx, model.json); -> the folder."""
    if model.config.conditional:  # the folder format has no label input yet
        raise OnnxModelError(
            "A conditional VAE cannot be exported to ONNX yet: the model folder format has no label "
            "input. Export an unconditional model, or share the .pt checkpoint."
        )
    _modules()
    folder = Path(folder)
    model = model.cpu().eval()
    c, h, w = model.config.image_shape
    scratch = tempfile.TemporaryDirectory(prefix="vae-onnx-")  # made aside: the folder gets whole files only
    encoder = Path(scratch.name, "encoder.onnx")
    with scratch, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice: it needs no onnxscript
        torch.onnx.export(
            _Encoder(model),
            (torch.rand(2, c, h, w),),
            encoder,
            input_names=["x"],
            output_names=["mu", "logvar"],
            dynamic_axes={k: {0: "n"} for k in ("x", "mu", "logvar")},
            opset_version=OPSET,
            dynamo=False,
        )
        files = {"encoder.onnx": encoder.read_bytes(), "decoder.onnx": export_decoder(model)}
    description = dict(
        format=FORMAT,
        version=VERSION,
        image_shape=[c, h, w],
        latent_dim=model.config.latent_dim,
        likelihood=model.config.likelihood,
        class_names=list(meta.class_names),
        dataset=dataset_title(meta.dataset),  # for people: an upload by its zip's name, never the server's path
        data_options=meta.data_options.to_dict(),  # for the app: the data's own name, to read them again
        metrics=dict(meta.metrics),
        train=None if meta.train is None else meta.train.to_dict(),
    )
    if model.config.likelihood == "gaussian":
        description["likelihood_params"] = dict(sigma=float(model.likelihood.sigma))
    files["model.json"] = json.dumps(description, indent=1).encode()
    written: list[Path] = []
    try:  # each file whole or absent, and on a failure none of them: a retry finds no half a folder
        for name, data in files.items():
            written.append(write_atomic(folder / name, data))
    except OSError as err:
        for path in written:
            path.unlink(missing_ok=True)
        raise OnnxModelError(write_failure(err, f"the model folder {folder.name}", folder.parent)) from err
    return folder


# --- import -------------------------------------------------------------------------------------------------


class OnnxVAE(nn.Module):
    """A model folder run by onnxruntime behind the VAE's interface (encode, decode, decode_mean, decode_image,
    reparameterize, likelihood, config), so every view, the ELBO and the IWAE bound work on it. On the CPU."""

    def __init__(self, config: VAEConfig, encoder, decoder, sigma: float | None = None, decoder_onnx: bytes = b""):
        super().__init__()
        self.config = config
        self._encoder, self._decoder = encoder, decoder
        self.decoder_onnx = decoder_onnx  # the checked graph this decoder runs: what the page may run (browser_decoder)
        self.likelihood = make_likelihood(config.likelihood)
        if sigma is not None:  # the Gaussian's sigma, as the folder gives it: raw = softplus⁻¹(sigma - SIGMA_MIN)
            with torch.no_grad():
                # a sigma comes with a Gaussian likelihood only (load_onnx_folder): the checker cannot know
                cast(Gaussian, self.likelihood).raw_sigma.fill_(math.log(math.expm1(max(sigma - SIGMA_MIN, 1e-6))))

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def _run(self, session, name: str, value: torch.Tensor, options=None) -> list[torch.Tensor]:
        array = value.detach().to("cpu", torch.float32).contiguous().numpy()
        return [torch.from_numpy(out) for out in session.run(None, {name: array}, options)]

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
    graphs = {  # both graphs are checked before either runs
        name: check_graph(onnx, folder / name, inputs, outputs).SerializeToString()
        for name, inputs, outputs in (
            ("encoder.onnx", {"x": [c, h, w]}, {"mu": [d], "logvar": [d]}),
            ("decoder.onnx", {"z": [d]}, {"param": [c, h, w], "mean": [c, h, w]}),
        )
    }
    sigma = (description.get("likelihood_params") or {}).get("sigma") if config.likelihood == "gaussian" else None
    sigma = None if sigma is None else float(sigma)
    # the probe on sessions of one thread (a slow graph pins one core at most), then the sessions the app uses
    probe(OnnxVAE(config, *(_session(ort, name, graph, probing=True) for name, graph in graphs.items())))
    encoder, decoder = (_session(ort, name, graph) for name, graph in graphs.items())
    model = OnnxVAE(config, encoder, decoder, sigma=sigma, decoder_onnx=graphs["decoder.onnx"])
    return model, _meta(folder, description, config)


# --- the decoder in the browser -----------------------------------------------------------------------------

MAX_BROWSER_BYTES = 64 * 2**20  # the page downloads it and WebAssembly holds it (with its buffers) in a tab's memory
BROWSER_CACHE_VERSION = 1  # part of the cached file's name: a change to export_decoder makes new ones


def browser_decoder(model, checkpoint) -> bytes:
    """The ONNX bytes of the model's decoder for the page to run (onnxruntime-web): an imported folder's checked
    decoder.onnx as the server runs it, or else this engine's export_decoder, kept in the cache folder under the
    checkpoint's content hash (the export takes a second; the checkpoints folder stays the user's). OnnxModelError
    saying why when there is none to send: onnx missing, an export that fails, or one over MAX_BROWSER_BYTES."""
    if isinstance(model, OnnxVAE):
        data = model.decoder_onnx
    else:
        key = f"{file_sha256(Path(checkpoint))[:32]}-v{BROWSER_CACHE_VERSION}"
        path = cache_dir() / "browser-decoders" / f"{key}.onnx"
        try:
            data = path.read_bytes() if path.is_file() and path.stat().st_size <= MAX_BROWSER_BYTES else b""
        except OSError:
            data = b""
        if not data:
            try:
                data = export_decoder(model)
            except OnnxModelError:
                raise
            except Exception as err:  # an architecture the exporter cannot write: the server decodes it
                raise OnnxModelError(f"its decoder cannot be written as ONNX ({_first_line(err)}).") from None
            try:
                write_atomic(path, data)
            except OSError:  # a read-only or full cache folder costs the next load its export, nothing else
                pass
    if not data:
        raise OnnxModelError("the model folder's decoder was not kept.")
    if len(data) > MAX_BROWSER_BYTES:
        raise OnnxModelError(
            f"its decoder is {len(data) / 2**20:.0f} MB, over the {MAX_BROWSER_BYTES // 2**20} MB a page is sent."
        )
    return data


def _session(ort, name: str, graph: bytes, probing: bool = False):
    """An onnxruntime session of a checked graph: for the probe, on one thread and without prepacking weights (which
    makes a session slow to start and pays off only over many runs); for the app, on torch's threads."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1 if probing else max(1, torch.get_num_threads())
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False  # memory goes back after each run, not kept in an arena that only grows
    if probing:
        options.add_session_config_entry("session.disable_prepacking", "1")
    try:
        return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
    except Exception as err:
        raise OnnxModelError(f"{name}: onnxruntime cannot run it ({_first_line(err)}).") from None


def probe(model: OnnxVAE, seconds: float | None = None) -> None:
    """Run both graphs on one image (z = 0 and a grey image), then on a batch of ordinary inputs (z = 0 and normal
    draws out to ±3; constant and random images): shapes a graph leaves open must come out as model.json says,
    every output of the input's batch and finite. Each run is stopped after PROBE_SECONDS."""
    c, h, w = model.config.image_shape
    d = model.config.latent_dim
    generator = torch.Generator().manual_seed(0)
    draws = torch.randn(3, d, generator=generator)
    z = torch.cat([torch.zeros(1, d), draws.clamp(-3, 3), 3 * draws / draws.abs().amax(1, keepdim=True)])
    noise = torch.rand(2, c, h, w, generator=generator)
    x = torch.stack([torch.full((c, h, w), 0.5), torch.zeros(c, h, w), torch.ones(c, h, w), noise[0], noise[1].round()])
    seconds = PROBE_SECONDS if seconds is None else seconds
    _, ort = _modules()
    options = ort.RunOptions()
    timer = threading.Timer(seconds, setattr, (options, "terminate", True))
    timer.daemon = True
    timer.start()
    try:
        _probe_runs(model, x[:1], z[:1], "one image", "one image", options, seconds)
        _probe_runs(model, x, z, f"{len(x)} ordinary images", f"{len(z)} latent codes within ±3", options, seconds)
    finally:
        timer.cancel()


def _probe_runs(model: OnnxVAE, x: torch.Tensor, z: torch.Tensor, images: str, codes: str, options, seconds: float) -> None:
    """One run of each graph, on images x and codes z (named for the messages), its outputs checked."""
    c, h, w = model.config.image_shape
    d = model.config.latent_dim
    try:
        with torch.no_grad():
            mu, logvar = model._run(model._encoder, "x", x, options)
            param, mean = model._run(model._decoder, "z", z, options)
    except Exception as err:
        if options.terminate:
            raise OnnxModelError(f"it takes over {seconds:g} s for {images}: too slow to use here.") from None
        raise OnnxModelError(f"it fails on {images} ({_first_line(err)}).") from None
    for name, value, shape, what in (
        ("mu", mu, (len(x), d), images),
        ("logvar", logvar, (len(x), d), images),
        ("param", param, (len(z), c, h, w), codes),
        ("mean", mean, (len(z), c, h, w), codes),
    ):
        got = tuple(value.shape)
        if got[:1] == (1,) and shape[0] > 1:
            raise OnnxModelError(
                f"it always returns batch 1: its {name} for {what} has shape {got}. Export it with a dynamic "
                "batch axis (torch.onnx.export's dynamic_axes: axis 0 of every input and output)."
            )
        if got != shape:
            raise OnnxModelError(f"its {name} for {what} has shape {got}; model.json gives {shape}.")
        if not torch.isfinite(value).all():
            raise OnnxModelError(
                f"it gives NaN or infinite values for ordinary inputs: its {name} for {what} is not finite, "
                "so it cannot encode or decode them."
            )


def read_description(folder: Path) -> dict:
    """model.json, checked: the format marker, the shapes and the likelihood."""
    for name in FILES:
        _check_plain_file(folder / name)
    try:
        description = json.loads(_read(folder / "model.json"))
    except (UnicodeDecodeError, ValueError) as err:
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


def _limit(path: Path) -> int:
    return MAX_JSON_BYTES if path.name.endswith(".json") else MAX_ONNX_BYTES


def _check_plain_file(path: Path) -> None:
    """One of a folder's files: a plain file inside it (a link could name any file on the server), within its size."""
    if path.is_symlink():
        raise OnnxModelError(
            f"{path.name} is a symbolic link: a model folder's files must be plain files inside it, "
            "not links that could name any file on the server."
        )
    if path.resolve().parent != path.parent.resolve():
        raise OnnxModelError(f"{path.name} resolves outside the model folder: its files must be plain files inside it.")
    if not path.is_file():
        raise OnnxModelError(f"it lacks {path.name} (a model folder holds {', '.join(FILES)}).")
    size, limit = path.stat().st_size, _limit(path)
    if size > limit:
        raise OnnxModelError(f"{path.name} is {size / 2**20:.0f} MB, over the limit of {limit / 2**20:.0f} MB.")


def _read(path: Path) -> bytes:
    """A folder's file, checked, then read without following a link (O_NOFOLLOW: nor one put there since the check)."""
    _check_plain_file(path)
    limit = _limit(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)  # a FIFO must not block either
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise OnnxModelError(f"{path.name} cannot be read ({_first_line(err)}).") from None
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise OnnxModelError(f"{path.name} is not a plain file.")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise OnnxModelError(f"{path.name} is over the limit of {limit / 2**20:.0f} MB.")
    return data


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
    data = _read(path)
    try:
        graph_model = onnx.load_model_from_string(data)  # no folder given: external data is never loaded
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
    flow = next((n.op_type for n in _nodes(graph_model.graph) if n.op_type in CONTROL_FLOW or _subgraphs(n)), None)
    if flow:
        raise OnnxModelError(
            f"{path.name} has a {flow} node: control flow (Loop/Scan/If) is not accepted in an imported model "
            "(its running time could have no bound)."
        )
    sized = _value_sized(graph_model.graph)
    if sized:
        node, tensor = sized
        raise OnnxModelError(
            f"{path.name}'s {node.op_type} node {node.name or node.output[0]!r} takes its size from {tensor!r}, which "
            "depends on the values of its input, not only on their shape: its memory could have no bound, so it is "
            "not accepted (export with the sizes fixed, or computed from shapes)."
        )
    _check_sizes(onnx, path.name, graph_model)
    _check_io(path.name, "input", graph_model.graph.input, inputs, {t.name for t in graph_model.graph.initializer})
    _check_io(path.name, "output", graph_model.graph.output, outputs)
    return graph_model


def _check_sizes(onnx, name: str, graph_model) -> None:
    """Every tensor whose size the graph fixes (shape inference, constants propagated; the batch counted as 1) must
    fit in the memory the app may take: a ConstantOfShape of a trillion floats is refused before it runs."""

    fixed = type(graph_model)()
    fixed.CopyFrom(graph_model)
    for value in fixed.graph.input:  # the batch as 1: sizes computed from the input's shape become known too
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_value = 1
    try:
        inferred = onnx.shape_inference.infer_shapes(fixed, data_prop=True)
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


def _value_sized(graph):
    """(node, tensor): the first node whose output's size is given by a tensor that depends on the values of the
    graph's input, or None. A taint analysis over the nodes in their order (ONNX keeps them topologically sorted,
    and the checker has checked that; control flow, and so subgraphs, are refused before this):
    - the graph's inputs are tainted (their values are anyone's); weights and constants are not;
    - Shape and Size read only a shape, so their outputs are not tainted: a Flatten or view exported as
      Shape -> Gather -> Concat -> Reshape passes. That is sound while no shape is tainted, and none is: a shape
      can come to depend on values only through a tainted size input, which is refused right here;
    - any other node's outputs are tainted when any of its inputs is;
    - a tainted tensor at a size-giving input (SHAPE_INPUTS: Expand's shape, Reshape's, Slice's starts, ...)
      is the refusal."""
    weights = {t.name for t in graph.initializer}
    tainted = {v.name for v in graph.input if v.name not in weights}  # older exporters list weights as inputs
    for node in graph.node:
        for i in SHAPE_INPUTS.get(node.op_type, ()):
            if i < len(node.input) and node.input[i] in tainted:
                return node, node.input[i]
        if node.op_type not in ("Shape", "Size") and any(name in tainted for name in node.input):
            tainted.update(node.output)
    return None


def _subgraphs(node) -> list:
    return [g for a in node.attribute for g in ([a.g] if a.HasField("g") else []) + list(a.graphs)]


def _nodes(graph):
    for node in graph.node:
        yield node
        for sub in _subgraphs(node):  # subgraphs (If, Loop) hold nodes too
            yield from _nodes(sub)


def _tensors(graph):
    yield from graph.initializer
    for node in _nodes(graph):
        for attribute in node.attribute:
            yield attribute.t
            yield from attribute.tensors


def _is_external(tensor) -> bool:
    return tensor.data_location == 1 or len(tensor.external_data) > 0  # onnx.TensorProto.EXTERNAL


MAX_HISTORY_BYTES = 256 * 2**20  # a long run's curves and its replay, thinned, are a few MB


def read_history(folder: Path) -> list:
    """A folder's history.pt as a checkpoint's history (step and epoch events, and the replay), read with torch's
    weights_only loader; [] when there is none, or none to trust: a link, a file over MAX_HISTORY_BYTES, anything
    but a list of records. A damaged replay in it is the replay's own reader's to refuse, as in a checkpoint."""
    path = folder / HISTORY_FILE
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_HISTORY_BYTES:
            return []
        stored = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 (an unreadable history costs the curves, never the model)
        return []
    history = stored.get("history") if isinstance(stored, dict) else None
    return history if isinstance(history, list) and all(isinstance(e, dict) for e in history) else []


def _meta(folder: Path, description: dict, config: VAEConfig) -> CheckpointMeta:
    """model.json's description as a checkpoint's metadata record (its test metrics: the numeric ones only), with
    the history beside it if there is one."""
    dataset = str(description.get("dataset") or "")
    numeric = lambda v: isinstance(v, (int, float)) or (isinstance(v, list) and all(isinstance(x, (int, float)) for x in v))
    try:
        options = DataOptions.from_dict(description.get("data_options") or {"name": dataset})
        train = description.get("train")
        return CheckpointMeta.from_payload(
            dict(
                dataset=options.name,  # "dataset" is the title people read; the app reads the data by their name
                vae_config=config.to_dict(),
                train_config=train if isinstance(train, dict) else {},
                metrics={k: v for k, v in (description.get("metrics") or {}).items() if numeric(v)},
                class_names=[str(n) for n in description.get("class_names") or []],
                data_options=options.to_dict(),
                history=read_history(folder),
            ),
            str(folder),
        )
    except (MetadataError, TypeError, ValueError) as err:
        why = str(err) if isinstance(err, MetadataError) else setting_problem(err)
        raise OnnxModelError(f"model.json's data or training settings are not usable ({why}).") from None


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__
