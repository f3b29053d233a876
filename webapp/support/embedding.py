"""Which sites may show Plumb's progress bar in an iframe: the EMBED_FRAME_ANCESTORS
setting, checked once when the app is made and turned into the embed's CSP
`frame-ancestors` (every other page keeps `frame-ancestors 'none'`).

- empty (the default): Plumb's own pages only (`'self'`), so nothing changes for other
  sites until the operator names them;
- origins, space- or comma-separated: `https://news.example.org`, with a port if it is
  not the scheme's own; `http://` only for this machine (localhost, 127.0.0.1, [::1]),
  for trying it out. No paths, no user names, no wildcards inside a name;
- `*` alone: any site. The figures are public and the frame holds no form and no session,
  so being framed by a stranger costs nothing; it is the publisher's choice to make.

Anything else stops the app from starting, naming the entry: a typo would otherwise
show up only as an empty frame on someone else's site."""
from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

SETTING = "EMBED_FRAME_ANCESTORS"
ANY = "*"
SELF = "'self'"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"^(?:{_LABEL}\.)*{_LABEL}$")
_SEPARATORS = re.compile(r"[\s,]+")


class NotAnOrigin(RuntimeError):
    """The setting names something a browser could not match a framing page against."""


def origins(value: str) -> list[str]:
    """The origins `value` names, normalised (lower case, no trailing slash) and without
    repeats; `["*"]` for any site; `[]` for Plumb's own pages only."""
    entries = [entry for entry in _SEPARATORS.split(value.strip()) if entry]
    if ANY in entries:
        if len(entries) > 1:
            raise NotAnOrigin(f"{SETTING}: * (any site) stands alone, not beside {', '.join(e for e in entries if e != ANY)}")
        return [ANY]
    return list(dict.fromkeys(origin(entry) for entry in entries))


def origin(entry: str) -> str:
    """One entry as `scheme://host[:port]`, or NotAnOrigin saying why not."""
    def refuse(why: str):
        return NotAnOrigin(f"{SETTING}: {entry!r} is not an origin a page can be framed by: {why} "
                           "(see docs/support.md, “The progress bar on other sites”)")

    if "*" in entry:
        raise refuse("wildcards are not taken; name each site, or set * alone for any site")
    parts = urlsplit(entry)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        raise refuse("write it as https://host (with :port if it has one)")
    if "@" in parts.netloc:
        raise refuse("an origin has no user name or password")
    if parts.path not in ("", "/") or parts.query or parts.fragment or entry.endswith(("?", "#")):
        raise refuse("an origin has no path, query or fragment")
    try:
        port = parts.port
    except ValueError:
        raise refuse("its port is not a number from 1 to 65535") from None
    host = parts.hostname or ""
    if not _is_host(host):
        raise refuse("its host is not a host name or an IP address (write an international name in its xn-- form)")
    if scheme == "http" and host not in LOCAL_HOSTS:
        raise refuse("only https:// sites, or http:// on this machine (localhost, 127.0.0.1, [::1])")
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + (f":{port}" if port is not None else "")


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_HOST_NAME.fullmatch(host)) and len(host) <= 253


def frame_ancestors(allowed: list[str]) -> str:
    """The directive's sources for the embed: Plumb itself, and the allowed sites."""
    if allowed == [ANY]:
        return ANY
    return " ".join([SELF, *allowed])
