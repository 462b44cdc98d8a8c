"""The new run's settings: the model and training controls, and the defaults they start from."""

import math

import streamlit as st

from ui.train.data import FIXED_SHAPES, SOURCES, UPLOAD_IMAGE_SIZE
from vae_core import available_devices
from vae_core.config import (
    ARCHS,
    DEFAULT_HIDDEN,
    LIKELIHOODS,
    OBJECTIVES,
    SCHEDULES,
    TrainConfig,
    VAEConfig,
    latent_dims_in_use,
    suggest_architecture,
)
from vae_core.data import sprites

BATCH_SIZES = [32, 64, 128, 256, 512, 1024]
MOSTLY = 0.5  # a share of mid-tone pixel values past which the likelihood's choice is said
TRAIN, MODEL = TrainConfig(), VAEConfig()  # the widgets' defaults, the same as the CLI's
LIKELIHOOD_HELP = (
    "bernoulli: binary cross-entropy, the classic choice, exact for black-and-white pixels, and on "
    "grey digits the sharpest reconstructions and samples in our benchmark (BENCHMARKS.md): start "
    "with it. continuous-bernoulli: its normalised version, a true density for grey levels in "
    "[0, 1], for when the log-likelihood itself matters; its samples were blurrier and its mean "
    "image washed out (Explore then shows the most likely x). gaussian: the decoder gives each "
    "pixel's mean, with one learned σ. The two densities give negative losses; losses of different "
    "likelihoods are not comparable."
)


def form_defaults() -> dict:
    """Each control's starting value: the engine's TrainConfig() and VAEConfig(), the model suggested for the
    first dataset's images (the CLI's defaults too). Set in session state once rather than passed to the
    widgets (persist_state="session" keeps their values across pages)."""
    arch, latent_dim = suggest_architecture(FIXED_SHAPES[SOURCES[0]])
    return dict(
        train_source=SOURCES[0],
        train_image_size=UPLOAD_IMAGE_SIZE,
        train_channels="auto",
        train_sprites_size=sprites.DEFAULT_SIZE,
        train_sprites_n=sprites.DEFAULT_N,
        train_test_share=0.2,
        train_arch=arch,
        train_latent_dim=latent_dim,
        train_hidden="",
        train_likelihood=MODEL.likelihood,
        train_conditional=False,
        train_epochs=TRAIN.epochs,
        train_batch=TRAIN.batch_size,
        train_lr=TRAIN.lr,
        train_seed=TRAIN.seed,
        train_beta=TRAIN.beta,
        train_schedule=TRAIN.beta_schedule,
        train_warmup=TRAIN.warmup_epochs,
        train_objective=TRAIN.objective,
        train_iwae_k=TRAIN.iwae_k,
        train_tc_weight=TRAIN.tc_weight,
        train_free_bits=TRAIN.free_bits,
        train_device=available_devices()[0],
    )


def model_controls(choice: dict) -> dict:
    """The model's controls, with what the data chosen (ui/train/data.py) tell of them: how many latent dimensions
    its training images keep in use, and whether its pixels are mostly mid-tones."""
    n_train = choice["n_train"]
    arch = st.radio(
        "Architecture",
        ARCHS,
        horizontal=True,
        key="train_arch",
        persist_state="session",
        help="Suggested for the data's image size: an MLP with a 2-D code for tiny images (the map is "
        "then the latent space), a conv net with 20 dimensions for larger ones.",
    )
    latent_dim = st.number_input("Latent dimensions", 1, 128, key="train_latent_dim", persist_state="session")
    if n_train and latent_dim > (in_use := latent_dims_in_use(n_train)):
        st.caption(
            f"{n_train:,} training images: a code can hold at most log {n_train:,} = {math.log(n_train):.1f} nats about "
            f"its image, which keeps about {in_use} dimensions in use; the others will likely collapse to the prior "
            "(the collapse doctor shows which)."
        )
    hidden = st.text_input(
        "Hidden sizes",
        key="train_hidden",
        persist_state="session",
        placeholder=",".join(map(str, DEFAULT_HIDDEN[arch])),
        help="mlp: layer widths; conv: channels per stride-2 layer. Empty: the default shown.",
    )
    likelihood = st.selectbox(
        "Likelihood p(x|z)", LIKELIHOODS, key="train_likelihood", persist_state="session", help=LIKELIHOOD_HELP
    )
    if likelihood == "bernoulli" and choice["mid_tones"] > MOSTLY:
        st.caption(
            f"{choice['mid_tones']:.0%} of the sample's pixel values are mid-tones: bernoulli reads each as the "
            "chance of a white pixel, so its loss is no density of these images (its pictures are still often the "
            "sharpest). gaussian or continuous-bernoulli give a true one."
        )
    conditional = st.toggle(
        "Conditional on the label",
        key="train_conditional",
        persist_state="session",
        help="A conditional VAE: the encoder sees the image and its label, the decoder the code "
        "and the label, so the code holds the style and the label the class. Needs "
        "labelled images (an upload with one sub-folder per class). Its loss bounds "
        "−log p(x|y), not −log p(x).",
    )
    return dict(arch=arch, latent_dim=int(latent_dim), hidden=hidden, likelihood=likelihood, conditional=conditional)


