"""Web pages: fetch a URL (and, with a depth, the same-site pages it links to), keep its
main content, and hand it to the pipeline with the URL as its source.

The app can be asked to fetch a URL by anyone who can reach it, so: only http and https,
only public addresses unless RAG_URL_PRIVATE=allow (every redirect is checked again), a
size limit read while streaming, and only HTML. The address is checked when resolved; a
DNS answer that changes between the check and the connection is not caught."""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

from ingest.document import Document, Page
from ingest.html import html_to_markdown
from rag.config import IngestSettings
from rag.errors import IngestError

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
HTML_TYPES = ("text/html", "application/xhtml+xml")
USER_AGENT = "rag-chat/0.1 (+local document search)"


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    html: bytes
    links: tuple[str, ...]


def is_url(text: str) -> bool:
    return "://" in text


def check_url(url: str, *, allow_private: bool) -> None:
    """Raise IngestError for a URL this app must not fetch."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise IngestError(
            url, f"refused: only http and https URLs, not {parts.scheme or '(none)'}:"
        )
    if not parts.hostname:
        raise IngestError(url, "refused: no host in the URL")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise IngestError(url, f"cannot resolve {parts.hostname} ({exc})") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise IngestError(
                url,
                f"refused: {parts.hostname} is a private, loopback or reserved address "
                f"({address}); RAG_URL_PRIVATE=allow fetches it",
            )


def fetch(url: str, settings: IngestSettings) -> Fetched:
    """GET one HTML page within the limits, following redirects that pass the checks."""
    import httpx

    allow_private = settings.url_private == "allow"
    limit = settings.url_max_mb * 1_000_000
    with httpx.Client(
        follow_redirects=False,
        timeout=settings.url_timeout,
        headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml"},
        trust_env=False,  # no proxy from the environment: the checks are about this host
    ) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url, allow_private=allow_private)
            try:
                with client.stream("GET", url) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("location", ""))
                        continue
                    if response.status_code != 200:
                        raise IngestError(url, f"HTTP {response.status_code}")
                    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
                    if kind not in HTML_TYPES:
                        raise IngestError(url, f"not an HTML page (content type {kind or 'none'})")
                    declared = int(response.headers.get("content-length") or 0)
                    if declared > limit:
                        raise IngestError(url, _too_big(declared, settings))
                    body = bytearray()
                    for block in response.iter_bytes():
                        body.extend(block)
                        if len(body) > limit:
                            raise IngestError(url, _too_big(len(body), settings))
            except httpx.HTTPError as exc:
                raise IngestError(url, f"cannot fetch ({exc.__class__.__name__}: {exc})") from exc
            return Fetched(url, bytes(body), tuple(links(bytes(body), url)))
    raise IngestError(url, f"more than {MAX_REDIRECTS} redirects")


def _too_big(size: int, settings: IngestSettings) -> str:
    return f"over RAG_URL_MAX_MB ({settings.url_max_mb} MB): {size / 1e6:.1f} MB or more"


def links(html: bytes, base: str) -> Iterator[str]:
    """The http(s) links of a page, absolute and without fragments."""
    from lxml import etree
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(html)
    except (etree.ParserError, ValueError):
        return
    for href in tree.xpath("//a/@href"):
        url = urldefrag(urljoin(base, str(href).strip())).url
        if urlsplit(url).scheme in ("http", "https"):
            yield url


def crawl(
    start: str, settings: IngestSettings, *, depth: int = 0
) -> Iterator[Fetched | IngestError]:
    """``start`` and, ``depth`` links deep, the pages of the same site it links to
    (breadth first, each once, at most RAG_URL_MAX_PAGES)."""
    site = urlsplit(start)[:2]
    seen = {start}
    frontier = [start]
    fetched = 0
    for level in range(depth + 1):
        following: list[str] = []
        for url in frontier:
            if fetched >= settings.url_max_pages:
                log.info("stopped at RAG_URL_MAX_PAGES=%d pages", settings.url_max_pages)
                return
            fetched += 1
            try:
                page = fetch(url, settings)
            except IngestError as exc:
                yield exc
                continue
            yield page
            if level < depth:
                for link in page.links:
                    if urlsplit(link)[:2] == site and link not in seen:
                        seen.add(link)
                        following.append(link)
        frontier = following


def page_document(page: Fetched) -> Document:
    """The main content of a fetched page, its URL as the source."""
    text = html_to_markdown(page.html, url=page.url)
    if not text:
        raise IngestError(page.url, "no main content found on the page")
    return Document(page.url, "html", (Page(0, text),), total_pages=1)
