"""End to end: the real app (``streamlit run``) on the demo store, driven by headless Chromium.

One server and one browser serve the module's tests (the first question loads the embedding model
in the server). They check what a new user hit: the demo question answered with its chain; a
comorag answer after a dense one draws its graph (it came up blank); a page switch keeps the form;
back and forward move between entities; nothing is fetched from outside this machine. Screenshots go
under each test's ``tmp_path``, and also to ``$HIPPO_UI_SCREENSHOTS`` when set (the README's come
from there).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from hippo.ui.launch import streamlit_command
from tests.ui.conftest import DemoStore, skip_without_graph

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
QUESTION = "In which village was the founder of the Marren Observatory born?"
ONE_FACT = "Who founded the Marren Observatory?"
"""Asked of the real model: the page's answer, citations and chain are what is tested, and a one-fact
question is three model requests where the two-hop one is five (its hops are tested in tests/llm)."""
PROBED = "Which village was the birthplace of the Marren Observatory founder?"
"""A question whose first retrieval does not cover it, so that ``comorag`` probes: written without the
"the founder of X" phrase whose relation chain ``hipporag`` follows to the founder's article."""
WAIT_MS = 60_000  # the first question loads the embedding model in the server
ANSWER_MS = 300_000  # the local model's first answer also loads the model; 2 shared cores are slow
GRAPH_FRAME = "iframe[src*='hippo_graph']"
SCREENSHOTS_ENV = "HIPPO_UI_SCREENSHOTS"
INK_SAMPLES = 200
"""Sampled canvas pixels that must be drawn on (not background) for a picture to count as drawn."""


