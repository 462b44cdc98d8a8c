"""A run's replay on a page (Train, live or finished; Explore, from a checkpoint): an epoch scrubber with play and
pause, that epoch's map, reconstructions and KL per dimension, the KL heatmap over epochs, and a GIF of it all.

The panel runs inside a fragment the page sets up with `run_every(key, idle)`: while playing, the fragment reruns
every PLAY_S and moves the scrubber on by one epoch; otherwise at the page's own pace (a live run's poll, or
never).
"""

from __future__ import annotations

import io

import numpy as np
import streamlit as st
import torch
from PIL import Image, ImageDraw

from ui.canvas_charts import kl_bars_data, kl_heatmap_data, live_or_figure, small_map_data
from ui.figures import ACTIVE_KL, SMALL_MAP_HEIGHT, kl_bars, kl_heatmap, label_color, small_map
from ui.images import grid
from vae_core.analysis.replay import MAX_SAVED_FRAMES, Replay, thin
from vae_core.data.datasets import as_float

PLAY_S = 0.6  # seconds an epoch is shown while playing
GIF_FRAME_MS = 400


def _playing_key(key: str) -> str:
    return f"{key}_playing"


def _scrubber_key(key: str) -> str:
    """The scrubber's widget key, `{key}_epoch_{generation}`. The server never writes the scrubber's value: a value
    it wrote raced the browser's copy. A message the browser sent before it saw the write (a fragment's poll,
    another click) carried the older value back, which read as a move by hand and held the replay on an old
    frame (seen on the Train page under load: Pause's message moved it back, and One epoch then showed nothing
    new). To move the scrubber itself, the server draws a new one; a value sent for an older one is dropped."""
    return f"{key}_epoch_{st.session_state.get(_generation_key(key), 0)}"


def _generation_key(key: str) -> str:
    return f"{key}_scrubbers"


def _frame_key(key: str) -> str:
    """The frame shown (1-based), kept apart from the scrubber, which only the user moves."""
    return f"{key}_frame"


def _moved_by_hand(key: str, widget_key: str) -> None:
    """The scrubber's callback: a move shows that frame, unless it came for a scrubber the server has since
    replaced (a stale value: see _scrubber_key)."""
    if widget_key == _scrubber_key(key):
        st.session_state[_frame_key(key)] = st.session_state[widget_key]


def run_every(key: str, idle: float | None) -> float | None:
    """How often the replay's fragment reruns: the playing pace, or the page's own when paused. Noted, so that
    the panel can tell when Play or Pause (clicked inside the fragment) needs the page to set the pace anew."""
    pace = PLAY_S if st.session_state.get(_playing_key(key)) else idle
    st.session_state[_pace_key(key)] = pace
    return pace


def _pace_key(key: str) -> str:
    return f"{key}_pace"


def _follow_play(key: str) -> None:
    """A fragment's pace is fixed when the page draws it: after Play or Pause, rerun the page, so that the fragment
    ticks at the playing pace (or stops ticking). Without it a replay on a page that does not poll moved one
    epoch on Play and stopped there."""
    playing = bool(st.session_state.get(_playing_key(key)))
    if playing != (st.session_state.get(_pace_key(key)) == PLAY_S):
        st.rerun(scope="app")


def _button_key(key: str, playing: bool) -> str:
    """Play and Pause are two widgets, not one button relabelled. Streamlit's page can send one click twice: a
    fragment's timed rerun (run_every) that fires between the click and the click's own message carries the click
    too. A Pause sent twice reran the page in between (_follow_play), and the second copy went to the button drawn
    by then: Play, whose callback played on. As two widgets, the copy reaches a Pause that is no longer drawn, and
    Streamlit drops it."""
    return f"{key}_pause" if playing else f"{key}_play"


def _set_playing(key: str, n: int, playing: bool) -> None:
    """Play's or Pause's callback: what that button means (a second copy of the click changes nothing)."""
    if playing and not st.session_state.get(_playing_key(key)) and st.session_state.get(_frame_key(key), n) >= n:
        st.session_state[_frame_key(key)] = 1  # at the end: play from the start
    st.session_state[_playing_key(key)] = playing


