"""What a failure says: this app's own words, never Python's or a library's text (it names internals and can quote
whatever a file holds) and never a server path, in `eval`, Side by side, resume, the sidebar and the page guard."""

import contextlib
import io
import logging
import subprocess
import sys

import pytest
import torch
from streamlit.testing.v1 import AppTest

from conftest import ROOT, shown
from vae_core import CheckpointError, TrainConfig, load_dataset, train
from vae_core.config import ModelChoice, RunSpec, VAEConfig, setting_problem
from vae_core.model.checkpoint import ResumeState, read_resume_state
from vae_core.runs.child import crash_message
from vae_core.training.build import build_model
from vae_core.training.save import save_run

APP = str(ROOT / "app.py")
PYTHON_WORDS = ("Traceback", "Error(s) in loading", "object is not", "invalid literal", "PytorchStreamReader", "zip archive:")


def eval_cli(path) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "vae_core", "eval", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 1
    return proc.stderr


@pytest.fixture(scope="module")
def resumable(tmp_path_factory):
    """A 2-D digits model trained one epoch and saved with its optimizer state: (path, payload)."""
    data = load_dataset("digits")
    spec = RunSpec(data=data.options, model=ModelChoice(latent_dim=2), train=TrainConfig(epochs=1, device="cpu"))
    model, state = build_model(spec, data), ResumeState()
    history = [e for e in train(model, data, spec.train, resume=state) if e["type"] in ("step", "epoch")]
    path = tmp_path_factory.mktemp("resumable") / "one.pt"
    save_run(path, model, data, spec.train, history, resume_state=state)
    return path, torch.load(path, weights_only=True)


def damaged(tmp_path, payload: dict, name: str = "bad.pt", **changes):
    path = tmp_path / name
    torch.save(dict(payload, **changes), path)
    return path


def test_eval_names_the_weights_that_do_not_fit_in_its_own_words(tmp_path, resumable):
    _, payload = resumable
    weights = dict(payload["model_state"])
    first, second = list(weights)[:2]
    weights.pop(first)
    weights[second] = torch.zeros(3, 3)
    err = eval_cli(damaged(tmp_path, payload, model_state=weights))
    assert "weights do not match its stored model settings" in err
    assert f"missing '{first}'" in err and f"of another shape or kind '{second}'" in err
    assert not any(word in err for word in PYTHON_WORDS), err


def test_eval_of_a_damaged_file_or_malformed_settings_says_what_without_pythons_text(tmp_path, resumable):
    _, payload = resumable
    (tmp_path / "junk.pt").write_bytes(b"PK\x03\x04 not really a zip")
    err = eval_cli(tmp_path / "junk.pt")
    assert "not a readable checkpoint (it is truncated, damaged or not a PyTorch file)" in err
    assert not any(word in err for word in PYTHON_WORDS), err
    settings = dict(payload["vae_config"], hidden=5)  # tuple(5): "'int' object is not iterable"
    err = eval_cli(damaged(tmp_path, payload, vae_config=settings))
    assert "settings are not usable (a setting is missing or of the wrong kind)" in err
    assert not any(word in err for word in PYTHON_WORDS), err


GARBAGE = {  # what a hand-edited or hostile file can hold where a value belongs
    "none": None,
    "negative": -1,
    "huge": 1e308,
    "markup": "<b>x</b>",
    "tensor": torch.zeros(3),
    "nested": [[1, [2]]],
}


def stored_fields(value, where=()):
    """Where each value of a saved run lives: every key of its dicts, the items of short lists (a shape, the hidden
    sizes), and the history's first event of each kind."""
    if where:
        yield where
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in ("format", "model_state"):  # the marker and the weights have tests of their own above
                yield from stored_fields(item, (*where, key))
    elif where == ("history",):  # its first step event and its first epoch event
        for kind in ("step", "epoch"):
            i = next(i for i, event in enumerate(value) if event.get("type") == kind)
            yield from stored_fields(value[i], (*where, i))
    elif isinstance(value, (list, tuple)) and len(value) <= 4:
        for i, item in enumerate(value):
            yield from stored_fields(item, (*where, i))


