"""What a run is made of, as typed values that import no torch: the data it reads (DataOptions), the model it
asks for (ModelChoice, resolved into a VAEConfig once the images are known), how it trains (TrainConfig), and
the three together (RunSpec). The CLI, the Train page, Compare's sweeps and `sweep` all build a RunSpec, and
`vae_core.training.build.build_model` is the one place a run's model is made from it.

Torch-free, so the app can read checkpoint summaries (vae_core.store.meta) before torch is imported.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field, fields, replace

ARCHS = ("mlp", "conv")
IMPORTED = "onnx"  # the arch of a model brought in as ONNX (vae_core.model.onnx_io): run, not built or trained here
DEFAULT_HIDDEN = {"mlp": (512, 256), "conv": (32, 64)}
LIKELIHOODS = ("bernoulli", "continuous-bernoulli", "gaussian")  # see vae_core.model.likelihood
IMAGES = ("mean", "mode")  # what an image shown of p(x|z) is: its mean E[x|z], or its most likely x
DIFFERENT_MODE = ("bernoulli", "continuous-bernoulli")  # the likelihoods whose most likely x is not their mean
SCHEDULES = ("constant", "linear", "cyclical")
OBJECTIVES = ("elbo", "iwae", "tcvae")  # what training minimises (vae_core.model.bounds.training_terms)
BUILTIN = ("digits", "mnist", "fashion-mnist", "sprites")  # datasets by name; anything else is a folder of images
BACKGROUNDS = ("white", "black")  # what transparent pixels of folder images become (DataOptions.background)
SMALL_IMAGE_SIDE = 16  # below this (the 8x8 digits) a 2-D MLP; from here on a conv net with 20 latent dims


class InputError(ValueError):
    """A value, setting or file this app refuses, said in its own words for a person (a ValueError, for callers
    that catch those). Only this kind of ValueError has its text shown (the CLI, the pages): another one's text,
    a library's, names internals and can quote whatever a file held."""


def setting_problem(err: Exception) -> str:
    """What is wrong with stored settings, said in this app's words: a refusal of its own checks as it is, a missing
    key by name, anything else (a list where a number belongs) as such. Python's own text (`'int' object is not
    iterable`) never reaches a page: it names internals, and it can quote whatever the file holds."""
    if isinstance(err, InputError):
        return str(err)
    if isinstance(err, KeyError) and isinstance(err.args[0], str):
        return f"the setting {err.args[0][:40]!r} is missing"
    return "a setting is missing or of the wrong kind"


MAX_WHOLE = 2**31 - 1  # the largest count or size a setting may hold (a file can hold 1e308 where a count belongs)
MAX_SEED = 2**32 - 1  # numpy's largest seed


def _whole(value) -> bool:
    """An int (numpy's too), not a bool (True is no count), of a size a setting can mean."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and abs(int(value)) <= MAX_WHOLE


def _wholes(value) -> bool:
    return isinstance(value, (tuple, list)) and all(map(_whole, value))


_KINDS = {  # a field's annotation -> whether a value is of that kind, and how to say the kind
    "int": (_whole, "a whole number"),
    "float": (lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool), "a number"),
    "str": (lambda v: isinstance(v, str), "text"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "int | None": (lambda v: v is None or _whole(v), "a whole number or none"),
    "tuple[int, int, int]": (_wholes, "whole numbers"),
    "tuple[int, ...]": (_wholes, "whole numbers"),
}


def _plain(value) -> bool:
    return (
        value is None
        or isinstance(value, (numbers.Number, str))
        or (isinstance(value, (tuple, list)) and all(x is None or isinstance(x, (numbers.Number, str)) for x in value))
    )


def check_kinds(record) -> None:
    """Each field of a settings record holds the kind of value its annotation names, and a seed one numpy takes:
    an InputError names the first that does not. Stored settings come from files, which can hold anything (a
    tensor, a list, 1e308); checked here, they fail with this app's words, not deep inside torch or numpy."""
    for f in fields(record):
        value = getattr(record, f.name)
        fits, kind = _KINDS[str(f.type)]
        if f.name.endswith("seed"):
            fits, kind = (lambda v: _whole(v) and 0 <= v <= MAX_SEED), f"a whole number from 0 to {MAX_SEED}"
        if not fits(value):
            shown = repr(value) if _plain(value) else f"a {type(value).__name__}"
            raise InputError(f"{f.name} must be {kind}, got {shown:.40}")


