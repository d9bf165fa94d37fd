"""The built-in ``browser`` tool (the web tool of GLM-4 All Tools): open a page, read its text.

``browser(url)`` fetches an http(s) URL with httpx, or reads a local file (a path or a
``file://`` URL) under ``files_root``, and returns the page's readable text as trafilatura
extracts it (navigation, footers and other boilerplate left out), headed by its title and
final URL. Limits, each with a clear observation when it is hit: bytes read (``max_bytes``),
seconds for the whole fetch (``timeout``, headers and body together), characters returned
(``max_chars``, the rest cut with a note). A failure (a name that does not resolve, a refused
connection, a timeout, an HTTP error status, a body that is not HTML or text, a page too
large) is raised as :class:`BrowserError`, which the toolbox turns into an observation the
model reads.

The tool fetches what the user asks it to; calltune itself makes no network requests. It
follows up to ``max_redirects`` redirects. It does not run JavaScript.
"""

from __future__ import annotations

import importlib.util
import mimetypes
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from ..errors import CalltuneError
from .errors import UnknownBuiltinError
from .tool import Tool, tool

BROWSER_DESCRIPTION = (
    "Open a web page (an http or https URL) or a local HTML or text file and return its readable "
    "text: the title, the final URL and the main content, without navigation, ads and footers."
)
HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain", "text/markdown")
USER_AGENT = "calltune-browser/0.1 (+https://github.com/calltune)"


class BrowserError(CalltuneError, RuntimeError):
    """A page could not be opened or read; the message says why (the model reads it)."""


@dataclass(frozen=True)
class BrowserLimits:
    """What one ``browser`` call may cost."""

    #: bytes read from the page (a larger page is refused)
    max_bytes: int = 2_000_000
    #: seconds for the whole fetch: connecting, headers and body
    timeout: float = 15.0
    #: characters of text returned (the rest is cut, with a note saying how much)
    max_chars: int = 8_000
    max_redirects: int = 5


@dataclass
class Page:
    """What was read: the final URL, the content type and the body."""

    url: str
    content_type: str
    body: bytes
    encoding: str | None = None


def _kind(content_type: str, body: bytes | None = None) -> str:
    """``html`` | ``text`` | ``other`` for a content type; a missing or generic type is sniffed from
    the body (``unknown`` until there is one)."""
    ct = content_type.split(";")[0].strip().lower()
    if ct in HTML_TYPES:
        return "html"
    if ct in TEXT_TYPES:
        return "text"
    if ct and ct != "application/octet-stream":
        return "other"
    if body is None:
        return "unknown"
    head = body[:1024].lstrip().lower()
    return "html" if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head else "other"


def _not_a_page(url: str, content_type: str) -> BrowserError:
    what = content_type.split(";")[0].strip() or "unknown"
    return BrowserError(
        f"{url} is not a web page: its content type is {what} (the browser reads HTML and plain text)"
    )


