"""The lab in a real browser: headless Chromium driven by Playwright, against a live server.

Screenshots of each state go to test-artifacts/ (and to docs/lab-*.png when
ZERODL_UPDATE_SCREENSHOTS=1). Without /usr/bin/chromium or Playwright these
tests are skipped, unless ZERODL_CI_BROWSER=1 says the browser must be there.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from zerodl.lab.server import start_in_thread

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


def _unavailable(reason: str):
    if os.environ.get("ZERODL_CI_BROWSER") == "1":
        pytest.fail(f"browser tests must run here (ZERODL_CI_BROWSER=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install playwright)")
    with sync_playwright() as p:
        # launch() gives every run a fresh, temporary profile (user-data-dir).
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_in_thread(runs_root=tmp_path_factory.mktemp("runs"), session_grace=2.0)
    yield s
    s.close()


class Page:
    """One tab on the lab, recording console messages and uncaught errors."""

    def __init__(self, browser, url):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.console, self.errors = [], []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)
        self.wait("window.zerodlLab && window.zerodlLab.ready === true")

    def wait(self, expression: str, timeout: float = 30.0):
        """Poll a JS expression until it is truthy (the page's CSP forbids Playwright's eval-based waits)."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.page.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {expression}")
            time.sleep(0.05)

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        if os.environ.get("ZERODL_UPDATE_SCREENSHOTS") == "1" and name in SCREENSHOTS:
            shutil.copyfile(path, ROOT / "docs" / f"{name}.png")
        return path

    def console_errors(self):
        return [text for kind, text in self.console if kind == "error"]


SCREENSHOTS = ("lab-descent", "lab-network", "lab-digits")


@pytest.fixture(scope="module")
def tab(browser, server):
    t = Page(browser, server.url)
    yield t
    t.context.close()


def test_the_page_loads_without_console_errors(tab):
    assert tab.console_errors() == [] and tab.errors == []
    assert tab.page.title() == "zerodl lab"
    options = tab.page.eval_on_selector_all("#descent-function option", "os => os.map(o => o.value)")
    assert options[:6] == ["bowl", "elongated", "rosenbrock", "himmelblau", "beale", "saddle"]


def test_the_optimizer_menus_are_the_servers_list(tab, server):
    """Both panels build their optimizer choices from /api/info (optim.OPTIMIZERS), not a copy."""
    from zerodl.lab.descent import optimizers_info

    offered = optimizers_info()
    page = tab.page
    network = page.eval_on_selector_all("#net-optimizer option",
                                        "os => os.map(o => [o.value, o.textContent])")
    assert network == [[o["name"], o["label"]] for o in offered]
    assert page.input_value("#net-optimizer") == "adam"
    rows = page.eval_on_selector_all("#descent-optimizers [data-opt]",
                                     "cs => cs.map(c => [c.dataset.opt, c.checked])")
    assert rows == [[o["name"], o["book_race"]] for o in offered]
    rates = page.eval_on_selector_all("#descent-optimizers [data-lr]", "is => is.map(i => Number(i.value))")
    assert rates == [o["lr"] for o in offered]


def test_a_descent_race_on_elongated_ends_near_the_origin(tab):
    page = tab.page
    assert page.input_value("#descent-function") == "elongated"
    assert (page.input_value("#descent-x0"), page.input_value("#descent-y0")) == ("-7", "2")
    page.click("#descent-run")
    tab.wait("zerodlLab.descent.status === 'done'")
    runs = page.evaluate("zerodlLab.descent.runs")
    assert sorted(runs) == ["adagrad", "adam", "momentum", "sgd"]       # the book's four
    for name, run in runs.items():
        assert len(run["points"]) == 101 and not run["diverged"]
        x, y, f = run["points"][-1]
        assert (x * x + y * y) ** 0.5 < 0.05, (name, x, y)
        assert run["points"][0][:2] == [-7, 2]
    legend = page.inner_text("#descent-legend")
    assert "AdaGrad (lr 1.5)" in legend and "diverged" not in legend
    tab.shot("lab-descent")


def test_clicking_the_map_moves_the_start(tab):
    page = tab.page
    px = page.evaluate("(() => { const d = document.querySelector('#descent-map'); "
                       "const r = d.getBoundingClientRect(); return [r.left, r.top]; })()")
    # elongated's window is x in [-10, 10], y in [-5, 5]; the plot's margins are 46/12/12/30 px.
    x = px[0] + 46 + (5 + 10) / 20 * (660 - 58)
    y = px[1] + 12 + (5 - (-3)) / 10 * (470 - 42)
    page.mouse.click(x, y)
    start = page.evaluate("zerodlLab.descent.start")
    assert abs(start[0] - 5) < 0.1 and abs(start[1] + 3) < 0.1
    assert page.evaluate("Object.keys(zerodlLab.descent.runs).length") == 0


def test_a_diverging_optimizer_is_shown_as_diverged(tab):
    page = tab.page
    page.select_option("#descent-function", "bowl")
    tab.wait("zerodlLab.descent.source.function === 'bowl'")
    page.fill('[data-lr="sgd"]', "1.5")                 # |1 - 2 lr| > 1: every step overshoots more
    page.select_option("#descent-speed", "0")
    page.click("#descent-run")
    tab.wait("zerodlLab.descent.status === 'done'")
    sgd = page.evaluate("zerodlLab.descent.runs.sgd")
    assert sgd["diverged"] and sgd["divergedAt"] > 0
    assert f"diverged at step {sgd['divergedAt']}" in page.inner_text('[data-result="sgd"]')
    assert "1 diverged" in page.inner_text("#descent-status")
    assert not page.evaluate("zerodlLab.descent.runs.adam.diverged")
    tab.shot("lab-diverged")
    page.fill('[data-lr="sgd"]', "0.95")
    page.select_option("#descent-speed", "20")


