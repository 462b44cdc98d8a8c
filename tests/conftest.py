import os
import re
import sys
import tempfile
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# decoded image folders are cached per test session, not in the user's cache folder (subprocesses inherit it)
os.environ.setdefault("VAE_EXPLORER_CACHE", tempfile.mkdtemp(prefix="vae-explorer-cache-"))

from ui.text import WORD_JOINER  # noqa: E402
from vae_core import VAE, VAEConfig, load_dataset  # noqa: E402


def scrubber(at):
    """The replay's epoch scrubber in an AppTest, found by its label (its key changes: ui.replay._scrubber_key)."""
    (found,) = [s for s in at.select_slider if s.label == "Epoch of the replay"]
    return found


def shown(markdown: str) -> str:
    """What a page shows of Markdown that ui.text.plain() wrote: the text without its escapes and joiners."""
    return re.sub(r"\\(.)", r"\1", markdown).replace(WORD_JOINER, "")


@pytest.fixture(autouse=True)
def own_runs_folder(tmp_path_factory, monkeypatch):
    """Each test's run snapshots in a folder of its own (and its servers': they inherit it), so no test finds
    another's runs as runs from before a restart."""
    monkeypatch.setenv("VAE_EXPLORER_RUNS", str(tmp_path_factory.mktemp("runs")))


@pytest.fixture(scope="session")
def digits():
    return load_dataset("digits")


@pytest.fixture
def small_model():
    torch.manual_seed(0)
    return VAE(VAEConfig(image_shape=(1, 8, 8), latent_dim=3, hidden=(32,)))


@pytest.fixture
def one_thread():
    """torch on one thread for the test, its thread count restored after. With float64 (model.double(), inputs
    .double()) it makes the tests of an algebraic identity (one quantity computed two ways) hold by construction: in
    float32 their difference is rounding that depends on the CPU, its vector width and its threads' split of each sum,
    and can exceed a tolerance that held on the machine it was tuned on."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
