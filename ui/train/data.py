"""The data a new run trains on: the dataset choice, the sprites' settings, an uploaded zip and its preview."""

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ui import catalogue
from ui.images import grid
from ui.text import plain
from ui.uploads import hold_upload, unpack_upload
from vae_core import DatasetError
from vae_core.config import BACKGROUNDS, suggest_architecture
from vae_core.data import sprites
from vae_core.data.datasets import GRAY_MODES, decode_for_preview, describe_folder
from vae_core.data.images import mid_tone_share

UPLOAD = "a zip of images (upload)"
SOURCES = ["digits", "mnist", "fashion-mnist", "sprites", UPLOAD]
UPLOAD_IMAGE_SIZE = 28  # the side most small image sets (MNIST-like) have
FIXED_SHAPES = {"digits": (1, 8, 8), "mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28)}
SPRITE_SIZES = [16, 32, 64]
UPLOADED = "_train_upload"  # the zip this session uploaded last (an Upload)
TRAIN_IMAGES = {"digits": 1438, "mnist": 60_000, "fashion-mnist": 60_000}  # a built-in's training split


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


def dataset_controls() -> dict:
    source = st.selectbox("Dataset", SOURCES, key="train_source", persist_state="session", on_change=suggest_model)
    choice = dict(
        source=source, upload=None, image_size=None, channels="auto", test_share=0.2, background="white", mid_tones=0.0
    )
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
            choice["background"], choice["mid_tones"] = upload_preview(choice["upload"].folder)
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
    choice["n_train"] = train_images(choice)
    return choice


def train_images(choice: dict) -> int | None:
    """How many images the run will train on, known before they are loaded (None until a readable zip is here)."""
    if choice["source"] in TRAIN_IMAGES:
        return TRAIN_IMAGES[choice["source"]]
    try:
        total = choice["sprites_n"] if choice["source"] == "sprites" else describe_upload(choice["upload"].folder).n_images
    except (AttributeError, DatasetError):  # no zip yet (None), or one the preview has refused
        return None
    return total - round(total * choice["test_share"])


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
        help=f"Factor combinations drawn at random; {sprites.DEFAULT_N:,} train the default model's 30 epochs in "
        "minutes on two cores (7 min 20 s on a busy 2-core Xeon, BENCHMARKS.md); fewer train faster.",
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
        st.error(plain(catalogue.shown_reason(err)))
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


def upload_preview(folder: str) -> tuple[str, float]:
    """What the zip holds, before training on it: images per class, sizes, colour, a sample as training will see
    it; returns what transparent pixels are composited on (chosen here when some images have them) and the
    sample's share of mid-tone pixels."""
    hold_upload(Path(folder))  # in use by this session: another session's clean-up keeps it
    try:
        summary = describe_upload(folder)
    except DatasetError as err:  # named by the zip, never by the server's folder for it
        st.error(plain(catalogue.shown_reason(err, folder, catalogue.dataset_label(folder))))
        return "white", 0.0
    size_from_the_images(folder, summary.sizes)
    sizes = sorted(summary.sizes.items(), key=lambda kv: -kv[1])
    size_text = ", ".join(f"{w}×{h} ({n})" for (w, h), n in sizes[:3]) + (" …" if len(sizes) > 3 else "")
    grey = all(m in GRAY_MODES for m in summary.modes)
    classes = plain(", ".join(f"{name} {n}" for name, n in list(summary.per_class.items())[:8]))
    st.caption(
        f"**{summary.n_images:,} images** in {len(summary.per_class)} "
        f"{'class' if len(summary.per_class) == 1 else 'classes'} ({classes}"
        f"{' …' if len(summary.per_class) > 8 else ''}); sizes {size_text}; {'grey' if grey else 'colour'}"
        + (f"; true factors from factors.csv: {plain(', '.join(summary.factors))}" if summary.factors else "")
    )
    background = background_choice(summary) if summary.transparent else "white"
    sample = decode_for_preview(summary.samples, background=background)
    st.image(grid(sample, nrow=8, width=480), caption="a sample of the upload")
    return background, mid_tone_share(sample)


def background_choice(summary) -> str:
    """White or black under transparent pixels: one background for every reading of these images (training, this
    preview, Generate's own image, the CLI), kept in the checkpoint's data options."""
    return st.radio(
        f"{summary.transparent:,} of {summary.n_images:,} images have transparent pixels: composite them on",
        BACKGROUNDS,
        horizontal=True,
        key="train_background",
        help="What shows through where an image is transparent. Training, this preview and Generate's own image all "
        "use the same one, and the checkpoint keeps it. Pick the one the shapes stand out from.",
    )


def size_from_the_images(folder: str, sizes: dict) -> None:
    """Once per upload: propose the images' own side (their most common), so 32 px icons train at 32 px as the
    CLI would, and the model that suits it."""
    if st.session_state.get("_train_sized_for") == folder:
        return
    st.session_state["_train_sized_for"] = folder
    (width, height), _ = max(sizes.items(), key=lambda kv: kv[1])
    st.session_state["train_image_size"] = min(max(width, height, 4), 64)
    suggest_model()


@st.cache_data(show_spinner=False, max_entries=4)
def describe_upload(folder: str):
    """Keyed by the folder, which is named by the zip's content: the same files whenever it exists."""
    return describe_folder(Path(folder))