def test_a_typed_formula_runs_and_a_bad_one_shows_where(tab):
    page = tab.page
    page.fill("#descent-formula", "(x - 1)^2/20 + (y + 1)^2")     # elongated, moved to (1, -1)
    page.click("#descent-plot")
    tab.wait("zerodlLab.descent.source && zerodlLab.descent.source.formula")
    assert "read as" in page.inner_text("#descent-parsed")
    page.fill("#descent-x0", "-3")
    page.fill("#descent-y0", "3")
    page.dispatch_event("#descent-y0", "change")
    page.click("#descent-run")
    tab.wait("zerodlLab.descent.status === 'done'")
    for run in page.evaluate("zerodlLab.descent.runs").values():
        x, y, _ = run["points"][-1]
        assert not run["diverged"] and abs(x - 1) < 0.1 and abs(y + 1) < 0.1

    page.fill("#descent-formula", "x^2 + 2y")
    page.click("#descent-plot")
    error = page.locator('[data-error-for="formula"]')
    error.wait_for(state="visible")
    text = error.inner_text()
    assert "at position 7" in text and "multiplication needs '*'" in text
    assert page.inner_text('[data-error-for="formula"] .caret').splitlines() == [
        "x^2 + 2y", " " * 7 + "^"]                                 # a caret under the fault
    assert "invalid" in page.get_attribute("#descent-formula", "class")
    tab.shot("lab-formula-error")


def test_the_network_learns_spiral_to_90_percent(tab, server):
    page = tab.page
    page.click("#tab-network")
    tab.wait("zerodlLab.network.status === 'paused'")
    assert page.input_value("#net-dataset") == "spiral"
    assert page.input_value("#net-speed") == "60"                 # steps per second: watchable
    page.click("#net-train")
    tab.wait("zerodlLab.network.accuracy >= 0.9", timeout=60)
    shown = page.inner_text("#net-accuracy")
    assert float(re.match(r"([\d.]+)%", shown).group(1)) >= 90.0
    tab.wait("zerodlLab.network.accuracy >= 0.95", timeout=30)       # a clearer picture
    page.click("#net-pause")
    tab.wait("zerodlLab.network.status === 'paused'")
    step = page.evaluate("zerodlLab.network.step")
    time.sleep(0.4)
    assert page.evaluate("zerodlLab.network.step") == step
    tab.shot("lab-network")
    page.click("#net-reset")
    tab.wait("zerodlLab.network.step === 0")
    assert server.sessions.running() == 1


def test_drawing_a_one_is_read_as_a_one(tab, data_root, monkeypatch):
    monkeypatch.setenv("ZERODL_DATA", str(data_root))
    page = tab.page
    page.click("#tab-digits")
    tab.wait("zerodlLab.digits.model !== null")
    page.click("#digits-train")
    tab.wait("zerodlLab.digits.model.available && zerodlLab.digits.model.training.state === 'done'",
             timeout=90)
    box = page.locator("#digits-draw").bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.15
    page.mouse.move(x0 - 6, y0)
    page.mouse.down()
    for k in range(1, 25):                      # a slightly slanted stroke, top to bottom
        page.mouse.move(x0 - 6 + k * 0.5, y0 + k * box["height"] * 0.03)
    page.mouse.up()
    tab.wait("zerodlLab.digits.prediction !== null")
    probs = page.evaluate("zerodlLab.digits.probabilities")
    assert len(probs) == 10 and abs(sum(probs) - 1) < 1e-4
    assert page.evaluate("zerodlLab.digits.prediction") == 1
    assert page.inner_text("#digits-prediction") == "1"
    page.wait_for_timeout(400)                                      # the bars' 0.12 s transition
    filled = page.evaluate("(() => { const r = document.querySelector('#digits-bars .row.best'); "
                           "return r.querySelector('.fill').getBoundingClientRect().width "
                           "/ r.querySelector('.track').getBoundingClientRect().width; })()")
    assert abs(filled - probs[1]) < 0.02                            # the bar shows the probability
    tab.shot("lab-digits")


def test_no_script_errors_happened(tab):
    assert tab.errors == []
    # The only console errors allowed are the 400 answers the formula test asked for.
    assert all("status of 400" in text for text in tab.console_errors()), tab.console_errors()


def test_closing_the_tab_stops_its_training(browser, server):
    t = Page(browser, server.url + "#network")
    t.wait("zerodlLab.network.status === 'paused'")
    t.page.click("#net-train")
    t.wait("zerodlLab.network.step > 0")
    before = server.sessions.running()
    sid = t.page.evaluate("zerodlLab.network.session")
    assert sid in server.sessions.sessions
    t.page.close(run_before_unload=True)
    t.context.close()
    deadline = time.monotonic() + 10
    while sid in server.sessions.sessions and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sid not in server.sessions.sessions and server.sessions.running() == before - 1