def replaced(value, where, new):
    if not where:
        return new
    if isinstance(value, dict):
        return {k: replaced(v, where[1:], new) if k == where[0] else v for k, v in value.items()}
    items = list(value)
    items[where[0]] = replaced(items[where[0]], where[1:], new)
    return items


def resume_reads(where: tuple) -> bool:
    """Whether training further reads this value: all but the stored test metrics (it measures its own) and the
    events' terms (it adds its own after them; the curves that draw them have tests of their own), of which it
    reads only an epoch's and a step's count. This keeps the audit under a minute: each resume trains an epoch."""
    if where[0] == "metrics":
        return False
    return where[0] != "history" or (len(where) == 3 and where[2] in ("epoch", "step"))


def cli_in_process(*args) -> tuple[int, str]:
    from vae_core.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(args))
    return code, err.getvalue()


def test_every_stored_value_garbled_is_refused_in_this_apps_words_by_eval_resume_and_side_by_side(
    tmp_path, resumable, one_thread
):
    """The audit of eval, resume and Side by side's reading: each value of a saved run (its settings, data options,
    resume state, history, metadata), replaced by each kind of garbage, either still works or fails with one line
    of this app's own (a refusal that names the file, or says what the data or settings lack), never an
    unexpected failure and never Python's or a library's text. Side by side reads a model, then an image with it.
    On one torch thread: its 900 commands run tiny tensor operations, whose hand-offs between two threads stalled
    for minutes on a busy machine."""
    from vae_core.analysis.estimates import read_image
    from vae_core.model.checkpoint import load_checkpoint

    _, payload = resumable
    image = load_dataset("digits").test_x[0]
    path, out = tmp_path / "garbled.pt", tmp_path / "resumed.pt"
    where_all = list(stored_fields(payload))
    assert ("vae_config", "image_shape", 0) in where_all and ("resume_state", "optimizer", "steps") in where_all
    unexpected = []
    for where in where_all:
        for kind, new in GARBAGE.items():
            torch.save(replaced(payload, where, new), path)
            commands = [("eval", str(path), "--iwae-k", "0")]
            if resume_reads(where):
                commands.append(("train", "--resume", str(path), "--epochs", "2", "--out", str(out), "--force", "--quiet"))
            for command in commands:
                code, err = cli_in_process(*command)
                said = err.strip().splitlines()[-1] if err.strip() else ""
                if code not in (0, 1) or "unexpectedly" in said or any(word in err for word in PYTHON_WORDS):
                    unexpected.append((command[0], where, kind, said[:120]))
            try:
                read_image(load_checkpoint(path)[0], image, samples=4)
            except CheckpointError as err:
                assert not any(word in str(err) for word in PYTHON_WORDS), err
            except Exception as err:  # the page would show only "something went wrong"
                unexpected.append(("side by side", where, kind, type(err).__name__))
    assert not unexpected, "\n".join(map(str, unexpected))


def test_setting_problems_keep_the_apps_own_refusals_and_name_a_missing_key():
    with pytest.raises(ValueError) as refused:
        VAEConfig(latent_dim=0)
    assert setting_problem(refused.value) == "latent_dim must be at least 1, got 0"
    assert setting_problem(KeyError("image_shape")) == "the setting 'image_shape' is missing"
    wrong_kind = TypeError("'<' not supported between 'str' and 'int'")
    assert setting_problem(wrong_kind) == "a setting is missing or of the wrong kind"


@pytest.mark.parametrize(
    "change, reason",
    [
        (dict(epochs_done="abc"), "its epoch and step counts are not whole numbers"),
        (dict(torch_rng=None, shuffle_rng=None), "its random generators' states are not the byte tensors"),
        ("drop optimizer", "it lacks optimizer"),
        ("moments of another model", "its optimizer's moments are for parameters of other shapes"),
    ],
)
def test_a_damaged_optimizer_state_is_refused_before_training_with_the_reason(tmp_path, resumable, change, reason):
    _, payload = resumable
    state = dict(payload["resume_state"])
    if change == "drop optimizer":
        state.pop("optimizer")
    elif change == "moments of another model":  # before: accepted, then the run crashed on its first step
        moments = [torch.zeros(2) for _ in state["optimizer"]["exp_avg"]]
        state["optimizer"] = dict(state["optimizer"], exp_avg=moments, exp_avg_sq=moments)
    else:
        state.update(change)
    path = damaged(tmp_path, payload, resume_state=state)
    with pytest.raises(CheckpointError, match="its optimizer state is damaged") as refused:
        read_resume_state(path)
    assert reason in str(refused.value) and not any(word in str(refused.value) for word in PYTHON_WORDS)


