"""Real browser: the Train form's suggestions reach the page. They are written by code into widgets declared with
persist_state, which AppTest cannot check the page shows (the page applies them a moment after the app is idle)."""

import time

import pytest

from browser import SERVER_WAIT_MS, chromium_page, streamlit_server, wait_for_app_idle

pytestmark = pytest.mark.browser


def shown_model(page) -> tuple[str, str]:
    return ("conv" if page.get_by_role("radio", name="conv").is_checked() else "mlp"), page.get_by_label(
        "Latent dimensions"
    ).input_value()


def wait_for_model(page, expected: tuple[str, str]) -> None:
    deadline = time.monotonic() + SERVER_WAIT_MS / 1000
    while shown_model(page) != expected:
        assert time.monotonic() < deadline, f"the form shows {shown_model(page)}, not {expected}"
        page.wait_for_timeout(100)


def test_a_new_dataset_shows_the_model_suggested_for_its_images():
    with streamlit_server() as url, chromium_page() as page:
        page.goto(f"{url}/train")
        page.get_by_role("button", name="Start training").wait_for(timeout=SERVER_WAIT_MS)
        wait_for_app_idle(page)
        assert shown_model(page) == ("mlp", "2")  # digits, 8x8
        for source, expected in (("mnist", ("conv", "20")), ("digits", ("mlp", "2")), ("sprites", ("conv", "20"))):
            page.get_by_role("combobox", name="Dataset").click()
            page.get_by_role("option", name=source, exact=True).click()
            wait_for_model(page, expected)
