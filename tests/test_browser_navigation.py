"""Real browser: a deep link as a fresh server's very first request still goes through app.py.

With a `pages/` folder beside app.py, Streamlit runs such a request's page script on its own (old-style
navigation from file names, no sidebar model picker) unless the app steps in (ui/navigation.py).
"""

import pytest

from browser import (
    ARTIFACTS,
    SERVER_WAIT_MS,
    chromium_page,
    streamlit_server,
    wait_for_app_idle,
    wait_for_first_run,
)

pytestmark = pytest.mark.browser

NAV_LINKS = """() => [...document.querySelectorAll('[data-testid="stSidebarNav"] a')]
    .map(a => a.innerText.trim().split('\\n').pop())"""  # the link's last line: its title after the icon's name


@pytest.mark.parametrize(
    "path, heading",
    [
        ("/generate", "Generate"),
        ("/train?run=0123456789ab", "Train a VAE"),
        ("/compare", "Compare runs"),
        ("/side_by_side", "Two models side by side"),
    ],
)
def test_a_deep_link_into_a_fresh_server_shows_the_apps_navigation(path, heading):
    with streamlit_server() as url, chromium_page() as page:  # a fresh server for each: the first request counts
        page.goto(url + path)
        page.get_by_role("heading", name=heading).wait_for(timeout=60_000)
        wait_for_app_idle(page)
        page.locator("[data-testid=stSidebar]").get_by_text("Checkpoint").wait_for(timeout=SERVER_WAIT_MS)
        assert page.evaluate(NAV_LINKS) == ["Explore", "Generate", "Train", "Compare", "Side by side"]  # titles, not file names
        if "run=" in path:  # an unknown run is reported, the query string reached the page
            page.get_by_text("That run is no longer on this server").wait_for(timeout=SERVER_WAIT_MS)
        page.screenshot(path=str(ARTIFACTS / f"deep-link-{heading.split()[0].lower()}.png"))
        page.get_by_role("link", name="Explore").click()  # and the navigation works from there
        page.get_by_role("heading", name="Explore the latent space").wait_for(timeout=SERVER_WAIT_MS)


def test_no_page_asks_anything_of_another_host():
    """Offline by design: every request goes to the app's own server (no fonts, icons or scripts from a CDN)."""
    with streamlit_server() as url, chromium_page() as page:
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        for path, heading in (
            ("/", "Explore the latent space"),
            ("/generate", "Generate"),
            ("/train", "Train a VAE"),
            ("/compare", "Compare runs"),
        ):
            page.goto(url + path)
            page.get_by_role("heading", name=heading).wait_for(timeout=60_000)
            wait_for_first_run(page)
        elsewhere = [u for u in requests if not u.startswith((url, "data:", "blob:"))]
        assert requests and not elsewhere, elsewhere
