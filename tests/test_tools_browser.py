"""The ``browser`` built-in against pages served on loopback (nothing leaves this machine)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("trafilatura")

from calltune.tools import Toolbox, get_builtin  # noqa: E402
from calltune.tools.browser import Browser, BrowserError, BrowserLimits, browser_tool  # noqa: E402

ARTICLE_TEXT = (
    "The lighthouse of Alexandria was one of the seven wonders of the ancient world. It stood on "
    "the island of Pharos for more than a thousand years and guided sailors into the harbour."
)
MORE_TEXT = (
    "Earthquakes damaged the tower in the fourteenth century, and its stones were later used to "
    "build the citadel of Qaitbay on the same spot."
)
NAV = "Home | Products | Pricing | Sign in to your account"
FOOTER = "Copyright 2026 Example Corp. All rights reserved. Privacy policy and cookie settings."
ARTICLE = f"""<!doctype html><html><head><title>The Pharos of Alexandria</title></head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/p">Products</a></li>
<li><a href="/pricing">Pricing</a></li><li><a href="/login">Sign in to your account</a></li></ul></nav></header>
<main><article><h1>The Pharos of Alexandria</h1><p>{ARTICLE_TEXT}</p><p>{MORE_TEXT}</p></article></main>
<footer><p>{FOOTER}</p></footer></body></html>"""
NAV_WORDS = ("Sign in to your account", "Pricing")


class Pages(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = self.path
        if path == "/article":
            self._send(200, ARTICLE.encode())
        elif path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/article")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/slow":  # headers only after the time limit
            time.sleep(3)
            self._send(200, ARTICLE.encode())
        elif path == "/trickle":  # headers at once, then a byte every 0.2 s
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            try:
                for _ in range(40):
                    self.wfile.write(b"<p>x</p>")
                    self.wfile.flush()
                    time.sleep(0.2)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif path == "/huge":  # declared size over the limit
            self._send(200, b"<html><body>" + b"<p>big</p>" * 20_000 + b"</body></html>")
        elif path == "/huge-undeclared":  # no Content-Length: the limit counts the bytes read
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            try:
                for _ in range(200):
                    self.wfile.write(b"<p>" + b"y" * 1000 + b"</p>")
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif path == "/logo.png":
            self._send(200, b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image/png")
        elif path == "/notes.txt":
            self._send(200, "Plain notes: 北京, 22 °C.".encode(), "text/plain; charset=utf-8")
        elif path == "/empty":
            self._send(200, b"<html><body></body></html>")
        else:
            self._send(404, b"<html><body>not here</body></html>")


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _browser(**kw: object) -> Browser:
    limits = {k: kw.pop(k) for k in ("max_bytes", "timeout", "max_chars") if k in kw}
    return Browser(BrowserLimits(**limits), **kw)  # type: ignore[arg-type]


def test_article_text_without_boilerplate(site: str) -> None:
    text = _browser().read(site + "/article")
    assert text.startswith("The Pharos of Alexandria\n" + site + "/article\n\n")
    assert ARTICLE_TEXT in text and MORE_TEXT in text
    for boiler in (*NAV_WORDS, "All rights reserved"):
        assert boiler not in text, boiler


def test_redirect_is_followed_and_the_final_url_shown(site: str) -> None:
    text = _browser().read(site + "/moved")
    assert (site + "/article") in text.splitlines()[1] and ARTICLE_TEXT in text
    with pytest.raises(BrowserError, match="redirects more than 5 times"):
        _browser().read(site + "/loop")


def test_http_error_status(site: str) -> None:
    with pytest.raises(BrowserError, match=r"HTTP 404 Not Found for .*/nowhere"):
        _browser().read(site + "/nowhere")


@pytest.mark.parametrize("path", ["/slow", "/trickle"])
def test_time_limit(site: str, path: str) -> None:
    t0 = time.perf_counter()
    with pytest.raises(BrowserError, match=r"did not load within 1 s \(time limit\)"):
        _browser(timeout=1.0).read(site + path)
    assert time.perf_counter() - t0 < 2.5


@pytest.mark.parametrize("path", ["/huge", "/huge-undeclared"])
def test_size_limit(site: str, path: str) -> None:
    with pytest.raises(BrowserError, match=r"too large: .*over the limit of 100000 bytes"):
        _browser(max_bytes=100_000).read(site + path)


def test_not_a_web_page(site: str) -> None:
    with pytest.raises(BrowserError, match="not a web page: its content type is image/png"):
        _browser().read(site + "/logo.png")


def test_plain_text_is_returned_as_it_is(site: str) -> None:
    assert _browser().read(site + "/notes.txt") == f"{site}/notes.txt\n\nPlain notes: 北京, 22 °C."


def test_page_without_text(site: str) -> None:
    with pytest.raises(BrowserError, match="no readable text"):
        _browser().read(site + "/empty")


def test_long_text_is_truncated_with_a_note(site: str) -> None:
    text = _browser(max_chars=60).read(site + "/article")
    body = text.split("\n\n", 1)[1]
    assert body.startswith("The Pharos of Alexandria\nThe lighthouse of Alexandria")
    assert "[... truncated: the page's text has" in body and "the first 60 are shown]" in body


def test_connection_refused() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BrowserError, match=r"cannot connect to 127\.0\.0\.1:\d+: the connection was refused"):
        _browser().read(f"http://127.0.0.1:{port}/")


def test_dns_failure() -> None:
    def resolve_nothing(request: httpx.Request) -> httpx.Response:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc

    b = _browser(transport=httpx.MockTransport(resolve_nothing))
    with pytest.raises(
        BrowserError, match=r"cannot connect to no-such-host\.invalid: .*could not be resolved \(DNS\)"
    ):
        b.read("http://no-such-host.invalid/page")


def test_other_schemes_are_refused() -> None:
    with pytest.raises(BrowserError, match="cannot open ftp: URLs"):
        _browser().read("ftp://example.org/file")


def test_local_files(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("local notes", encoding="utf-8")
    b = _browser(files_root=tmp_path)
    for ref in (str(page), page.as_uri()):
        text = b.read(ref)
        assert ARTICLE_TEXT in text and NAV_WORDS[0] not in text
    assert b.read(str(tmp_path / "notes.txt")).endswith("\n\nlocal notes")
    with pytest.raises(BrowserError, match="no such file"):
        b.read(str(tmp_path / "missing.html"))
    outside = tmp_path.parent / "outside.html"
    outside.write_text(ARTICLE, encoding="utf-8")
    with pytest.raises(BrowserError, match="outside the folder the browser may read"):
        b.read(str(outside))
    with pytest.raises(BrowserError, match="local files is turned off"):
        _browser(files_root=None).read(str(page))
    (tmp_path / "big.html").write_bytes(b"<p>z</p>" * 1000)
    with pytest.raises(BrowserError, match="too large: 8000 bytes, over the limit of 1000 bytes"):
        _browser(files_root=tmp_path, max_bytes=1000).read(str(tmp_path / "big.html"))


def test_builtin_through_the_toolbox(site: str) -> None:
    box = Toolbox([get_builtin("browser")])
    spec = box.specs()[0]["function"]
    assert spec["name"] == "browser" and spec["parameters"]["required"] == ["url"]
    ok = box.execute({"name": "browser", "arguments": {"url": site + "/article"}})
    assert ok.ok and ARTICLE_TEXT in ok.content
    bad = box.execute({"name": "browser", "arguments": {"url": site + "/gone"}})
    assert not bad.ok and "HTTP 404 Not Found" in bad.content
    assert browser_tool(timeout=2.0).timeout == 7.0, "the toolbox allows the fetch's own time limit and more"
