"""The served app plus a bare route that returns the same feed bytes from memory (the limit)."""

from sqlmodel import Session, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config.settings import get_settings
from models.db import make_engine
from models.tables import Feed
from portal.app import create_app

app = create_app()
_engine = make_engine(get_settings().resolved_database_url)
with Session(_engine) as _session:
    _BODY = _session.exec(select(Feed.body).where(Feed.key.startswith("bloc/"))).first()
_engine.dispose()


async def bare(_request: Request) -> Response:
    return Response(_BODY, media_type="text/calendar; charset=utf-8")


# The limit: a plain Starlette route in the same app, nothing but the bytes.
app.router.routes.insert(0, Route("/bare.ics", bare))