def chromium_or_skip() -> Path:
    """Debian's Chromium, installed with apt-get when missing and allowed; else skip with the reason."""
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed; run `pip install -e '.[dev]'`")
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(f"{CHROMIUM} is missing and cannot be installed here (needs root and apt-get): "
                    "install Debian's chromium package to run the browser test")
    for command in (["apt-get", "install", "-y", "-q", "chromium"], ["apt-get", "update", "-q"],
                    ["apt-get", "install", "-y", "-q", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        if CHROMIUM.exists():
            return CHROMIUM
    pytest.skip(f"`apt-get install chromium` failed, so there is no browser: {done.stderr.strip()[-300:]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_ui(store: Path, log: Path, timeout: float = 40.0) -> Iterator[str]:
    """``hippo ui``'s Streamlit command on ``store`` at a free port; yields the URL, then stops the server."""
    port = free_port()
    argv, env = streamlit_command(str(store), port=port)
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        server = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                pytest.fail(f"the UI server exited with {server.returncode}:\n{log.read_text()[-2000:]}")
            with contextlib.suppress(urllib.error.URLError, ConnectionError):
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            if time.monotonic() > deadline:
                pytest.fail(f"the UI server did not answer within {timeout:.0f} s:\n{log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def ui_url(demo_store: DemoStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    chromium_or_skip()
    with running_ui(demo_store.path, tmp_path_factory.mktemp("ui") / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    executable = chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(executable), headless=True, args=FLAGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def browser_tab(chromium: Any, url: str, wait_ms: int = WAIT_MS) -> Iterator[Any]:
    """A fresh browser session (its own Streamlit session) on ``url``; fails on any request leaving this machine."""
    context = chromium.new_context(viewport={"width": 1280, "height": 2200})
    outside: list[str] = []
    context.on("request", lambda r: outside.append(r.url) if urlparse(r.url).hostname not in
               {"127.0.0.1", "localhost", None} and not r.url.startswith(("data:", "blob:")) else None)
    tab = context.new_page()
    tab.set_default_timeout(wait_ms)
    tab.goto(url)
    yield tab
    context.close()
    assert not outside, f"the page fetched from outside this machine: {outside}"


@pytest.fixture()
def page(chromium: Any, ui_url: str) -> Iterator[Any]:
    with browser_tab(chromium, ui_url) as tab:
        yield tab


def screenshot(page: Any, tmp_path: Path, name: str) -> None:
    page.screenshot(path=tmp_path / name, full_page=True)
    if os.environ.get(SCREENSHOTS_ENV):
        folder = Path(os.environ[SCREENSHOTS_ENV])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / name, folder / name)


def ask(page: Any, question: str, method_label: str | None = None, wait_ms: int = WAIT_MS) -> None:
    """Type ``question``, choose the method by its label, press Ask, and wait for the answer's evidence."""
    from playwright.sync_api import expect

    expect.set_options(timeout=wait_ms)
    box = page.get_by_label("Question")
    box.fill(question)
    if method_label:
        page.get_by_role("combobox", name="Method").click()
        page.get_by_role("option", name=method_label).click()
    page.get_by_role("button", name="Ask").click()
    expect(page.get_by_text("Evidence ·")).to_be_visible()
    expect(page.get_by_text(question, exact=False).first).to_be_visible()
    expect.set_options(timeout=WAIT_MS)


def drawn_picture(page: Any) -> dict:
    """Wait until the graph frame holds the picture the page's legend counts, then measure its canvas.

    Returns the canvas size, the number of sampled pixels drawn on, and the edges drawn as the chain.
    """
    from playwright.sync_api import expect

    legend = page.get_by_text("edge(s); size = degree").last.inner_text()
    entities = int(legend.split("entity (", 1)[1].split(")", 1)[0])
    passages = int(legend.split("passage (", 1)[1].split(")", 1)[0])
    frame = page.frame_locator(GRAPH_FRAME).last
    expect(frame.locator(f"body[data-ready='true'][data-nodes='{entities + passages}']")).to_be_attached()
    return frame.locator("body").evaluate(
        """() => {
            const canvas = document.querySelector('#graph canvas');
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let ink = 0;
            for (let i = 0; i < pixels.length; i += 4 * 16) {
                if (pixels[i + 3] > 0 && Math.min(pixels[i], pixels[i + 1], pixels[i + 2]) < 200) ink++;
            }
            const chain = window.hippoNetwork.body.data.edges.get({filter: e => e.chain === true}).length;
            return {width: canvas.width, height: canvas.height, ink: ink, chain: chain};
        }""")


def graph_node(page: Any, kind: str = "entity") -> dict:
    """A node of the drawn picture that is not in focus, with its position on the canvas."""
    frame = page.frame_locator(GRAPH_FRAME).last
    frame.locator("body[data-ready='true']").wait_for(timeout=WAIT_MS)
    return frame.locator("body").evaluate(
        """(body, kind) => {
            const network = window.hippoNetwork;
            const focus = "#e4572e";
            const nodes = network.body.data.nodes.get({filter: n => n.kind === kind && n.color !== focus});
            const node = nodes[0];
            const at = network.canvasToDOM(network.getPosition(node.id));
            return {id: node.id, name: node.name, x: at.x, y: at.y, count: Number(body.dataset.nodes)};
        }""", kind)


def test_the_demo_question_is_answered_with_its_chain(demo_store: DemoStore, chromium: Any, tmp_path: Path,
                                                      local_llm: None):
    """The real ``kg.ask`` with the bundled local model (skipped, with the reason, when it is not installed)."""
    skip_without_graph(demo_store)
    from playwright.sync_api import expect

    with running_ui(demo_store.path, tmp_path / "server.log") as url, browser_tab(chromium, url, ANSWER_MS) as page:
        ask(page, ONE_FACT, "Graph walk (hipporag)", wait_ms=ANSWER_MS)
        expect(page.get_by_text("local model", exact=True)).to_be_visible()
        expect(page.get_by_text("Ada Lindqvist [1]", exact=False).first).to_be_visible()
        expect(page.get_by_role("heading", name="How the answer follows")).to_be_visible()
        expect(page.get_by_role("heading", name="The chain in the graph")).to_be_visible()
        steps = page.locator("ol li")
        assert steps.count() >= 1 and all(" → " in steps.nth(i).inner_text() for i in range(steps.count()))
        picture = drawn_picture(page)
        assert picture["ink"] > INK_SAMPLES and picture["chain"] >= 1, picture
        expect(page.get_by_text("[1] ", exact=False).first).to_be_visible()  # cited passages numbered as cited
        screenshot(page, tmp_path, "ask-chain.png")


def test_comorag_after_dense_draws_the_graph(demo_store: DemoStore, page: Any, tmp_path: Path):
    skip_without_graph(demo_store)
    from playwright.sync_api import expect

    ask(page, PROBED, "Meaning (dense)")
    first = drawn_picture(page)
    assert first["width"] > 0 and first["ink"] > INK_SAMPLES
    ask(page, PROBED, "Probing (comorag)")
    expect(page.get_by_role("heading", name="Reasoning trace")).to_be_visible()
    second = drawn_picture(page)
    assert second["width"] > 0 and second["height"] > 0 and second["ink"] > INK_SAMPLES, second
    screenshot(page, tmp_path, "ask-comorag.png")


def test_page_switch_keeps_the_form_and_back_returns_to_the_last_entity(demo_store: DemoStore, page: Any,
                                                                         tmp_path: Path):
    from playwright.sync_api import expect

    ask(page, QUESTION, "Graph walk (hipporag)")
    expect(page.get_by_text("quoted sentences", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Cited passages · 1")).to_be_visible()
    expect(page.get_by_text("of top hit").first).to_be_visible()
    screenshot(page, tmp_path, "ask.png")

    page.get_by_role("link", name="Explore").click()
    expect(page.get_by_role("heading", name="Explore")).to_be_visible()
    page.get_by_role("link", name="Ask").click()
    expect(page.get_by_label("Question")).to_have_value(QUESTION)
    expect(page.get_by_role("combobox", name="Method")).to_have_value("Graph walk (hipporag)")
    expect(page.get_by_role("heading", name="Cited passages · 1")).to_be_visible()
    assert "method=hipporag" in page.url
    page.get_by_role("button", name="Ask").click()
    expect(page.get_by_role("heading", name="Cited passages · 1")).to_be_visible()
    expect(page.get_by_text("Type a question first")).to_have_count(0)

    if not demo_store.has_graph:
        pytest.skip("the form is kept; entity pages not checked: the demo store has no graph")
    page.get_by_role("link", name="Explore").click()
    search = page.get_by_label("Find entities by name")
    search.fill("Lindqvist")
    search.press("Enter")
    first = page.get_by_role("button", name="Lindqvist").first
    name = first.inner_text().strip()
    first.click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    node = graph_node(page)
    assert node["count"] > 1
    screenshot(page, tmp_path, "explore.png")
    frame = page.frame_locator(GRAPH_FRAME).last
    frame.get_by_role("button", name="Full screen").click()
    expect(frame.get_by_role("button", name="Leave full screen")).to_be_visible()
    frame.get_by_role("button", name="Leave full screen").click()
    expect(frame.get_by_role("button", name="Full screen")).to_be_visible()
    node = graph_node(page)  # positions after leaving full screen
    page.frame_locator(GRAPH_FRAME).last.locator("#graph canvas").click(position={"x": node["x"], "y": node["y"]})
    expect(page.get_by_role("heading", name=node["name"], exact=True)).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    page.go_forward()
    expect(page.get_by_role("heading", name=node["name"], exact=True)).to_be_visible()
