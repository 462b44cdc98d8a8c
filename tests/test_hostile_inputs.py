"""The red team's hostile inputs (issue 29), as tables: files a careless or hostile user could put in front of the
app or the CLI, and what must happen instead of a crash or a lie. A later change that brings one back fails here.

Checkpoints whose metadata is malformed are one unusable row with the reason; caches that do not hold what they
must (a checkpoint's map and summary, a fitted UMAP or t-SNE map, a decoded image folder) are ignored and
rebuilt, so the app shows the truth.
"""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from vae_core import load_dataset
from vae_core.store.files import cache_dir
from vae_core.store.map_cache import cache_path, read_map, read_summary

APP = str(ROOT / "app.py")
SHIPPED = ROOT / "checkpoints" / "digits-2d.pt"
TRUTH = "z=2 · β=1 · loss 24.0 · digits-2d"  # what the sidebar says of the shipped model


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A checkpoints folder holding the shipped 2-D model and its cache."""
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir()
    shutil.copy2(SHIPPED, checkpoints)
    shutil.copy2(cache_path(SHIPPED), checkpoints)
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(checkpoints))
    monkeypatch.setenv("VAE_EXPLORER_DATA", str(tmp_path / "data"))
    return checkpoints


def explore():
    """The app's start page, run as a browser session would run it."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.get("plotly_chart"), "the map was not drawn"
    return at


# what a checkpoint's metadata holds instead of what it must -> part of the reason the sidebar gives
MALFORMED_METADATA = {
    "metrics a string": (dict(metrics="a string"), "its metrics is a str"),
    "a metric not a number": (dict(metrics={"test_loss": "low"}), "its metric 'test_loss'"),
    "latent size a word": (
        dict(vae_config=dict(image_shape=[1, 8, 8], latent_dim="seven", hidden=[16], arch="mlp")),
        "model or data settings are not usable",
    ),
    "train config a list": (dict(train_config=[1, 2]), "its train_config is a list"),
    "dataset a number": (dict(dataset=7), "its dataset is a int"),
    "history a dict": (dict(history={"type": "epoch"}), "its history is a dict"),
}


@pytest.mark.parametrize("case", MALFORMED_METADATA)
def test_a_checkpoint_with_malformed_metadata_is_one_unusable_row_and_the_rest_works(folder, case):
    changes, reason = MALFORMED_METADATA[case]
    torch.save(dict(torch.load(SHIPPED, weights_only=True), **changes), folder / "bad.pt")
    at = explore()
    assert at.selectbox(key="checkpoint").options == [TRUTH]
    (warning,) = at.sidebar.warning
    shown = warning.value.replace("\\", "")  # as Markdown shows it: escaped signs as they are
    assert "bad" in shown and reason in shown


def edit_cache(path, edit) -> None:
    """Rewrite a checkpoint's map cache (NAME.map.npz) through `edit(header, arrays) -> (header, arrays)`."""
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    header, arrays = edit(json.loads(str(arrays.pop("header"))), arrays)
    np.savez(path, header=np.array(json.dumps(header)), **arrays)


def without(key):
    def edit(header, arrays):
        header.pop(key)
        return header, arrays

    return edit


def changed_array(name, change):
    def edit(header, arrays):
        arrays[name] = change(arrays[name].copy())
        return header, arrays

    return edit


def forged_summary(header, arrays):
    """The red team's forgery: the summary rewritten, size, mtime and checkpoint hash left as they were."""
    header["summary"]["vae_config"]["latent_dim"] = 7
    header["summary"]["metrics"]["test_loss"] = -123.0
    return header, arrays


def nan_at_start(xy):
    xy[0] = np.nan
    return xy


BAD_MAP_CACHES = {
    "header without its size": without("size"),
    "header without its digest": without("digest"),
    "header a JSON list": lambda header, arrays: ([], arrays),
    "a short map": changed_array("xy", lambda xy: xy[:-1]),
    "NaN coordinates": changed_array("xy", nan_at_start),
    "labels of another length": changed_array("labels", lambda labels: labels[:5]),
    "a forged summary": forged_summary,
    "a summary of the wrong types": lambda header, arrays: (
        {**header, "summary": {**header["summary"], "metrics": "x"}},
        arrays,
    ),
}


