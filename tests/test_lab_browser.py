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

from zerodl.lab.routes import ROUTES
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

    def __init__(self, browser, url, locale="en-US"):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
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


COLOURED = """(sel => { const c = document.querySelector(sel);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let k = 0; k < d.length; k += 4) {
    if (Math.max(d[k], d[k + 1], d[k + 2]) - Math.min(d[k], d[k + 1], d[k + 2]) > 60) n++;
  }
  return n; })"""


def race_shown(page) -> tuple[bool, bool, bool]:
    """Whether the legend, the final-f column and the f chart show a race."""
    results = page.eval_on_selector_all("[data-result]", "cs => cs.map(c => c.textContent)")
    return (page.inner_text("#descent-legend").strip() != "", any(results),
            page.evaluate(f"{COLOURED}('#descent-chart')") > 0)


def test_another_surface_clears_the_last_race(tab):
    """Choosing another function, or plotting a formula, leaves no legend, f chart or final f
    of the race before (its paths are gone from the map too)."""
    page = tab.page
    page.select_option("#descent-function", "elongated")
    tab.wait("zerodlLab.descent.status === 'idle'")             # not the last test's 'done'
    page.select_option("#descent-speed", "0")
    for change in [lambda: page.select_option("#descent-function", "himmelblau"),
                   lambda: (page.fill("#descent-formula", "x^2 + y^2"), page.click("#descent-plot"))]:
        page.click("#descent-run")
        tab.wait("zerodlLab.descent.status === 'done'")
        assert race_shown(page) == (True, True, True), page.evaluate("zerodlLab.descent.runs")
        change()
        tab.wait("zerodlLab.descent.status === 'idle'")
        assert race_shown(page) == (False, False, False)
        assert page.evaluate("Object.keys(zerodlLab.descent.runs).length") == 0
    page.select_option("#descent-speed", "20")


def test_a_surface_chosen_while_a_race_is_being_created_gets_no_stale_race(tab, server):
    """A race the server answers only after the learner chose another surface is not run
    over the new one; nor does a slow surface answer replace the one chosen after it."""
    page = tab.page
    create, make_surface = server.descents.create, ROUTES[("POST", "/api/surface")]

    def slow(body):
        time.sleep(0.5)
        return create(body)

    server.descents.create = slow
    try:
        page.select_option("#descent-speed", "0")
        page.click("#descent-run")
        page.select_option("#descent-function", "beale")
        tab.wait("zerodlLab.descent.surface.name === 'beale'")
        time.sleep(1.0)                                 # the race's answer has come and gone
        assert page.evaluate("Object.keys(zerodlLab.descent.runs).length") == 0
        assert race_shown(page) == (False, False, False)
    finally:
        server.descents.create = create

    def slow_surface(handler, body, query):
        if body.get("function") == "himmelblau":
            time.sleep(0.5)
        return make_surface(handler, body, query)

    ROUTES[("POST", "/api/surface")] = slow_surface
    try:
        page.select_option("#descent-function", "himmelblau")     # answered last
        page.select_option("#descent-function", "bowl")
        time.sleep(1.0)
        assert page.evaluate("zerodlLab.descent.surface.name") == "bowl"
        assert page.input_value("#descent-function") == "bowl"
    finally:
        ROUTES[("POST", "/api/surface")] = make_surface
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


MAP_MARGIN = """(() => { const c = document.querySelector('#network-map');
  const dpr = window.devicePixelRatio || 1; const h = Math.round(28 * dpr);
  const d = c.getContext('2d').getImageData(0, c.height - h, c.width, h).data;
  let dark = 0, coloured = 0;
  for (let k = 0; k < d.length; k += 4) {
    if (Math.max(d[k], d[k + 1], d[k + 2]) - Math.min(d[k], d[k + 1], d[k + 2]) > 60) coloured++;
    else if (d[k] < 150) dark++;
  }
  return [dark, coloured]; })()"""