def training_controls() -> dict:
    a, b = st.columns(2)
    epochs = a.number_input("Epochs", 1, 1000, key="train_epochs", persist_state="session")
    batch_size = b.selectbox("Batch size", BATCH_SIZES, key="train_batch", persist_state="session")
    lr = a.number_input("Learning rate", 1e-6, 1e3, step=1e-4, format="%.1e", key="train_lr", persist_state="session")
    seed = b.number_input("Seed", 0, 2**31 - 1, key="train_seed", persist_state="session")
    beta = st.number_input(
        "β (KL weight)",
        0.0,
        100.0,
        step=0.1,
        key="train_beta",
        persist_state="session",
        help="1 is the true ELBO; larger pushes q(z|x) toward the prior; 0 is a plain autoencoder.",
    )
    schedule = st.selectbox(
        "β schedule",
        SCHEDULES,
        key="train_schedule",
        persist_state="session",
        help="linear: warm-up from 0; cyclical: repeated warm-ups (Fu et al. 2019).",
    )
    warmup = TRAIN.warmup_epochs
    if schedule != "constant":
        warmup = st.number_input("Warm-up / cycle length (epochs)", 0.5, 1000.0, key="train_warmup", persist_state="session")
    objective = st.selectbox(
        "Objective",
        OBJECTIVES,
        key="train_objective",
        persist_state="session",
        format_func={"elbo": "ELBO (β-weighted)", "iwae": "IWAE bound", "tcvae": "β-TCVAE"}.get,
        help="ELBO: recon + β·KL. IWAE: the k-sample importance-weighted bound (Burda et al. "
        "2016), tighter than the ELBO; its curves show it beside the ELBO's terms. "
        "β-TCVAE (Chen et al. 2018): the KL split into I(x; z), total correlation and "
        "dimension-wise KL, with its own weight W on the total correlation.",
    )
    iwae_k, tc_weight = TRAIN.iwae_k, TRAIN.tc_weight
    if objective == "iwae":
        iwae_k = st.number_input("IWAE samples k", 1, 100, key="train_iwae_k", persist_state="session")
    if objective == "tcvae":
        tc_weight = st.number_input(
            "TC weight W",
            0.0,
            100.0,
            step=0.5,
            key="train_tc_weight",
            persist_state="session",
            help="The weight of the total correlation between the code's dimensions; above β "
            "it pushes the dimensions apart more than the rest of the KL.",
        )
    free_bits = st.number_input(
        "Free bits (nats per dimension)",
        0.0,
        10.0,
        step=0.05,
        key="train_free_bits",
        persist_state="session",
        help="Each latent dimension's KL counts at least this much, so the KL term stops "
        "pushing a dimension toward the prior below it (Kingma et al. 2016): a remedy "
        "for collapsed dimensions. 0: off. The curves still show the true KL.",
    )
    options = available_devices()
    device = st.selectbox("Device", options, key="train_device", persist_state="session") if len(options) > 1 else "cpu"
    return dict(
        epochs=int(epochs),
        batch_size=int(batch_size),
        lr=float(lr),
        seed=int(seed),
        beta=float(beta),
        beta_schedule=schedule,
        warmup_epochs=float(warmup),
        device=device,
        objective=objective,
        iwae_k=int(iwae_k),
        tc_weight=float(tc_weight),
        free_bits=float(free_bits),
    )
