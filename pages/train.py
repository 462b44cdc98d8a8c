"""Train: a VAE in a background process, with live ELBO curves and the KL weight (beta) in hand."""

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ui import catalogue, session
from ui.canvas_charts import disentanglement_data, live_or_figure, posterior_terms_data
from ui.figures import disentanglement_curves, posterior_terms, training_curves
from ui.formulas import elbo_formulas, negative_loss_note
from ui.images import grid
from ui.links import plain
from ui.live_curves import live_curves
from ui.navigation import guarded, run_page
from ui.replay import NO_FRAMES, replay_panel, run_every
from ui.uploads import held_uploads, hold_upload, remove_unused_uploads, unpack_upload
from vae_core import CheckpointError, DatasetError, available_devices
from vae_core.config import (
    ARCHS,
    DEFAULT_HIDDEN,
    LIKELIHOODS,
    OBJECTIVES,
    SCHEDULES,
    DataOptions,
    ModelChoice,
    RunSpec,
    TrainConfig,
    VAEConfig,
    parse_hidden,
    suggest_architecture,
)
from vae_core.data import sprites
from vae_core.data.datasets import GRAY_MODES, decode_for_preview, describe_folder, load_data
from vae_core.model.checkpoint import safe_checkpoint_path
from vae_core.runs.registry import RunSnapshot
from vae_core.training.loop import ESTIMATE_IMAGES, epoch_under_way