def test_the_train_page_says_why_a_model_cannot_go_on_without_the_servers_path(tmp_path, monkeypatch, resumable):
    _, payload = resumable
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    state = dict(payload["resume_state"], epochs_done="abc")
    damaged(tmp_path, payload, name="stuck.pt", resume_state=state)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["checkpoint"] = "stuck"
    at.run().switch_page("pages/train.py").run()
    assert not at.exception
    (caption,) = [shown(c.value) for c in at.caption if "optimizer state is damaged" in c.value]
    assert caption.startswith("its optimizer state is damaged (its epoch and step counts are not whole numbers)")
    assert str(tmp_path) not in caption


def test_the_sidebar_names_an_unusable_file_without_the_servers_path(tmp_path, monkeypatch, resumable):
    _, payload = resumable
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    damaged(tmp_path, payload, name="good.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    (warning,) = [shown(w.value) for w in at.sidebar.warning]
    assert warning == "**junk** is unusable: not a readable checkpoint (it is truncated, damaged or not a PyTorch file)."


def test_side_by_side_says_a_model_became_unusable_without_the_servers_path(tmp_path, monkeypatch, resumable):
    import ui.catalogue

    path, payload = resumable
    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path))
    for name in ("a", "b"):
        damaged(tmp_path, payload, name=f"{name}.pt")
    load_model = ui.catalogue.load_model

    def b_changed_since_listed(path, mtime):  # B's file was rewritten by another program after the list was made
        if path.endswith("b.pt"):
            raise CheckpointError(f"{path}: not a readable checkpoint (it is truncated, damaged or not a PyTorch file).")
        return load_model(path, mtime)

    monkeypatch.setattr(ui.catalogue, "load_model", b_changed_since_listed)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["checkpoint"] = "a"
    at.run().switch_page("pages/side_by_side.py").run()
    assert not at.exception
    (error,) = [shown(e.value) for e in at.main.error]
    assert error == "**b** is unusable: not a readable checkpoint (it is truncated, damaged or not a PyTorch file)."


def test_a_page_that_fails_unexpectedly_shows_a_reference_not_the_errors_text(monkeypatch, caplog):
    import ui.explore.map

    def broken(*args, **kwargs):
        raise RuntimeError("/srv/secret/path: the figure could not be drawn")

    monkeypatch.setattr(ui.explore.map, "latent_map", broken)  # where the page's map section calls it
    with caplog.at_level(logging.ERROR, logger="vae_explorer"):
        at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    (error,) = [e.value for e in at.main.error]
    assert error.startswith("Something went wrong on this page (RuntimeError, reference ") and "/srv/secret" not in error
    reference = error.split("reference ")[1][:8]
    logged = [r for r in caplog.records if reference in r.getMessage()]  # the log has it, under that reference
    assert logged and "/srv/secret/path" in str(logged[0].exc_info[1])


def test_a_crashed_run_says_what_kind_of_failure_and_never_its_text():
    message = crash_message(RuntimeError("mat1 and mat2 shapes cannot be multiplied (/srv/secret)"))
    assert message == "Training crashed (RuntimeError). Nothing saved was lost; the server's log has the details."
    assert "smaller batch size" in crash_message(torch.OutOfMemoryError("CUDA out of memory"))


def test_an_upload_that_cannot_be_unpacked_says_so_without_the_servers_upload_path(tmp_path, monkeypatch):
    import io
    import zipfile

    monkeypatch.setenv("VAE_EXPLORER_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("VAE_EXPLORER_DATA", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "uploads").write_text("a file where the uploads folder belongs")  # unpacking cannot write
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a/1.png", b"\x89PNG")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key="train_source").set_value("a zip of images (upload)").run()
    at.file_uploader(key="train_zip").upload("mine.zip", buffer.getvalue(), "application/zip").run()
    assert not at.exception
    (error,) = [shown(e.value) for e in at.main.error]
    assert error.startswith("Could not write the unpacked zip to the uploads folder") and str(tmp_path) not in error
