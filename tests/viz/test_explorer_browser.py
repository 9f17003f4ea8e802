"""The head explorer in a real browser: headless Chromium shows the model's own numbers, and they follow the pointer.

One Chromium runs for the whole module, driven through the DevTools protocol over a pipe
(--remote-debugging-pipe: JSON messages ended by a NUL byte on file descriptors 3 and 4; standard
library only, no extra package). Against a --dump-dom run per view, this starts the browser once,
moves a real mouse (hover, click), reads the DOM and the page's errors, and screenshots the exact
state. The screenshots stay in each test's temporary folder (pytest keeps the last runs'), which
CI keeps as its artifacts. Without Chromium (a learner's machine) these tests skip and say so;
CI installs it (.ci/run) and fails any skip.
"""

import base64
import json
import os
import select
import shutil
import subprocess
import time

import matplotlib.image
import numpy as np
import pytest

from minconvbert import ConvBertForMaskedLM, ConvBertTokenizerFast, analysis, viz
from minconvbert.demo import SENTENCES
from minconvbert.tensor import no_grad

TEXT = " ".join(SENTENCES) * 4  # cut to 128 tokens: the largest text the nano model takes
WIDTH, HEIGHT = 1100, 800
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--remote-debugging-pipe")


def find_chromium():
    for name in (os.environ.get("MINCONVBERT_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class Chromium:
    """A headless Chromium with one page, driven by DevTools protocol commands over a pipe."""

    def __init__(self, executable, profile, timeout=30.0):
        ours_read, theirs_write = os.pipe()
        theirs_read, ours_write = os.pipe()

        def at_3_and_4():  # in the child: Chromium reads commands on fd 3 and writes replies on fd 4
            read, write = os.dup(theirs_read), os.dup(theirs_write)  # dup2 onto itself would keep close-on-exec
            os.dup2(read, 3)
            os.dup2(write, 4)

        self.process = subprocess.Popen([executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                        preexec_fn=at_3_and_4, pass_fds=(3, 4), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(theirs_read)
        os.close(theirs_write)
        self.reader, self.writer, self.timeout = ours_read, ours_write, timeout
        self.buffer, self.events, self.errors, self.next_id, self.session = b"", [], [], 0, None
        page = next(t for t in self.command("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.command("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.command(f"{domain}.enable")
        self.command("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1,
                     mobile=False)

    def _message(self, deadline):
        while b"\0" not in self.buffer:
            if not select.select([self.reader], [], [], max(deadline - time.monotonic(), 0))[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self.reader, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        message = json.loads(raw)
        method = message.get("method", "")
        if method == "Runtime.exceptionThrown":
            self.errors.append(message["params"]["exceptionDetails"].get("exception", {}).get("description"))
        elif method == "Log.entryAdded" and message["params"]["entry"]["level"] == "error":
            self.errors.append(message["params"]["entry"]["text"])
        elif method == "Runtime.consoleAPICalled" and message["params"]["type"] == "error":
            self.errors.append(str(message["params"]["args"]))
        return message

    def command(self, method, **params):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self.writer, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply["method"])

    def evaluate(self, expression):
        """The value of a JavaScript expression (awaited when it is a promise) in the page."""
        result = self.command("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    def navigate(self, url):
        """Go to `url`; for a new document (not a new fragment of this one), wait for its load event."""
        self.events.clear()
        if "loaderId" in self.command("Page.navigate", url=url):
            deadline = time.monotonic() + self.timeout
            while "Page.loadEventFired" not in self.events:
                self.events.append(self._message(deadline).get("method"))

    def open_plain(self, url):
        """Load `url` in a fresh document and wait for its load event."""
        self.navigate("about:blank")  # so that a new fragment of the same page loads it anew too
        self.navigate(url)

    def open(self, url):
        """Load the explorer page `url` and wait until it has drawn its first view."""
        self.open_plain(url)
        self.evaluate("""new Promise((resolve, reject) => { const start = Date.now(); (function poll() {
            if (document.documentElement && document.documentElement.dataset.ready === "true") resolve(true);
            else if (Date.now() - start > 10000) reject(new Error("the explorer never drew"));
            else setTimeout(poll, 10); })(); })""")

    def mouse(self, kind, selector):
        """A real mouse event ("mouseMoved", or a click: "mousePressed" + "mouseReleased") at the middle of an element."""
        box = self.evaluate(f"""(() => {{ const node = document.querySelector({json.dumps(selector)});
            node.scrollIntoView({{block: "center"}}); const r = node.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2]; }})()""")
        for event in (["mousePressed", "mouseReleased"] if kind == "click" else [kind]):
            self.command("Input.dispatchMouseEvent", type=event, x=box[0], y=box[1], button="left", clickCount=1)

    def screenshot(self, path):
        path.write_bytes(base64.b64decode(self.command("Page.captureScreenshot", format="png")["data"]))
        return path

    def close(self):
        try:
            self.command("Browser.close")
            self.process.wait(timeout=10)
        except (RuntimeError, TimeoutError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        finally:
            os.close(self.reader)
            os.close(self.writer)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    executable = find_chromium()
    if executable is None:
        pytest.skip("headless Chromium not found (apt-get install chromium, or set MINCONVBERT_CHROMIUM): "
                    "the head explorer's browser tests need it")
    chromium = Chromium(executable, tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """(file URL of the saved page, tokens, attentions (L, H, T, T), conv_kernels (L, H, T, K)) of the nano model."""
    model = ConvBertForMaskedLM.from_pretrained("minconvbert/nano")
    tokenizer = ConvBertTokenizerFast.from_pretrained("minconvbert/nano")
    path = viz.head_explorer(model, tokenizer, TEXT, max_length=128).save(
        tmp_path_factory.mktemp("explorer") / "heads.html")
    ids = tokenizer(TEXT, return_tensors="np", max_length=128)["input_ids"]
    with no_grad():  # the expected numbers: the model's own records, computed here
        out = model(input_ids=ids, output_attentions=True, output_conv_kernels=True)
    attentions = np.stack([a.data[0] for a in out.attentions])
    kernels = np.stack([k.data[0] for k in out.conv_kernels])
    return path.as_uri(), tokenizer.convert_ids_to_tokens(ids[0]), attentions, kernels


SHOWN = """(() => { const shown = {};
    for (const td of document.querySelectorAll("td.cell")) {
      const text = td.querySelector(".value").textContent;
      if (text) (shown[td.dataset.head] = shown[td.dataset.head] || []).push([Number(td.parentNode.dataset.pos), text]);
    }
    return shown; })()"""


def assert_shows(browser, attentions, kernels, layer, token):
    """Every number on screen is the model's weight from `token` at `layer`, to the 3 decimals shown."""
    shown = browser.evaluate(SHOWN)
    H, T, K = attentions.shape[1], attentions.shape[2], kernels.shape[3]
    left = (K - 1) // 2
    assert sorted(shown) == sorted([f"attention-{h}" for h in range(H)] + [f"conv-{h}" for h in range(H)])
    for h in range(H):
        positions, texts = zip(*shown[f"attention-{h}"])
        assert positions == tuple(range(T))  # an attention head: every token
        np.testing.assert_allclose(np.array(texts, dtype=float), attentions[layer, h, token], atol=5e-4 + 1e-7)
        positions, texts = zip(*shown[f"conv-{h}"])
        assert positions == tuple(range(token - left, token - left + K))  # a conv head: its window, padding too
        np.testing.assert_allclose(np.array(texts, dtype=float), kernels[layer, h, token], atol=5e-4 + 1e-7)
        assert all(len(text.split(".")[1]) == 3 for text in texts)
    assert browser.evaluate("document.querySelector('tr.query').dataset.pos") == str(token)
    return shown


def test_clicking_a_token_and_switching_layers_show_the_models_weights(browser, page):
    url, tokens, attentions, kernels = page
    browser.open(url)
    browser.mouse("click", 'tr[data-pos="6"] td.token')
    assert_shows(browser, attentions, kernels, layer=0, token=6)
    assert tokens[6] in browser.evaluate("document.querySelector('.status').textContent")
    layer0 = browser.evaluate(SHOWN)
    browser.mouse("click", 'button[data-layer="2"]')
    assert browser.evaluate(SHOWN) != layer0
    assert_shows(browser, attentions, kernels, layer=2, token=6)
    assert browser.evaluate("location.hash") == "#layer=2&token=6"
    assert not browser.errors, browser.errors


def test_hovering_previews_a_token_and_leaving_returns_to_the_pinned_one(browser, page):
    url, _, attentions, kernels = page
    browser.open(url + "#layer=1&token=10")
    assert_shows(browser, attentions, kernels, layer=1, token=10)
    browser.mouse("mouseMoved", 'tr[data-pos="40"] td.cell')
    assert_shows(browser, attentions, kernels, layer=1, token=40)
    assert "(hover)" in browser.evaluate("document.querySelector('.status').textContent")
    browser.mouse("mouseMoved", "h1")
    assert_shows(browser, attentions, kernels, layer=1, token=10)
    assert not browser.errors, browser.errors


def test_the_ends_of_the_text_show_the_kernel_weights_on_the_padding(browser, page):
    url, _, attentions, kernels = page
    T = attentions.shape[2]
    for token in (0, T - 1):
        browser.open(url + f"#layer=3&token={token}")
        assert_shows(browser, attentions, kernels, layer=3, token=token)
    assert browser.evaluate("document.querySelectorAll('tr.pad').length") == kernels.shape[3] - 1
    assert not browser.errors, browser.errors


def test_heads_can_be_switched_off_and_on(browser, page):
    url, _, attentions, kernels = page
    browser.open(url + "#layer=0&token=3")
    visible = """Array.from(document.querySelectorAll('th.head')).filter((th) => th.offsetParent !== null)
                 .map((th) => th.dataset.head)"""
    before = browser.evaluate(visible)
    browser.mouse("click", 'input[data-head="conv-0"]')
    assert browser.evaluate(visible) == [head for head in before if head != "conv-0"]
    assert "conv-0" not in browser.evaluate(SHOWN)
    assert browser.evaluate("location.hash") == "#layer=0&token=3&hide=conv-0"
    browser.mouse("click", 'input[data-head="conv-0"]')
    assert browser.evaluate(visible) == before
    assert_shows(browser, attentions, kernels, layer=0, token=3)
    assert not browser.errors, browser.errors


def test_every_head_is_drawn_on_one_bar_scale(browser, page):
    url, _, _, _ = page
    bars = """Array.from(document.querySelectorAll("td.cell.shown")).map((td) =>
                [Number(td.querySelector(".value").textContent), parseFloat(td.querySelector(".bar").style.width) || 0])"""
    for scale in ("1", "0.25", "fit"):
        browser.open(url + f"#layer=1&token=8&scale={scale}")
        weights, widths = np.array(browser.evaluate(bars)).T  # every bar shown, attention and conv heads alike
        top = weights.max() if scale == "fit" else float(scale)
        np.testing.assert_allclose(widths, 100 * np.minimum(weights / top, 1), atol=0.06)
        assert browser.evaluate("document.querySelector('#scale').value") == scale
    assert not browser.errors, browser.errors


def test_each_head_is_summarised_by_its_distance_and_entropy(browser, page):
    url, _, attentions, kernels = page
    browser.open(url + "#layer=2&token=0")
    for kind, maps, distance in (("attention", attentions, analysis.mean_attention_distance),
                                 ("conv", kernels, analysis.mean_kernel_distance)):
        for h in range(maps.shape[1]):
            text = browser.evaluate(f"""document.querySelector('th[data-head="{kind}-{h}"]').textContent""")
            assert f"distance {distance(maps[2:3, h:h + 1])[0]:.2f}" in text
            assert f"entropy {analysis.attention_entropy(maps[2:3, h:h + 1])[0]:.2f}" in text
    assert not browser.errors, browser.errors


def colour_pixels(pixels, colour):
    """How many pixels of an (H, W, 3) screenshot have the colour "#rrggbb" (within rounding)."""
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return int((np.abs(pixels[..., :3] - rgb).max(axis=-1) < 0.02).sum())


ATTENTION, CONV = "#2f64c8", "#e07800"  # the kinds' colours (head_explorer.css): each column's top border


def test_a_screenshot_shows_both_kinds_of_head(browser, page, tmp_path):
    url, _, _, _ = page
    browser.open(url + "#layer=1&token=8")
    shot = browser.screenshot(tmp_path / "head_explorer.png")  # kept under the test's temporary folder
    pixels = matplotlib.image.imread(shot)  # (HEIGHT, WIDTH, 3 or 4) in [0, 1]
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
    columns = browser.evaluate("document.querySelectorAll('th.head').length")
    assert colour_pixels(pixels, ATTENTION) >= columns / 2 * 4 * 140  # 4-pixel borders over ~150-pixel columns
    assert colour_pixels(pixels, CONV) >= columns / 2 * 4 * 140
    assert pixels[..., :3].std() > 0.1  # text and bars, not a blank page


def test_the_inline_notebook_view_runs_its_script_in_the_iframe(browser, page, tmp_path):
    """Jupyter's view (_repr_html_): the page inside a sandboxed srcdoc iframe draws its heads."""
    notebook = tmp_path / "notebook.html"
    explorer = viz.HeadExplorer(page[2], page[3], page[1], title="inline", height=500)
    notebook.write_text(f"<html><body><p>Out[1]:</p>{explorer._repr_html_()}</body></html>", encoding="utf-8")
    browser.open_plain(notebook.as_uri())
    # the iframe's document is out of reach of the notebook page's script: look at the pixels it drew
    deadline = time.monotonic() + 10
    while True:
        pixels = matplotlib.image.imread(browser.screenshot(tmp_path / "inline.png"))
        if colour_pixels(pixels[:560], CONV) > 500 or time.monotonic() > deadline:
            break
    assert colour_pixels(pixels[:560], CONV) > 500 and colour_pixels(pixels[:560], ATTENTION) > 500
    assert not browser.errors, browser.errors