def _network_reason(exc: BaseException) -> str:
    """Why a connection failed, in words: DNS, refused, unreachable, or the error's own text."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return "the host name could not be resolved (DNS)"
        if isinstance(seen, ConnectionRefusedError):
            return "the connection was refused"
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    if re.search(r"Name or service not known|nodename nor servname|name resolution|Errno -[235]\b", text):
        return "the host name could not be resolved (DNS)"
    if "Connection refused" in text or "Errno 111" in text:
        return "the connection was refused"
    return text or type(exc).__name__


class Browser:
    """Fetches pages within :class:`BrowserLimits` and extracts their text.

    ``files_root``: local files may be read only inside this directory (None: no local files).
    ``transport``: an ``httpx`` transport (tests)."""

    def __init__(
        self,
        limits: BrowserLimits | None = None,
        files_root: str | Path | None = ".",
        transport: Any = None,
    ) -> None:
        self.limits = limits or BrowserLimits()
        self.files_root = Path(files_root).resolve() if files_root is not None else None
        self.transport = transport

    # -- reading ----------------------------------------------------------------------------
    def fetch(self, url: str) -> Page:
        """The page at ``url`` (:class:`BrowserError` when it cannot be read within the limits)."""
        url = url.strip()
        if not url:
            raise BrowserError("no URL given")
        scheme = urlsplit(url).scheme.lower()
        if scheme == "file":
            return self._read_file(Path(url2pathname(unquote(urlsplit(url).path))), url)
        if scheme in ("http", "https"):
            return self._get(url)
        if scheme and len(scheme) > 1:  # "C:\\..." has a one-letter "scheme"
            raise BrowserError(f"cannot open {scheme}: URLs; give an http(s) URL or a local file path")
        if url.startswith(("/", "./", "../", "~")) or Path(url).suffix.lower() in (".html", ".htm", ".txt"):
            return self._read_file(Path(url).expanduser(), url)
        return self._get("https://" + url)  # "example.com/page"

    def _read_file(self, path: Path, shown: str) -> Page:
        if self.files_root is None:
            raise BrowserError("reading local files is turned off for this browser")
        target = (self.files_root / path).resolve() if not path.is_absolute() else path.resolve()
        if not target.is_relative_to(self.files_root):
            raise BrowserError(f"{shown} is outside the folder the browser may read ({self.files_root})")
        if not target.is_file():
            raise BrowserError(f"no such file: {shown}")
        size = target.stat().st_size
        if size > self.limits.max_bytes:
            raise BrowserError(
                f"{shown} is too large: {size} bytes, over the limit of {self.limits.max_bytes} bytes"
            )
        content_type = mimetypes.guess_type(target.name)[0] or ""
        return Page(target.as_uri(), content_type, target.read_bytes())

    def _get(self, url: str) -> Page:
        import httpx

        lim = self.limits
        deadline = time.monotonic() + lim.timeout
        try:
            with httpx.Client(
                transport=self.transport,
                follow_redirects=True,
                max_redirects=lim.max_redirects,
                timeout=httpx.Timeout(lim.timeout),
                headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml,text/plain"},
            ) as client:
                with client.stream("GET", url) as r:
                    final = str(r.url)
                    if r.status_code >= 400:
                        raise BrowserError(f"HTTP {r.status_code} {r.reason_phrase} for {final}")
                    content_type = r.headers.get("content-type", "")
                    declared = r.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > lim.max_bytes:
                        raise BrowserError(
                            f"{final} is too large: {declared} bytes, over the limit of {lim.max_bytes} bytes"
                        )
                    if _kind(content_type) == "other":
                        raise _not_a_page(final, content_type)
                    parts: list[bytes] = []
                    n = 0
                    for chunk in r.iter_bytes():
                        n += len(chunk)
                        if n > lim.max_bytes:
                            raise BrowserError(
                                f"{final} is too large: over the limit of {lim.max_bytes} bytes"
                            )
                        parts.append(chunk)
                        if time.monotonic() > deadline:
                            raise httpx.ReadTimeout("the page did not finish loading in time")
                    return Page(final, content_type, b"".join(parts), r.charset_encoding)
        except BrowserError:
            raise
        except httpx.TimeoutException:
            raise BrowserError(f"{url} did not load within {lim.timeout:g} s (time limit)") from None
        except httpx.TooManyRedirects:
            raise BrowserError(f"{url} redirects more than {lim.max_redirects} times") from None
        except httpx.ConnectError as exc:
            raise BrowserError(f"cannot connect to {urlsplit(url).netloc}: {_network_reason(exc)}") from None
        except httpx.InvalidURL as exc:
            raise BrowserError(f"not a valid URL: {url} ({exc})") from None
        except httpx.HTTPError as exc:
            raise BrowserError(f"cannot read {url}: {_network_reason(exc)}") from None

    # -- extracting -------------------------------------------------------------------------
    def read(self, url: str) -> str:
        """The observation for ``url``: title, final URL and readable text (cut at ``max_chars``)."""
        page = self.fetch(url)
        kind = _kind(page.content_type, page.body)
        if kind == "other":
            raise _not_a_page(page.url, page.content_type)
        if kind == "text":
            title, text = "", page.body.decode(page.encoding or "utf-8", errors="replace")
        else:
            title, text = _extract(page)
        text = text.strip()
        if not text:
            raise BrowserError(f"{page.url} has no readable text")
        head = "\n".join(x for x in (title, page.url) if x)
        return f"{head}\n\n{_clip(text, self.limits.max_chars)}"


def _extract(page: Page) -> tuple[str, str]:
    """``(title, main text)`` of an HTML page with trafilatura (all its text when it finds no main
    content)."""
    import trafilatura

    html: str | bytes = page.body
    if page.encoding:
        html = page.body.decode(page.encoding, errors="replace")
    doc = trafilatura.bare_extraction(
        html, url=page.url, with_metadata=True, include_comments=False, include_tables=True
    )
    title = (getattr(doc, "title", None) or "") if doc is not None else ""
    text = (getattr(doc, "text", None) or "") if doc is not None else ""
    if not text.strip():
        text = trafilatura.html2txt(html)
    return title.strip(), text


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return (
        text[:limit]
        + f"\n[... truncated: the page's text has {len(text)} characters; the first {limit} are shown]"
    )


def browser_tool(
    *,
    max_bytes: int = BrowserLimits.max_bytes,
    timeout: float = BrowserLimits.timeout,
    max_chars: int = BrowserLimits.max_chars,
    files_root: str | Path | None = ".",
    transport: Any = None,
) -> Tool:
    """The ``browser`` built-in (see the module docstring). ``files_root``: the folder local files
    may be read from (default: the working directory; None: no local files)."""
    missing = [m for m in ("httpx", "trafilatura") if importlib.util.find_spec(m) is None]
    if missing:
        raise UnknownBuiltinError(
            f"the browser built-in needs {' and '.join(missing)}: pip install 'calltune[browser]'"
        )
    b = Browser(BrowserLimits(max_bytes, timeout, max_chars), files_root=files_root, transport=transport)

    @tool(name="browser", description=BROWSER_DESCRIPTION, timeout=timeout + 5.0)
    def browser(
        url: Annotated[str, "The page to open: an http(s) URL, or the path of a local HTML or text file"],
    ) -> str:
        return b.read(url)

    browser.browser = b  # type: ignore[attr-defined]
    return browser