def test_the_network_menus_and_noise_follow_the_server(tab):
    """The dataset and activation menus are /api/info's lists, and choosing a dataset sets
    the noise to that dataset's default there."""
    from zerodl.lab.sessions import ACTIVATIONS, DATASETS

    page = tab.page
    values = "os => os.map(o => o.value)"
    assert page.eval_on_selector_all("#net-dataset option", values) == list(DATASETS)
    assert page.eval_on_selector_all("#net-activation option", values) == list(ACTIVATIONS)
    texts = page.eval_on_selector_all("#net-activation option", "os => os.map(o => o.textContent)")
    assert texts[0] == "ReLU" and page.inner_text("#net-dataset option") == "spiral (3 classes)"
    for name in ["xor", "spiral"]:
        page.select_option("#net-dataset", name)
        assert float(page.input_value("#net-noise")) == DATASETS[name]
        tab.wait(f"zerodlLab.network.status === 'paused' && zerodlLab.network.classes === "
                 f"{3 if name == 'spiral' else 2}")
    assert page.inner_text("#net-architecture") == "2 → 16 → 16 → 3 (softmax)"


def test_the_network_map_has_axes_and_a_class_legend(tab):
    page = tab.page
    ticks = page.evaluate("zerodlLab.network.ticks")
    assert len(ticks) >= 3 and 0 in ticks                         # ticks at round numbers
    dark, coloured = page.evaluate(MAP_MARGIN)
    assert dark > 30 and coloured == 0                            # labels under the map, not the map
    items = page.eval_on_selector_all("#network-legend .item", "is => is.map(i => i.textContent)")
    assert items == ["class 0", "class 1", "class 2"]
    page.select_option("#net-dataset", "xor")
    tab.wait("zerodlLab.network.classes === 2")
    assert page.eval_on_selector_all("#network-legend .item", "is => is.length") == 2
    page.select_option("#net-dataset", "spiral")
    tab.wait("zerodlLab.network.classes === 3")


def test_tab_buttons_stay_readable_under_the_mouse(tab):
    """The header's buttons keep light text on the dark bar when hovered (a contrast of 4.5)."""
    page = tab.page
    for button in ["#tab-descent", '[data-lang="ja"]']:
        page.hover(button)
        colours = page.evaluate(f"""(() => {{ const b = document.querySelector('{button}');
            const s = getComputedStyle(b);
            return [s.color, s.backgroundColor,
                    getComputedStyle(document.querySelector('header')).backgroundColor]; }})()""")
        ink, paint, bar = (rgba(c) for c in colours)
        alpha = paint[3]
        behind = [alpha * p + (1 - alpha) * q for p, q in zip(paint[:3], bar[:3])]
        assert contrast(ink[:3], behind) >= 4.5, (button, colours)
    page.mouse.move(0, 600)


def test_the_selected_tab_stays_marked_under_the_mouse(tab):
    """Hovering the selected tab does not make it look like the others (the hover rule that
    keeps header text light must not dim the selected tab's background)."""
    page = tab.page
    background = "getComputedStyle(document.querySelector('.tabs [aria-selected=\"true\"]'))" \
                 ".backgroundColor"
    page.mouse.move(0, 600)
    before = page.evaluate(background)
    page.hover('.tabs [aria-selected="true"]')
    assert page.evaluate(background) == before == "rgba(255, 255, 255, 0.16)"
    page.mouse.move(0, 600)


def rgba(css: str) -> list[float]:
    values = [float(v) for v in re.findall(r"[\d.]+", css)]
    return values + [1.0] * (4 - len(values))