@pytest.mark.parametrize("case", BAD_MAP_CACHES)
def test_a_map_cache_that_does_not_hold_what_it_must_is_ignored_and_rebuilt(folder, case):
    checkpoint = folder / "digits-2d.pt"
    mtime = checkpoint.stat().st_mtime_ns
    edit_cache(cache_path(checkpoint), BAD_MAP_CACHES[case])
    at = explore()
    assert at.selectbox(key="checkpoint").options == [TRUTH] and not at.sidebar.warning
    assert checkpoint.stat().st_mtime_ns == mtime  # the model itself untouched
    summary = read_summary(checkpoint)  # and its cache whole again, map and all
    assert summary.vae_config.latent_dim == 2
    from vae_core.store.files import dataset_signature

    md = read_map(checkpoint, dataset_signature(summary.data_options))
    assert md is not None and md.xy.shape == (359, 2) and md.labels.shape == (359,) and np.isfinite(md.xy).all()


STORED_FITS = {  # what a fitted UMAP or t-SNE map's cache holds instead of what it must
    "a short map": dict(xy=np.zeros((10, 2), np.float32)),
    "a 1x1 error grid": dict(errors=np.zeros((1, 1), np.float32)),
    "NaN positions": dict(xy=np.full((40, 2), np.nan, np.float32)),
    "fitted points out of range": dict(fit_index=np.arange(35, 75)),
}


@pytest.mark.parametrize("case", STORED_FITS)
def test_a_stored_nonlinear_map_that_does_not_fit_its_latents_is_fitted_again(tmp_path, monkeypatch, case):
    from vae_core.maps import nonlinear
    from vae_core.store import fit_cache

    latents = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    good = dict(
        xy=np.zeros((40, 2), np.float32),
        fit_index=np.arange(40),
        error_x=np.array([-1.0, 1.0]),
        error_y=np.array([-1.0, 1.0]),
        errors=np.zeros((nonlinear.ERROR_GRID,) * 2, np.float32),
    )
    path = tmp_path / f"map-umap-{nonlinear.cache_key(latents, 'umap', 0, nonlinear.FIT_MAX)}.npz"
    np.savez(path, **good)
    assert fit_cache.cached_fit(latents, "umap", tmp_path).xy.shape == (40, 2)  # a whole one is read as it is
    np.savez(path, **dict(good, **STORED_FITS[case]))
    refit = SimpleNamespace(**dict(good, xy=np.ones((40, 2), np.float32)))
    monkeypatch.setattr(nonlinear, "fit_nonlinear", lambda *args, **kwargs: refit)
    assert fit_cache.cached_fit(latents, "umap", tmp_path) is refit


def image_folder(root):
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(root / label / f"{i}.png")
    return root


FORGED_FOLDER_CACHES = {  # what the decoded-folder cache holds instead of the folder's images
    "3x5x5 images": lambda c: dict(c, x=torch.zeros((12, 3, 5, 5), dtype=torch.uint8)),
    "a short label tensor": lambda c: dict(c, y=c["y"][:3]),
    "labels of other classes": lambda c: dict(c, y=torch.ones_like(c["y"])),
    "float images": lambda c: dict(c, x=c["x"].float()),
}


@pytest.mark.parametrize("case", FORGED_FOLDER_CACHES)
def test_a_decoded_folder_cache_that_does_not_hold_the_folder_is_decoded_again(tmp_path, monkeypatch, case):
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    folder = image_folder(tmp_path / "images")
    first = load_dataset(str(folder))
    (cached,) = cache_dir().glob("folder-*.pt")
    torch.save(FORGED_FOLDER_CACHES[case](torch.load(cached, weights_only=True)), cached)
    again = load_dataset(str(folder))
    assert again.image_shape == first.image_shape == (1, 8, 8)
    assert torch.equal(again.train_x, first.train_x) and torch.equal(again.test_y, first.test_y)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "vae_core", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


