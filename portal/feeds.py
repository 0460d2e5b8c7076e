"""Serving published feeds from memory: exact stored bytes, ETag/Last-Modified, 304, HEAD,
404 for an unknown feed or token, 503 (never an empty calendar) before the first load."""

from datetime import datetime
from email.utils import parsedate_to_datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendars.publish import bloc_feed_key
from portal.feed_cache import CachedFeed

CALENDAR_TYPE = "text/calendar; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"


def _not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    """RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since; a bad date is ignored."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and last_modified.replace(microsecond=0) <= since


def feed_response(request: Request, feed: CachedFeed | None, filename: str) -> Response:
    if not request.app.state.feeds.loaded:
        return Response(
            "Lịch tạm thời không phục vụ được, vui lòng thử lại sau.",
            status_code=503,
            headers={"Retry-After": "300"},
            media_type=TEXT_TYPE,
        )
    if feed is None:
        return Response("Không tìm thấy lịch.", status_code=404, media_type=TEXT_TYPE)
    headers = {
        "ETag": feed.etag,
        "Last-Modified": feed.last_modified_header,
        "Cache-Control": "no-cache",
        "X-Robots-Tag": "noindex",
        "Referrer-Policy": "no-referrer",
        "Content-Disposition": f'inline; filename="{filename}"',
    }
    if _not_modified(request, feed.etag, feed.last_modified):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(feed.body))
        return Response(headers=headers, media_type=CALENDAR_TYPE)
    return Response(feed.body, headers=headers, media_type=CALENDAR_TYPE)


async def private_feed(request: Request) -> Response:
    feed = request.app.state.feeds.private(request.path_params["token"])
    return feed_response(request, feed, "lich-don-vi.ics")


async def bloc_feed(request: Request) -> Response:
    bloc, year = request.path_params["bloc"], request.path_params["year"]
    plain = year.isascii() and year.isdigit() and len(year) == 4  # not "²", not 5,000 digits
    feed = request.app.state.feeds.get(bloc_feed_key(bloc, int(year))) if plain else None
    return feed_response(request, feed, f"{bloc}-{year}.ics")


# Plain Starlette routes: the hot path skips FastAPI's parameter machinery.
routes = [
    Route("/calendars/private/{token}.ics", private_feed, methods=["GET", "HEAD"]),
    Route("/calendars/{bloc}/{year}.ics", bloc_feed, methods=["GET", "HEAD"]),
]