def contrast(a, b) -> float:
    """WCAG's contrast ratio of two sRGB colours (0-255)."""
    def luminance(c):
        lin = [(v / 255 / 12.92) if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4
               for v in c]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted([luminance(a), luminance(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


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


# ---------------------------------------------------------------- a CNN, and two languages
@pytest.fixture(scope="module")
def cnn_server(tmp_path_factory):
    from test_lab_server import save_digit_model  # tests/ is on sys.path

    runs = tmp_path_factory.mktemp("cnn-runs")
    save_digit_model(runs / "simple-convnet", "simple-convnet")
    s = start_in_thread(runs_root=runs)
    yield s
    s.close()


def test_a_loaded_cnn_is_not_offered_an_mlp(browser, cnn_server):
    """With a CNN loaded the page offers the command that trains another CNN, not the MLP button."""
    t = Page(browser, cnn_server.url + "#digits")
    try:
        t.wait("zerodlLab.digits.model && zerodlLab.digits.model.kind === 'cnn'")
        t.wait("document.querySelector('#digits-model').dataset.available === 'true'")
        assert t.page.is_hidden("#digits-train")
        hint = t.page.inner_text("#digits-cli")
        assert "This CNN" in hint and "--model simple-convnet" in hint
        assert t.page.is_visible("#digits-cnn")
        assert t.errors == []
    finally:
        t.context.close()


# Latin words a Japanese page may show: names of things, the command's words, formulas.
NAMES = {"zerodl", "lab", "NumPy", "English", "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp",
         "Adam", "MNIST", "MLP", "CNN", "ReLU", "tanh", "sigmoid", "softmax", "exp", "log", "sin",
         "cos", "sqrt", "abs", "spiral", "xor", "circles", "bowl", "elongated", "rosenbrock",
         "himmelblau", "beale", "saddle", "train", "SimpleConvNet", "DeepConvNet"}
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff60]")
# Every word the page shows: visible text outside <code>, option texts, placeholders, labels.
SHOWN = """(() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (el.closest('code, script, style')) continue;
    if (el.closest('option') ? el.closest('select').getClientRects().length === 0
        : el.getClientRects().length === 0) continue;
    if (n.textContent.trim()) out.push(n.textContent.trim());
  }
  document.querySelectorAll('[placeholder], [aria-label]').forEach((el) => {
    out.push(el.getAttribute('placeholder') || '', el.getAttribute('aria-label') || '');
  });
  return out.filter(Boolean); })()"""


def foreign_words(texts: list[str], lang: str) -> list[str]:
    """Words of ``texts`` that are not in ``lang`` (English on a Japanese page, or the reverse)."""
    if lang == "ja":
        return sorted({w for text in texts for w in re.findall(r"[A-Za-z]{3,}", text)} - NAMES)
    return sorted({text for text in texts if JAPANESE.search(text) and text != "日本語"})


def test_the_page_speaks_japanese_and_english(browser, server):
    """A Japanese browser gets the page in Japanese; the switch turns every word to English and
    back, the panels' own words (status, legend, model) included, and the choice is remembered."""
    t = Page(browser, server.url, locale="ja-JP")
    page = t.page
    try:
        assert page.evaluate("document.documentElement.lang") == "ja"
        assert page.inner_text("#tab-descent") == "勾配降下" and page.inner_text("#descent-run") == "実行"
        page.select_option("#descent-speed", "0")
        page.click("#descent-run")
        t.wait("zerodlLab.descent.status === 'done'")
        assert "（学習率 " in page.inner_text("#descent-legend")
        assert page.inner_text("#descent-status").startswith("完了: 100 ステップ。")
        page.fill('[data-lr="sgd"]', "500")                  # the server's check, in Japanese
        page.click("#descent-run")
        t.wait("document.querySelector('[data-error-for=\"lr.sgd\"]').textContent !== ''")
        assert page.inner_text('[data-error-for="lr.sgd"]') == "0.000001 から 100 までの値にしてください"
        page.fill('[data-lr="sgd"]', "0.95")
        page.click("#descent-run")
        t.wait("zerodlLab.descent.status === 'done'")
        for panel in ["descent", "network", "digits"]:
            page.click(f"#tab-{panel}")
            if panel == "network":
                t.wait("zerodlLab.network.status === 'paused' && zerodlLab.network.classes === 3")
                assert page.inner_text("#net-train") == "▶ 学習"
                assert "クラス 0" in page.inner_text("#network-legend")
            if panel == "digits":
                t.wait("'available' in document.querySelector('#digits-model').dataset")
            assert foreign_words(page.evaluate(SHOWN), "ja") == [], panel

        page.click('[data-lang="en"]')
        assert page.evaluate("document.documentElement.lang") == "en"
        for panel in ["digits", "network", "descent"]:
            page.click(f"#tab-{panel}")
            assert foreign_words(page.evaluate(SHOWN), "en") == [], panel
        assert "(lr " in page.inner_text("#descent-legend")
        assert page.inner_text("#descent-status").startswith("Done: 100 steps.")
        assert page.inner_text("#net-train") == "▶ Train" and page.inner_text("#descent-run") == "Run"

        page.reload()                                         # remembered in localStorage
        t.wait("window.zerodlLab && window.zerodlLab.ready === true")
        assert page.evaluate("document.documentElement.lang") == "en"
        page.click('[data-lang="ja"]')
        page.reload()
        t.wait("window.zerodlLab && window.zerodlLab.ready === true")
        assert page.inner_text("#tab-network") == "ニューラルネット"
        assert t.errors == []
        assert all("status of 400" in text for text in t.console_errors())   # the refused rate
    finally:
        t.context.close()


def test_the_japanese_page_words_the_refusals_a_learner_meets(browser, server):
    """What a learner can get wrong from the page (no optimizer ticked, a formula that does
    not parse or is nowhere finite, hidden layers out of bounds) is said in Japanese."""
    t = Page(browser, server.url, locale="ja-JP")
    page = t.page

    def refusal(field: str) -> str:
        box = f'[data-error-for="{field}"]'
        t.wait(f"document.querySelector('{box}').textContent !== ''")
        text = page.eval_on_selector(box, "e => e.firstChild.textContent")   # not the caret
        assert JAPANESE.search(text) and foreign_words([text], "ja") == [], text
        return text

    try:
        for box in page.query_selector_all("[data-opt]"):
            box.uncheck()
        page.click("#descent-run")
        refusal("optimizers")
        for formula, words in [("x^2 + 2y", "8 文字目"), ("x + z", "「z」"), ("(x + 1", "「(」"),
                               ("log(-1 - x^2)", "有限")]:
            page.fill("#descent-formula", formula)
            page.click("#descent-plot")
            assert words in refusal("formula"), formula
        page.click("#tab-network")
        t.wait("zerodlLab.network.status === 'paused'")
        for hidden, words in [("100", "1 から 64"), ("1, 2, 3, 4, 5", "1 層から 4 層"), ("16, a", "16, 16")]:
            page.fill("#net-hidden", hidden)
            page.dispatch_event("#net-hidden", "change")
            assert words in refusal("hidden"), hidden
            page.fill("#net-hidden", "16, 16")
            page.dispatch_event("#net-hidden", "change")
            t.wait("document.querySelector('[data-error-for=\"hidden\"]').textContent === ''")
        assert t.errors == []
    finally:
        t.context.close()


def test_training_without_mnist_says_so_once_and_in_japanese(browser, server, monkeypatch):
    """Train with no MNIST anywhere: the page says what is missing in its language, with the
    places tried (the server's details), once."""
    from zerodl import data
    from zerodl.data.download import DatasetNotFoundError

    def missing(*args, **kwargs):
        raise DatasetNotFoundError("MNIST file train-images-idx3-ubyte could not be found or "
                                   "downloaded. Tried, in order: /nowhere/mnist")

    monkeypatch.setattr(data, "MNIST", missing)
    server.digits.training = {"state": "idle", "progress": 0.0, "message": ""}
    t = Page(browser, server.url + "#digits", locale="ja-JP")
    try:
        t.wait("'available' in document.querySelector('#digits-model').dataset")
        t.page.click("#digits-train")
        t.wait("document.querySelector('[data-error-for=\"train\"]').textContent !== ''")
        shown = t.page.inner_text('[data-error-for="train"]')
        assert shown.startswith("MNIST が見つからず") and "/nowhere/mnist" in shown, shown
        assert "/nowhere/mnist" not in t.page.inner_text("#digits-train-message")   # not twice
    finally:
        t.context.close()
