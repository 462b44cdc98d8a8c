"""`export CHECKPOINT --html FILE`: one self-contained page of a model's map (the browser side is in
test_browser_export.py)."""

import base64
import functools
import hashlib
import html
import json
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from test_cli import cli
from test_onnx_io import export_outside_vae
from vae_core import DataOptions, ModelChoice, RunSpec, TrainConfig, save_run, train
from vae_core.analysis.html_export import export_html, plotly_js
from vae_core.analysis.latent import build_map
from vae_core.data.datasets import load_data
from vae_core.model.checkpoint import load_checkpoint
from vae_core.training.build import build_model


def view_of(path) -> dict:
    """The data the page draws, as embedded in it."""
    text = path.read_text()
    start = text.index('<script type="application/json" id="view-data">') + len(
        '<script type="application/json" id="view-data">'
    )
    return json.loads(text[start : text.index("</script>", start)])


def test_a_checkpoint_becomes_one_page_with_its_map_decodes_thumbnails_and_curves(tmp_path):
    out = tmp_path / "view.html"
    cli("export", str(ROOT / "checkpoints" / "digits-16d.pt"), "--html", str(out), "--grid-only")
    size = out.stat().st_size
    assert size < 8 * 2**20  # the README says ~5 MB; the decoder and its runtime add about 19 MB (below)
    text = out.read_text()
    assert "<script src" not in text and "<link" not in text  # nothing loaded from elsewhere
    view = view_of(out)
    assert [t["name"] for t in view["figure"]["data"]] == [str(d) for d in range(10)]
    assert sum(len(t["x"]) for t in view["figure"]["data"]) == 359
    assert view["sprite"]["n"] == 32 and view["sprite"]["sprite"].startswith("data:image/png;base64,")
    assert view["thumbs"]["count"] == 359 and view["thumbs"]["tile"] == [8, 8]
    assert len(view["curves"]["step"]) > 100 and view["curves"]["loss"][-1] < view["curves"]["loss"][0]
    again = cli("export", str(ROOT / "checkpoints" / "digits-16d.pt"), "--html", str(out), check=False)
    assert again.returncode == 1 and "--force" in again.stderr


def test_with_the_runtime_here_the_page_carries_the_decoder_and_decodes_as_the_server(tmp_path):
    import onnxruntime as ort
    import torch

    from vae_core.analysis.latent import decode_points
    from vae_core.store.web_runtime import MODULE, WASM, read_runtime

    runtime = read_runtime()  # make test fetches it (tools/fetch_onnxruntime_web.py)
    out = tmp_path / "view.html"
    cli("export", str(ROOT / "checkpoints" / "digits-16d.pt"), "--html", str(out))
    assert 8 * 2**20 < out.stat().st_size < 32 * 2**20
    decoder = view_of(out)["decoder"]
    assert decoder["module"].encode() == runtime[MODULE] and base64.b64decode(decoder["wasm"]) == runtime[WASM]
    assert decoder["latent_dim"] == 16 and decoder["image_shape"] == [1, 8, 8] and decoder["shown"] == "mean"
    csp = out.read_text().split('http-equiv="Content-Security-Policy" content="', 1)[1].split('"', 1)[0]
    assert "blob: 'wasm-unsafe-eval'" in csp and "'unsafe-eval'" not in csp.split()  # WebAssembly, no eval
    # the page's decoder, as onnxruntime runs it here, at a map point taken as the page takes it: the server's images
    model, _ = load_checkpoint(ROOT / "checkpoints" / "digits-16d.pt")
    session = ort.InferenceSession(base64.b64decode(decoder["onnx"]), providers=["CPUExecutionProvider"])
    points = np.array([[0.3, -0.7], [-1.5, 1.0]])
    z = points @ np.array(decoder["projection"]["components"]) + np.array(decoder["projection"]["mean"])
    mean = session.run(["mean"], {"z": z.astype(np.float32)})[0]
    np.testing.assert_allclose(mean, decode_points(model, torch.tensor(z, dtype=torch.float32)), atol=1e-4)
    cli("export", str(ROOT / "checkpoints" / "digits-16d.pt"), "--html", str(out), "--map", "tsne", "--force")
    assert view_of(out)["decoder"] is None  # a t-SNE map's way back to z is a fit: the grid of decodes