CLI_REFUSALS = {  # arguments -> what the one-line error says; nothing is trained or written
    "a beta twice": (["sweep", "--betas", "1,1,1.0000001"], "Each beta may be given once; 1 came twice"),
    "betas nan and inf": (["sweep", "--betas", "nan,inf"], "Betas must be finite and non-negative, not nan, inf"),
    "a negative beta": (["sweep", "--betas", "-1"], "must be finite and non-negative"),
    "a seed twice": (["sweep", "--betas", "1", "--seeds", "0,0"], "Each seed may be given once"),
    "workers -1": (["sweep", "--betas", "1", "--workers", "-1"], "--workers: must be at least 1, got -1"),
    "latent size 0 (sweep)": (["sweep", "--betas", "1", "--latent-dim", "0"], "--latent-dim: must be at least 1"),
    "latent size 0 (train)": (["train", "--latent-dim", "0"], "--latent-dim: must be at least 1"),
}


@pytest.mark.parametrize("case", CLI_REFUSALS)
def test_the_cli_refuses_hostile_numbers_up_front(tmp_path, case):
    args, message = CLI_REFUSALS[case]
    out = ["--out", str(tmp_path / "m.pt")] if args[0] == "train" else ["--out-dir", str(tmp_path / "sweep")]
    proc = cli(*args, *out, "--epochs", "1", "--quiet")
    assert proc.returncode != 0 and message in proc.stderr and "Traceback" not in proc.stderr
    assert not list(tmp_path.rglob("*.pt"))


def test_betas_that_differ_in_the_seventh_digit_get_files_of_their_own(tmp_path):
    from vae_core.runs.sweep import run_path

    assert run_path(tmp_path, 1.0, 0).name == "beta1-seed0.pt" and run_path(tmp_path, 0.25, 3).name == "beta0.25-seed3.pt"
    assert run_path(tmp_path, 1.0000001, 0).name == "beta1.0000001-seed0.pt"
    proc = cli(
        "sweep", "--betas", "1,1.0000001", "--epochs", "1", "--hidden", "16", "--out-dir", str(tmp_path), "--json", "--quiet"
    )
    rows = json.loads(proc.stdout)
    assert proc.returncode == 0 and [r["status"] for r in rows] == ["trained", "trained"]
    assert sorted(p.name for p in tmp_path.glob("*.pt")) == ["beta1-seed0.pt", "beta1.0000001-seed0.pt"]


def compare_page():
    at = AppTest.from_file(APP, default_timeout=60).run()
    return at.switch_page("pages/compare.py").run()


def start_compare_sweep(at, betas: str, seeds: str = "0"):
    at.text_input(key="sweep_betas").set_value(betas)
    at.text_input(key="sweep_seeds").set_value(seeds)
    at.number_input(key="sweep_epochs").set_value(1)
    return at.button(key="sweep_start").click().run()


@pytest.mark.parametrize(
    "betas, seeds, message",
    [
        ("1,1.0", "0", "1 came twice"),
        ("nan,inf", "0", "finite"),
        ("1", "0,0", "0 came twice"),
        ("one", "0", "not a list of numbers"),
        ("0.1,0.2,0.3,0.4,0.5", "0,1,2,3,4", "at most 24"),
    ],
)
def test_compare_refuses_a_bad_sweep_before_queueing_anything(folder, betas, seeds, message):
    at = start_compare_sweep(compare_page(), betas, seeds)
    assert not at.exception and any(message in e.value for e in at.main.error)
    assert not at.get("progress") and not (folder / "sweep").exists()


def test_a_sweep_run_that_cannot_be_saved_is_shown_failed_on_compare(folder):
    (folder / "sweep").mkdir()
    (folder / "sweep" / "beta1-seed0.pt").write_bytes(b"not a checkpoint")  # taken, and not a finished run
    at = start_compare_sweep(compare_page(), "1,2")
    deadline = time.monotonic() + 120
    while not any("failed" in e.value for e in at.main.error):
        assert time.monotonic() < deadline, [e.value for e in at.main.error]
        time.sleep(0.5)
        at.run()
    (error,) = at.main.error
    assert "β=1 seed 0: failed" in error.value and "could not be saved" in error.value and "β=2" not in error.value
    assert (folder / "sweep" / "beta2-seed0.pt").is_file()  # the other run saved


