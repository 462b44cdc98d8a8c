"""Compare: every saved checkpoint on a rate-distortion plane, so the effect of beta shows across runs; and
beta sweeps started from here, as queued runs on this server."""

import re

import streamlit as st

from ui import catalogue, session
from ui.figures import disentanglement_against_beta, rate_distortion
from ui.navigation import guarded, run_page
from ui.text import plain
from vae_core import DataOptions, DatasetError, RunSpec, TrainConfig
from vae_core.config import BUILTIN
from vae_core.data.datasets import load_data
from vae_core.runs.sweep import SweepError, check_grid, finished_before, run_path
from vae_core.stats.metrics import METRIC_TITLES

COLUMNS = ("name", "arch", "latent_dim", "likelihood", "test_kl", "test_recon", "test_loss")
TRAIN = TrainConfig()
SWEEP_RUNS = "_sweep"  # ids of the runs of the sweep this session started here
SWEEP_FAILED = "_sweep_failed"  # what failed in this session's last sweep, shown until the next one starts
SWEEP_DONE = "_sweep_done"  # that this session's last sweep is over, and what it saved: shown until the next one
MAX_SWEEP_RUNS = 24  # runs one sweep may queue on the server, shared with everyone's runs


def sweep_runs() -> list[str]:
    return list(st.session_state.get(SWEEP_RUNS, []))


def add_sweep_run(run_id: str) -> None:
    st.session_state[SWEEP_RUNS] = [*sweep_runs(), run_id]


def clear_sweep_runs() -> None:
    st.session_state[SWEEP_RUNS] = []


def sweep_controls() -> None:
    with st.expander("Run a β sweep on this server", icon=":material/stacked_line_chart:"):
        st.caption(
            "Each β × seed is an ordinary run, queued with everyone's runs and saved on its own into a "
            f"folder of checkpoints, drawn below as a curve. Runs already in the folder are kept. At most "
            f"{MAX_SWEEP_RUNS} runs a sweep; for more, use `python -m vae_core sweep`."
        )
        a, b, c, d = st.columns(4)
        dataset = a.selectbox("Dataset", BUILTIN, key="sweep_data")
        betas = b.text_input("β values", "0.25,1,4", key="sweep_betas")
        seeds = c.text_input("Seeds", "0,1", key="sweep_seeds")
        epochs = d.number_input("Epochs", 1, 1000, TRAIN.epochs, key="sweep_epochs")
        name = a.text_input("Folder", "sweep", key="sweep_name", help="Under the checkpoints folder.")
        if st.button("Start the sweep", key="sweep_start", type="primary"):
            start_sweep(dataset, betas, seeds, int(epochs), name)
    if done := st.session_state.get(SWEEP_DONE):
        st.success(done, icon=":material/check:")
    if failed := st.session_state.get(SWEEP_FAILED):
        st.error("Runs of the last sweep failed:  \n" + "  \n".join(failed), icon=":material/error:")
    if sweep_runs():
        st.fragment(run_every=1.0)(guarded(sweep_progress))()


def start_sweep(dataset: str, betas: str, seeds: str, epochs: int, name: str) -> None:
    folder_name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-_")
    try:
        grid = check_grid(numbers(betas, float), numbers(seeds, int))
        if not folder_name:
            raise ValueError("give the folder a name")
        if len(grid) > MAX_SWEEP_RUNS:
            raise ValueError(f"that is {len(grid)} runs; a sweep here may queue at most {MAX_SWEEP_RUNS}")
        spec = RunSpec(data=DataOptions(dataset, root=catalogue.data_root()), train=TrainConfig(epochs=epochs))
        with st.spinner("Loading the dataset…"):
            data = load_data(spec.data, download=True)
    except (ValueError, SweepError, DatasetError) as err:
        st.error(f"The sweep could not start: {plain(err)}")
        return
    st.session_state[SWEEP_FAILED], st.session_state[SWEEP_DONE] = [], None
    folder = catalogue.checkpoint_dir() / folder_name
    for beta, seed in grid:
        out = run_path(folder, beta, seed)
        if finished_before(beta, seed, out) is None:
            add_sweep_run(catalogue.run_registry().start(spec.with_beta_and_seed(beta, seed), data, save_to=out).id)


