"""The server's side of decoding in the browser (ui/explore/browser_decode.py), through AppTest: what the page is sent,
and what the server draws itself depending on what the page reported (no JavaScript runs here; the browser's side
is tests/test_browser_decode.py)."""

import base64
import json
from pathlib import Path

from conftest import ROOT, shown
from test_app_explore import click, image_captions, start
from vae_core import load_checkpoint
from vae_core.model.onnx_io import browser_decoder
from vae_core.store.files import model_mtime

CHECKPOINT = ROOT / "checkpoints" / "digits-2d.pt"
KEY = f"{CHECKPOINT}:{model_mtime(CHECKPOINT)}"
FREE = click("digits-2d", 3.5, 3.5)  # beyond every point of the map: a free click


def component(at, name: str) -> dict | None:
    found = [c for c in at.get("bidi_component") if c.proto.component_name == name]
    return json.loads(found[0].proto.json) if found else None


def captions(at) -> str:
    return " ".join(shown(c.value) for c in at.caption)


def sidebar_captions(at) -> str:
    """Where the page says that the server decodes, and why (issue: the reason in the sidebar)."""
    return " ".join(shown(c.value) for c in at.sidebar.caption)


def test_the_page_is_sent_the_engines_export_once_and_the_server_decodes_until_the_page_holds_it():
    at = start(**FREE)
    assert not at.exception
    sent = component(at, "vae_explorer_decoder")
    assert sent["key"] == KEY and sent["view"] == f"{KEY}|pca|None|mean"
    assert sent["runtime"]["wasm"].endswith("/ort-wasm-simd-threaded.wasm")
    assert base64.b64decode(sent["model"]) == browser_decoder(load_checkpoint(CHECKPOINT)[0], CHECKPOINT)
    assert sent["info"]["latent_dim"] == 2 and sent["info"]["projection"] is None  # the map is the latent space
    assert component(at, "vae_explorer_decoded")["point"] is None  # the page has not said it holds the decoder
    assert "decoded image" in image_captions(at)  # so the server drew the click's image


def test_once_the_page_holds_the_decoder_the_server_leaves_a_free_click_to_it():
    at = start(**FREE, explore_decoder={"status": {"key": KEY, "ok": True, "n": 1}})
    assert not at.exception
    assert component(at, "vae_explorer_decoder")["model"] is None  # not sent again
    decoded = component(at, "vae_explorer_decoded")
    assert decoded["point"] == [3.5, 3.5] and decoded["z_prefix"] == "z = "  # the page writes the point, z and buttons
    assert "decoded image" not in image_captions(at) and "Decoded at" not in " ".join(m.value for m in at.markdown)
    assert not [b for b in at.button if b.label.startswith("Use as")]  # the page's buttons (decoded.js), not these
    # the panel shows a free point drawn by the page: the page may keep the next free clicks to itself (selection.js)
    assert component(at, "vae_explorer_selection")["local"]["view"] == f"{KEY}|pca|None|mean"
    assert "decode on the server" not in captions(at)


def test_a_failure_in_the_page_sends_the_model_back_to_the_server_with_one_caption():
    at = start(**FREE, explore_decoder={"status": {"key": KEY, "ok": False, "reason": "no WebAssembly <b>", "n": 1}})
    assert not at.exception
    assert "Clicks and the hover preview decode on the server: the page could not run the decoder (no WebAssembly <b>)" in (
        sidebar_captions(at)
    )
    assert captions(at).count("decode on the server") == 1  # said once, in the sidebar
    assert component(at, "vae_explorer_decoder") is None and component(at, "vae_explorer_decoded") is None
    assert "decoded image" in image_captions(at)


def test_without_the_runtime_the_server_decodes_and_says_why(monkeypatch, tmp_path):
    monkeypatch.setenv("VAE_EXPLORER_ORT_DIR", str(Path(tmp_path)))
    at = start(**FREE)
    assert not at.exception
    assert "not installed here; make run fetches it" in sidebar_captions(at).replace("`", "")
    assert component(at, "vae_explorer_decoder") is None and component(at, "vae_explorer_decoded") is None
    assert "decoded image" in image_captions(at)


def test_a_report_that_reran_only_the_decoders_fragment_reruns_the_whole_page(monkeypatch):
    """Streamlit's page sends the changes of one moment in one message, scoped to the first fragment among them: a
    toggle switched on as the decoder reported went out as the decoder fragment's rerun, and the page was not drawn
    for it. A new report, met in that fragment's run, asks for a run of the whole page; met again, or met in a run
    of the whole page, it asks for nothing more."""
    from types import SimpleNamespace

    import ui.explore.browser_decode as browser_decode

    state, reruns = {}, []
    this_run = SimpleNamespace(fragment_ids_this_run=["the decoder's fragment"])
    monkeypatch.setattr(browser_decode.st, "session_state", state)
    monkeypatch.setattr(browser_decode.st, "rerun", lambda scope: reruns.append(scope))
    monkeypatch.setattr(browser_decode, "get_script_run_ctx", lambda: this_run)
    browser_decode._page_reruns_on_a_report("decoder")  # no report yet
    assert reruns == []
    state["decoder"] = {"status": {"key": KEY, "ok": True, "n": 1}}
    browser_decode._page_reruns_on_a_report("decoder")
    assert reruns == ["app"]
    browser_decode._page_reruns_on_a_report("decoder")  # the same report, in the run it asked for
    assert reruns == ["app"]
    state["decoder"] = {"status": {"key": KEY, "ok": True, "n": 2}}
    this_run.fragment_ids_this_run = []  # a run of the whole page
    browser_decode._page_reruns_on_a_report("decoder")
    assert reruns == ["app"]
