"""Debian's chromium driven by Playwright (never a downloaded browser), axe-core in the page,
screenshots kept as test artifacts, and a QR code read back from the pixels the page shows."""

from __future__ import annotations

import base64
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("COGNATE_TEST_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
JS = REPO / "tests" / "js"
AXE = JS / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("COGNATE_TEST_ARTIFACTS", REPO / "test-artifacts")) / "hosted-pages"


def _playwright_missing() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return True
    return False


requires_browser = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)),
        reason=f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does)",
    ),
    pytest.mark.skipif(
        _playwright_missing(), reason="playwright is not installed (pip install -e '.[test]')"
    ),
]
requires_axe = pytest.mark.skipif(
    not AXE.exists(), reason="axe-core is not installed (run `npm ci` in tests/js; .ci/run does)"
)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot kept under test-artifacts/hosted-pages/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Any, minimum: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core run in the page (its context must bypass CSP to take the script): serious findings."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
            });
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                          nodes: v.nodes.map(n => n.html)}));
        }"""
    )
    return [v for v in result if v["impact"] in minimum]


def read_qr(page: Any, selector: str) -> str:
    """Decode the QR code the page shows, from its pixels (as a phone's camera would)."""
    import zxingcpp

    drawn = page.evaluate(
        """async (selector) => {
            const svg = document.querySelector(selector);
            const xml = new XMLSerializer().serializeToString(svg);
            const img = new Image();
            img.src = 'data:image/svg+xml;base64,' + btoa(unescape(encodeURIComponent(xml)));
            await img.decode();
            const size = 400, margin = 40;
            const canvas = document.createElement('canvas');
            canvas.width = canvas.height = size + 2 * margin;
            const ctx = canvas.getContext('2d');
            ctx.fillStyle = '#fff';
            ctx.fillRect(0, 0, canvas.width, canvas.height);
            ctx.drawImage(img, margin, margin, size, size);
            const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
            let gray = '';
            for (let i = 0; i < rgba.length; i += 4) {
                gray += String.fromCharCode(Math.round((rgba[i] + rgba[i + 1] + rgba[i + 2]) / 3));
            }
            return {width: canvas.width, height: canvas.height, data: btoa(gray)};
        }""",
        selector,
    )
    pixels = memoryview(base64.b64decode(drawn["data"])).cast("B", (drawn["height"], drawn["width"]))
    found = zxingcpp.read_barcode(pixels)
    assert found is not None, "no QR code could be read from the page"
    return str(found.text)


_DEFAULT_PAGE = b"<!doctype html><html lang='en'><title>App</title><main><h1>The app</h1></main></html>"


def _handler(files: dict[str, tuple[bytes, str]]) -> type[BaseHTTPRequestHandler]:
    class AppPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            body, kind = files.get(path) or files.get("/") or (_DEFAULT_PAGE, "text/html")
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return AppPage


@contextmanager
def app_server(
    files: dict[str, tuple[bytes, str]] | None = None,
) -> Iterator[tuple[str, dict[str, tuple[bytes, str]]]]:
    """The relying party's own site (http://localhost:PORT): ``files`` by path (``/`` for any
    other path, as a single-page app), else a plain page. The dict may be filled in later."""
    served = files if files is not None else {}
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{httpd.server_address[1]}", served
    finally:
        httpd.shutdown()
        httpd.server_close()