def _current_epoch(key: str, n: int) -> int:
    """The frame shown (1-based): moved on while playing, kept on the newest frame (a live run's new epochs, the
    last of a run just finished) while the user has not moved the scrubber back."""
    frame_key, last_key = _frame_key(key), f"{key}_last"
    shown = st.session_state.get(frame_key)
    last_shown, last_n = st.session_state.get(last_key, (None, None))
    if st.session_state.get(_playing_key(key)):
        shown = (shown or 0) + 1
        if shown >= n:
            shown = n
            st.session_state[_playing_key(key)] = False
            st.session_state[frame_key] = shown
            st.rerun(scope="app")  # the fragment goes back to the page's own pace
    elif shown is None or (shown == last_shown == last_n):  # on the newest frame and not moved since
        shown = n
    shown = min(max(int(shown), 1), n)
    st.session_state[frame_key] = shown
    st.session_state[last_key] = (shown, n)
    if st.session_state.get(_scrubber_key(key)) != shown:  # the server moves it: a new scrubber, on that frame
        st.session_state[_generation_key(key)] = st.session_state.get(_generation_key(key), 0) + 1
    return shown


NO_FRAMES = "The replay starts after the first epoch: each epoch keeps the map, a few reconstructions and the KL per dimension."


def replay_panel(replay: Replay | None, key: str, empty_note: str = NO_FRAMES, live: bool = False) -> None:
    """The whole replay view (None or no frames: `empty_note` instead). Call it from the fragment that reads the
    replay, so that a live run's new epochs show up. live: the run is training, so its charts are drawn on
    canvases (ui/canvas_charts.py), which cost the browser far less than Plotly's figures."""
    if replay is None or not replay.frames:
        st.caption(empty_note)
        return
    _follow_play(key)
    n = len(replay.frames)
    shown = _current_epoch(key, n)
    controls(replay, key, n, shown)
    frame_view(replay, shown - 1, key, live)
    live_or_figure(
        live, f"{key}_heatmap", lambda: kl_heatmap_data(replay, shown - 1), lambda: kl_heatmap(replay, shown - 1), height=240
    )
    st.caption(
        "KL per dimension over the epochs: a dimension that goes pale has collapsed to the prior (it "
        "carries nothing about the image). Dotted lines: β moved; the frame shown is outlined."
    )


def controls(replay: Replay, key: str, n: int, shown: int) -> None:
    play_col, slider_col, gif_col = st.columns([1.5, 5, 1.2], vertical_alignment="bottom")
    playing = st.session_state.get(_playing_key(key), False)
    play_col.button(
        "Pause" if playing else "Play",
        key=_button_key(key, playing),
        on_click=_set_playing,
        args=(key, n, not playing),
        icon=":material/pause:" if playing else ":material/play_arrow:",
        width="stretch",
    )
    if n > 1:  # positions are frames (a long run keeps every k-th epoch), labelled by their epoch
        slider_col.select_slider(
            "Epoch of the replay",
            range(1, n + 1),
            value=shown,  # a new scrubber's position; one the user has moved keeps its own
            key=_scrubber_key(key),
            format_func=lambda i: f"epoch {replay.frames[i - 1].epoch}",
            disabled=playing,
            on_change=_moved_by_hand,
            args=(key, _scrubber_key(key)),
            help="Pause to move it.",
        )
    # made when clicked (Streamlit runs a callable then), not at every poll of a live run or tick of Play
    gif_col.download_button(
        "GIF",
        data=lambda: replay_gif(replay),
        file_name="replay.gif",
        on_click="ignore",
        mime="image/gif",
        key=f"{key}_gif",
        icon=":material/download:",
        width="stretch",
        help="The replay as an animated GIF: the map and reconstructions of every epoch.",
    )


