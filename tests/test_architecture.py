"""The engine's layers hold (docs/architecture.md): no import cycle, torch-free layers without torch, and the
public names the README documents importable from `vae_core`."""

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import vae_core

ROOT = Path(__file__).resolve().parent.parent

# The names README.md and docs/ promise (from vae_core import ...): removing one breaks other people's code.
PUBLIC = {
    "ELBO", "elbo", "kl_per_dim", "recon_per_image", "active_units", "iwae_log_likelihood", "image_terms",
    "CheckpointError", "list_checkpoints", "load_checkpoint", "save_checkpoint", "save_run",
    "DataOptions", "ModelChoice", "RunSpec", "TrainConfig", "VAEConfig", "parse_hidden",
    "Dataset", "DatasetError", "load_dataset", "load_data", "CheckpointMeta", "VAE", "build_model",
    "BetaControl", "NonFiniteLossError", "PauseControl", "TrainEvent", "available_devices", "evaluate", "train",
}  # fmt: skip
TORCH_FREE = [
    "vae_core.config",
    "vae_core.maps.projection",
    "vae_core.maps.nonlinear",
    "vae_core.maps.ranges",
    "vae_core.stats.estimators",
    "vae_core.stats.metrics",
    "vae_core.store.files",
    "vae_core.store.meta",
    "vae_core.store.map_cache",
    "vae_core.store.fit_cache",
    "vae_core.store.atomic",
    "vae_core.store.machine",
    "vae_core.data.images",
]


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module: each is an import cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return cycles


def test_the_engine_has_no_import_cycle_not_even_through_function_level_imports():
    graph = grimp.build_graph("vae_core")  # grimp reads every import statement, inside functions too
    modules = {m for m in graph.modules if m != "vae_core"}
    edges = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
    assert any(edges.values())  # the graph was read: modules import each other
    assert strongly_connected(edges) == []


def test_the_cycle_finder_finds_a_cycle():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_documented_names_import_from_vae_core():
    assert set(vae_core.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(vae_core, name) is not None
    with pytest.raises(AttributeError):
        vae_core.not_a_name  # noqa: B018


@pytest.mark.parametrize("module", TORCH_FREE)
def test_a_torch_free_layer_loads_no_torch(module):
    heavy = "('torch', 'torchvision', 'sklearn', 'streamlit')"
    code = f"import sys, {module}; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_cached_function_of_the_app_says_what_it_does_while_it_runs():
    """Streamlit's default spinner names the function ("Running run_registry()"): a person should read what the app
    does, or nothing for a quick one. Every st.cache_data / st.cache_resource in the app is given show_spinner."""
    import ast

    bare = []
    for path in [*(ROOT / "ui").rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for decorator in node.decorator_list:
                    call = decorator if isinstance(decorator, ast.Call) else None
                    target = call.func if call else decorator
                    named = isinstance(target, ast.Attribute) and target.attr in ("cache_data", "cache_resource")
                    if named and not (call and any(k.arg == "show_spinner" for k in call.keywords)):
                        bare.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not bare, bare