def numbers(text: str, kind) -> list:
    """ "0.25, 1,4" -> [0.25, 1.0, 4.0]; a ValueError names the part that is not a number."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    try:
        return [kind(part) for part in parts]
    except ValueError:
        raise ValueError(f"“{text}” is not a list of numbers such as 0.25,1,4") from None


def sweep_progress() -> None:
    """The runs of this session's sweep: each one's state, and the whole; polled while any is live."""
    registry = catalogue.run_registry()
    snaps = [run.snapshot() for rid in sweep_runs() if (run := registry.get(rid)) is not None]
    done = [s for s in snaps if not s.live]
    st.progress(len(done) / max(len(snaps), 1), text=f"sweep: {len(done)} of {len(snaps)} runs done")
    lines = []
    for s in snaps:
        share = s.steps[-1]["step"] / max(s.total_steps, 1) if s.steps else 0.0
        where = f"queued, {registry.queue_position(s.id)[0]} in line" if s.status == "queued" else s.status
        lines.append(
            f"β={s.config.beta:g} seed {s.config.seed}: {where} · {share:.0%}"
            + (f" · {s.error.splitlines()[0]}" if s.error else "")
        )
    st.caption("  \n".join(lines))
    if snaps and not any(s.live for s in snaps):
        st.session_state[SWEEP_FAILED] = [
            f"β={s.config.beta:g} seed {s.config.seed}: {s.status}" + (f" · {s.error.splitlines()[0]}" if s.error else "")
            for s in snaps
            if s.status != "finished" or not s.saved_as
        ]
        saved = sum(1 for s in snaps if s.saved_as)
        st.session_state[SWEEP_DONE] = (
            f"The sweep is done: {saved} of {len(snaps)} runs saved, drawn below as the curve of their medians over seeds."
        )
        clear_sweep_runs()
        st.rerun(scope="app")  # all over: draw the saved ones, and say which failed


def main() -> None:
    st.title("Compare runs: rate against distortion")
    st.caption(
        "Each point is a checkpoint: its test KL (the rate, nats the code carries) against its test "
        "reconstruction term (the distortion). Raising β trades one for the other; β = 1 minimises their "
        "sum, the negative ELBO."
    )
    sweep_controls()
    rows = [r for r in catalogue.checkpoints() if r.error is None and r.test_kl is not None]
    if not rows:
        st.info("No checkpoint with test metrics yet: train and save one on the Train page.")
        return
    group_of = lambda r: (r.dataset, r.likelihood, tuple(r.image_shape), r.bound)
    groups = sorted({group_of(r) for r in rows})
    selected = next((r for r in rows if r.name == session.checkpoint_name()), None)
    default = groups.index(group_of(selected)) if selected else 0
    group = st.selectbox(
        "Dataset and likelihood",
        groups,
        index=default,
        key="compare_group",
        format_func=lambda g: f"{catalogue.dataset_label(g[0])} · {g[1]} · {g[2][1]}×{g[2][2]} · bounds {g[3]}",
        help="Losses are comparable only on the same data, at the same image size, under the same likelihood: a "
        "Bernoulli loss in nats and a Gaussian one measure different things. A conditional VAE's loss bounds "
        "−log p(x|y), the image given its label, which is lower than −log p(x) by what the label tells. So "
        "one plane for each.",
    )
    shown = sorted((r for r in rows if group_of(r) == group), key=lambda r: (r.beta is None, r.beta or 0))
    if any(r.scores for r in shown):  # data with known factors: the β-VAE trade-off, rate and disentanglement
        plane, scores = st.columns(2)
        plane.plotly_chart(rate_distortion(shown), key="rate_distortion")
        scores.plotly_chart(disentanglement_against_beta(shown), key="disentanglement_beta")
        scores.caption(
            "Disentanglement against β: MIG (Chen et al. 2018) and DCI (Eastwood & Williams 2018) on the "
            "test images, the median over the runs at each β, bars from the lowest to the highest. "
            "Higher β should buy disentanglement with distortion (Higgins et al. 2017); whether it does "
            "varies with the seed as much as with β (Locatello et al. 2019)."
        )
    else:
        st.plotly_chart(rate_distortion(shown), key="rate_distortion")
    st.dataframe(
        [
            {
                "name": r.name,
                "β": r.beta_text,
                **{k: getattr(r, k) for k in COLUMNS[1:]},
                **{METRIC_TITLES[k]: v for k, v in r.scores},
            }
            for r in shown
        ],
        hide_index=True,
    )
    if any(r.beta_path for r in shown):
        st.caption("◆ β was changed while the run trained: its colour is the final β, the table gives the path.")


run_page(main)
