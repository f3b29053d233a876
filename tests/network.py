"""What a page moves over the network in chromium, as its network layer counts it
(Chrome DevTools Protocol): each request, whether the browser's cache answered it, and
the bytes transferred (headers and body as compressed on the wire). Used by the browser
tests of static files and by bench/weight.py."""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Request:
    url: str
    kind: str  # Document, Stylesheet, Script, XHR, Fetch, Image, …
    status: int = 0
    encoding: str = ""
    transferred: int = 0
    from_cache: bool = False
    finished: bool = False


@dataclass
class Visit:
    requests: dict[str, Request] = field(default_factory=dict)

    def over_network(self) -> list[Request]:
        return [r for r in self.requests.values() if r.finished and not r.from_cache]

    def cached(self) -> list[Request]:
        return [r for r in self.requests.values() if r.from_cache]

    def transferred(self) -> int:
        return sum(r.transferred for r in self.over_network())

    def group(self, request: Request) -> str:
        """page (the document), static (files under /static/ and the icon) or fragment
        (what htmx loads)."""
        if request.kind == "Document":
            return "page"
        path = urlsplit(request.url).path
        return "static" if path.startswith("/static/") or path == "/favicon.ico" else "fragment"

    def count(self, group: str) -> int:
        """Requests of that group that went to the server."""
        return sum(1 for r in self.over_network() if self.group(r) == group)


def record_visit(page, url: str) -> Visit:
    """Loads `url` in `page` and records every request chromium's network layer saw."""
    found = Visit()
    cdp = page.context.new_cdp_session(page)

    def sent(event):
        if not event["request"]["url"].startswith("data:"):  # inside a stylesheet, no request
            found.requests[event["requestId"]] = Request(event["request"]["url"], event.get("type", "Other"))

    def received(event):
        request = found.requests.get(event["requestId"])
        if request:
            response = event["response"]
            request.status = response["status"]
            request.encoding = {k.lower(): v for k, v in response["headers"].items()}.get("content-encoding", "")
            request.from_cache |= bool(response.get("fromDiskCache") or response.get("fromPrefetchCache"))

    def from_cache(event):
        if event["requestId"] in found.requests:
            found.requests[event["requestId"]].from_cache = True

    def finished(event):
        request = found.requests.get(event["requestId"])
        if request:
            request.transferred = int(event["encodedDataLength"])
            request.finished = True

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.responseReceived", received)
    cdp.on("Network.requestServedFromCache", from_cache)
    cdp.on("Network.loadingFinished", finished)
    cdp.send("Network.enable")
    page.goto(url, wait_until="networkidle")
    cdp.detach()
    return found