def test_an_imported_model_has_no_curves_to_show(tmp_path):
    export_outside_vae(tmp_path / "theirs")
    cli("export", str(tmp_path / "theirs"), "--html", str(tmp_path / "view.html"))
    view = view_of(tmp_path / "view.html")
    assert view["curves"] is None and view["thumbs"]["count"] == 359
    assert "no training history" in (tmp_path / "view.html").read_text()


@pytest.fixture(scope="module")
def sprites_checkpoint(tmp_path_factory):
    spec = RunSpec(DataOptions("sprites", image_size=16, sprites_n=200), ModelChoice(latent_dim=3), TrainConfig(epochs=1))
    data = load_data(spec.data)
    model = build_model(spec, data)
    history = [e for e in train(model, data, spec.train) if e["type"] in ("step", "epoch")]
    return save_run(tmp_path_factory.mktemp("s") / "s.pt", model, data, spec.train, history)[0]


def test_a_factor_colours_the_page_as_it_colours_the_app(tmp_path, sprites_checkpoint):
    cli("export", str(sprites_checkpoint), "--html", str(tmp_path / "x.html"), "--colour", "pos_x")
    (trace,) = view_of(tmp_path / "x.html")["figure"]["data"]
    assert trace["marker"]["colorscale"] == "Viridis" and trace["marker"]["colorbar"]["title"]["text"] == "pos_x"
    cli("export", str(sprites_checkpoint), "--html", str(tmp_path / "s.html"), "--colour", "shape")
    assert {t["name"] for t in view_of(tmp_path / "s.html")["figure"]["data"]} == {"square", "ellipse", "heart"}
    bad = cli("export", str(sprites_checkpoint), "--html", str(tmp_path / "b.html"), "--colour", "hue", check=False)
    assert bad.returncode == 1 and "--colour must be label, shape, scale, orientation, pos_x, pos_y" in bad.stderr


def test_a_t_sne_view(tmp_path):
    cli("export", str(ROOT / "checkpoints" / "digits-16d.pt"), "--html", str(tmp_path / "t.html"), "--map", "tsne")
    view = view_of(tmp_path / "t.html")
    assert view["figure"]["layout"]["xaxis"]["title"]["text"].startswith("t-SNE")
    assert "a t-SNE projection of the 16-D latent space" in (tmp_path / "t.html").read_text()


# Names a user does not choose alone: a checkpoint's file name, a dataset folder's name and its class folders' names.
# Each is text on the page, never markup or script: the template's markers (once filled by chained replaces, so a
# name holding one was filled again, inside the HTML), markup, comment and CDATA openers, and a template literal.
MARKERS = ["__TITLE__", "__DESCRIPTION__", "__PLOTLY__", "__VIEW__", "__SCRIPT__", "__CSP__"]
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<!--<script>",
    "</script>",
    "]]>",
    "${x}",
    '<a href="http://example.com/">x</a>',
]


@functools.cache
def digits_16d():
    """The shipped 16-D digits model, its metadata, its map and its test images, as `export` builds them."""
    model, meta = load_checkpoint(ROOT / "checkpoints" / "digits-16d.pt")
    data = load_data(meta.data_options, download=False)
    return model, meta, build_map(model, data.test_x, data.test_y, data.class_names, data.factors), data.test_x


def page_with_names(name: str, dataset: str, class_names: list, colour_by: str = "label", factor=None) -> str:
    """The page of the 16-D digits model, as if its checkpoint, its dataset folder and its classes had these names;
    factor: (categories or None) gives the map one true factor, named colour_by, to colour by."""
    model, meta, md, test_x = digits_16d()
    md = replace(md, class_names=list(class_names))
    if factor is not None:
        codes = np.arange(len(md.mu)) % 3
        md = replace(md, factors=codes[:, None].astype(float), factor_names=[colour_by])
        md = replace(md, factor_categories={colour_by: factor}) if factor else md
    meta = replace(meta, dataset=dataset, path=f"/checkpoints/{name}.pt")
    return export_html(model, meta, md, test_x, colour_by=colour_by, name=name)