def test_16_bit_pngs_are_scaled_to_8_bits_not_clipped_white(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))
    levels = (np.arange(64).reshape(8, 8) * 1024).astype(np.uint16)  # 0 .. 64512 of 65535
    for i in range(5):
        Image.fromarray(levels).save(tmp_path / f"{i}.png")
    assert Image.open(tmp_path / "0.png").mode == "I;16"
    data = load_dataset(str(tmp_path))
    expected = torch.from_numpy(np.round(levels / 257.0).astype(np.uint8))
    assert torch.equal(data.train_x[0, 0], expected)  # a ramp from black, not 255 nearly everywhere


@pytest.mark.parametrize("order", [("c.png", "c.png/d.png"), ("c.png/d.png", "c.png")])
def test_a_zip_with_a_file_and_a_folder_of_one_name_says_which_entry(tmp_path, order):
    import io
    import zipfile

    from vae_core import DatasetError
    from vae_core.data.datasets import extract_image_zip

    png = io.BytesIO()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(png, format="PNG")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in order:
            archive.writestr(name, png.getvalue())
    with pytest.raises(DatasetError, match=r"holds 'c\.png(/d\.png)?' where another entry needs"):
        extract_image_zip(io.BytesIO(buffer.getvalue()), tmp_path / "out")


def test_a_checkpoint_with_non_finite_weights_is_refused_with_the_reason(folder):
    payload = torch.load(SHIPPED, weights_only=True)
    payload["model_state"] = {
        k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in payload["model_state"].items()
    }
    torch.save(payload, folder / "nan.pt")
    at = explore()
    assert at.selectbox(key="checkpoint").options == [TRUTH]
    (warning,) = at.sidebar.warning
    assert "nan" in warning.value and "non-finite weights" in warning.value.replace("\\", "")


def test_ctrl_c_in_a_local_sweep_says_what_was_saved_and_shows_no_traceback(tmp_path):
    import os
    import signal

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vae_core",
            "sweep",
            "--betas",
            "1,2,3,4",
            "--epochs",
            "40",
            "--hidden",
            "16",
            "--workers",
            "1",
            "--out-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    seen = []
    for line in proc.stderr:  # progress lines; the first run's end, then Ctrl-C for the terminal's whole group
        seen.append(line)
        if line.startswith("trained "):
            os.killpg(proc.pid, signal.SIGINT)
            break
    out, err = proc.communicate(timeout=120)
    err = "".join(seen) + err
    assert proc.returncode == 130 and "Traceback" not in err and "KeyboardInterrupt" not in err, err
    saved = sorted(p.name for p in tmp_path.glob("*.pt"))
    assert saved and len(saved) < 4 and f"interrupted: {len(saved)} of 4 runs saved" in err
    assert all(name in err for name in saved) and "nothing was saved" not in err


def with_replay(edit):
    """The shipped model's payload with its replay entry changed by `edit(entry)`."""
    payload = torch.load(SHIPPED, weights_only=True)
    (entry,) = [h for h in payload["history"] if h.get("type") == "replay"]
    edit(entry)
    return payload


def wrong_recons(entry):
    entry["frames"][3]["recons"] = entry["frames"][3]["recons"][:, :, :4]


def too_many_frames(entry):
    entry["frames"] = entry["frames"] * 3


def too_many_points(entry):
    entry["labels"] = torch.zeros(5000, dtype=torch.int64)
    for frame in entry["frames"]:
        frame["xy"] = torch.zeros((5000, 2))


def nan_positions(entry):
    entry["frames"][0]["xy"][0] = float("nan")


BAD_REPLAYS = {  # a stored replay unlike any this app writes -> what Explore says instead of showing it
    "reconstructions of the wrong shape": (wrong_recons, "reconstructions of shape (8, 1, 4, 8) at epoch"),
    "more frames than a replay keeps": (too_many_frames, "more than the 120 frames"),
    "more points than a replay follows": (too_many_points, "follows 5000 points"),
    "NaN positions": (nan_positions, "places epoch"),
}


