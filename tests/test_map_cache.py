"""A checkpoint's cached summary and map: used only while checkpoint and data are unchanged, rebuilt when damaged,
and enough to draw the Explore map before torch is imported."""

import os
import shutil
import subprocess
import sys

import numpy as np
import torch

from conftest import ROOT
from vae_core import VAE, DataOptions, VAEConfig, load_checkpoint, load_dataset, save_checkpoint
from vae_core.analysis.cached_map import build
from vae_core.analysis.latent import build_map
from vae_core.data.datasets import load_data
from vae_core.store.files import dataset_signature
from vae_core.store.map_cache import cache_path, read_map, read_summary, write
from vae_core.training.build import build_model


def shipped_copy(tmp_path, name="digits-2d"):
    path = tmp_path / f"{name}.pt"
    shutil.copy(ROOT / "checkpoints" / f"{name}.pt", path)
    return path


def test_the_map_read_back_is_the_map_built(tmp_path):
    path = shipped_copy(tmp_path, "digits-16d")
    model, meta = load_checkpoint(path)
    data = load_dataset("digits")
    md = build_map(model, data.test_x, data.test_y, data.class_names)
    write(path, meta, md, dataset_signature(meta.data_options))
    back = read_map(path, dataset_signature(meta.data_options))
    for key in ("xy", "mu", "logvar", "labels"):
        assert np.array_equal(getattr(back, key), getattr(md, key))
    assert back.class_names == md.class_names and back.x_range == md.x_range
    assert back.projection.axis_names == md.projection.axis_names
    grid = np.array([[0.3, -1.0], [2.0, 0.5]])
    assert np.allclose(back.projection.inverse(grid), md.projection.inverse(grid))
    assert read_summary(path).vae_config.latent_dim == 16


def test_a_changed_checkpoint_or_dataset_is_never_read_from_a_stale_cache(tmp_path):
    path = shipped_copy(tmp_path)
    build(path)
    signature = dataset_signature(read_summary(path).data_options)
    assert read_map(path, signature) is not None
    assert read_map(path, "another dataset") is None
    os.utime(path, ns=(1, 1))  # the same bytes with another mtime (a fresh clone): still this checkpoint
    assert read_map(path, signature) is not None
    torch.manual_seed(1)  # saved again under the same name: a different model
    save_checkpoint(
        path,
        VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=2)),
        dataset="digits",
        data_options=dict(name="digits"),
        overwrite=True,
    )
    assert read_summary(path) is None and read_map(path, signature) is None


def test_a_folder_dataset_changes_its_signature_when_its_files_change(tmp_path):
    from PIL import Image

    (tmp_path / "a").mkdir()
    for i in range(3):
        Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(tmp_path / "a" / f"{i}.png")
    options = DataOptions(name=str(tmp_path), image_size=8)
    before = dataset_signature(options)
    assert dataset_signature(options) == before
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a" / "3.png")
    assert dataset_signature(options) != before


def test_a_damaged_cache_is_ignored_and_the_app_rebuilds_it(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    path = shipped_copy(tmp_path)
    cache_path(path).write_bytes(b"not a cache")
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception and at.get("plotly_chart")
    assert read_map(path, dataset_signature(read_summary(path).data_options)) is not None


def test_the_start_page_draws_its_map_before_torch_is_imported(tmp_path):
    """In a fresh interpreter, with the shipped checkpoints and their caches: when Explore sends its map,
    neither torch nor scikit-learn has been imported; the decoded panel and manifold import them afterwards."""
    code = """
import sys
import streamlit as st
from streamlit.testing.v1 import AppTest
loaded = []
send = st.plotly_chart
def spy(*args, **kwargs):
    loaded.append(sorted(m for m in ("torch", "sklearn") if m in sys.modules))
    return send(*args, **kwargs)
st.plotly_chart = spy
at = AppTest.from_file(sys.argv[1], default_timeout=60).run()
assert not at.exception, at.exception
assert loaded, [e.value for e in [*at.info, *at.warning, *at.error]]
print(loaded[0], "torch" in sys.modules)
"""
    env = {**os.environ, "VAE_EXPLORER_CACHE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "app.py")], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[0] == "[] True"


def test_a_map_keeps_its_datas_true_factors_and_a_factors_csv_changes_its_signature(tmp_path):
    from PIL import Image

    from vae_core import ModelChoice, RunSpec, TrainConfig, save_run

    spec = RunSpec(DataOptions("sprites", image_size=16, sprites_n=60), ModelChoice(latent_dim=3), TrainConfig(epochs=1))
    data = load_data(spec.data)
    model = build_model(spec, data)
    path, _ = save_run(tmp_path / "s.pt", model, data, spec.train, [])
    build(path)
    back = read_map(path, dataset_signature(spec.data))
    assert np.array_equal(back.factors, data.factors.test) and back.factor_names == data.factor_names
    assert back.factor_categories == {"shape": ["square", "ellipse", "heart"]}
    assert back.factor("scale").tolist() == data.factors.test[:, 1].tolist()
    folder = tmp_path / "images"
    (folder / "a").mkdir(parents=True)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(folder / "a" / "0.png")
    options = DataOptions(name=str(folder))
    before = dataset_signature(options)
    (folder / "factors.csv").write_text("file,size\na/0.png,1\n")
    assert dataset_signature(options) != before