UPLOAD = "a zip of images (upload)"
SOURCES = ["digits", "mnist", "fashion-mnist", "sprites", UPLOAD]
BATCH_SIZES = [32, 64, 128, 256, 512, 1024]
UPLOAD_IMAGE_SIZE = 28  # the side most small image sets (MNIST-like) have
FIXED_SHAPES = {"digits": (1, 8, 8), "mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28)}
SPRITE_SIZES = [16, 32, 64]
POLL_S = 0.5  # curves and progress
DIAGNOSTICS_POLL_S = 2.0  # per-epoch views: slower, as redrawing them steals CPU from training
QUEUED_POLL_S = 3.0  # a queued run's page: only its place in line changes
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
OPEN_RUN = "_open_run"  # the run the page showed last: shown again when the page is opened without one
UPLOADED = "_train_upload"  # the zip this session uploaded last (an Upload)
DRAWN_LAYOUT = "_drawn_layout"  # (run, layout) the page was last drawn for whole: a change reruns it
STATUS = {
    "queued": "queued",
    "starting": "starting…",
    "running": "training",
    "paused": "paused",
    "finished": "finished",
    "stopped": "stopped",
    "failed": "failed",
    "cancelled": "cancelled before it started",
    "interrupted": "interrupted when the server stopped",
}


def source_image_shape(source: str, image_size: int, channels: str) -> tuple[int, int, int]:
    """The image shape a dataset choice will give, known before it is loaded (an upload's colour: grey when auto)."""
    if source in FIXED_SHAPES:
        return FIXED_SHAPES[source]
    if source == "sprites":
        side = st.session_state.get("train_sprites_size", sprites.DEFAULT_SIZE)
        return 1, side, side
    return 3 if channels == "rgb" else 1, image_size, image_size


def suggest_model() -> None:
    """When the data change, preset the architecture and latent size that suit their images, as the CLI does."""
    shape = source_image_shape(
        st.session_state.get("train_source", SOURCES[0]),
        st.session_state.get("train_image_size", UPLOAD_IMAGE_SIZE),
        st.session_state.get("train_channels", "auto"),
    )
    st.session_state["train_arch"], st.session_state["train_latent_dim"] = suggest_architecture(shape)


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


def dataset_controls() -> dict:
    source = st.selectbox("Dataset", SOURCES, key="train_source", persist_state="session", on_change=suggest_model)
    choice = dict(source=source, upload=None, image_size=None, channels="auto", test_share=0.2)
    if source in ("mnist", "fashion-mnist"):
        st.caption(
            f"Downloaded by torchvision into `{catalogue.data_root()}/` on first use. Without a network, "
            "put the four raw IDX files into its `raw/` folder by hand."
        )
    if source == "sprites":
        sprite_controls(choice)
    if source == UPLOAD:
        upload = st.file_uploader(
            "Zip of images (PNG, JPEG, BMP, GIF, WebP, TIFF); class sub-folders give labels; "
            "a factors.csv (file, then a column per factor) gives each image's true factors",
            type=["zip"],
            key="train_zip",
            on_change=forget_a_removed_upload,
        )
        choice["upload"] = unpacked_upload(upload) if upload is not None else kept_upload()
        if upload is None and choice["upload"] is not None:  # the uploader forgets its file on another page
            st.caption(
                f"Using **{plain(choice['upload'].name)}**, uploaded earlier in this session. Upload another zip to replace it."
            )
        if choice["upload"] is not None:
            upload_preview(choice["upload"].folder)
        choice["image_size"] = st.number_input(
            "Image size (pixels)", 4, 64, key="train_image_size", persist_state="session", on_change=suggest_model
        )
        choice["channels"] = st.selectbox("Colour", ["auto", "grayscale", "rgb"], key="train_channels", persist_state="session")
        choice["test_share"] = st.number_input(
            "Test share",
            0.05,
            0.5,
            step=0.05,
            key="train_test_share",
            persist_state="session",
            help="The part of the images held out to measure the model on, drawn at random once (the same split every time).",
        )
    return choice


def sprite_controls(choice: dict) -> None:
    """How many sprites, and how large: drawn on this server from a fixed seed, the same set every time."""
    st.caption(
        "White shapes on black, drawn here, whose true factors are known: shape, scale, orientation and x, y "
        "position (as in dSprites). The map can be coloured by each, and the run measures how far each "
        "latent dimension captures one factor (MIG, DCI, SAP, FactorVAE score)."
    )
    a, b = st.columns(2)
    choice["image_size"] = a.selectbox(
        "Image size (pixels)", SPRITE_SIZES, key="train_sprites_size", persist_state="session", on_change=suggest_model
    )
    choice["sprites_n"] = b.number_input(
        "Images",
        200,
        50_000,
        step=500,
        key="train_sprites_n",
        persist_state="session",
        help=f"Factor combinations drawn at random; {sprites.DEFAULT_N:,} train the "
        "default model's 30 epochs in about a minute on two cores.",
    )


@dataclass(frozen=True)
class Upload:
    """A zip uploaded in this session, unpacked on the server: its image folder and the zip's own name."""

    folder: str
    name: str


def unpacked_upload(upload) -> Upload | None:
    """The uploader's zip, unpacked (once per content; found again afterwards) and kept for this session."""
    try:
        with st.spinner("Unpacking the zip…"):  # found at once when unpacked before; again if it was cleaned up
            folder = unpack_upload(upload.getvalue(), catalogue.uploads_dir(), upload.name)
    except DatasetError as err:
        st.error(str(err))
        return None
    st.session_state[UPLOADED] = Upload(str(folder), upload.name)
    return st.session_state[UPLOADED]


def forget_a_removed_upload() -> None:
    if st.session_state.get("train_zip") is None:  # removed by hand (x): not to be used again
        st.session_state.pop(UPLOADED, None)


def kept_upload() -> Upload | None:
    """The zip this session uploaded last, while its folder is on the server."""
    kept = st.session_state.get(UPLOADED)
    return kept if kept is not None and Path(kept.folder).is_dir() else None


def model_controls() -> dict:
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


def load_training_data(choice: dict):
    if choice["source"] == "sprites":
        options = DataOptions("sprites", image_size=int(choice["image_size"]), sprites_n=int(choice["sprites_n"]))
        return load_data(options)
    if choice["source"] != UPLOAD:
        options = DataOptions(choice["source"], root=catalogue.data_root())
        return catalogue.prefetched_dataset(choice["source"]) or load_data(options, download=True)
    if choice["upload"] is None:
        raise DatasetError("Choose a zip file to upload first.")
    root = Path(choice["upload"].folder)  # kept: Explore reads it later
    hold_upload(root)
    data = load_data(
        DataOptions(
            str(root),
            image_size=int(choice["image_size"]),
            channels=choice["channels"],
            test_fraction=float(choice["test_share"]),
        )
    )
    in_use = (
        {r.dataset for r in catalogue.checkpoints() if r.error is None}
        | catalogue.run_registry().datasets()
        | held_uploads()
        | {data.name}
    )
    remove_unused_uploads(catalogue.uploads_dir(), in_use)
    return data


def upload_preview(folder: str) -> None:
    """What the zip holds, before training on it: images per class, sizes, colour, a sample."""
    hold_upload(Path(folder))  # in use by this session: another session's clean-up keeps it
    try:
        summary = describe_upload(folder)
    except DatasetError as err:
        st.error(str(err))
        return
    sizes = sorted(summary.sizes.items(), key=lambda kv: -kv[1])
    size_text = ", ".join(f"{w}×{h} ({n})" for (w, h), n in sizes[:3]) + (" …" if len(sizes) > 3 else "")
    grey = all(m in GRAY_MODES for m in summary.modes)
    classes = ", ".join(f"{name} {n}" for name, n in list(summary.per_class.items())[:8])
    st.caption(
        f"**{summary.n_images:,} images** in {len(summary.per_class)} "
        f"{'class' if len(summary.per_class) == 1 else 'classes'} ({classes}"
        f"{' …' if len(summary.per_class) > 8 else ''}); sizes {size_text}; {'grey' if grey else 'colour'}"
        + (f"; true factors from factors.csv: {plain(', '.join(summary.factors))}" if summary.factors else "")
    )
    st.image(grid(decode_for_preview(summary.samples), nrow=8, width=480), caption="a sample of the upload")


@st.cache_data(show_spinner=False, max_entries=4)
def describe_upload(folder: str):
    """Keyed by the folder, which is named by the zip's content: the same files whenever it exists."""
    return describe_folder(Path(folder))


def run_spec(data_options: DataOptions, model_opts: dict, train_opts: dict) -> RunSpec:
    """The run the form describes, on the data it loaded."""
    return RunSpec(
        data=data_options,
        model=ModelChoice(**dict(model_opts, hidden=parse_hidden(model_opts["hidden"]))),
        train=TrainConfig(**train_opts),
    )


def start_run(choice: dict, model_opts: dict, train_opts: dict) -> None:
    try:
        with st.spinner("Loading the dataset…"):
            data = load_training_data(choice)
        spec = run_spec(data.options, model_opts, train_opts)
        run = catalogue.run_registry().start(spec, data)
    except (DatasetError, ValueError) as err:
        st.error(str(err))
        return
    session.add_session_run(run.id)
    st.query_params["run"] = run.id  # a reload re-attaches to this run
    st.rerun()


@st.cache_data(show_spinner=False, max_entries=32)
def resume_state_or_reason(path: str, mtime: int):
    """(ResumeState, None) when the checkpoint can be trained further, else (None, why not)."""
    from vae_core.model.checkpoint import read_resume_state

    try:
        return read_resume_state(path), None
    except CheckpointError as err:
        return None, str(err)


def continue_controls(busy: bool) -> None:
    """Train the sidebar's model further: its curves, β and replay go on where its run ended."""
    row = session.chosen_row()
    if row is None:
        return
    with st.expander(f"Continue training {row.name}", icon=":material/fast_forward:"):
        state, reason = resume_state_or_reason(row.path, row.mtime)
        if state is None:
            st.caption(plain(reason.replace(row.path, row.name)))
            return
        st.caption(
            f"The sidebar's model, {state.epochs_done} epochs so far: it trains on from there on its own data "
            "and settings, as if its run had gone on (pick another model in the sidebar to continue that one)."
        )
        more = st.number_input("More epochs", 1, 1000, 10, key="continue_epochs")
        if st.button("Continue training", key="continue_start", disabled=busy, width="stretch"):
            continue_run(row, state, int(more))


def continue_run(row, state, more: int) -> None:
    model, meta = catalogue.load_model(row.path, row.mtime)
    data, problem = catalogue.dataset_for(meta)
    if data is None:
        st.error(f"Its data are not here, so it cannot train further: {problem}")
        return
    run = catalogue.run_registry().continue_run(model, meta, state, data, more)
    session.add_session_run(run.id)
    st.query_params["run"] = run.id
    st.rerun()


def progress(snap: RunSnapshot) -> None:
    if snap.status == "queued":
        registry = catalogue.run_registry()
        place, waiting = registry.queue_position(snap.id)
        st.progress(
            0.0,
            text=f"queued: {place} of {waiting} waiting · {registry.max_runs} "
            f"{'run trains' if registry.max_runs == 1 else 'runs train'} at a time on this server",
        )
        return
    if not snap.steps:
        st.progress(0.0, text="starting…" if snap.live else "no steps trained")
        return
    last, total, config = snap.steps[-1], max(snap.total_steps, 1), snap.config
    eta = (total - last["step"]) * config.batch_size / max(last["samples_per_s"], 1e-9)
    epoch = epoch_under_way(last["epoch"], config.epochs)
    text = (
        f"epoch {epoch}/{config.epochs} · step {last['step']}/{total} · "
        f"{last['samples_per_s']:,.0f} samples/s · β {last['beta']:.2f}" + (f" · ETA {eta:.0f} s" if snap.training else "")
    )  # paused, no time to arrival means anything
    st.progress(min(last["step"] / total, 1.0), text=text)


def diagnostics(run_id: str) -> None:
    """The replay of the epochs so far (the map forming), and the KL term split up per epoch."""
    snap = catalogue.run_registry().get(run_id).snapshot()
    st.markdown("**Replay: the latent map forming, epoch by epoch**")
    replay_panel(
        snap.replay,
        replay_key(run_id),
        live=snap.training,  # while training: on canvases (ui/canvas_charts.py)
        empty_note=NO_FRAMES if snap.live else "No epoch ended before the run did: nothing to replay.",
    )
    if not snap.epochs:
        return
    last = snap.epochs[-1]
    if "mutual_info" in last:
        st.markdown("**The average KL, split up**")
        st.caption(
            f"Per epoch, on {ESTIMATE_IMAGES} test images: I(x; z), what the code says about the image; the "
            "total correlation between its dimensions; the dimension-wise KL of each marginal to N(0, 1). "
            f"Together they make the KL term (last epoch: {last['mutual_info']:.2f} + "
            f"{last['total_correlation']:.2f} + {last['dimwise_kl']:.2f} ≈ {last['test_kl']:.2f} nats)."
        )
        live_or_figure(
            snap.training, "posterior_terms", lambda: posterior_terms_data(snap.epochs), lambda: posterior_terms(snap.epochs)
        )
    disentanglement_panel(snap)


def disentanglement_panel(snap: RunSnapshot) -> None:
    """On data with known factors: how far each factor is captured by one latent dimension, over the epochs."""
    measured = [e for e in snap.epochs if "disentanglement" in e]
    if not measured:
        return
    cost = sum(e["disentanglement_s"] for e in measured)
    training = max(snap.epochs[-1]["elapsed_s"] - cost, 1e-9)
    st.markdown("**Disentanglement: does one latent dimension hold one factor?**")
    st.caption(
        f"On the {snap.n_test:,} test images, after epochs {', '.join(str(e['epoch']) for e in measured)}: "
        "MIG (Chen et al. 2018), DCI (Eastwood & Williams 2018), SAP (Kumar et al. 2018) and the FactorVAE "
        "score (Kim & Mnih 2018, chance ≈ 1/factors); 1 is a code with one dimension per factor. Measuring "
        f"took {cost:.1f} s in all, beside {training:.1f} s of training and testing, and is left out of the "
        "samples/s above."
    )
    live_or_figure(
        snap.training, "disentanglement", lambda: disentanglement_data(snap.epochs), lambda: disentanglement_curves(snap.epochs)
    )


FIRST_STEPS_WAIT_S = 2.0  # a run just started reports its first steps within about half a second


def page_layout(snap: RunSnapshot) -> str:
    """What the whole page is drawn for. Each is laid out differently (queued: polled slowly; training: charts on
    canvases; paused: Plotly's figures; over: saving offered, no polling), so a change reruns the page."""
    if snap.status == "queued":
        return "queued"
    if not snap.live:
        return "over"
    return "paused" if snap.paused else "training"  # a run still starting too: it is about to train


def live_view(run_id: str) -> None:
    """Everything that moves while training; polled by a fragment, so only this part reruns."""
    run = catalogue.run_registry().get(run_id)
    if run.status == "starting" or (run.status == "running" and not run.snapshot().steps):
        run.wait_for_first_steps(FIRST_STEPS_WAIT_S)
    snap = run.snapshot()
    if st.session_state.get(DRAWN_LAYOUT) != (run_id, page_layout(snap)):
        st.rerun(scope="app")  # it left the queue, paused, resumed or ended: redraw the page for that
    st.markdown(f"Status: **{STATUS['paused' if snap.paused else snap.status]}**")
    if snap.status == "running":  # polled with the status, so the buttons follow a pause that One epoch ends in
        pause_controls(run, snap)
    progress(snap)
    if not snap.steps and snap.live:
        st.info("Waiting for the first steps: the curves start here in a moment.", icon=":material/hourglass_top:")
    elif not snap.steps:
        st.info("The run ended before it reported its first steps: there are no curves to draw.")
    elif snap.training:  # a canvas sent only the new points (ui/live_curves.py)
        live_curves(snap.id, snap.events, snap.beta_changes, snap.likelihood)
    else:  # paused or over: the full figure, with hover and zoom
        st.plotly_chart(training_curves(snap.events, snap.beta_changes, snap.likelihood), key="curves")


def save_panel(run, snap: RunSnapshot) -> None:
    if snap.saved_as:
        st.success(f"Saved as `{snap.saved_as}`. It is selected in the sidebar: open Explore to click its map.")
        st.page_link("pages/explore.py", label="Explore the new model", icon=":material/map:")
        return
    likelihood = {"bernoulli": "", "continuous-bernoulli": "-cb", "gaussian": "-gauss"}[snap.likelihood]
    beta = "beta-varied" if snap.beta_changes else f"beta{snap.beta:g}"  # not the last value of a changed beta
    conditional = "-cond" if run.model.config.conditional else ""
    default = f"{catalogue.dataset_short_name(snap.dataset)}-{snap.arch}{conditional}-z{snap.latent_dim}{likelihood}-{beta}"
    name = st.text_input("Checkpoint name", default, key=f"save_name_{snap.id}", max_chars=64)
    save_col, discard_col = st.columns(2)
    if discard_col.button(
        "Discard this run",
        key=f"discard_{snap.id}",
        width="stretch",
        help="Unsaved runs stay on the server until saved or discarded.",
    ):
        run.discard()
        del st.query_params["run"]
        st.rerun()
    if save_col.button("Save checkpoint", key=f"save_{snap.id}", type="primary", width="stretch"):
        try:
            path = run.save(safe_checkpoint_path(catalogue.checkpoint_dir(), name))
        except CheckpointError as err:
            kept = " The run is kept here: save it again once there is room." if isinstance(err.__cause__, OSError) else ""
            st.error(str(err) + kept)
            return
        session.pick_next_run(path.stem)
        st.rerun()


def run_view(run, snap: RunSnapshot) -> None:
    head, stop_col = st.columns([4, 1])
    head.subheader(f"Run `{snap.id}`")
    conditional = "conditional " if run.model.config.conditional else ""
    head.caption(
        f"{snap.arch} {conditional}VAE, {snap.latent_dim}-D latent, {snap.likelihood} likelihood, on "
        f"{catalogue.dataset_label(snap.dataset)} "
        f"({snap.n_train} train / {snap.n_test} test images), device {snap.config.device}"
    )
    if snap.live:
        stop_col.button("Stop", key=f"stop_{snap.id}", on_click=run.request_stop, type="primary", width="stretch")
        scheduled = snap.config.beta_schedule != "constant"
        st.slider(
            "β base, live: applies at the next step" if scheduled else "β, live: applies at the next step",
            0.0,
            max(10.0, snap.beta),
            snap.beta,
            0.05,
            key=f"live_beta_{snap.id}",
            on_change=lambda: run.set_beta(st.session_state[f"live_beta_{snap.id}"]),
        )
        if scheduled and snap.steps:
            st.caption(
                f"In force now: **β = {snap.steps[-1]['beta']:.3g}**, the base times the {snap.config.beta_schedule} schedule."
            )
    if snap.error:
        st.error(snap.error)
    if snap.status == "interrupted":
        resume_panel(run, snap)
    scores = doctor = None
    if snap.saveable:  # the outcome and saving first, above the fold (a diverged run keeps its last good weights)
        scores = st.container()  # filled last: Save and Discard show at once, the scores as they are computed
        save_panel(run, snap)
        doctor = st.container()
    st.session_state[DRAWN_LAYOUT] = (snap.id, page_layout(snap))
    if snap.status == "queued":  # nothing moves but the place in line: look now and then
        st.fragment(run_every=QUEUED_POLL_S)(guarded(live_view))(snap.id)
    elif snap.live:
        st.fragment(run_every=POLL_S)(guarded(live_view))(snap.id)
    else:
        live_view(snap.id)
    formulas_panel(snap.likelihood, snap.config)  # outside the polled fragment: drawn once, not twice a second
    idle = DIAGNOSTICS_POLL_S if snap.live else None  # a finished run's replay reruns only while playing
    st.fragment(run_every=run_every(replay_key(snap.id), idle))(guarded(diagnostics))(snap.id)
    if scores is not None:  # last: the whole page is drawn before the scoring takes its time
        with scores:
            final_metrics(run)
        with doctor:
            run_doctor(run, snap)


def resume_panel(run, snap: RunSnapshot) -> None:
    """A run the server was training when it stopped: it goes on from its last snapshot, or is saved as it is."""
    done = snap.epochs_done
    st.info(
        f"The server stopped while this run trained. It was kept at the end of epoch {done} of "
        f"{snap.config.epochs}: resume it from there, or save or discard it as it is.",
        icon=":material/restore:",
    )
    if st.button(f"Resume from epoch {done}", key=f"resume_run_{snap.id}", type="primary", width="stretch"):
        catalogue.run_registry().resume(run)  # under the same id: the page, opened on it, follows it
        st.rerun()


def restored_runs(current: str | None) -> None:
    """Runs found on disk when the server started: interrupted, or over and never saved."""
    runs = [run for run in catalogue.run_registry().restored() if run.id not in session.my_run_ids()]  # else listed there
    if not runs:
        return
    with st.expander(
        f"Runs from before the server restarted ({len(runs)})", expanded=current is None, icon=":material/restore:"
    ):
        for run in runs:
            snap = run.snapshot()
            run_row(snap, f"at epoch {snap.epochs_done} of {snap.config.epochs}", current)


def replay_key(run_id: str) -> str:
    return f"replay_{run_id}"


def pause_controls(run, snap: RunSnapshot) -> None:
    """Pause and resume, or one epoch at a time: the run waits between steps, its process and weights kept."""
    a, b, _ = st.columns([1, 1, 3])
    if snap.paused:
        a.button("Resume", key=f"resume_{snap.id}", on_click=run.resume_training, icon=":material/play_arrow:", width="stretch")
    else:
        a.button("Pause", key=f"pause_{snap.id}", on_click=run.pause_training, icon=":material/pause:", width="stretch")
    b.button(
        "One epoch",
        key=f"epoch_{snap.id}",
        on_click=run.train_one_epoch,
        icon=":material/skip_next:",
        width="stretch",
        help="Train to the end of this epoch, show it, then pause again.",
    )


def formulas_panel(likelihood: str, config: TrainConfig) -> None:
    """The objective and its terms, as this run's likelihood and objective define them, under the panels they are
    drawn in."""
    f = elbo_formulas(likelihood, config.objective, config.iwae_k, config.free_bits, config.tc_weight)
    left, right = st.columns([4, 3])  # the reconstruction term is the longer formula
    with left:
        st.caption(f"Left panel · grey: the loss minimised; blue: the reconstruction term ({likelihood}), at one z")
        st.latex(r"\scriptsize " + f["loss"])
        st.latex(r"\scriptsize " + f["recon"])
        st.latex(r"\scriptsize " + f["where"])
    with right:
        st.caption("Right panel · red: the KL term (Kingma & Welling 2014, App. B); pink: β·KL; purple: β")
        st.latex(r"\scriptsize " + f["kl"])
        st.latex(r"\scriptsize " + f["sample"])


def final_metrics(run) -> None:
    """The test terms, then the IWAE bound (the slow part), each shown as soon as it is computed."""
    cols = st.columns(5)
    with cols[0], st.spinner("Scoring…"):
        m = run.test_metrics()
    cols[0].metric("test −ELBO", f"{m['test_loss']:.2f}", help="nats per image, β = 1")
    cols[1].metric("reconstruction", f"{m['test_recon']:.2f}")
    cols[2].metric("KL", f"{m['test_kl']:.2f}")
    cols[3].metric("active units", f"{m['active_units']} / {len(m['kl_per_dim'])}")
    with cols[4], st.spinner("IWAE bound…"):
        iw = run.iwae_bound()
    cols[4].metric(
        f"IWAE-{iw['iwae_k']} NLL",
        f"{iw['iwae_nll']:.2f}",
        help=f"Importance-weighted bound on −log p(x), on {iw['iwae_images']:,} test images",
    )
    if note := negative_loss_note(run.model.config.likelihood):
        st.caption(note)


def open_run(run_id: str) -> None:
    st.query_params["run"] = run_id


def run_doctor(run, snap: RunSnapshot) -> None:
    """The collapse doctor (ui/doctor.py) for a finished run, when some of its dimensions have collapsed."""
    from ui.doctor import doctor_panel
    from vae_core.analysis.doctor import spec_of

    spec = spec_of(run.model.config, run.config, run.data.options, snap.beta)
    doctor_panel(
        snap.id,
        "this run",
        run.test_metrics()["kl_per_dim"],
        spec,
        lambda: run.data,
        lambda: (run.test_metrics(), run.iwae_bound()),
    )


def session_runs(current: str | None) -> None:
    """This session's runs on the server, newest first, each with its status, progress and a way back to it."""
    registry = catalogue.run_registry()
    runs = [(rid, registry.get(rid)) for rid in reversed(session.my_run_ids())]
    runs = [(rid, run.snapshot()) for rid, run in runs if run is not None]
    if not runs:
        return
    with st.expander(f"Your runs ({len(runs)})", expanded=current is None):
        for _, snap in runs:
            done = snap.steps[-1]["step"] / max(snap.total_steps, 1) if snap.steps else 0.0
            run_row(snap, f"· {done:.0%}" + (f" · saved as `{snap.saved_as}`" if snap.saved_as else ""), current)


def run_row(snap: RunSnapshot, where: str, current: str | None) -> None:
    """One run in a list: what it is, its state, where it stands, and a way to open it."""
    a, b = st.columns([4, 1], vertical_alignment="center")
    a.markdown(
        f"`{snap.id}` · {snap.arch}, z={snap.latent_dim} on {catalogue.dataset_label(snap.dataset)} · "
        f"**{STATUS[snap.status]}** {where}"
    )
    b.button("Open", key=f"open_{snap.id}", on_click=open_run, args=(snap.id,), disabled=snap.id == current, width="stretch")


def current_run():
    """The run named in the URL; without one, the run this page showed last, or this session's latest live run:
    leaving the page loses nothing."""
    registry = catalogue.run_registry()
    if not st.query_params.get("run"):
        candidates = [st.session_state.get(OPEN_RUN), *reversed(session.my_run_ids())]
        shown = next(
            (
                rid
                for rid in candidates
                if (run := registry.get(rid)) and not run.discarded and (run.live or rid == candidates[0])
            ),
            None,
        )
        if shown:
            st.query_params["run"] = shown
    run = registry.get(st.query_params.get("run"))
    if st.query_params.get("run") and run is None:
        st.warning(
            "That run is no longer on this server: the server was restarted, or the run was saved or "
            "discarded and later cleared to make room (saved runs are in the sidebar). Start a new one."
        )
        del st.query_params["run"]
    st.session_state[OPEN_RUN] = run.id if run is not None else None
    if run is not None and run.id not in session.my_run_ids():  # opened by its address: listed with this session's runs
        session.add_session_run(run.id)
    return run


def main() -> None:
    st.title("Train a VAE")
    for key, value in form_defaults().items():  # once per session; the widgets keep them across pages
        st.session_state.setdefault(key, value)
    if st.session_state["train_source"] not in (UPLOAD, "sprites"):  # loaded while the user looks at the form, not after Start
        catalogue.prefetch_dataset(st.session_state["train_source"])
    run = current_run()
    snap = run.snapshot() if run is not None else None
    session_runs(snap.id if snap else None)
    restored_runs(snap.id if snap else None)
    controls, view = st.columns([1.4, 3], gap="large")
    with controls:
        st.markdown("**New run**")
        choice = dataset_controls()
        model_opts = model_controls()
        train_opts = training_controls()
        if st.button(
            "Start training", type="primary", key="train_start", width="stretch", disabled=snap is not None and snap.live
        ):
            start_run(choice, model_opts, train_opts)
        continue_controls(busy=snap is not None and snap.live)
    with view:
        if run is None:
            st.info(
                "Choose a dataset and settings, then **Start training**. The curves of the reconstruction and KL "
                "terms appear here and move live; change β while it runs to see what the KL weight does."
            )
            # their empty axes: the browser also loads Plotly's code now, while the form is read, not when the
            # first run is paused or ends (while it trains, its charts are canvases)
            st.plotly_chart(training_curves([], [], st.session_state["train_likelihood"]), key="curves_empty")
        else:
            run_view(run, snap)


run_page(main)