@pytest.mark.parametrize("case", BAD_REPLAYS)
def test_a_stored_replay_unlike_ours_is_refused_with_the_reason(folder, case):
    edit, reason = BAD_REPLAYS[case]
    torch.save(with_replay(edit), folder / "digits-2d.pt")  # the same model, its replay changed
    at = explore()
    at.toggle(key="explore_replay").set_value(True).run()
    assert not at.exception
    assert any("replay cannot be shown" in w.value and reason in w.value.replace("\\", "") for w in at.main.warning)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the process's memory from Linux's /proc")
def test_a_large_history_is_not_read_into_memory_until_used(tmp_path):
    """A checkpoint carrying 200 MB of history (a hostile replay) costs the server next to no memory of its own to
    load: the file's pages are mapped, shared and dropped by the kernel, not copied into the process."""
    payload = torch.load(SHIPPED, weights_only=True)
    payload["history"].append({"type": "blob", "data": torch.zeros(200 * 2**20, dtype=torch.uint8)})
    torch.save(payload, tmp_path / "big.pt")
    code = (
        "import sys; from vae_core import load_checkpoint\n"
        "def anonymous_mb():\n"
        "    return int(next(l for l in open('/proc/self/status') if l.startswith('RssAnon')).split()[1]) // 1024\n"
        "before = anonymous_mb(); model, meta = load_checkpoint(sys.argv[1]); print(anonymous_mb() - before)"
    )
    grown_mb = int(
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "big.pt")], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
    )
    assert grown_mb < 50, f"loading took {grown_mb} MB more"


def test_a_checkpoint_cannot_make_explore_read_a_folder_nobody_named(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_CACHE", str(tmp_path / "cache"))  # nothing named on this server yet
    secret = image_folder(tmp_path / "private-photos")
    payload = torch.load(SHIPPED, weights_only=True)
    payload["data_options"] = dict(name=str(secret), image_size=8, channels="grayscale", test_fraction=0.5)
    torch.save(payload, folder / "digits-2d.pt")  # the shipped model, claiming that folder as its data
    (folder / "digits-2d.map.npz").unlink()
    at = explore()
    (warning,) = [w.value for w in at.main.warning if "No data points drawn" in w.value]
    assert "nobody named on this server" in warning and str(secret.parent) not in warning
    assert not at.get("imgs") or not any("private" in str(i.proto) for i in at.get("imgs"))
    load_dataset(str(secret), image_size=8)  # someone names it on this server: now the model's images show
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and not [w for w in at.main.warning if "No data points drawn" in w.value]


def zip_of_images(shade: int) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for label in ("a", "b"):
            for i in range(6):
                png = io.BytesIO()
                Image.fromarray(np.full((8, 8), (shade + 30 * i) % 256, np.uint8)).save(png, format="PNG")
                archive.writestr(f"{label}/{i}.png", png.getvalue())
    return buffer.getvalue()


def upload_session(zip_bytes: bytes, name: str):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="train_source").set_value("a zip of images (upload)").run()
    at.file_uploader(key="train_zip").upload(name, zip_bytes, "application/zip").run()
    assert not at.exception and any("12 images" in c.value for c in at.caption)  # its preview
    return at


def test_an_upload_another_session_is_looking_at_is_never_removed(folder):
    uploads = folder.parent / "data" / "uploads"
    a = upload_session(zip_of_images(0), "a.zip")
    (a_folder,) = [p for p in uploads.iterdir() if p.is_dir()]
    b = upload_session(zip_of_images(100), "b.zip")
    b.number_input(key="train_epochs").set_value(1)
    b.button(key="train_start").click().run()  # starting cleans up unused uploads
    assert not b.exception and a_folder.is_dir()
    a.run()  # session A carries on
    assert not a.exception and any("12 images" in c.value for c in a.caption)
    shutil.rmtree(a_folder)  # even gone (removed by hand, or by an older server), it is found again
    a.run()
    assert not a.exception and any("12 images" in c.value for c in a.caption) and a_folder.is_dir()
