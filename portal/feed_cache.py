"""The feeds held in memory, so a request never waits on the database.

`refresh()` reads which feeds and tokens exist (keys and ETags only) and fetches just the
bodies that changed; the app calls it at start and then every few seconds in the background.
A published change or a rotated token is therefore served within one refresh interval. If the
database becomes unreachable, the last good copy keeps being served.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from calendars.publish import unit_feed_key
from models.tables import AccessToken, Feed


@dataclass(frozen=True)
class CachedFeed:
    body: bytes
    etag: str  # quoted, as sent
    last_modified: datetime
    last_modified_header: str


class FeedCache:
    def __init__(self) -> None:
        self.loaded = False
        self._feeds: dict[str, CachedFeed] = {}
        self._units_by_token: dict[str, int] = {}

    def refresh(self, engine: Engine) -> None:
        """Bring the cache in line with the database (raises if the database is unreachable)."""
        with Session(engine) as session:
            current = dict(session.exec(select(Feed.key, Feed.etag)).all())
            stale = [
                key
                for key, etag in current.items()
                if key not in self._feeds or self._feeds[key].etag != f'"{etag}"'
            ]
            fetched = session.exec(select(Feed).where(Feed.key.in_(stale))).all() if stale else []
            tokens = session.exec(
                select(AccessToken.token_sha256, AccessToken.unit_id).where(
                    AccessToken.purpose == "calendar", AccessToken.revoked_at.is_(None)
                )
            ).all()
        feeds = {key: feed for key, feed in self._feeds.items() if key in current}
        for feed in fetched:
            feeds[feed.key] = CachedFeed(
                feed.body,
                f'"{feed.etag}"',
                feed.last_modified,
                format_datetime(feed.last_modified, usegmt=True),
            )
        self._feeds = feeds  # swapped whole: readers never see a half-built cache
        self._units_by_token = dict(tokens)
        self.loaded = True

    def get(self, key: str) -> CachedFeed | None:
        return self._feeds.get(key)

    def private(self, token: str) -> CachedFeed | None:
        unit_id = self._units_by_token.get(hashlib.sha256(token.encode()).hexdigest())
        return None if unit_id is None else self._feeds.get(unit_feed_key(unit_id))