class Page(HTMLParser):
    """A page's elements as a browser's parser reads them: each start tag with its attributes, each script's text."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self.in_script = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self.scripts.append((dict(attrs), ""))
            self.in_script = True

    def handle_endtag(self, tag):
        self.in_script = self.in_script and tag != "script"

    def handle_data(self, data):
        if self.in_script:
            self.scripts[-1] = (self.scripts[-1][0], self.scripts[-1][1] + data)

    def count(self, tag: str) -> int:
        return sum(t == tag for t, _ in self.tags)


def sha256_source(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def check_names_are_text(text: str, title: str, names: list) -> dict:
    """The page holds its three scripts and its own elements only, whatever the names; its CSP runs those two
    scripts by hash and no inline handler; its view data parse back to the names exactly. Returns the view."""
    outside_plotly = text.replace(plotly_js(), "")
    assert outside_plotly.count("<script") == 3 and outside_plotly.count("</script>") == 3
    assert outside_plotly.count('<script type="application/json"') == 1
    assert "<!--" not in outside_plotly and "]]>" not in outside_plotly
    start = outside_plotly.index('<script type="application/json" id="view-data">')
    json_text = outside_plotly[start : outside_plotly.index("</script>", start)]
    assert not set("<>&\u2028\u2029") & set(json_text.split(">", 1)[1])  # all escaped as \u003c etc.
    markup = outside_plotly.replace(json_text, "")
    assert markup.count("<img") == 1 and "<a " not in markup and "onerror" not in markup  # the manifold's <img> only
    page = Page(text)
    assert [(t, a) for t, a in page.tags if t in ("img", "a")] == [("img", {"id": "manifold", "alt": "decoded manifold"})]
    assert [a for a, _ in page.scripts] == [{}, {"type": "application/json", "id": "view-data"}, {}]
    assert page.scripts[0][1] == plotly_js()
    csp = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    script_src = next(d.split()[1:] for d in csp.split(";") if d.split()[:1] == ["script-src"])
    assert sorted(s for s in script_src if s.startswith("'sha256-")) == sorted(
        sha256_source(s) for a, s in page.scripts if not a
    )
    assert "'unsafe-inline'" not in script_src and "'unsafe-hashes'" not in script_src
    assert "'unsafe-eval'" not in script_src  # an SVG map (these 359 dots) needs no eval: only WebGL's regl does
    assert "default-src 'none'" in csp
    view = json.loads(page.scripts[1][1])
    assert view["title"] == title and view["names"] == names
    return view


@pytest.mark.parametrize("hostile", MARKERS + HOSTILE)
def test_names_from_checkpoint_dataset_and_classes_are_text_never_markup(hostile):
    classes = [hostile] + [f"{hostile}{i}" for i in range(1, 10)]
    text = page_with_names(hostile, f"/data/{hostile}", classes)
    view = check_names_are_text(text, f"{hostile} · latent map", classes)
    assert view["description"].startswith(f"{hostile}: a ") and Path(f"/data/{hostile}").name in view["description"]
    # plotly reads a subset of HTML in its text: there each name is escaped, and plotly shows the characters
    assert [t["name"] for t in view["figure"]["data"]] == [html.escape(c, quote=False) for c in classes]
    assert all("%{customdata}" in t["hovertemplate"] and hostile not in t["hovertemplate"] for t in view["figure"]["data"])
    # a factor named so colours the map: its name on the legend, colour bar and categories is text too
    categories = [hostile, "b", "c"]
    text = page_with_names("m", "/data/d", classes, colour_by=hostile, factor=categories)
    view = check_names_are_text(text, "m · latent map", categories)
    assert view["figure"]["layout"]["legend"]["title"]["text"] == html.escape(hostile, quote=False)
    text = page_with_names("m", "/data/d", classes, colour_by=hostile, factor=[])
    (trace,) = check_names_are_text(text, "m · latent map", [hostile])["figure"]["data"]
    assert trace["marker"]["colorbar"]["title"]["text"] == html.escape(hostile, quote=False)


def test_the_checkpoint_path_names_the_page_when_no_name_is_given():
    model, meta, md, test_x = digits_16d()
    hostile = "<img src=x onerror=alert(1)>__VIEW__"
    text = export_html(model, replace(meta, path=f"/checkpoints/{hostile}.pt"), md, test_x)
    check_names_are_text(text, f"{hostile} · latent map", [str(d) for d in range(10)])