def frame_view(replay: Replay, i: int, key: str, live: bool = False) -> None:
    frame = replay.frames[i]
    changed = " · **β moved during this epoch**" if replay.beta_changed(i) else ""
    st.markdown(f"**Epoch {frame.epoch}** · β {frame.beta:.3g}{changed}")
    x_range, y_range = replay.ranges()
    a, b, c = st.columns([3, 3, 2])
    with a:
        live_or_figure(
            live,
            f"{key}_map",
            lambda: small_map_data(frame.xy, replay.labels, replay.axis_names, replay.class_names, x_range, y_range),
            lambda: small_map(frame.xy, replay.labels, replay.axis_names, replay.class_names).update_layout(
                xaxis_range=x_range, yaxis_range=y_range
            ),
            height=SMALL_MAP_HEIGHT,
        )
    with b:
        images = np.concatenate([replay.originals, frame.recons])
        st.image(
            grid(as_float(torch.from_numpy(images)), nrow=len(replay.originals), width=420),
            width="stretch",
            caption="test images above, their reconstructions at this epoch below",
        )
    with c:
        active = sum(v > ACTIVE_KL for v in frame.kl_per_dim)
        st.caption(f"KL per dimension: {active} of {len(frame.kl_per_dim)} active units")
        live_or_figure(live, f"{key}_kl", lambda: kl_bars_data(frame.kl_per_dim), lambda: kl_bars(frame.kl_per_dim))


def replay_gif(replay: Replay, size: int = 320) -> bytes:
    """The frames drawn with Pillow (the map's points in the label colours, the reconstructions beside it), as
    one looping GIF. Pillow writes GIFs itself, so no other package is needed. A long live run's frames are
    thinned as a saved replay's are: a thousand epochs would be a 7-minute animation that takes long to make."""
    x_range, y_range = replay.ranges()
    shown = thin(range(len(replay.frames)), MAX_SAVED_FRAMES)
    frames = [_gif_frame(replay, i, size, x_range, y_range) for i in shown]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=GIF_FRAME_MS, loop=0)
    return out.getvalue()


def _gif_frame(replay: Replay, i: int, size: int, x_range, y_range) -> Image.Image:
    frame = replay.frames[i]
    tiles = _tiles(replay.originals, frame.recons, size)
    canvas = Image.new("RGB", (size + tiles.width + 30, max(size, tiles.height) + 30), "white")
    draw = ImageDraw.Draw(canvas)
    sx, sy = (size - 1) / (x_range[1] - x_range[0]), (size - 1) / (y_range[1] - y_range[0])
    for (x, y), label in zip(frame.xy, replay.labels):
        px, py = 10 + (x - x_range[0]) * sx, 25 + (y_range[1] - y) * sy
        draw.ellipse((px - 2, py - 2, px + 2, py + 2), fill=label_color(label))
    draw.rectangle((10, 25, 10 + size, 25 + size), outline="#888888")
    canvas.paste(tiles, (size + 20, 25))
    mark = "   beta moved" if replay.beta_changed(i) else ""  # spelled out: Pillow's built-in font has no Greek
    draw.text((10, 6), f"epoch {frame.epoch} of {replay.frames[-1].epoch}   beta {frame.beta:.3g}{mark}", fill="black")
    draw.text((size + 20, 6), "test | recon", fill="black")
    return canvas


def _tiles(originals: np.ndarray, recons: np.ndarray, size: int) -> Image.Image:
    """Originals in one column, reconstructions in the next, scaled up to fill the map's height."""
    gap = np.full(originals.shape[:3] + (1,), 255, np.uint8)  # a white line between each image and its recon
    pairs = np.concatenate([originals, gap, recons], axis=3)  # (R, C, H, 2W + 1)
    column = np.concatenate(list(pairs), axis=1)  # (C, R*H, 2W)
    image = Image.fromarray(column[0] if column.shape[0] == 1 else column.transpose(1, 2, 0))
    scale = size / image.height
    return image.resize((round(image.width * scale), size), Image.NEAREST)
