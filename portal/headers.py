"""Security headers on every response, as a pure ASGI middleware (it never touches the body).

Every response forbids framing, MIME sniffing and the Referer (a private link must not leak to
another site); the secretariat's pages send it to this site only, so that their forms' Origin
can be checked. Pages get a Content-Security-Policy that allows only their inline styles and
same-site forms: they use no JavaScript. The interactive API docs (`/docs`, `/redoc`) load
scripts from a CDN, so they only forbid framing. What is behind a private link or a login is
never stored by a cache; the bloc feed stays cacheable (ETag, 304).
"""

from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
DOCS_POLICY = "frame-ancestors 'none'"
DOCS_PATHS = ("/docs", "/redoc")
ADMIN_PREFIX = "/quan-tri"
PRIVATE_PREFIXES = ("/don-vi/", "/api/", "/quan-tri", "/calendars/private/")


@dataclass(frozen=True)
class _HeaderSet:
    headers: list[tuple[bytes, bytes]]
    names: frozenset[bytes]  # replaced when the app set them too


def _header_set(policy: str, *, private: bool, referrer: bytes = b"no-referrer") -> _HeaderSet:
    headers = [
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", referrer),
    ]
    if private:
        headers.append((b"cache-control", b"no-store"))
    return _HeaderSet(headers, frozenset(name for name, _ in headers))


# Built once: the feed endpoint is the hot path.
_PUBLIC = _header_set(PAGE_POLICY, private=False)
_PRIVATE = _header_set(PAGE_POLICY, private=True)
_DOCS = _header_set(DOCS_POLICY, private=False)
# With no-referrer a browser sends `Origin: null` on a same-site POST; the secretariat's forms
# need their Origin checked (portal.sign_in), and nothing of theirs goes to another site.
_ADMIN = _header_set(PAGE_POLICY, private=True, referrer=b"same-origin")


def _headers_for(path: str) -> _HeaderSet:
    """The headers a response to `path` gets."""
    if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
        return _ADMIN
    if path.startswith(PRIVATE_PREFIXES):
        return _PRIVATE
    if path in DOCS_PATHS or path.startswith("/docs/"):
        return _DOCS
    return _PUBLIC


def security_headers(path: str) -> dict[str, str]:
    """The headers for `path`, for an answer that does not pass through `SecurityHeaders` (the
    500 page: Starlette sends it from its outermost middleware)."""
    return {name.decode(): value.decode() for name, value in _headers_for(path).headers}


class SecurityHeaders:
    """Adds the headers for the request's path to every HTTP response, replacing any the app
    set itself (a private feed's `Cache-Control: no-cache` becomes `no-store`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = _headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # ASGI header names are lowercase (Starlette's responses send them so).
                kept = [h for h in message.get("headers", ()) if h[0] not in added.names]
                message["headers"] = kept + added.headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
