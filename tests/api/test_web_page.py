"""The web page in headless Chromium: upload, preview, analyse, read results; errors in words."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.helpers.servers import make_server

pytestmark = [pytest.mark.api, pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/regression-analyzer-screens"))


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium at /usr/bin/chromium")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


def wait_until(page, expression: str, timeout_s: float) -> None:
    """Poll a JS expression through page.evaluate: Playwright's wait_for_function evals a
    string inside the page, which the page's Content-Security-Policy (rightly) forbids."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"not true within {timeout_s} s: {expression}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server = make_server(tmp_path_factory.mktemp("page"), API_TOKEN="page-token")
    server.start()
    yield server
    server.stop()


def test_upload_analyse_and_read_results(browser, live, sales_csv: Path, tmp_path: Path) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(live.url + "/")
    # The server has a token: the page asks for it.
    page.locator("#token-box").wait_for(state="visible", timeout=10_000)
    page.fill("#token", "page-token")
    page.click("#save-token")
    page.locator("#token-box").wait_for(state="hidden", timeout=10_000)

    # A wrong kind of file: the message is plain words, not a status code.
    bad = tmp_path / "notes.pdf"
    bad.write_bytes(b"%PDF-1.4")
    page.set_input_files("#file", str(bad))
    page.locator("#error").wait_for(state="visible", timeout=10_000)
    assert "unsupported file type" in page.inner_text("#error")

    page.set_input_files("#file", str(sales_csv))
    page.locator("#setup").wait_for(state="visible", timeout=20_000)
    assert page.locator("#error").is_hidden()
    assert "ad_spend" in page.inner_text("#preview")
    page.select_option("#target", "revenue")
    page.check("#skip-llm")
    page.click("#start")
    page.locator("#results").wait_for(state="visible", timeout=120_000)
    assert "revenue" in page.inner_text("#target-name")
    assert "ad_spend" in page.inner_text("#coefficients")
    assert page.inner_text("#interpretation").strip()
    assert "R²" in page.inner_text("#numbers")
    # Charts are fetched with the token and shown.
    wait_until(
        page,
        "(() => { const imgs = [...document.querySelectorAll('#charts img')];"
        " return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0); })()",
        timeout_s=30,
    )
    page.screenshot(path=str(SCREENSHOTS / "results.png"), full_page=True)

    # An unusable target fails the job; the page says why.
    page.select_option("#target", "region")
    page.click("#start")
    wait_until(page, "!document.getElementById('error').hidden", timeout_s=120)
    assert "The analysis failed" in page.inner_text("#error")
    # The page works under its strict policy: nothing it does was blocked.
    assert not [text for text in console if "Content Security Policy" in text], console
    page.close()


def test_drag_and_drop_is_wired(browser, live, sales_csv: Path) -> None:
    page = browser.new_page()
    page.add_init_script("sessionStorage.setItem('apiToken', 'page-token')")
    page.goto(live.url + "/")
    content = sales_csv.read_text()
    page.evaluate(
        """(text) => {
            const data = new DataTransfer();
            data.items.add(new File([text], 'dropped.csv', {type: 'text/csv'}));
            const drop = document.getElementById('drop');
            drop.dispatchEvent(new DragEvent('dragover', {dataTransfer: data, bubbles: true}));
            drop.dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true}));
        }""",
        content,
    )
    page.locator("#setup").wait_for(state="visible", timeout=20_000)
    assert page.inner_text("#filename") == "dropped.csv"
    page.close()
