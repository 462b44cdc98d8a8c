"""The collapse doctor on a page (vae_core.analysis.doctor): which latent dimensions collapsed, a retrain per remedy at a
click, queued as ordinary runs, and a table of how each did against the original. Explore shows it for a saved
model, Train for a finished run; nothing is retrained without a click."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import streamlit as st

from ui import catalogue, session
from ui.navigation import guarded
from ui.owner import OWNER
from ui.text import plain
from vae_core.analysis.doctor import COLLAPSED_KL, collapsed_dimensions, comparison_row, remedies
from vae_core.config import InputError, RunSpec
from vae_core.data.datasets import DatasetError

DOCTOR_RUNS = "_doctor_runs"  # {original: [(remedy key, what it changes, run id), ...]}, this session's retrains
CLICKED = "_doctor_clicked"  # {original: [remedy key, ...]}: clicked, not started yet
POLL_S = 2.0  # the table, while a retrain is queued or training


def widget_id(original: str) -> str:
    """A short, stable name for the original in widget keys (a path may hold characters keys should not)."""
    return hashlib.sha1(original.encode()).hexdigest()[:10]


def retrains(original: str) -> list[tuple[str, str, str]]:
    return list(st.session_state.get(DOCTOR_RUNS, {}).get(original, []))


def any_live(original: str) -> bool:
    """Whether a retrain of the original is still queued or training."""
    registry = catalogue.run_registry()
    return any(run.live for _, _, rid in retrains(original) if (run := registry.get(rid)) is not None)


def clicked(original: str) -> list[str]:
    return list(st.session_state.get(CLICKED, {}).get(original, []))


def set_clicked(original: str, keys: list[str]) -> None:
    st.session_state[CLICKED] = {**st.session_state.get(CLICKED, {}), original: keys}


def click_retrain(original: str, key: str) -> None:
    """A remedy's button: only notes the click. Starting the run waits for the registry and the data, and a rerun
    asked for meanwhile (another click, a chart's event) stops a callback that waits, which would lose the click;
    start_clicked starts it in the script, where a stopped attempt is tried again by the next run."""
    set_clicked(original, [*clicked(original), key])


def start_clicked(original: str, spec: RunSpec, load_data: Callable) -> None:
    """Queue the retrains clicked for the original, each an ordinary run (listed on Train with this session's runs).
    Any Streamlit call, a read or write of session state included, may stop the script for a rerun; so the lists
    below are taken from session state first and then changed in place, and no such call comes between a run's
    start and its record."""
    if not clicked(original):
        return
    noted = st.session_state[CLICKED][original]
    record = st.session_state.setdefault(DOCTOR_RUNS, {}).setdefault(original, [])
    mine = st.session_state.setdefault(session.SESSION_RUNS, [])
    try:
        registry, data = catalogue.run_registry(), load_data()  # where a rerun may stop it: the clicks stay noted
    except DatasetError as err:
        noted.clear()
        st.error(f"The retrain could not start: {plain(err)}")
        return
    trains = {remedy.key: (remedy.change, train) for remedy, train in remedies(spec.train)}
    errors = []
    while noted:
        change, train = trains[noted[0]]
        try:
            owner = st.session_state.get(OWNER, "")
            run = registry.start(
                replace(spec, train=train), data, owner=owner, label=f"retrain of {Path(original).stem}: {change}"
            )
        except InputError as err:
            errors.append(str(err))
        else:
            record.append((noted[0], change, run.id))
            mine.append(run.id)
        noted.pop(0)
    for error in errors:
        st.error(f"The retrain could not start: {plain(error)}")


def doctor_panel(
    original: str,
    name: str,
    kl_per_dim: list,
    spec: RunSpec | None,
    load_data: Callable,
    scores: Callable[[], tuple[dict, dict | None]],
    why_not: str = "",
) -> None:
    """original: what identifies the model (a checkpoint's path, a run's id); spec: the run that trained it (None when
    it cannot be retrained, why_not says why); load_data: its dataset; scores: its (test metrics, IWAE bound)."""
    collapsed = collapsed_dimensions(kl_per_dim)
    started = retrains(original)
    if not collapsed and not started:
        return
    with st.container(border=True, key=f"doctor_{widget_id(original)}"):
        st.markdown("**Collapse doctor**")
        if collapsed:
            dims = ", ".join(f"z{d + 1}" for d in collapsed)
            st.warning(
                f"{len(collapsed)} of {len(kl_per_dim)} latent dimensions of **{plain(name)}** have collapsed: {dims} "
                f"(average KL under {COLLAPSED_KL} nats). Their posterior is the prior whatever the image, so "
                "they carry nothing. Each remedy below retrains the model once with one change (same data, "
                "model, epochs and seed).",
                icon=":material/healing:",
            )
        if spec is None:
            st.caption(plain(why_not))
        else:
            start_clicked(original, spec, load_data)
            started = retrains(original)
            remedy_buttons(original, spec, {key for key, _, _ in started})
        if started:
            live = any_live(original)
            table = lambda: comparison_table(original, name, scores, polled=live)  # noqa: E731
            st.fragment(run_every=POLL_S if live else None)(guarded(table))()


def remedy_buttons(original: str, spec: RunSpec, started: set) -> None:
    options = remedies(spec.train)
    columns = st.columns(2)  # two a row: their labels stay whole in Train's narrow column too
    for i, (remedy, _) in enumerate(options):
        column = columns[i % 2]
        column.button(
            remedy.title,
            key=f"doctor_{remedy.key}_{widget_id(original)}",
            width="stretch",
            disabled=remedy.key in started,
            on_click=click_retrain,
            args=(original, remedy.key),
            help=f"Retrain with {remedy.change}, queued as an ordinary run; it is then listed on Train.",
        )


def comparison_table(original: str, name: str, scores: Callable, polled: bool) -> None:
    """Each retrain against the original: active units, I(x; z), test −ELBO, the IWAE bound; a retrain still queued
    or training shows how far it is. polled: drawn by a polling fragment, which stops (a rerun of the page) once no
    retrain is live."""
    registry = catalogue.run_registry()
    metrics, iwae = scores()
    rows = [comparison_row(plain(name), "the original", metrics, iwae)]  # a file's name; the rest is the app's
    for _, change, run_id in retrains(original):
        run = registry.get(run_id)
        if run is None:
            rows.append(comparison_row(run_id, f"{change} (no longer on this server)", {}, None))
            continue
        snap = run.snapshot()
        if snap.live or not snap.saveable:
            done = snap.steps[-1]["step"] / max(snap.total_steps, 1) if snap.steps else 0.0
            rows.append(comparison_row(run_id, f"{change} · {snap.status} {done:.0%}", {}, None))
        else:
            rows.append(comparison_row(run_id, change, run.test_metrics(), run.iwae_bound()))
    if polled and not any_live(original):
        st.rerun(scope="app")
    columns = list(rows[0])
    fmt = lambda v: "…" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)  # noqa: E731
    st.markdown(
        "\n".join(
            [
                f"| {' | '.join(columns)} |",
                "| --- | --- |" + " ---: |" * (len(columns) - 2),
                *(f"| {' | '.join(fmt(row[c]) for c in columns)} |" for row in rows),
            ]
        )
    )
    st.caption(
        "Active units: dimensions whose mean varies across the test images (Burda et al. 2016). Collapsed: "
        "dimensions whose KL is under 0.01 nats, the prior whatever the image. The two tests differ, so a dimension "
        "can be neither, and the two counts need not add up to the code's size. I(x; z): what "
        "the code says about the image, on 256 test images. Test −ELBO at β = 1 and the IWAE bound on −log p(x) "
        "(1,000 test images): lower is better, and the IWAE bound is the one to compare across objectives. "
        "Open a retrain on the Train page to see its curves and save it."
    )
