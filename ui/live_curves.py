"""The training curves while a run trains: drawn on a canvas in the browser, sent only the points it lacks.

Plotly redraws its whole SVG figure on every update (every tick label measured again, the margins worked out
again), and twice a second that costs Chromium CPU the training process needs (BENCHMARKS.md, section 8).
This chart keeps the points it was sent in the page (`window.__vaeCurves`, per run) and is sent only the new
ones; a canvas redraws a few thousand points at once. Its drawing is ui/js/live_curves.js.
It draws what `ui.figures.training_curves` draws, in the same colours.
While a run is paused or over, the page shows that Plotly figure instead, with its hover and zoom.

If the page ever lacks points the server thinks it sent (it reports what it has), the server sends again from there.
"""

import streamlit as st

from ui.figures import CURVES_JS_CONSTANTS
from ui.scripts import component_script

HEIGHT = 380  # px, as the Plotly figure

# the figure's own constants, so the canvas and ui.figures.training_curves draw alike
LIVE_CURVES_JS = component_script(
    "canvas.js",
    "live_curves.js",
    constants=dict(CURVES_JS_CONSTANTS, HEIGHT=HEIGHT),
)

_mount = st.components.v2.component("vae_explorer_live_curves", js=LIVE_CURVES_JS, isolate_styles=False)


def curve_rows(events: list[dict], from_step: int = 0, from_epoch: int = 0) -> tuple[list, list]:
    """The step rows [step, recon, loss, KL, β] and epoch rows [step, test recon, test −ELBO, test KL] from the
    given positions on: what the browser does not have yet."""
    steps = [e for e in events if e["type"] == "step"][from_step:]
    epochs = [e for e in events if e["type"] == "epoch"][from_epoch:]
    return (
        [[e["step"], e["recon"], e["loss"], e["kl"], e["beta"]] for e in steps],
        [[e["step"], e["test_recon"], e["test_loss"], e["test_kl"]] for e in epochs],
    )


def _sent_key(key: str) -> str:
    return f"{key}_sent"


def _resend_from_what_it_has(key: str) -> None:
    have = (st.session_state.get(key) or {}).get("have") or {}
    st.session_state[_sent_key(key)] = (int(have.get("steps", 0)), int(have.get("epochs", 0)))


def live_curves(run_id: str, events: list[dict], beta_changes: list) -> None:
    """Mount (or update) the canvas chart of one run, sending it the points since the last update."""
    key = f"live_curves_{run_id}"
    from_step, from_epoch = st.session_state.get(_sent_key(key), (0, 0))
    steps, epochs = curve_rows(events, from_step, from_epoch)
    _mount(
        data=dict(
            run=run_id,
            from_step=from_step,
            steps=steps,
            from_epoch=from_epoch,
            epochs=epochs,
            beta_changes=[[int(s), float(b)] for s, b in beta_changes],
        ),
        key=key,
        on_have_change=lambda: _resend_from_what_it_has(key),
        width="stretch",
    )
    st.session_state[_sent_key(key)] = (from_step + len(steps), from_epoch + len(epochs))
