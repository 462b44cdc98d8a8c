"""Real browser: the replay's Play runs through the epochs and Pause stops it (issue 24, point 1)."""

import pytest

from browser import SERVER_WAIT_MS, chromium_page, streamlit_server, wait_for_app_idle, wait_for_decoder_report

pytestmark = pytest.mark.browser

SHOWN_EPOCH = """() => { const m = [...document.querySelectorAll('[data-testid="stMarkdownContainer"] strong')]
    .map(e => e.innerText.match(/^Epoch (\\d+)$/)).find(Boolean); return m ? Number(m[1]) : 0; }"""


def test_play_runs_the_replay_forward_and_pause_stops_it():
    with streamlit_server() as url, chromium_page(1400, 1000) as page:
        page.goto(f"{url}/?model=digits-2d")
        wait_for_decoder_report(page, "digits-2d")  # the page has finished loading
        page.get_by_text("Replay its training").click()
        page.get_by_role("button", name="Play", exact=True).wait_for(timeout=60_000)
        wait_for_app_idle(page)
        last = page.evaluate(SHOWN_EPOCH)  # the replay opens on its last epoch: Play starts from the first
        page.get_by_role("button", name="Play", exact=True).click()
        page.wait_for_function(f"n => ({SHOWN_EPOCH})() < n", arg=last, timeout=SERVER_WAIT_MS)
        seen = [page.evaluate(SHOWN_EPOCH)]
        for _ in range(4):  # the epoch shown moves on, again and again, with no further click
            page.wait_for_function(f"n => ({SHOWN_EPOCH})() > n", arg=seen[-1], timeout=SERVER_WAIT_MS)
            seen.append(page.evaluate(SHOWN_EPOCH))
        page.get_by_role("button", name="Pause", exact=True).click()
        page.get_by_role("button", name="Play", exact=True).wait_for(timeout=SERVER_WAIT_MS)
        wait_for_app_idle(page)
        paused_at = page.evaluate(SHOWN_EPOCH)
        page.wait_for_timeout(2_000)  # a paused replay stays where it is (a wait for nothing to happen)
        assert page.evaluate(SHOWN_EPOCH) == paused_at and paused_at >= seen[-1]
        # the replay's map lists all ten labels in its legend, without a scroll bar
        legend = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot .legend')]
            .map(l => [l.querySelectorAll('.traces').length, !!l.querySelector('.scrollbar[height]:not([height="0"])')])""")
        assert [10, False] in legend, legend