@dataclass(frozen=True)
class VAEConfig:
    image_shape: tuple[int, int, int] = (1, 8, 8)  # (C, H, W)
    latent_dim: int = 2
    # mlp: widths of the hidden layers; conv: channels of the stride-2 conv layers. () = default for arch.
    hidden: tuple[int, ...] = field(default=())
    arch: str = "mlp"
    likelihood: str = "bernoulli"  # see LIKELIHOODS
    num_classes: int = 0  # a conditional VAE's number of labels (the encoder sees x and y, the decoder z and y); 0: none

    def __post_init__(self):
        check_kinds(self)
        if self.num_classes < 0 or self.num_classes == 1:
            raise InputError(f"num_classes must be 0 (not conditional) or at least 2, got {self.num_classes}")
        if self.likelihood not in LIKELIHOODS:
            raise InputError(f"likelihood must be one of {', '.join(LIKELIHOODS)}, got {self.likelihood!r}")
        if self.arch not in (*ARCHS, IMPORTED):
            raise InputError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise InputError(f"image_shape must be (C, H, W) with positive sizes, got {self.image_shape}")
        if self.latent_dim < 1:
            raise InputError(f"latent_dim must be at least 1, got {self.latent_dim}")
        hidden = tuple(int(h) for h in self.hidden) or DEFAULT_HIDDEN.get(self.arch, ())
        if hidden and min(hidden) < 1:
            raise InputError(f"hidden sizes must be positive, got {hidden}")
        # frozen dataclass: normalise lists (e.g. from a checkpoint dict) to tuples
        object.__setattr__(self, "hidden", hidden)
        object.__setattr__(self, "image_shape", tuple(int(s) for s in self.image_shape))

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> VAEConfig:
        """From a stored dict; one saved before conditional models is unconditional."""
        return cls(
            image_shape=tuple(d["image_shape"]),
            latent_dim=d["latent_dim"],
            hidden=tuple(d["hidden"]),
            arch=d["arch"],
            likelihood=d["likelihood"],
            num_classes=d.get("num_classes", 0),
        )


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    beta: float = 1.0  # the KL weight at the start; changes made while training are kept beside it
    beta_schedule: str = "constant"  # constant | linear (warm-up from 0) | cyclical (Fu et al. 2019)
    warmup_epochs: float = 10.0  # linear: epochs to reach beta; cyclical: epochs per cycle
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | mps
    log_every: int = 10  # steps between step events
    objective: str = "elbo"  # elbo | iwae (the k-sample importance-weighted bound, Burda et al. 2016) | tcvae
    iwae_k: int = 5  # iwae: samples per image
    tc_weight: float = 1.0  # tcvae: the weight of the total correlation (β-TCVAE, Chen et al. 2018)
    free_bits: float = 0.0  # nats per latent dimension each one's batch-mean KL counts at least (Kingma
    # et al. 2016); 0: off

    def __post_init__(self):
        check_kinds(self)
        if self.beta_schedule not in SCHEDULES:
            raise InputError(f"beta_schedule must be one of {SCHEDULES}, got {self.beta_schedule!r}")
        if self.objective not in OBJECTIVES:
            raise InputError(f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        if self.iwae_k < 1 or not self.free_bits >= 0 or not self.tc_weight >= 0:
            raise InputError(
                f"iwae_k must be at least 1, free_bits and tc_weight non-negative, got {self.iwae_k}, "
                f"{self.free_bits} and {self.tc_weight}"
            )
        for name in ("epochs", "batch_size", "log_every"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 < self.lr < math.inf or not 0 <= self.beta < math.inf or not 0 < self.warmup_epochs < math.inf:
            raise InputError(
                f"lr and warmup_epochs must be positive and beta non-negative, all finite numbers: got lr {self.lr}, "
                f"warmup_epochs {self.warmup_epochs}, beta {self.beta}"
            )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """From a stored dict; keys this version does not know (a newer file's) are left out."""
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


@dataclass(frozen=True)
class DataOptions:
    """What names a dataset and its split: enough to load the same images again (vae_core.data.datasets.load_dataset)."""

    name: str = "digits"  # digits, mnist, fashion-mnist, sprites, or a folder of images
    root: str = "data"  # where MNIST-like sets are kept
    image_size: int | None = None  # folders: the side images are resized to (None: the first image's, capped);
    # sprites: the side they are drawn at (None: 64)
    channels: str = "auto"  # folders: auto | grayscale | rgb
    test_fraction: float = 0.2  # sources without their own split: the share held out, drawn once
    split_seed: int = 0  # also the seed that draws the sprites
    sprites_n: int | None = None  # sprites: how many images (None: vae_core.data.sprites.DEFAULT_N)
    background: str = "white"  # folders: the colour transparent pixels are composited on, the same wherever an
    # image of this data is read (training, the preview, Generate's own image, the CLI); see BACKGROUNDS

    def __post_init__(self):
        check_kinds(self)
        if self.background not in BACKGROUNDS:
            raise InputError(f"background must be one of {', '.join(BACKGROUNDS)}, got {self.background!r:.40}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DataOptions:
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


@dataclass(frozen=True)
class ModelChoice:
    """The model a run asks for before its images are known: arch "auto" and latent_dim None are resolved from
    the image shape (suggest_architecture), hidden () is the architecture's default."""

    arch: str = "auto"
    latent_dim: int | None = None
    hidden: tuple[int, ...] = ()
    likelihood: str = "bernoulli"
    conditional: bool = False  # condition encoder and decoder on the image's label (a conditional VAE)

    def __post_init__(self):
        check_kinds(self)
        if self.latent_dim is not None and self.latent_dim < 1:
            raise InputError(f"latent_dim must be at least 1 (or None: suggested for the images), got {self.latent_dim}")

    def config_for(self, image_shape, class_names=()) -> VAEConfig:
        """The VAEConfig for images of this shape; a conditional one takes one label per class name, and data
        without labels (fewer than two classes) is refused with a message that says so."""
        arch, latent_dim = suggest_architecture(image_shape)
        if self.conditional and len(class_names) < 2:
            raise InputError(
                "A conditional VAE needs labelled images, and these have no labels (one class only): put a folder's "
                "images in one sub-folder per class (cat/, dog/, ...), or train without --conditional."
            )
        return VAEConfig(
            image_shape=tuple(image_shape),
            latent_dim=self.latent_dim or latent_dim,
            hidden=tuple(self.hidden),
            arch=arch if self.arch == "auto" else self.arch,
            likelihood=self.likelihood,
            num_classes=len(class_names) if self.conditional else 0,
        )


@dataclass(frozen=True)
class RunSpec:
    """One training run: its data, the model it asks for, and how it trains."""

    data: DataOptions = field(default_factory=DataOptions)
    model: ModelChoice = field(default_factory=ModelChoice)
    train: TrainConfig = field(default_factory=TrainConfig)

    def with_beta_and_seed(self, beta: float, seed: int) -> RunSpec:
        """The same run at another KL weight and seed: one cell of a sweep's grid."""
        return replace(self, train=replace(self.train, beta=float(beta), seed=int(seed)))


def suggest_architecture(image_shape) -> tuple[str, int]:
    """(arch, latent_dim) for images of this shape when the user names neither: a 2-D MLP for tiny images,
    whose map is then the latent space itself; a conv net with 20 latent dimensions for larger ones, which
    on 28x28 images trains to a far lower loss than a 2-D code in the same epochs (BENCHMARKS.md, section 5)."""
    _, h, w = image_shape
    return ("mlp", 2) if max(h, w) < SMALL_IMAGE_SIDE else ("conv", 20)


def latent_dims_in_use(n_train: int) -> int:
    """About how many latent dimensions n training images keep in use, at most. The information a code holds about
    its image is at most log n nats (I(x; z) <= log n, x drawn from the n images: Hoffman & Johnson 2016), and the
    dimensions in use carry about half a nat or more each: 19-20 of 50 on MNIST's 60,000 (log n = 11; Burda et al.
    2016, active units), 4 of 16 in the shipped digits-16d (1,438 images, log n = 7.3). So 2 ceil(log n): past it,
    more dimensions mostly collapse to the prior."""
    return max(2, 2 * math.ceil(math.log(max(n_train, 2))))


def parse_hidden(text: str) -> tuple[int, ...]:
    """ "512, 256" -> (512, 256); empty text -> () (the architecture's default). The CLI and the Train page use it."""
    try:
        sizes = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise InputError(f"Hidden sizes must be comma-separated whole numbers such as 512,256, not {text!r}.") from None
    if any(size < 1 for size in sizes):
        raise InputError(f"Hidden sizes must be positive, not {text!r}.")
    return sizes
